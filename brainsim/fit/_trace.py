"""Mean squared error between simulated and recorded voltage traces."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from brainsim.fit._spike_data import as_float, check_positive_scalar


@functools.partial(jax.jit, static_argnums=(0, 3, 4, 5, 6, 7))
def _sample_weights(shape, weights, spike_times, dtype, dt, t0, t_start, window):
    """`w_i m_i` of every sample, shape `shape = (T, *batch)` (data only: concrete for data)."""
    t = t0 + dt * jnp.arange(shape[0], dtype=dtype)
    keep = jnp.broadcast_to((t >= t_start).reshape((-1,) + (1,) * (len(shape) - 1)), shape)
    if spike_times is not None:
        keep = keep & _spike_window_keep(t, spike_times, window)
    w = keep.astype(dtype)
    return w if weights is None else w * jnp.broadcast_to(weights, shape)


@jax.jit
def _weighted_mean(w, total, v, v_data):
    return jnp.sum(w * (v - v_data) ** 2) / total


def _spike_window_keep(t, spike_times, window):
    """1 where no recorded spike `s` has `s - before <= t < s + after`, shape `(T, *batch)`."""
    before, after = window
    t = t.reshape((-1,) + (1,) * spike_times.ndim)
    inside = (t >= spike_times - before) & (t < spike_times + after)
    return ~jnp.any(inside, axis=-1)


def trace_mse(
    v: Float[Array, " T *batch"],
    v_data: Float[ArrayLike, " T *batch"],
    *,
    dt: float,
    t0: float = 0.0,
    t_start: float = 0.0,
    weights: Float[ArrayLike, " T *batch"] | None = None,
    spike_times: Float[ArrayLike, "*batch k"] | None = None,
    spike_window: tuple[float, float] = (2.0, 5.0),
) -> Float[Array, ""]:
    """Weighted mean squared error between a simulated and a recorded voltage trace (mV²).

    With samples at `t_i = t0 + i·dt`, weights `w_i` and the mask `m_i`,
    `L = Σ_i w_i m_i (v_i - v_data,i)² / Σ_i w_i m_i`, pooled over the batch. The mask drops
    samples before `t_start` (a settling transient) and, given recorded `spike_times`, samples
    within `[s - before, s + after)` of a recorded spike `s` (`spike_window = (before, after)`):
    a point model does not reproduce the action potential's shape, so fit the subthreshold
    trace only.

    Args:
        v: simulated membrane potential (mV), time first: `(T, *batch)`.
        v_data: recorded membrane potential (mV), the same shape.
        dt: sampling interval (ms, > 0).
        t0: time of sample 0 (ms).
        t_start: first time that counts (ms).
        weights: per-sample weights (>= 0), broadcastable to `v` (e.g. `(T,)` with one batch
            axis written `(T, 1)`); default 1.
        spike_times: recorded spike times (ms), `(*batch, k)`, padded with `jnp.inf`.
        spike_window: time masked before and after each recorded spike (ms, >= 0).

    Returns:
        The weighted mean squared error (mV²).

    Raises:
        ValueError: on mismatched shapes, NaN in the data, negative weights, or when the mask
            leaves no sample (checked for concrete inputs).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.fit import trace_mse
        >>> v = jnp.array([-70.0, -68.0, -66.0, -64.0])
        >>> float(trace_mse(v, jnp.full(4, -70.0), dt=1.0, t_start=2.0))   # (16 + 36) / 2
        26.0

    Reference: Rossant et al. (2011), *Fitting neuron models to spike trains*, Front. Neurosci.
    5:9 (trace fitting in brian2modelfitting's ancestor); Druckmann et al. (2007), Front.
    Neurosci. 1:7 (fitting the subthreshold trace apart from spike shape).
    """
    dt = check_positive_scalar("dt", dt)
    v = jnp.asarray(v)
    v_data = as_float("v_data", v_data)
    if v.shape != v_data.shape or v.ndim < 1:
        raise ValueError(
            f"`v` {v.shape} and `v_data` {v_data.shape} must have the same shape (T, *batch)."
        )
    if spike_times is not None:
        spike_times = as_float("spike_times", spike_times)
        if spike_times.ndim < 1 or spike_times.shape[:-1] != v.shape[1:]:
            raise ValueError(
                f"`spike_times` must have shape {v.shape[1:]} + (k,) (*batch, k), "
                f"got {spike_times.shape}."
            )
        if min(spike_window) < 0:
            raise ValueError(f"`spike_window` must be two times >= 0 (ms), got {spike_window}.")
    if weights is not None:
        weights = as_float("weights", weights)
        try:
            fits = np.broadcast_shapes(weights.shape, v.shape) == v.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"`weights` {weights.shape} do not broadcast to `v` {v.shape}.")
        if not isinstance(weights, jax.core.Tracer) and np.any(np.asarray(weights) < 0):
            raise ValueError("`weights` must be >= 0.")
    window = tuple(float(x) for x in spike_window)
    w = _sample_weights(
        v.shape, weights, spike_times, v_data.dtype, dt, float(t0), float(t_start), window
    )
    total = jnp.sum(w)
    if not isinstance(total, jax.core.Tracer) and not float(total) > 0:
        raise ValueError(
            "no sample counts: `t_start`, `weights` and the spike windows exclude every sample."
        )
    return _weighted_mean(w, total, v, v_data)
