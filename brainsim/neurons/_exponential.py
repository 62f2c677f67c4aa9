"""Exponential integrate-and-fire neurons: ExpIF and AdEx."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_finite, check_less, check_positive
from brainsim.neurons._base import (
    Neuron,
    as_drive,
    default_surrogate,
    integrate,
    next_refractory,
    refractory_mask,
)
from brainsim.neurons._lif import (
    LIFState,
    _initial_v,
    _integrate_and_fire,
    _reset,
    reset_gate,
)
from brainsim.surrogate import Surrogate


def _spike_current(v, v_T, delta_T, v_peak):
    """`Δ_T exp((v - v_T)/Δ_T)`, with v capped at the spike cut-off so the step stays finite."""
    return delta_T * jnp.exp((jnp.minimum(v, v_peak) - v_T) / delta_T)


class ExpIF(Neuron):
    """Exponential integrate-and-fire neuron (Fourcaud-Trocmé et al. 2003).

    `tau_m dv/dt = -(v - v_rest) + Δ_T exp((v - v_T)/Δ_T) + R I(v)`; a spike when `v > v_peak`,
    then `v ← v_reset`, held for `t_ref`. The surrogate sees `(v - v_peak)/(v_peak - v_reset)`.

    Attributes:
        tau_m: membrane time constant (ms, > 0).
        v_rest: resting potential (mV).
        v_T: threshold of the exponential (rheobase potential, mV).
        delta_T: slope factor (mV, > 0).
        v_peak: spike cut-off (mV), above `v_T` and `v_reset`.
        v_reset: reset potential (mV).
        t_ref: refractory period (ms, >= 0).
        R: membrane resistance (GΩ = mV/pA, > 0).
        spike_fn, method, detach_reset: as for `LIF`.

    Examples:
        >>> import brainsim as bs
        >>> neuron = bs.neurons.ExpIF(delta_T=2.0)
        >>> state, spikes = neuron.step(neuron.init(2), 300.0, t=0.0, dt=0.05)

    Reference: Fourcaud-Trocmé, Hansel, van Vreeswijk & Brunel (2003), J. Neurosci. 23:11628.
    """

    tau_m: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    v_rest: Float[Array, "*n"] = eqx.field(default=-65.0, converter=as_param)
    v_T: Float[Array, "*n"] = eqx.field(default=-50.0, converter=as_param)
    delta_T: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    v_peak: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    v_reset: Float[Array, "*n"] = eqx.field(default=-65.0, converter=as_param)
    t_ref: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    R: Float[Array, "*n"] = eqx.field(default=0.1, converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    method: str = eqx.field(default="exp_euler", static=True)
    detach_reset: bool = eqx.field(default=False, static=True)

    def __check_init__(self):
        check_positive("tau_m", self.tau_m)
        check_positive("delta_T", self.delta_T)
        check_positive("t_ref", self.t_ref, allow_zero=True)
        check_positive("R", self.R)
        for name in ("v_rest", "v_T", "v_peak", "v_reset"):
            check_finite(name, getattr(self, name))
        check_less("v_reset", self.v_reset, "v_peak", self.v_peak)
        check_less("v_T", self.v_T, "v_peak", self.v_peak)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> LIFState:
        """State of `n` neurons at rest, or with `v` uniform in `[v_reset, v_T]` given a key."""
        self._check_shapes(n)
        v = _initial_v(key, n, self.v_rest, self.v_reset, self.v_T, self._full)
        return LIFState(v=v, refractory_left=jnp.zeros_like(v))

    def step(self, state: LIFState, inputs=None, *, t, dt):
        """Advance by `dt` ms with input current `inputs` (pA array or `Drive`)."""
        drive = as_drive(inputs, like=state.v)

        def dv_dt(t, v):
            leak = -(v - self.v_rest)
            spike_current = _spike_current(v, self.v_T, self.delta_T, self.v_peak)
            return (leak + spike_current + self.R * drive.current(v)) / self.tau_m

        v, left, spikes, _ = _integrate_and_fire(
            self, state, dv_dt, self.v_peak, self.v_peak, t, dt
        )
        return LIFState(v=v, refractory_left=left), spikes


class AdExState(NamedTuple):
    """State of an AdEx population.

    Attributes:
        v: membrane potential (mV), shape `(n,)`.
        w: adaptation current (pA), shape `(n,)`.
        refractory_left: refractory time still to run (ms), shape `(n,)`.
    """

    v: Float[Array, " n"]
    w: Float[Array, " n"]
    refractory_left: Float[Array, " n"]


class AdEx(Neuron):
    """Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

    `C dv/dt = -g_L (v - E_L) + g_L Δ_T exp((v - V_T)/Δ_T) - w + I(v)`,
    `tau_w dw/dt = a (v - E_L) - w`; a spike when `v > V_peak`, then `v ← V_r`, `w ← w + b`.
    The defaults are the *tonic* pattern of Naud et al. (2008); the other patterns of that paper
    are available from `AdEx.pattern(name)`. The surrogate sees `(v - V_peak)/(V_peak - V_r)`.

    Attributes:
        C: membrane capacitance (pF, > 0).
        g_L: leak conductance (nS, > 0).
        E_L: leak reversal potential (mV).
        V_T: threshold of the exponential (mV).
        delta_T: slope factor (mV, > 0).
        a: subthreshold adaptation (nS).
        tau_w: adaptation time constant (ms, > 0).
        b: spike-triggered adaptation increment (pA).
        V_r: reset potential (mV).
        V_peak: spike cut-off (mV), above `V_r` and `V_T`.
        t_ref: refractory period (ms, >= 0); 0 in Naud et al.
        spike_fn, method, detach_reset: as for `LIF`.

    Examples:
        >>> import brainsim as bs
        >>> adex = bs.neurons.AdEx.pattern("adapting", method="euler")
        >>> state = adex.init(1)
        >>> state, spikes = adex.step(state, 500.0, t=0.0, dt=0.01)   # 500 pA step

    References: Brette & Gerstner (2005), J. Neurophysiol. 94:3637; Naud, Marcille, Clopath &
    Gerstner (2008), Biol. Cybern. 99:335.
    """

    C: Float[Array, "*n"] = eqx.field(default=200.0, converter=as_param)
    g_L: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    E_L: Float[Array, "*n"] = eqx.field(default=-70.0, converter=as_param)
    V_T: Float[Array, "*n"] = eqx.field(default=-50.0, converter=as_param)
    delta_T: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    a: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    tau_w: Float[Array, "*n"] = eqx.field(default=30.0, converter=as_param)
    b: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    V_r: Float[Array, "*n"] = eqx.field(default=-58.0, converter=as_param)
    V_peak: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    t_ref: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    method: str = eqx.field(default="exp_euler", static=True)
    detach_reset: bool = eqx.field(default=False, static=True)

    PATTERNS = {
        # name: (C, g_L, E_L, V_T, delta_T, a, tau_w, b, V_r), with the step current I (pA)
        "tonic": ((200.0, 10.0, -70.0, -50.0, 2.0, 2.0, 30.0, 0.0, -58.0), 500.0),
        "adapting": ((200.0, 12.0, -70.0, -50.0, 2.0, 2.0, 300.0, 60.0, -58.0), 500.0),
        "initial_burst": ((130.0, 18.0, -58.0, -50.0, 2.0, 4.0, 150.0, 120.0, -50.0), 400.0),
        "bursting": ((200.0, 10.0, -58.0, -50.0, 2.0, 2.0, 120.0, 100.0, -46.0), 210.0),
    }

    def __check_init__(self):
        for name in ("C", "g_L", "delta_T", "tau_w"):
            check_positive(name, getattr(self, name))
        check_positive("t_ref", self.t_ref, allow_zero=True)
        for name in ("E_L", "V_T", "a", "b", "V_r", "V_peak"):
            check_finite(name, getattr(self, name))
        check_less("V_r", self.V_r, "V_peak", self.V_peak)
        check_less("V_T", self.V_T, "V_peak", self.V_peak)

    @classmethod
    def pattern(cls, name: str, **overrides) -> AdEx:
        """An AdEx with the parameters of a Naud et al. (2008) firing pattern.

        `name` is one of `"tonic"`, `"adapting"`, `"initial_burst"`, `"bursting"`; the step
        current that elicits the pattern is `AdEx.PATTERNS[name][1]` (pA). `overrides` replace
        any of the pattern's parameters (e.g. `a=...`) or set others.
        """
        if name not in cls.PATTERNS:
            raise ValueError(f"`name` must be one of {sorted(cls.PATTERNS)}, got {name!r}.")
        keys = ("C", "g_L", "E_L", "V_T", "delta_T", "a", "tau_w", "b", "V_r")
        return cls(**{**dict(zip(keys, cls.PATTERNS[name][0], strict=True)), **overrides})

    def init(self, n: int, key: PRNGKeyArray | None = None) -> AdExState:
        """State of `n` neurons at `v = E_L`, `w = 0` (with a key: `v` uniform in `[V_r, V_T]`)."""
        self._check_shapes(n)
        v = _initial_v(key, n, self.E_L, self.V_r, self.V_T, self._full)
        zeros = jnp.zeros_like(v)
        return AdExState(v=v, w=zeros, refractory_left=zeros)

    def step(self, state: AdExState, inputs=None, *, t, dt):
        """Advance by `dt` ms with input current `inputs` (pA array or `Drive`)."""
        drive = as_drive(inputs, like=state.v)

        def derivatives(t, y):
            v, w = y
            spike_current = self.g_L * _spike_current(v, self.V_T, self.delta_T, self.V_peak)
            dv = (-self.g_L * (v - self.E_L) + spike_current - w + drive.current(v)) / self.C
            dw = (self.a * (v - self.E_L) - w) / self.tau_w
            return dv, dw

        refractory = refractory_mask(state.refractory_left, dt)
        v, w = integrate(self.method, derivatives, (state.v, state.w), t, dt)
        v = jnp.where(refractory, state.v, v)
        spikes = self.spike_fn((v - self.V_peak) / (self.V_peak - self.V_r))
        gate = reset_gate(spikes, self.detach_reset)
        v = _reset(v, gate, self.V_r, self.detach_reset)
        w = w + gate * self.b
        left = next_refractory(state.refractory_left, spikes, self.t_ref, dt)
        return AdExState(v=v, w=w, refractory_left=left), spikes
