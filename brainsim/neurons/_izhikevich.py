"""The Izhikevich (2003) simple model."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_finite, check_less
from brainsim.neurons._base import Neuron, as_drive, default_surrogate, integrate
from brainsim.neurons._lif import _reset, reset_gate
from brainsim.surrogate import Surrogate


class IzhikevichState(NamedTuple):
    """State of an Izhikevich population.

    Attributes:
        v: membrane potential (mV), shape `(n,)`.
        u: recovery variable (mV/ms in the model's dimensionless convention), shape `(n,)`.
    """

    v: Float[Array, " n"]
    u: Float[Array, " n"]


class Izhikevich(Neuron):
    """Izhikevich's simple spiking model (2003).

    `dv/dt = 0.04 v² + 5 v + 140 - u + I`, `du/dt = a (b v - u)` (t in ms); a spike when
    `v ≥ v_peak` (30 mV), then `v ← c`, `u ← u + d`. The input `I` is the model's dimensionless
    current (a `Drive`'s `I(v)`), not pA. The named regimes of the paper are available from
    `Izhikevich.regime(name)`. The surrogate sees `(v - v_peak)/(v_peak - c)`. The default method
    is forward Euler, as in the paper; `method="half_steps"` is the scheme of Izhikevich's
    published network code (spnet, daspnet): `v` advances by two Euler steps of `dt/2` with `u`
    held, then `u` by one step of `dt` from the new `v`.

    Attributes:
        a: time scale of the recovery variable (1/ms, > 0 in the usual regimes).
        b: sensitivity of `u` to `v` (dimensionless).
        c: reset potential (mV), below `v_peak`.
        d: reset increment of `u`.
        v_peak: spike cut-off (mV).
        spike_fn, detach_reset: as for `LIF`.
        method: `"euler"` (default), `"half_steps"` (see above), `"exp_euler"` or `"rk4"`.

    Examples:
        >>> import brainsim as bs
        >>> neuron = bs.neurons.Izhikevich.regime("CH")
        >>> state, spikes = neuron.step(neuron.init(1), 10.0, t=0.0, dt=0.1)

    Reference: Izhikevich (2003), *Simple model of spiking neurons*, IEEE Trans. Neural Netw.
    14:1569.
    """

    a: Float[Array, "*n"] = eqx.field(default=0.02, converter=as_param)
    b: Float[Array, "*n"] = eqx.field(default=0.2, converter=as_param)
    c: Float[Array, "*n"] = eqx.field(default=-65.0, converter=as_param)
    d: Float[Array, "*n"] = eqx.field(default=8.0, converter=as_param)
    v_peak: Float[Array, "*n"] = eqx.field(default=30.0, converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    method: str = eqx.field(default="euler", static=True)
    detach_reset: bool = eqx.field(default=False, static=True)

    REGIMES = {
        "RS": (0.02, 0.2, -65.0, 8.0),
        "IB": (0.02, 0.2, -55.0, 4.0),
        "CH": (0.02, 0.2, -50.0, 2.0),
        "FS": (0.1, 0.2, -65.0, 2.0),
        "LTS": (0.02, 0.25, -65.0, 2.0),
    }

    def __check_init__(self):
        for name in ("a", "b", "c", "d", "v_peak"):
            check_finite(name, getattr(self, name))
        check_less("c", self.c, "v_peak", self.v_peak)

    @classmethod
    def regime(cls, name: str, **overrides) -> Izhikevich:
        """An Izhikevich neuron of a named regime: `"RS"`, `"IB"`, `"CH"`, `"FS"` or `"LTS"`."""
        if name not in cls.REGIMES:
            raise ValueError(f"`name` must be one of {sorted(cls.REGIMES)}, got {name!r}.")
        return cls(**dict(zip("abcd", cls.REGIMES[name], strict=True)), **overrides)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> IzhikevichState:
        """State of `n` neurons at `v = -65`, `u = b v` (the paper's initial condition)."""
        self._check_shapes(n)
        v = self._full(-65.0, n)
        return IzhikevichState(v=v, u=self.b * v)

    def step(self, state: IzhikevichState, inputs=None, *, t, dt):
        """Advance by `dt` ms with the (dimensionless) input current `inputs`."""
        drive = as_drive(inputs, like=state.v)

        def derivatives(t, y):
            v, u = y
            dv = 0.04 * v**2 + 5.0 * v + 140.0 - u + drive.current(v)
            du = self.a * (self.b * v - u)
            return dv, du

        if self.method == "half_steps":
            v = state.v
            for k in range(2):
                v = v + 0.5 * dt * derivatives(t + 0.5 * k * dt, (v, state.u))[0]
            u = state.u + dt * self.a * (self.b * v - state.u)
        else:
            v, u = integrate(self.method, derivatives, (state.v, state.u), t, dt)
        spikes = self.spike_fn((v - self.v_peak) / (self.v_peak - self.c))
        gate = reset_gate(spikes, self.detach_reset)
        v = _reset(v, gate, self.c, self.detach_reset)
        return IzhikevichState(v=v, u=u + gate * self.d), spikes
