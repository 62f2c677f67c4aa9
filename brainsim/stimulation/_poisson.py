"""Inhomogeneous Poisson spike trains: from a rate function, a sampled rate or a sinusoid."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_finite, check_positive
from brainsim.neurons._base import Neuron
from brainsim.neurons._sources import PoissonState
from brainsim.stimulation._currents import Waveform, sine


def bernoulli_spikes(key, rate, shape, dt, dtype) -> Float[Array, " n"]:
    """Spikes (0.0 / 1.0) of one step: each output fires with probability `rate · dt`, clipped
    to [0, 1] (rate in Hz, dt in ms), so that the expected count in a step is the Poisson
    process's while `rate · dt` <= 1."""
    p = jnp.clip(jnp.broadcast_to(rate * dt * 1e-3, shape), 0.0, 1.0).astype(dtype)
    return (jax.random.uniform(key, shape, dtype=dtype) < p).astype(dtype)


def _init(name: str, n: int, key) -> PoissonState:
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"`n` (number of neurons) must be a positive int, got {n!r}.")
    if key is None:
        raise ValueError(f"{name}.init needs `key`, e.g. key=jax.random.key(0).")
    return PoissonState(key=key, spikes=jnp.zeros((n,), jnp.result_type(float)))


class InhomogeneousPoisson(Neuron):
    """Independent Poisson spike trains whose rate varies in time.

    The rate `λ(t)` (Hz) is either a function of time (ms), e.g. a generator of
    `brainsim.stimulation` or any `t -> rate` function, or given by `times` and `rates`
    (a `Waveform`: with the default `interpolation="previous"` the rate jumps to `rates[k]` at
    `times[k]`, as NEST's `inhomogeneous_poisson_generator` does; 0 before `times[0]`).
    In the step from `t` to `t + dt` each neuron fires with probability `λ(t) · dt`; negative
    values of a rate function count as 0. Keep `λ · dt` well below 1 (at most one spike per
    step is emitted). The count in a window `[a, b)` then has mean `Σ_k λ(t_k) dt`, the integral
    of the sampled rate.

    Args:
        rate (Callable | None): a function `t (ms) -> rate (Hz)`, returning a scalar or one rate per
            neuron.
        times (Array | None): times (ms) of a sampled rate, strictly increasing; instead of `rate`.
        rates (Array | None): rates (Hz, >= 0) at `times`, shape `(k,)` or `(k, n)`; differentiable.
        interpolation: `"previous"` or `"linear"` between `times`.

    Examples:
        >>> import jax, brainsim as bs
        >>> source = bs.stimulation.InhomogeneousPoisson(times=[0.0, 100.0], rates=[5.0, 40.0])
        >>> result = bs.run(source, source.init(500, key=jax.random.key(0)), duration=200.0,
        ...                 dt=0.1)
    """

    rate: Callable

    def __init__(self, rate=None, *, times=None, rates=None, interpolation: str = "previous"):
        if (rate is None) == (times is None and rates is None):
            raise ValueError("give either `rate` (a function of t) or `times` and `rates`.")
        if rate is None:
            if times is None or rates is None:
                raise ValueError("`times` and `rates` must be given together.")
            rates = as_param(rates)
            check_positive("rates", rates, allow_zero=True)
            rate = Waveform(times, rates, interpolation=interpolation)
        elif not callable(rate):
            raise TypeError(f"`rate` must be a function of t (ms) returning Hz, got {rate!r}.")
        self.rate = rate

    def init(self, n: int, key: PRNGKeyArray | None = None) -> PoissonState:
        """State of `n` independent trains; `key` (a `jax.random` key) is required."""
        return _init("InhomogeneousPoisson", n, key)

    def step(self, state: PoissonState, inputs=None, *, t, dt):
        """Draw this step's spikes (0.0 / 1.0, no gradient) at the rate `λ(t)`."""
        key, draw = jax.random.split(state.key)
        rate = jnp.maximum(jnp.asarray(self.rate(t)), 0.0)
        spikes = bernoulli_spikes(draw, rate, state.spikes.shape, dt, state.spikes.dtype)
        return PoissonState(key=key, spikes=spikes), spikes


class SinusoidalPoisson(Neuron):
    """Poisson spike trains with a sinusoidally modulated rate.

    `λ(t) = max(0, rate + amplitude · sin(2π · frequency · t + phase))` (Hz; `t` in ms,
    `frequency` in Hz, `phase` in degrees), drawn as `InhomogeneousPoisson` does. With
    `individual=True` every neuron has an independent train; with `False` all neurons share
    one train. NEST: `sinusoidal_poisson_generator` (same parameters, `individual` is
    `individual_spike_trains`).

    Attributes:
        rate: mean rate (Hz, >= 0), a scalar or one per neuron.
        amplitude: modulation amplitude (Hz, >= 0; above `rate` the rate is clipped at 0).
        frequency: modulation frequency (Hz, >= 0).
        phase: phase at t = 0 (degrees).
        individual: independent trains per neuron (True) or one shared train (False).

    Examples:
        >>> import jax, brainsim as bs
        >>> source = bs.stimulation.SinusoidalPoisson(rate=20.0, amplitude=15.0, frequency=5.0)
        >>> state, spikes = source.step(source.init(100, key=jax.random.key(0)), t=0.0, dt=0.1)
    """

    rate: Float[Array, "*n"] = eqx.field(converter=as_param)
    amplitude: Float[Array, "*n"] = eqx.field(converter=as_param)
    frequency: Float[Array, "*n"] = eqx.field(converter=as_param)
    phase: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    individual: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_positive("rate", self.rate, allow_zero=True)
        check_positive("amplitude", self.amplitude, allow_zero=True)
        check_positive("frequency", self.frequency, allow_zero=True)
        check_finite("phase", self.phase)
        if not self.individual:
            for name in ("rate", "amplitude", "frequency", "phase"):
                if jnp.size(getattr(self, name)) != 1:
                    raise ValueError(
                        f"`{name}` must be a scalar when `individual=False` (one shared train), "
                        f"got shape {jnp.shape(getattr(self, name))}."
                    )

    def init(self, n: int, key: PRNGKeyArray | None = None) -> PoissonState:
        """State of `n` trains; `key` (a `jax.random` key) is required."""
        self._check_shapes(n)
        return _init("SinusoidalPoisson", n, key)

    def step(self, state: PoissonState, inputs=None, *, t, dt):
        """Draw this step's spikes (0.0 / 1.0, no gradient)."""
        key, draw = jax.random.split(state.key)
        rate = jnp.maximum(sine(t, self.amplitude, self.frequency, self.phase, self.rate), 0.0)
        shape = state.spikes.shape
        if self.individual:
            spikes = bernoulli_spikes(draw, rate, shape, dt, state.spikes.dtype)
        else:
            one = bernoulli_spikes(draw, rate.reshape(()), (1,), dt, state.spikes.dtype)
            spikes = jnp.broadcast_to(one, shape)
        return PoissonState(key=key, spikes=spikes), spikes
