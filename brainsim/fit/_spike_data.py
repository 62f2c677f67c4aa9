"""Recorded spike times as data: validation, binning onto the simulation grid, and back.

Conventions shared by `brainsim.fit`: the model's spikes are a float array `(T, *batch)` of
0/1 per step (as `brainsim.run` records them, differentiable through the surrogate), step `n`
stamped `t0 + n·dt` (ms); recorded spike times are an array `(*batch, k)` (ms), trains of
different length padded with `jnp.inf` (a spike that never happens).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


def as_float(name: str, x) -> Float[Array, "*shape"]:
    """`x` as a floating JAX array; `ValueError` if a concrete `x` holds NaN."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    if not isinstance(x, jax.core.Tracer) and np.any(np.isnan(np.asarray(x))):
        raise ValueError(
            f"`{name}` holds NaN; remove it (pad spike trains with `jnp.inf`, drop bad samples "
            "with `weights`)."
        )
    return x


def check_positive_scalar(name: str, value) -> float:
    """`value` as a float; `ValueError` unless it is finite and > 0."""
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a finite number > 0 (ms), got {value!r}.")
    return value


def check_batch(spikes, times) -> None:
    """`ValueError` unless recorded trains `(*batch, k)` match model spikes `(T, *batch)`."""
    if jnp.ndim(times) < 1:
        raise ValueError("recorded spike times must have a last axis of spikes, got a scalar.")
    try:
        np.broadcast_shapes(jnp.shape(spikes)[1:], jnp.shape(times)[:-1])
    except ValueError:
        raise ValueError(
            f"recorded spike times of shape {jnp.shape(times)} (*batch, k) do not match model "
            f"spikes of shape {jnp.shape(spikes)} (T, *batch)."
        ) from None


def bin_spike_times(
    times: Float[ArrayLike, "*batch k"], *, n_steps: int, dt: float, t0: float = 0.0
) -> Float[Array, " T *batch"]:
    """Recorded spike times onto the simulation grid: the count of spikes per step.

    Spike time `t` falls in step `n = round((t - t0) / dt)`, the step stamped `t0 + n·dt` (a
    model spike of that step has exactly this time); spikes outside the `n_steps` steps (and the
    `inf` padding) are dropped.

    Args:
        times: spike times (ms), `(*batch, k)`, padded with `jnp.inf`.
        n_steps: number of steps `T` (a Python int).
        dt: time step (ms, > 0).
        t0: time of step 0 (ms).

    Returns:
        Spike counts per step, `(T, *batch)` (0/1 unless two spikes share a step).

    Examples:
        >>> from brainsim.fit import bin_spike_times
        >>> bin_spike_times([0.2, 0.5, float("inf")], n_steps=4, dt=0.25)
        Array([0., 1., 1., 0.], dtype=float32)

    Reference: Dayan & Abbott (2001), *Theoretical Neuroscience*, ch. 1.1 (the neural response
    function).
    """
    if not isinstance(n_steps, int) or n_steps <= 0:
        raise ValueError(f"`n_steps` must be a positive int, got {n_steps!r}.")
    dt = check_positive_scalar("dt", dt)
    times = as_float("times", times)
    if times.ndim < 1:
        raise ValueError("`times` must have a last axis of spikes, got a scalar.")
    return _bin(times, n_steps, dt, float(t0))


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _bin(times, n_steps, dt, t0):
    index = jnp.round((times - t0) / dt)
    valid = jnp.isfinite(index) & (index >= 0) & (index < n_steps)
    index = jnp.where(valid, index, n_steps).astype(jnp.int32)
    flat = index.reshape(-1, index.shape[-1])
    counts = jax.vmap(lambda i: jnp.zeros(n_steps, times.dtype).at[i].add(1.0, mode="drop"))(flat)
    return jnp.moveaxis(counts.reshape(*index.shape[:-1], n_steps), -1, 0)


def spike_times(
    spikes: Float[ArrayLike, " T"], *, dt: float, t0: float = 0.0
) -> Float[np.ndarray, " k"]:
    """Times (ms) of the spikes of one model train, for the reporting metrics (NumPy).

    `t_k = t0 + n_k·dt` for every step `n_k` with a spike (`spikes > 0.5`).

    Args:
        spikes: one train, `(T,)`, 0/1 per step.
        dt: time step (ms, > 0).
        t0: time of step 0 (ms).

    Returns:
        Sorted spike times (ms), a NumPy array.

    Examples:
        >>> from brainsim.fit import spike_times
        >>> spike_times([0.0, 1.0, 0.0, 1.0], dt=0.5).tolist()
        [0.5, 1.5]
    """
    dt = check_positive_scalar("dt", dt)
    spikes = np.asarray(spikes)
    if spikes.ndim != 1:
        raise ValueError(f"`spikes` must be one train of shape (T,), got shape {spikes.shape}.")
    return t0 + dt * np.flatnonzero(spikes > 0.5)
