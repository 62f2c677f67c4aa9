"""Spike sources: Poisson processes and replay of given spike times."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from brainsim._validation import as_param, check_positive
from brainsim.neurons._base import Drive, Neuron


class PoissonState(NamedTuple):
    """State of a Poisson source.

    Attributes:
        key: the random key, split once per step.
        spikes: the spikes of the last step (0.0 / 1.0), shape `(n,)`.
    """

    key: PRNGKeyArray
    spikes: Float[Array, " n"]


class PoissonSource(Neuron):
    """Independent Poisson spike trains.

    In each step of `dt` ms a neuron spikes with probability `rate · dt / 1000` (rate in Hz). A
    step's `inputs`, when given, replace `rate` for that step (an inhomogeneous process).
    With `counts=True` a step emits the number of events of the process in the step, a
    Poisson count of mean `rate · dt / 1000` (graded events, delivered with their
    multiplicity): the exact form for high rates, e.g. NEST's `poisson_generator` at 10 kHz
    feeding one synapse per neuron at dt = 0.1 ms, where a 0/1 spike per step would saturate.
    Randomness comes from the key given to `init` and carried in the state, so the same key gives
    the same trains and `vmap` over keys equals a loop over them.

    Attributes:
        rate: firing rate (Hz, >= 0), a scalar or one per neuron. Without `counts`,
            `rate · dt / 1000` must not exceed 1.
        counts: emit Poisson counts per step instead of 0/1 spikes.

    Examples:
        >>> import jax, brainsim as bs
        >>> source = bs.neurons.PoissonSource(rate=15.0)
        >>> state = source.init(1000, key=jax.random.key(0))
        >>> state, spikes = source.step(state, t=0.0, dt=0.1)
    """

    rate: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    counts: bool = eqx.field(default=False, static=True)

    @property
    def binary_spikes(self) -> bool:
        """0/1 spikes, unless the source emits `counts`."""
        return not self.counts

    def __check_init__(self):
        check_positive("rate", self.rate, allow_zero=True)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> PoissonState:
        """State of `n` independent trains; `key` (a `jax.random` key) is required."""
        self._check_shapes(n)
        if key is None:
            raise ValueError("PoissonSource.init needs `key`, e.g. key=jax.random.key(0).")
        return PoissonState(key=key, spikes=jnp.zeros((n,), jnp.result_type(float)))

    def step(self, state: PoissonState, inputs=None, *, t, dt):
        """Draw this step's spikes (0.0 / 1.0, no gradient)."""
        if isinstance(inputs, Drive):
            raise TypeError(
                "PoissonSource received synaptic input (a Drive): its inputs are rates (Hz). "
                "Do not target a spike source with a Projection or coupling."
            )
        rate = self.rate if inputs is None else jnp.asarray(inputs)
        key, draw = jax.random.split(state.key)
        shape = state.spikes.shape
        p = jnp.broadcast_to(rate * dt * 1e-3, shape).astype(state.spikes.dtype)
        top = _largest_mean(rate, dt)
        if self.counts:
            spikes = _poisson_counts(draw, p, top)
        else:
            _check_probability(top, dt)
            spikes = (jax.random.uniform(draw, shape, dtype=p.dtype) < p).astype(p.dtype)
        return PoissonState(key=key, spikes=spikes), spikes


def _largest_mean(rate, dt) -> float | None:
    """The largest mean count `rate · dt / 1000` when rate and dt are concrete, else None."""
    try:
        return float(np.max(np.asarray(rate) * float(dt) * 1e-3, initial=0.0))
    except (TypeError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        return None


def _poisson_counts(key: PRNGKeyArray, mean: Float[Array, " n"], top: float | None):
    """Poisson counts of mean `mean`, by inversion of the CDF over a fixed number of terms.

    When the largest mean `top` is known, `top + 8 sqrt(top) + 16` terms cover the
    distribution to a tail probability far below float resolution: a short unrolled loop,
    about 6x faster than `jax.random.poisson`'s per-element rejection loop for means near 1.
    Otherwise (traced rates) `jax.random.poisson`.
    """
    if top is None:
        return jax.random.poisson(key, mean, mean.shape).astype(mean.dtype)
    u = jax.random.uniform(key, mean.shape, dtype=mean.dtype)
    term = jnp.exp(-mean)
    cdf, count = term, jnp.zeros_like(mean)
    for k in range(1, int(np.ceil(top + 8.0 * np.sqrt(top) + 16.0)) + 1):
        count = count + (u > cdf)
        term = term * mean / k
        cdf = cdf + term
    return count


def _check_probability(top: float | None, dt) -> None:
    """A 0/1 spike per step cannot carry `rate · dt / 1000 > 1` (checked when concrete)."""
    if top is not None and top > 1.0:
        raise ValueError(
            f"PoissonSource: rate · dt / 1000 = {top} > 1 at dt = {dt} "
            "ms; a 0/1 spike per step saturates. Use `counts=True` (Poisson counts per step) or "
            "a smaller dt."
        )


class SpikeTimesState(NamedTuple):
    """State of a spike-time replay: the spikes of the last step (0.0 / 1.0), shape `(n,)`."""

    spikes: Float[Array, " n"]


class SpikeTimes(Neuron):
    """Replays given spikes: neuron `indices[k]` fires at `times[k]` (ms).

    An event at time `τ` is emitted by the step whose time `t` satisfies
    `t - dt/2 ≤ τ < t + dt/2` (the nearest grid point). Several events of one neuron within one
    step give one spike. The events are sorted by time once, at construction; each step finds
    its events by binary search and costs O(log k + events in the step), so long recordings
    replay at the cost of their spikes.

    Args:
        times (Float[Array, 'k']): spike times (ms).
        indices (Int[Array, 'k']): neuron index of each spike.

    Examples:
        >>> import brainsim as bs
        >>> source = bs.neurons.SpikeTimes(times=[1.0, 5.0, 5.0], indices=[0, 0, 2])
        >>> state, spikes = source.step(source.init(3), t=1.0, dt=0.1)   # neuron 0 fires
    """

    times: Float[Array, " k"]
    indices: Int[Array, " k"]

    def __init__(self, times, indices):
        times, indices = as_param(times), jnp.asarray(indices, jnp.int32)
        if times.ndim == 1 and indices.shape == times.shape:
            order = jnp.argsort(times, stable=True)
            times, indices = times[order], indices[order]
        self.times, self.indices = times, indices

    def __check_init__(self):
        if self.times.ndim != 1 or self.indices.shape != self.times.shape:
            raise ValueError(
                f"`times` and `indices` must be 1-D of equal length, got shapes "
                f"{self.times.shape} and {self.indices.shape}."
            )
        if not isinstance(self.times, jax.core.Tracer) and not np.all(np.isfinite(self.times)):
            raise ValueError("`times` must be finite.")
        if not isinstance(self.indices, jax.core.Tracer) and np.any(np.asarray(self.indices) < 0):
            raise ValueError("`indices` must be >= 0.")

    def init(self, n: int, key: PRNGKeyArray | None = None) -> SpikeTimesState:
        """State of `n` replayed neurons; every index must be below `n`."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` (number of neurons) must be a positive int, got {n!r}.")
        concrete = not isinstance(self.indices, jax.core.Tracer)
        if concrete and self.indices.size and int(np.max(np.asarray(self.indices))) >= n:
            raise ValueError(f"`indices` holds {int(np.max(self.indices))}, but `n` is {n}.")
        return SpikeTimesState(spikes=jnp.zeros((n,), jnp.result_type(float)))

    def step(self, state: SpikeTimesState, inputs=None, *, t, dt):
        """Emit the events that fall into this step."""
        if self.times.shape[0] == 0:
            return state, jnp.zeros_like(state.spikes)
        first = jnp.searchsorted(self.times, t - dt / 2, side="left")
        last = jnp.searchsorted(self.times, t + dt / 2, side="left")

        def emit(k, spikes):
            return spikes.at[self.indices[k]].set(1.0)

        spikes = jax.lax.fori_loop(first, last, emit, jnp.zeros_like(state.spikes))
        return SpikeTimesState(spikes=spikes), spikes
