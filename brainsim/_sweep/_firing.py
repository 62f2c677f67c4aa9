"""Firing rate and ISI irregularity of a run, accumulated on the fly (no spikes recorded)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from brainsim._recording import Probe, read_probe
from brainsim._run import run
from brainsim._validation import check_dt

__all__ = ["firing_statistics"]


class _Intervals(NamedTuple):
    """Per neuron: spikes so far, time of the last (ms), running mean and sum of squared
    deviations of its inter-spike intervals (Welford)."""

    count: Int[Array, " n"]
    last: Float[Array, " n"]
    mean: Float[Array, " n"]
    m2: Float[Array, " n"]


def _start(n: int, dtype) -> _Intervals:
    zeros = jnp.zeros((n,), dtype)
    return _Intervals(jnp.zeros((n,), jnp.int32), zeros, zeros, zeros)


def _add_spikes(acc: _Intervals, fired, t) -> _Intervals:
    has_interval = fired & (acc.count > 0)
    interval = t - acc.last
    delta = interval - acc.mean
    mean = jnp.where(has_interval, acc.mean + delta / jnp.maximum(acc.count, 1), acc.mean)
    m2 = jnp.where(has_interval, acc.m2 + delta * (interval - mean), acc.m2)
    return _Intervals(acc.count + fired, jnp.where(fired, t, acc.last), mean, m2)


def _label(name: str) -> str:
    prefix = name.removesuffix("spikes").removesuffix(".")
    return f"_{prefix}" if prefix else ""


def firing_statistics(
    model,
    state,
    *,
    dt: float,
    duration: float,
    spikes: str | Sequence[str] = "spikes",
    inputs: Any = None,
    t0: float = 0.0,
) -> dict[str, Float[Array, ""]]:
    """Run `model` and summarise each spiking population by its rate and irregularity, computed
    during the run: nothing per step is kept, so a sweep of large networks stays small.

    For a population of `N` neurons over `T = steps · dt`: the mean rate
    `rate = (Σ_i n_i) / (N · T)` (Hz), and the mean ISI coefficient of variation
    `cv = ⟨ std(ISI_i) / mean(ISI_i) ⟩_i` over the neurons with at least 3 spikes (standard
    deviation with `1/n`, as `np.std`; NaN when no neuron qualifies). Spike times are the start
    times of their steps, as `brainsim.run` stamps them; the intervals' running mean and
    variance use Welford's update, so float32 keeps them accurate.

    Args:
        model (equinox.Module | Callable): a model with a `step` method (a `Network`, a
            neuron) or a step function.
        state (PyTree): its initial state.
        dt: time step (ms).
        duration: length of the run (ms, rounded to a whole number of steps).
        spikes: the spike variables, as `brainsim.run` names them (`"E.spikes"` for the
            population `E` of a network, `"spikes"` for a neuron model).
        inputs: constant input or a function of `t` (ms), as for `brainsim.run`.
        t0: time of the first step (ms).

    Returns:
        `{"rate_<population>": Hz, "cv_<population>": ...}` (just `rate` and `cv` for the
        variable `"spikes"`), scalars, traced inside `jit`/`vmap`/`brainsim.sweep`.

    Examples:
        >>> import jax, brainsim as bs
        >>> lif = bs.neurons.LIF(tau_m=10.0, R=0.1)
        >>> stats = bs.firing_statistics(lif, lif.init(5), inputs=250.0, dt=0.1, duration=500.0)
        >>> round(float(stats["rate"])), round(float(stats["cv"]), 3)
        (88, 0.0)

    Reference: Softky & Koch (1993), *The highly irregular firing of cortical cells is
    inconsistent with temporal integration of random EPSPs*, J. Neurosci. 13:334 (CV of ISIs);
    Welford (1962), Technometrics 4:419.
    """
    check_dt(dt)
    names = [spikes] if isinstance(spikes, str) else list(spikes)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"`spikes` must name spike variables, got {spikes!r}.")
    steps = round(duration / dt) if duration > 0 else 0
    if steps < 1:
        raise ValueError(f"`duration` must be at least one step of dt = {dt} ms, got {duration!r}.")
    probes = [Probe(name, None, None) for name in names]
    step_of = getattr(model, "step", model)

    def step(carry, x, *, t, dt):
        inner, intervals = carry
        inner, outputs = step_of(inner, x, t=t, dt=dt)
        intervals = [
            _add_spikes(acc, read_probe(p, inner, outputs) > 0, t)
            for acc, p in zip(intervals, probes, strict=True)
        ]
        return (inner, intervals), outputs

    def spikes_after_one_step(inner, probe):
        x = inputs(t0) if callable(inputs) else inputs
        inner, outputs = step_of(inner, x, t=t0, dt=dt)
        return read_probe(probe, inner, outputs)

    dtype = jnp.result_type(float)
    starts = [
        _start(jax.eval_shape(lambda s, p=p: spikes_after_one_step(s, p), state).shape[-1], dtype)
        for p in probes
    ]
    result = run(step, (state, starts), dt=dt, steps=steps, inputs=inputs, t0=t0, record=None,
                 stream=False)  # fmt: skip
    seconds = steps * dt / 1000.0
    stats = {}
    for name, acc in zip(names, result.final_state[1], strict=True):
        regular = acc.count >= 3
        cv = jnp.sqrt(acc.m2 / jnp.maximum(acc.count - 1, 1)) / jnp.where(regular, acc.mean, 1.0)
        n_regular = regular.sum()
        label = _label(name)
        stats[f"rate{label}"] = acc.count.sum() / (acc.count.shape[0] * seconds)
        stats[f"cv{label}"] = jnp.where(
            n_regular > 0, jnp.where(regular, cv, 0.0).sum() / jnp.maximum(n_regular, 1), jnp.nan
        )
    return stats
