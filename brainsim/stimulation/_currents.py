"""Deterministic current generators: functions of time that are also stateful models."""

from __future__ import annotations

import abc
import math
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_broadcasts, check_finite, check_positive


class CurrentState(NamedTuple):
    """State of a current source.

    Attributes:
        I: the current (pA) that the source injects during the next step, shape `(n,)`.
    """

    I: Float[Array, " n"]


class CurrentSource(eqx.Module):
    """Base class of current sources (generators and noise).

    A current source is a model with `init(n, key=None) -> state` and
    `step(state, inputs, *, t, dt) -> (state, I)`. Its state has a field `I`: the current (pA)
    injected during the next step, so that `brainsim.stimulation.Inject` can feed it to a
    population of a `Network`. `step` returns the current of the step from `t` to `t + dt`,
    held constant over the step, and a state whose `I` is the current of the following step.
    """

    @abc.abstractmethod
    def init(self, n: int, key: PRNGKeyArray | None = None):
        """Initial state of `n` outputs."""

    @abc.abstractmethod
    def step(self, state, inputs=None, *, t, dt):
        """Advance by one step of `dt` ms; returns the new state and this step's current (pA)."""


def _check_n(n) -> None:
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"`n` (number of outputs) must be a positive int, got {n!r}.")


def _tolerance(t) -> Array:
    """How far (ms) a time computed on the grid as `t0 + k·dt` may sit from the exact grid time:
    a few units of the float's last place, so that an edge placed on the grid (`start=100.0`
    with `dt=0.1`) switches in the step that starts there."""
    t = jnp.asarray(t)
    dtype = t.dtype if jnp.issubdtype(t.dtype, jnp.floating) else jnp.result_type(float)
    return 8 * jnp.finfo(dtype).eps * jnp.maximum(1.0, jnp.abs(t))


def _active(t, start, stop) -> Array:
    """True for `start <= t < stop` (ms), edges snapped to the grid."""
    tol = _tolerance(t)
    return (t >= start - tol) & (t < stop - tol)


class CurrentGenerator(CurrentSource):
    """Base class of deterministic current generators: a current `I(t)` (pA) given in closed form.

    A generator is used in two ways:

    - as a function of time, `generator(t)`, e.g. `brainsim.run(lif, state, inputs=generator)`;
    - as a stateful model (`init`, `step`), e.g. a population of a `Network` whose current
      reaches another population through `brainsim.stimulation.Inject`.

    In both, the step from `t` to `t + dt` receives `I(t)`: the current is sampled at the start
    of each step and held over it, as NEST's generators deliver it to a neuron connected with
    a delay of one step. Edges placed on the time grid (`start`, `stop`, the times of a
    `Waveform`) switch in the step that starts there.
    """

    @abc.abstractmethod
    def current(self, t) -> Float[Array, "*n"]:
        """The current (pA) at time `t` (ms)."""

    def __call__(self, t) -> Float[Array, "*n"]:
        """The current (pA) at time `t` (ms)."""
        return self.current(t)

    def init(self, n: int, key: PRNGKeyArray | None = None, *, t0: float = 0.0) -> CurrentState:
        """State of `n` outputs for a run starting at `t0` (ms); `key` is not used."""
        _check_n(n)
        value = jnp.asarray(self.current(t0))
        check_broadcasts(f"{type(self).__name__} current", value, n)
        return CurrentState(I=jnp.broadcast_to(value, (n,)).astype(jnp.result_type(float)))

    def step(self, state: CurrentState, inputs=None, *, t, dt):
        """Return the current of this step, `I(t)`, and the state holding `I(t + dt)`."""
        upcoming = jnp.broadcast_to(self.current(t + dt), state.I.shape).astype(state.I.dtype)
        return CurrentState(I=upcoming), state.I


class DC(CurrentGenerator):
    """A constant current, switched on at `start` and off at `stop`.

    `I(t) = amplitude` for `start <= t < stop`, 0 otherwise. NEST: `dc_generator`.

    Attributes:
        amplitude: current (pA), a scalar or one per output; differentiable.
        start: switch-on time (ms).
        stop: switch-off time (ms, > start; default never).

    Examples:
        >>> import brainsim as bs
        >>> lif = bs.neurons.LIF(tau_m=10.0)
        >>> step = bs.stimulation.DC(amplitude=300.0, start=20.0, stop=70.0)
        >>> result = bs.run(lif, lif.init(1), inputs=step, duration=100.0, dt=0.1)
    """

    amplitude: Float[Array, "*n"] = eqx.field(converter=as_param)
    start: float = eqx.field(default=0.0, static=True)
    stop: float = eqx.field(default=math.inf, static=True)

    def __check_init__(self):
        check_finite("amplitude", self.amplitude)
        _check_window(self.start, self.stop)

    def current(self, t) -> Float[Array, "*n"]:
        return jnp.where(_active(t, self.start, self.stop), self.amplitude, 0.0)


def _check_window(start, stop) -> None:
    if not math.isfinite(start):
        raise ValueError(f"`start` must be a finite time in ms, got {start!r}.")
    if not stop > start:
        raise ValueError(f"`stop` ({stop!r} ms) must be after `start` ({start!r} ms).")


class Waveform(CurrentGenerator):
    """An arbitrary waveform given by its values at points in time.

    With `interpolation="previous"` (step sequences; NEST: `step_current_generator`) the current
    jumps to `values[k]` at `times[k]` and holds it until the next time. With
    `interpolation="linear"` (ramp sequences) it moves linearly from `values[k]` at `times[k]`
    to `values[k + 1]` at `times[k + 1]`. Before `times[0]` the current is 0; after the last
    time it holds the last value (add a final 0 to end it). Sampled at the start of each step
    like every generator: a ramp becomes a staircase with steps of `dt`.

    Attributes:
        times: strictly increasing times (ms), shape `(k,)`.
        values: current (pA) at each time, shape `(k,)` or `(k, n)` (one waveform per output);
            differentiable.
        interpolation: `"previous"` or `"linear"`.

    Examples:
        >>> import brainsim as bs
        >>> ramp = bs.stimulation.Waveform([10.0, 60.0, 60.1], [0.0, 400.0, 0.0],
        ...                                interpolation="linear")
        >>> float(ramp(35.0))
        200.0
    """

    times: Float[Array, " k"] = eqx.field(converter=as_param)
    values: Float[Array, " k *n"] = eqx.field(converter=as_param)
    interpolation: str = eqx.field(default="previous", static=True)

    kinds: ClassVar[tuple[str, ...]] = ("previous", "linear")

    def __check_init__(self):
        if self.interpolation not in self.kinds:
            raise ValueError(
                f"`interpolation` must be one of {self.kinds}, got {self.interpolation!r}."
            )
        if self.times.ndim != 1 or self.times.shape[0] == 0:
            raise ValueError(
                f"`times` must be a non-empty 1-D array, got shape {self.times.shape}."
            )
        if self.values.ndim not in (1, 2) or self.values.shape[0] != self.times.shape[0]:
            raise ValueError(
                f"`values` must have shape (k,) or (k, n) with k = len(times) = "
                f"{self.times.shape[0]}, got shape {self.values.shape}."
            )
        check_finite("times", self.times)
        check_finite("values", self.values)
        if _is_concrete(self.times) and np.any(np.diff(np.asarray(self.times)) <= 0):
            raise ValueError(f"`times` must be strictly increasing, got {np.asarray(self.times)}.")

    def current(self, t) -> Float[Array, "*n"]:
        return sample(self.times, self.values, t, self.interpolation)


def _is_concrete(value) -> bool:
    return not isinstance(value, jax.core.Tracer)


def sample(times, values, t, interpolation: str) -> Array:
    """`values` (rows at `times`) at time `t`, by `"previous"` or `"linear"` interpolation, 0
    before the first time and the last value after the last time."""
    t = jnp.asarray(t)
    k = jnp.searchsorted(times, t + _tolerance(t), side="right") - 1
    held = values[jnp.clip(k, 0, times.shape[0] - 1)]
    if interpolation == "linear" and times.shape[0] > 1:
        i = jnp.clip(k, 0, times.shape[0] - 2)
        w = jnp.clip((t - times[i]) / (times[i + 1] - times[i]), 0.0, 1.0)
        held = values[i] + w * (values[i + 1] - values[i])
    return jnp.where(k >= 0, held, 0.0)


def sine(t, amplitude, frequency, phase, offset) -> Array:
    """`offset + amplitude · sin(2π · frequency · t + phase)`, `t` in ms, `frequency` in Hz and
    `phase` in degrees."""
    return offset + amplitude * jnp.sin(2 * jnp.pi * frequency * t * 1e-3 + jnp.deg2rad(phase))


class Sinusoid(CurrentGenerator):
    """A sinusoidal current.

    `I(t) = offset + amplitude · sin(2π · frequency · t + phase)` for `start <= t < stop`, 0
    otherwise, with `t` the absolute time (the phase does not restart at `start`).
    NEST: `ac_generator` (same parameters and units).

    Attributes:
        amplitude: amplitude (pA); differentiable.
        frequency: frequency (Hz, >= 0).
        phase: phase at t = 0 (degrees).
        offset: constant added to the sine (pA); differentiable.
        start: switch-on time (ms).
        stop: switch-off time (ms; default never).

    Examples:
        >>> import brainsim as bs
        >>> ac = bs.stimulation.Sinusoid(amplitude=50.0, frequency=10.0, phase=90.0)
        >>> float(ac(0.0))
        50.0
    """

    amplitude: Float[Array, "*n"] = eqx.field(converter=as_param)
    frequency: Float[Array, "*n"] = eqx.field(converter=as_param)
    phase: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    offset: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    start: float = eqx.field(default=0.0, static=True)
    stop: float = eqx.field(default=math.inf, static=True)

    def __check_init__(self):
        check_finite("amplitude", self.amplitude)
        check_positive("frequency", self.frequency, allow_zero=True)
        check_finite("phase", self.phase)
        check_finite("offset", self.offset)
        _check_window(self.start, self.stop)

    def current(self, t) -> Float[Array, "*n"]:
        value = sine(t, self.amplitude, self.frequency, self.phase, self.offset)
        return jnp.where(_active(t, self.start, self.stop), value, 0.0)


class PulseTrain(CurrentGenerator):
    """Rectangular current pulses: `amplitude` for `width` ms every `period` ms.

    `I(t) = amplitude` when `start <= t < stop` and `(t - start) mod period < width`, 0
    otherwise: the first pulse starts at `start`. NEST has no such device (it is a
    `step_current_generator` with two times per pulse; here it is a closed form that costs
    nothing per pulse).

    Attributes:
        amplitude: pulse current (pA), a scalar or one per output; differentiable.
        width: pulse duration (ms, > 0, < period).
        period: time between pulse onsets (ms, > 0).
        start: onset of the first pulse (ms).
        stop: end of the train (ms; default never).

    Examples:
        >>> import brainsim as bs
        >>> pulses = bs.stimulation.PulseTrain(amplitude=500.0, width=2.0, period=50.0)
        >>> float(pulses(1.0)), float(pulses(3.0)), float(pulses(51.0))
        (500.0, 0.0, 500.0)
    """

    amplitude: Float[Array, "*n"] = eqx.field(converter=as_param)
    width: float = eqx.field(static=True)
    period: float = eqx.field(static=True)
    start: float = eqx.field(default=0.0, static=True)
    stop: float = eqx.field(default=math.inf, static=True)

    def __check_init__(self):
        check_finite("amplitude", self.amplitude)
        if not (math.isfinite(self.period) and self.period > 0):
            raise ValueError(f"`period` must be a positive number of ms, got {self.period!r}.")
        if not 0 < self.width < self.period:
            raise ValueError(
                f"`width` must be > 0 and below `period` ({self.period} ms), got {self.width!r}."
            )
        _check_window(self.start, self.stop)

    def current(self, t) -> Float[Array, "*n"]:
        since = jnp.asarray(t) - self.start
        tol = _tolerance(t)
        onset = jnp.floor((since + tol) / self.period) * self.period
        on = _active(t, self.start, self.stop) & (since - onset < self.width - tol)
        return jnp.where(on, self.amplitude, 0.0)
