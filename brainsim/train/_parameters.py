"""Positive reparametrisation of learnable parameters: `value = minimum + softplus(theta)`."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


def _inverse_softplus(y):
    """`x` with `softplus(x) = y` (y > 0), written to stay accurate for small and large `y`."""
    return y + jnp.log(-jnp.expm1(-y))


class Positive(eqx.Module):
    """A parameter kept above `minimum` during training: `value = minimum + softplus(theta)`.

    The trainable array is the unconstrained `theta`; gradient steps on `theta` can never push
    `value` to or below `minimum`. The constructor takes the target `value` and sets
    `theta = softplus⁻¹(value - minimum)`, with `softplus⁻¹(y) = y + log(1 - exp(-y))`.

    Put a `Positive` where a model expects a parameter (with `equinox.tree_at`) and call
    `brainsim.train.unwrap` on the model before using it; `SpikingDense` and `Sequential`
    unwrap their parameters themselves.

    Args:
        value: initial value, same unit as the parameter it replaces (e.g. ms for `tau_m`),
            every entry > `minimum`.
        minimum: lower bound (same unit), a Python float.

    Examples:
        >>> import equinox as eqx, jax.numpy as jnp
        >>> import brainsim as bs
        >>> lif = bs.neurons.LIF(tau_m=20.0)
        >>> lif = eqx.tree_at(lambda m: m.tau_m, lif, bs.train.Positive(jnp.full(4, 20.0), 1.0))
        >>> bs.train.unwrap(lif).tau_m
        Array([20., 20., 20., 20.], dtype=float32)

    Reference: Perez-Nieves et al. (2021), *Neural heterogeneity promotes robust learning*,
    Nature Communications 12 (trained per-neuron time constants).
    """

    theta: Float[Array, "*shape"]
    minimum: float = eqx.field(static=True)

    def __init__(self, value: Float[ArrayLike, "*shape"], minimum: float = 0.0):
        value = jnp.asarray(value, jnp.result_type(float))
        minimum = float(minimum)
        if not isinstance(value, jax.core.Tracer) and not np.all(np.asarray(value) > minimum):
            raise ValueError(
                f"`value` must be above `minimum` ({minimum}) everywhere, got {value}."
            )
        self.minimum = minimum
        self.theta = _inverse_softplus(value - minimum)

    @property
    def value(self) -> Float[Array, "*shape"]:
        """`minimum + softplus(theta)`."""
        return self.minimum + jax.nn.softplus(self.theta)


def _is_positive(node) -> bool:
    return isinstance(node, Positive)


def unwrap(tree):
    """Replace every `Positive` in `tree` (a model, a pytree) by its `value`.

    Examples:
        >>> import brainsim as bs
        >>> bs.train.unwrap({"tau": bs.train.Positive(5.0, minimum=1.0)})["tau"]
        Array(5., dtype=float32)
    """
    return jax.tree.map(
        lambda node: node.value if _is_positive(node) else node, tree, is_leaf=_is_positive
    )
