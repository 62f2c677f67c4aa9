"""Event-gated weight updates (the building blocks of STDP-like rules); pure: return weights."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ._backend import resolve
from ._connectivity import Connectivity, Dense, as_weights
from ._operators import _as_events, _check_conn
from ._primitives import update_p


def _bounds(w_min, w_max, dtype) -> Array:
    lo = -jnp.inf if w_min is None else w_min
    hi = jnp.inf if w_max is None else w_max
    return jnp.stack([jnp.asarray(lo, dtype), jnp.asarray(hi, dtype)])


def _update(conn, weights, events, values, scale, w_min, w_max, backend, on_cols: bool):
    _check_conn(conn)
    w = conn.weights if weights is None else weights
    shape = conn.synapse_shape
    w = as_weights(w, shape, name="weights")
    w = jnp.broadcast_to(w, shape)
    n_ev, n_val = (conn.n_post, conn.n_pre) if on_cols else (conn.n_pre, conn.n_post)
    ev_name = "post_events" if on_cols else "pre_events"
    val_name = "pre_values" if on_cols else "post_values"
    x = _as_events(events, ev_name, w.dtype, (n_ev,))
    v = jnp.asarray(values, w.dtype)
    if v.shape not in ((), (n_val,)):
        raise ValueError(f"`{val_name}` must be a scalar or have shape ({n_val},), got {v.shape}.")
    v = jnp.broadcast_to(v, (n_val,))
    sc = None if scale is None else jnp.asarray(scale, w.dtype)
    if sc is not None and sc.shape not in ((), shape):
        raise ValueError(f"`scale` must be a scalar or have shape {shape}, got {sc.shape}.")
    if sc is not None and sc.ndim == 0:
        v, sc = v * sc, None
    bounds = _bounds(w_min, w_max, w.dtype)
    if isinstance(conn, Dense):
        xf = x.astype(w.dtype)
        d = xf[:, None] * v[None, :] if on_cols is False else v[:, None] * xf[None, :]
        if sc is not None:
            d = d * sc
        active = (x != 0)[:, None] if not on_cols else (x != 0)[None, :]
        if conn.mask is not None:
            active = active & conn.mask
        return jnp.where(active, jnp.clip(w + d, bounds[0], bounds[1]), w)
    layout = conn.layout
    indptr, idx, syn, _, _ = layout.view(on_cols)
    flat_scale = jnp.zeros((0,), w.dtype) if sc is None else sc.reshape(-1)
    out = update_p.bind(indptr, idx, syn, w.reshape(-1), x, v, flat_scale, bounds,
                        backend=resolve(backend))
    return out.reshape(shape)


def update_rows_on_events(
    conn: Connectivity,
    pre_events: Bool[Array, " n_pre"] | Float[Array, " n_pre"],
    post_values: Float[Array, " n_post"] | float,
    *,
    weights: Array | None = None,
    scale: Array | float | None = None,
    w_min: float | Array | None = None,
    w_max: float | Array | None = None,
    backend: str | None = None,
) -> Array:
    """On presynaptic events: ``w_ij <- clip(w_ij + s_i a_j scale_ij)`` where ``s_i != 0``.

    The row of every presynaptic neuron that spiked receives the postsynaptic vector ``a``
    (e.g. a postsynaptic trace: the depression of pair STDP). Only those rows are touched
    (native kernel) and clipping applies only to them. Returns new weights (same shape as
    ``conn.weights``, or one per synapse if the weights were a scalar); nothing is mutated.

    Args:
        conn: a :class:`CSR`, :class:`ELL` or :class:`Dense`.
        pre_events: bool or float, shape ``(n_pre,)``; float values multiply the update.
        post_values: ``a``, shape ``(n_post,)`` or scalar.
        weights: weights to update instead of ``conn.weights`` (same shape).
        scale: optional per-synapse factor (shape of the weights) or scalar, e.g. a
            soft-bound ``(w_max - w)`` computed by the caller.
        w_min: optional lower bound (scalar).
        w_max: optional upper bound (scalar).
        backend: ``"auto"``, ``"native"`` or ``"jax"``.

    Examples:
        >>> w = bo.update_rows_on_events(conn, pre_spikes, -0.01 * post_trace, w_min=0.0)
        >>> conn = conn.with_weights(w)
    """
    return _update(conn, weights, pre_events, post_values, scale, w_min, w_max, backend, False)


def update_cols_on_events(
    conn: Connectivity,
    post_events: Bool[Array, " n_post"] | Float[Array, " n_post"],
    pre_values: Float[Array, " n_pre"] | float,
    *,
    weights: Array | None = None,
    scale: Array | float | None = None,
    w_min: float | Array | None = None,
    w_max: float | Array | None = None,
    backend: str | None = None,
) -> Array:
    """On postsynaptic events: ``w_ij <- clip(w_ij + b_i s_j scale_ij)`` where ``s_j != 0``.

    The column (incoming synapses) of every postsynaptic neuron that spiked receives the
    presynaptic vector ``b`` (e.g. a presynaptic trace: the potentiation of pair STDP), via
    the cached post-major view: cost proportional to the synapses of spiking neurons.
    Arguments as in :func:`update_rows_on_events`, with the roles of pre and post swapped.

    Examples:
        >>> w = bo.update_cols_on_events(conn, post_spikes, 0.01 * pre_trace, w_max=1.0)
    """
    return _update(conn, weights, post_events, pre_values, scale, w_min, w_max, backend, True)
