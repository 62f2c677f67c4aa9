"""Orthogonal projection of weight updates (HLOP, GPM): new tasks leave old outputs in place."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float


def _project_rows(update: Float[Array, "n_in n_out"], basis: Float[Array, "k n_in"]):
    """`(I - Bᵀ B) update`: the input side of `update` with the span of `basis`'s rows removed."""
    return update - basis.T @ (basis @ update)


def project_updates(updates, bases: Sequence[Float[Array, "k n_in"] | None]):
    """Remove from each layer's weight update its component in the protected input subspace.

    For a layer `I = x W` (`W`: `(n_in, n_out)`) whose old inputs span the rows of an
    orthonormal `basis` `B` (`(k, n_in)`, zero rows allowed), the update becomes
    `(I - BᵀB) ΔW`; then `x (W + ΔW) = x W` for every old input `x` in that span. Because a
    weight gradient is a sum of outer products `Σ_t x(t)ᵀ δ(t)`, this equals the gradient
    computed with projected presynaptic activity `x(t) - x(t) BᵀB` at every step, whatever the
    trainer (BPTT, online, rate-based).

    Args:
        updates (Sequential): updates (or gradients) of a `Sequential`, e.g. from
            `equinox.filter_grad`.
        bases: one entry per layer: a basis `(k, n_in)`, or `None` for an unprotected layer.

    Returns:
        (Sequential): `updates` with every protected layer's `weight` projected; all else
            unchanged.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> import brainsim as bs
        >>> net = bs.train.Sequential(
        ...     [bs.train.SpikingDense(3, 2, bs.train.LeakyReadout(), key=jax.random.key(0))])
        >>> basis = jnp.array([[1.0, 0.0, 0.0]])          # protect input direction 0
        >>> projected = bs.train.project_updates(net, [basis])
        >>> projected.layers[0].weight[0]
        Array([0., 0.], dtype=float32)
    """
    layers = getattr(updates, "layers", None)
    if layers is None:
        raise TypeError(
            "`updates` must have the structure of a brainsim.train.Sequential (a `.layers` "
            f"tuple), got {type(updates).__name__}."
        )
    bases = tuple(bases)
    if len(bases) != len(layers):
        raise ValueError(f"`bases` needs one entry per layer ({len(layers)}), got {len(bases)}.")
    new = []
    for i, (layer, basis) in enumerate(zip(layers, bases, strict=True)):
        if basis is None or getattr(layer, "weight", None) is None:
            new.append(layer)
            continue
        basis = jnp.asarray(basis)
        if basis.ndim != 2 or basis.shape[1] != layer.weight.shape[0]:
            raise ValueError(
                f"the basis of layer {i} must have shape (k, {layer.weight.shape[0]}) (one row "
                f"per protected input direction), got {basis.shape}."
            )
        new.append(eqx.tree_at(lambda lay: lay.weight, layer, _project_rows(layer.weight, basis)))
    return eqx.tree_at(lambda u: u.layers, updates, tuple(new))


def _moves_without_gradient(optimizer: optax.GradientTransformation, params) -> bool:
    """Whether `optimizer` changes a weight when every gradient is zero (weight decay)."""
    leaves = jax.tree.leaves(params)
    if not leaves or any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
        return False
    zeros = jax.tree.map(jnp.zeros_like, params)
    updates, _ = optimizer.update(zeros, optimizer.init(params), params)
    return any(bool(np.any(np.asarray(u) != 0)) for u in jax.tree.leaves(updates))


def orthogonal_projection(
    optimizer: optax.GradientTransformation,
) -> optax.GradientTransformationExtraArgs:
    """Wrap an optax optimiser so that its updates of protected weights are projected.

    The inner optimiser runs unchanged (SGD, momentum, Adam, ...); its updates then pass
    through `project_updates`, so a protected layer only moves in directions orthogonal to the
    inputs of earlier tasks. Projecting the final update (not the gradient) keeps the
    protection exact for optimisers that rescale each weight (Adam) or carry momentum across a
    task switch. The bases are given to each `update` call as `bases=` (one entry per layer of
    the `Sequential`, `None` for unprotected layers); `bases=None` projects nothing.

    Weight decay must not act on protected weights: it shrinks the weights along the old
    inputs and so changes old outputs, which is the forgetting the projection prevents. `init`
    therefore raises `ValueError` when the inner optimiser moves a weight under an all-zero
    gradient (`optax.adamw`, `add_decayed_weights`, ...).

    Args:
        optimizer: an optax gradient transformation without weight decay.

    Returns:
        An `optax.GradientTransformationExtraArgs`: `init(params)`,
        `update(updates, state, params=None, *, bases=None)`.

    Examples:
        >>> import equinox as eqx, jax, jax.numpy as jnp, optax
        >>> import brainsim as bs
        >>> net = bs.train.Sequential(
        ...     [bs.train.SpikingDense(3, 2, bs.train.LeakyReadout(), key=jax.random.key(0))])
        >>> params = eqx.filter(net, eqx.is_inexact_array)
        >>> opt = bs.train.orthogonal_projection(optax.sgd(0.1))
        >>> state = opt.init(params)
        >>> grads = jax.tree.map(jnp.ones_like, params)
        >>> updates, state = opt.update(grads, state, params, bases=[jnp.array([[1.0, 0, 0]])])
        >>> updates.layers[0].weight[0]
        Array([0., 0.], dtype=float32)
        >>> bs.train.orthogonal_projection(optax.adamw(1e-3)).init(params)
        Traceback (most recent call last):
        ...
        ValueError: the optimiser moves weights when the gradient is zero (weight decay?) ...

    Reference: Xiao et al. (2024), ICLR (HLOP); Saha, Garg & Roy (2021), *Gradient projection
    memory for continual learning*, ICLR.
    """
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            f"`optimizer` must be an optax GradientTransformation, got {type(optimizer).__name__}."
        )

    def init(params):
        if _moves_without_gradient(optimizer, params):
            raise ValueError(
                "the optimiser moves weights when the gradient is zero (weight decay?) and "
                "would undo the orthogonal projection: old outputs would drift. Use an "
                "optimiser without weight decay (e.g. optax.sgd or optax.adam, not adamw)."
            )
        return optimizer.init(params)

    def update(updates, state, params=None, *, bases=None, **extra_args):
        updates, state = optimizer.update(updates, state, params)
        if bases is not None:
            updates = project_updates(updates, bases)
        return updates, state

    return optax.GradientTransformationExtraArgs(init, update)


@jax.custom_vjp
def orthogonal_current(
    x: Float[Array, "*B n_in"], weight: Float[Array, "n_in n_out"], basis: Float[Array, "k n_in"]
) -> Float[Array, "*B n_out"]:
    """`x W`, whose weight gradient uses the projected input `x - x BᵀB` (straight-through).

    The forward value and the gradient with respect to `x` (the error sent to earlier layers)
    are those of `x W`; the gradient with respect to `W` is `(x - x BᵀB)ᵀ δ`, and `basis` gets
    none. It is the per-step form of the projection, for custom layers; for brainsim's layers
    `project_updates` (or `orthogonal_projection`) gives the same weight update at lower cost.
    Same as `x·sg(W) + sg(x⊥)·W - sg(x⊥·W)` (sg: stop-gradient), without the extra products
    in the forward pass.

    Args:
        x: presynaptic activity, `(..., n_in)`.
        weight: `(n_in, n_out)` (pA per unit of `x`).
        basis: protected input directions, orthonormal rows `(k, n_in)`.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.train import orthogonal_current
        >>> x, W, B = jnp.array([2.0, 1.0]), jnp.ones((2, 1)), jnp.array([[1.0, 0.0]])
        >>> orthogonal_current(x, W, B)
        Array([3.], dtype=float32)
        >>> jax.grad(lambda W: orthogonal_current(x, W, B).sum())(W)
        Array([[0.],
               [1.]], dtype=float32)
    """
    return x @ weight


def _current_forward(x, weight, basis):
    return x @ weight, (x, weight, basis)


def _current_backward(residuals, delta):
    x, weight, basis = residuals
    flat_x = x.reshape(-1, x.shape[-1])
    flat_delta = delta.reshape(-1, delta.shape[-1])
    projected = flat_x - (flat_x @ basis.T) @ basis
    return delta @ weight.T, projected.T @ flat_delta, jnp.zeros_like(basis)


orthogonal_current.defvjp(_current_forward, _current_backward)
