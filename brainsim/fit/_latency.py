"""First-spike latency after a stimulus onset: exact, differentiable, and as a loss."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from brainsim.fit._spike_data import as_float, check_batch, check_positive_scalar


def _checked(spikes, dt, t0, t_start):
    """`(spikes, dt, t0, t_start)` checked: a time axis, `dt > 0`, `t_start` inside the run."""
    dt = check_positive_scalar("dt", dt)
    spikes = jnp.asarray(spikes)
    if spikes.ndim < 1:
        raise ValueError("`spikes` must have a leading time axis (T, *batch), got a scalar.")
    if not t0 + spikes.shape[0] * dt - t_start > 0:
        raise ValueError(f"`t_start` ({t_start} ms) must be before the end of the run.")
    return spikes, dt, float(t0), float(t_start)


def _window(spikes, dt, t0, t_start):
    """Step times `(T, 1, ...)` relative to `t_start`, the in-window mask and the window end."""
    t = t0 + dt * jnp.arange(spikes.shape[0], dtype=spikes.dtype) - t_start
    t = t.reshape((-1,) + (1,) * (spikes.ndim - 1))
    return t, t >= 0, t0 + spikes.shape[0] * dt - t_start


def first_spike_latency(
    spikes: Float[Array, " T *batch"], *, dt: float, t0: float = 0.0, t_start: float = 0.0
) -> Float[Array, "*batch"]:
    """Exact time from `t_start` to the first model spike at or after it (ms; `inf` if none).

    `latency = min {t_n - t_start : s_n > 0.5, t_n >= t_start}` with `t_n = t0 + n·dt`. Not
    differentiable (zero gradient); see `soft_first_spike_latency`.

    Args:
        spikes: model spikes, `(T, *batch)`, 0/1 per step.
        dt: time step (ms, > 0).
        t0: time of step 0 (ms).
        t_start: stimulus onset (ms).

    Returns:
        The latency of each train (ms), `(*batch)`.

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.fit import first_spike_latency
        >>> s = jnp.zeros((10, 2)).at[7, 0].set(1.0)
        >>> first_spike_latency(s, dt=1.0, t_start=2.0)
        Array([ 5., inf], dtype=float32)

    Reference: Gollisch & Meister (2008), *Rapid neural coding in the retina with relative spike
    latencies*, Science 319:1108.
    """
    return _first(jax.lax.stop_gradient(_checked(spikes, dt, t0, t_start)[0]), dt, t0, t_start)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _first(spikes, dt, t0, t_start):
    t, in_window, _ = _window(spikes, dt, t0, t_start)
    t = jnp.broadcast_to(t, spikes.shape)
    return jnp.min(jnp.where(in_window & (spikes > 0.5), t, jnp.inf), axis=0)


def soft_first_spike_latency(
    spikes: Float[Array, " T *batch"], *, dt: float, t0: float = 0.0, t_start: float = 0.0
) -> Float[Array, "*batch"]:
    """Differentiable first-spike latency after `t_start` (ms; the window length if silent).

    Reading `s_n` as the probability of a spike in step `n`, the expected first-spike time:
    `ℓ = Σ_n s_n P_n (t_n - t_start) + P_end (t_end - t_start)`, with the survival
    `P_n = Π_{m < n} (1 - s_m)` over steps at or after `t_start` and `t_end = t0 + T·dt`. For
    0/1 spikes `ℓ` equals the exact latency (`first_spike_latency`, or `t_end - t_start` when
    the train is silent), and through the surrogate its gradient is `∂ℓ/∂s_m = t_m - t_first`
    before the first spike (an earlier spike shortens the latency) and `t_first - t_next` at it.

    Args:
        spikes: model spikes, `(T, *batch)`, 0/1 per step (or probabilities in [0, 1]).
        dt: time step (ms, > 0).
        t0: time of step 0 (ms).
        t_start: stimulus onset (ms), before the end of the run.

    Returns:
        The latency of each train (ms), `(*batch)`.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.fit import soft_first_spike_latency
        >>> s = jnp.zeros(10).at[jnp.array([5, 8])].set(1.0)
        >>> float(soft_first_spike_latency(s, dt=1.0, t_start=2.0))
        3.0
        >>> jax.grad(lambda s: soft_first_spike_latency(s, dt=1.0, t_start=2.0))(s)[4:9]
        Array([-1.,  -3.,  0.,  0.,  0.], dtype=float32)

    Reference: Mostafa (2018), *Supervised learning based on temporal coding in spiking neural
    networks*, IEEE TNNLS 29:3227 (training first-spike times).
    """
    return _soft_first(*_checked(spikes, dt, t0, t_start))


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _soft_first(spikes, dt, t0, t_start):
    t, in_window, t_end = _window(spikes, dt, t0, t_start)
    s = jnp.where(in_window, spikes, 0.0)

    def survive(p, s_n):
        return p * (1.0 - s_n), p

    p_end, p_before = jax.lax.scan(survive, jnp.ones_like(s[0]), s)
    return jnp.sum(s * p_before * t, axis=0) + p_end * t_end


def latency_loss(
    spikes: Float[Array, " T *batch"],
    target_times: Float[ArrayLike, "*batch k"],
    *,
    dt: float,
    t0: float = 0.0,
    t_start: float = 0.0,
) -> Float[Array, ""]:
    """Squared error of the first-spike latency after `t_start`, averaged over the batch (ms²).

    `L = mean_batch (ℓ_model - ℓ_data)²` with `ℓ_model` from `soft_first_spike_latency` and
    `ℓ_data` the first recorded spike at or after `t_start`; a silent train (model or data)
    counts as firing at the end of the run, so two silent trains agree.

    Args:
        spikes: model spikes, `(T, *batch)`, 0/1 per step.
        target_times: recorded spike times (ms), `(*batch, k)`, padded with `jnp.inf`.
        dt: time step (ms, > 0).
        t0: time of step 0 (ms).
        t_start: stimulus onset (ms).

    Returns:
        The mean squared latency error (ms²).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.fit import latency_loss
        >>> s = jnp.zeros(100).at[30].set(1.0)
        >>> float(latency_loss(s, jnp.array([1.0, 25.0, 40.0]), dt=1.0, t_start=10.0))
        25.0

    Reference: Mostafa (2018), IEEE TNNLS 29:3227.
    """
    target_times = as_float("target_times", target_times)
    check_batch(spikes, target_times)
    return _latency_loss(*_checked(spikes, dt, t0, t_start), target_times)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _latency_loss(spikes, dt, t0, t_start, target_times):
    model = _soft_first(spikes, dt, t0, t_start)
    t_end = t0 + spikes.shape[0] * dt - t_start
    after = jnp.where(target_times >= t_start, target_times - t_start, jnp.inf)
    data = jnp.minimum(jnp.min(after, axis=-1), t_end)
    return jnp.mean((model - data) ** 2)
