"""Losses between model spikes and recorded spike times: van Rossum, spike count, f-I curve."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from brainsim.fit._spike_data import (
    as_float,
    bin_spike_times,
    check_batch,
    check_positive_scalar,
)
from brainsim.train import van_rossum_loss as _van_rossum_binned


def van_rossum_loss(
    spikes: Float[Array, " T *batch"],
    target_times: Float[ArrayLike, "*batch k"],
    *,
    tau: float,
    dt: float,
    t0: float = 0.0,
) -> Float[Array, ""]:
    """Squared van Rossum distance between model spikes and recorded spike times.

    The recorded times are binned onto the model's grid (`bin_spike_times`), both trains are
    filtered with the causal kernel `exp(-t / tau)` and
    `D² = (1 / tau) ∫ (f_model - f_data)² dt ≈ (dt / tau) Σ_n (f_model - f_data)²(t_n)`
    (`brainsim.train.van_rossum_loss`), averaged over the batch. One unmatched spike adds
    `≈ 1/2`; two spikes `δ` apart give `1 - exp(-δ / tau)`. The gradient reaches the model
    through its surrogate spikes.

    Args:
        spikes: model spikes, `(T, *batch)`, 0/1 per step.
        target_times: recorded spike times (ms), `(*batch, k)`, padded with `jnp.inf`.
        tau: kernel time constant (ms, > 0): small `tau` compares timing, large `tau` rates.
        dt: time step (ms, > 0).
        t0: time of step 0 (ms).

    Returns:
        `mean_batch D²` (dimensionless).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.fit import van_rossum_loss
        >>> s = jnp.zeros(2000).at[100].set(1.0)                # a model spike at 10 ms
        >>> round(float(van_rossum_loss(s, jnp.array([10.0]), tau=10.0, dt=0.1)), 4)
        0.0

    Reference: van Rossum (2001), *A novel spike distance*, Neural Computation 13:751.
    """
    tau = check_positive_scalar("tau", tau)
    dt = check_positive_scalar("dt", dt)
    spikes = jnp.asarray(spikes)
    check_batch(spikes, target_times)
    target_times = as_float("target_times", target_times)
    return _van_rossum(spikes, target_times, tau, dt, float(t0))


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _van_rossum(spikes, target_times, tau, dt, t0):
    target = bin_spike_times(target_times, n_steps=spikes.shape[0], dt=dt, t0=t0)
    return _van_rossum_binned(spikes, target.astype(spikes.dtype), tau=tau, dt=dt)


def _counts(spikes, target_times, dt, t0, t_start, t_stop):
    """Model and recorded spike counts in `[t_start, t_stop)` (ms), each of shape `(*batch)`."""
    dt = check_positive_scalar("dt", dt)
    spikes = jnp.asarray(spikes)
    target_times = as_float("target_times", target_times)
    check_batch(spikes, target_times)
    t_stop = t0 + spikes.shape[0] * dt if t_stop is None else t_stop
    if not t_stop > t_start:
        raise ValueError(f"`t_stop` ({t_stop}) must be after `t_start` ({t_start}) (ms).")
    model, data = _count(spikes, target_times, dt, float(t0), float(t_start), float(t_stop))
    return model, data, t_stop


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _count(spikes, target_times, dt, t0, t_start, t_stop):
    t = t0 + dt * jnp.arange(spikes.shape[0], dtype=spikes.dtype)
    in_window = ((t >= t_start) & (t < t_stop)).reshape((-1,) + (1,) * (spikes.ndim - 1))
    model = jnp.sum(jnp.where(in_window, spikes, 0.0), axis=0)
    data = jnp.sum((target_times >= t_start) & (target_times < t_stop), axis=-1)
    return model, data.astype(model.dtype)


def spike_count_loss(
    spikes: Float[Array, " T *batch"],
    target_times: Float[ArrayLike, "*batch k"],
    *,
    dt: float,
    t0: float = 0.0,
    t_start: float = 0.0,
    t_stop: float | None = None,
) -> Float[Array, ""]:
    """Squared error of the number of spikes in a window, averaged over the batch (spikes²).

    `L = mean_batch (N_model - N_data)²`, `N` counting spikes at times `t_start <= t < t_stop`
    (model spike of step `n` at `t0 + n·dt`). The gradient reaches the model through its
    surrogate spikes.

    Args:
        spikes: model spikes, `(T, *batch)`, 0/1 per step.
        target_times: recorded spike times (ms), `(*batch, k)`, padded with `jnp.inf`.
        dt: time step (ms, > 0).
        t0: time of step 0 (ms).
        t_start: start of the counting window (ms).
        t_stop: end of the counting window (ms); default: the end of the run.

    Returns:
        The mean squared count error (spikes²).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.fit import spike_count_loss
        >>> s = jnp.zeros(100).at[jnp.array([10, 20, 30])].set(1.0)
        >>> float(spike_count_loss(s, jnp.array([5.0, jnp.inf]), dt=1.0))   # (3 - 1)²
        4.0

    Reference: Jolivet, Lewis & Gerstner (2004), *Generalized integrate-and-fire models of
    neuronal activity approximate spike trains of a detailed model to a high degree of
    accuracy*, J. Neurophysiol. 92:959 (spike-count and timing criteria).
    """
    model, data, _ = _counts(spikes, target_times, dt, t0, t_start, t_stop)
    return jnp.mean((model - data) ** 2)


def fi_loss(
    spikes: Float[Array, "T sweeps"],
    target_times: Float[ArrayLike, "sweeps k"],
    *,
    dt: float,
    t_start: float,
    t_stop: float,
    t0: float = 0.0,
) -> Float[Array, ""]:
    """Squared error of the f-I curve: firing rates during a current step, per sweep (Hz²).

    Each sweep (a batch entry, one step amplitude) has the rate `r = 1000 N / (t_stop - t_start)`
    (Hz) of its spikes in `[t_start, t_stop)` (the step); `L = mean_sweeps (r_model - r_data)²`.

    Args:
        spikes: model spikes, `(T, sweeps)` (or `(T, *batch)`), 0/1 per step.
        target_times: recorded spike times (ms), `(sweeps, k)`, padded with `jnp.inf`.
        dt: time step (ms, > 0).
        t_start: onset of the current step (ms).
        t_stop: end of the current step (ms), after `t_start`.
        t0: time of step 0 (ms).

    Returns:
        The mean squared rate error (Hz²).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.fit import fi_loss
        >>> s = jnp.zeros((1000, 2)).at[::100, 1].set(1.0)         # 0 and 10 spikes in 1 s
        >>> data = jnp.array([[500.0, jnp.inf], [100.0, 600.0]])   # 1 and 2 spikes
        >>> float(fi_loss(s, data, dt=1.0, t_start=0.0, t_stop=1000.0))   # (1² + 8²) / 2
        32.5

    Reference: Naud, Marcille, Clopath & Gerstner (2008), *Firing patterns in the adaptive
    exponential integrate-and-fire model*, Biol. Cybern. 99:335 (f-I curves of AdEx).
    """
    model, data, t_stop = _counts(spikes, target_times, dt, t0, t_start, t_stop)
    return jnp.mean((1000.0 * (model - data) / (t_stop - t_start)) ** 2)
