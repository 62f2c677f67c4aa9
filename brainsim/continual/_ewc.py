"""Elastic weight consolidation: a quadratic penalty weighted by the diagonal Fisher information."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree


def fisher_diagonal(
    sample_grad: Callable[[PyTree, Array, Array], PyTree],
    params: PyTree,
    inputs: Array,
    labels: Array,
) -> PyTree:
    """Empirical diagonal Fisher information: the mean over samples of the squared gradient.

    `F_i = mean_s g_i(θ; x_s, y_s)²`, with `g = sample_grad(θ, x, y)` the gradient of one
    sample's loss (negative log-likelihood), mapped over the samples with `jax.vmap`. Pass
    `jax.grad(loss)` for a plain loss, or a trainer's own gradient (surrogate, online, rate)
    for a spiking network: differentiating the loss value of a surrogate-gradient trainer again
    would see the exact, zero-derivative spike instead of its surrogate.

    Args:
        sample_grad: `sample_grad(params, x, y)`, the gradient of one sample's loss, a pytree
            like `params`.
        params: the parameters at the end of the task (a pytree).
        inputs: the samples, stacked along axis 0.
        labels: their labels, stacked along axis 0.

    Returns:
        A pytree like `params` with `F_i ≥ 0`.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.continual import fisher_diagonal
        >>> loss = lambda w, x, y: 0.5 * (w * x - y) ** 2
        >>> fisher_diagonal(jax.grad(loss), jnp.array(1.0), jnp.array([1.0, 2.0]), jnp.zeros(2))
        Array(8.5, dtype=float32)

    Reference: Kirkpatrick et al. (2017), *Overcoming catastrophic forgetting in neural
    networks*, PNAS.
    """
    grads = jax.vmap(sample_grad, in_axes=(None, 0, 0))(params, inputs, labels)
    return jax.tree.map(lambda g: jnp.mean(g**2, axis=0), grads)


def ewc_penalty(
    params: PyTree, anchors: PyTree, fisher: PyTree, strength: float | Float[Array, ""]
) -> Float[Array, ""]:
    """`strength / 2 · Σ_i F_i (θ_i - θ*_i)²`: the EWC penalty added to the loss of later tasks.

    With several earlier tasks, pass the summed Fisher information and the parameters after
    the latest task (online EWC).

    Args:
        params: current parameters `θ`.
        anchors: parameters `θ*` after the earlier task(s), same structure.
        fisher: diagonal Fisher information `F`, same structure (from `fisher_diagonal`).
        strength: `λ` (≥ 0), in units of the loss.

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.continual import ewc_penalty
        >>> ewc_penalty(jnp.array([1.0, 3.0]), jnp.zeros(2), jnp.array([2.0, 0.0]), 10.0)
        Array(10., dtype=float32)

    Reference: Kirkpatrick et al. (2017), PNAS.
    """
    terms = jax.tree.map(lambda p, a, f: jnp.sum(f * (p - a) ** 2), params, anchors, fisher)
    return 0.5 * strength * sum(jax.tree.leaves(terms))
