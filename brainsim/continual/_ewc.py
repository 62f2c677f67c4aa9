"""Elastic weight consolidation: a quadratic penalty weighted by the diagonal Fisher information."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree


def fisher_diagonal(
    sample_loss: Callable[[PyTree, Array, Array], Float[Array, ""]],
    params: PyTree,
    inputs: Array,
    labels: Array,
) -> PyTree:
    """Empirical diagonal Fisher information: the mean over samples of the squared gradient.

    `F_i = mean_s (∂ loss(θ; x_s, y_s) / ∂θ_i)²`, one gradient per sample (`jax.vmap`).

    Args:
        sample_loss: `sample_loss(params, x, y)`, the loss (negative log-likelihood) of one
            sample.
        params: the parameters at the end of the task (a pytree).
        inputs: the samples, stacked along axis 0.
        labels: their labels, stacked along axis 0.

    Returns:
        A pytree like `params` with `F_i ≥ 0`.

    Example:
        >>> import jax.numpy as jnp
        >>> from brainsim.continual import fisher_diagonal
        >>> loss = lambda w, x, y: 0.5 * (w * x - y) ** 2
        >>> fisher_diagonal(loss, jnp.array(1.0), jnp.array([1.0, 2.0]), jnp.zeros(2))
        Array(8.5, dtype=float32)

    Reference: Kirkpatrick et al. (2017), *Overcoming catastrophic forgetting in neural
    networks*, PNAS.
    """
    grads = jax.vmap(jax.grad(sample_loss), in_axes=(None, 0, 0))(params, inputs, labels)
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

    Example:
        >>> import jax.numpy as jnp
        >>> from brainsim.continual import ewc_penalty
        >>> ewc_penalty(jnp.array([1.0, 3.0]), jnp.zeros(2), jnp.array([2.0, 0.0]), 10.0)
        Array(10., dtype=float32)

    Reference: Kirkpatrick et al. (2017), PNAS.
    """
    terms = jax.tree.map(lambda p, a, f: jnp.sum(f * (p - a) ** 2), params, anchors, fisher)
    return 0.5 * strength * sum(jax.tree.leaves(terms))
