"""Hodgkin-Huxley models: the classic squid axon and the Traub-Miles model of COBAHH."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_finite, check_positive
from brainsim.neurons._base import Neuron, as_drive, default_surrogate, integrate
from brainsim.surrogate import Surrogate


class HHState(NamedTuple):
    """State of a Hodgkin-Huxley population.

    Attributes:
        v: membrane potential (mV); m, h, n: gating variables (dimensionless, in [0, 1]).
    """

    v: Float[Array, " n"]
    m: Float[Array, " n"]
    h: Float[Array, " n"]
    n: Float[Array, " n"]


def _vtrap(x: Float[Array, "*s"]) -> Float[Array, "*s"]:
    """`x / (1 - exp(-x))`, finite (with a finite gradient) at the removable singularity x = 0.

    A Taylor polynomial for `|x| < 0.02` (truncation below 1e-15), elsewhere the formula with
    `exp` (rounding about `eps / |x|`, at most 1e-14 in float64), which XLA's CPU backend
    evaluates faster than `expm1`.
    """
    small = jnp.abs(x) < 0.02
    x_safe = jnp.where(small, 1.0, x)
    x2 = x * x
    series = 1.0 + x / 2.0 + x2 / 12.0 - x2 * x2 / 720.0
    return jnp.where(small, series, x_safe / (1.0 - jnp.exp(-x_safe)))


def _gating(alpha, beta, x):
    return alpha * (1.0 - x) - beta * x


def _steady(alpha, beta):
    return alpha / (alpha + beta)


class _HHBase(Neuron):
    """Shared step of conductance-based HH models: subclasses give `rates(v)` and `ionic(v, ...)`.

    A spike is an upward crossing of `v_spike` within the step. The surrogate sees
    `(v - v_spike) / 20 mV`, gated to zero where the previous potential was already above.
    """

    def rates(self, v):
        raise NotImplementedError

    def membrane_current(self, v, m, h, n):
        raise NotImplementedError

    def init(self, n: int, key: PRNGKeyArray | None = None) -> HHState:
        """State of `n` neurons at `v_init` (given a key: plus `v_init_sd` times a standard normal
        draw) with the gating variables at their steady state."""
        self._check_shapes(n)
        v = self._full(self.v_init, n)
        if key is not None:
            v = v + self.v_init_sd * jax.random.normal(key, (n,), v.dtype)
        a_m, b_m, a_h, b_h, a_n, b_n = self.rates(v)
        return HHState(v=v, m=_steady(a_m, b_m), h=_steady(a_h, b_h), n=_steady(a_n, b_n))

    def step(self, state: HHState, inputs=None, *, t, dt):
        """Advance by `dt` ms with input current `inputs` (pA array or `Drive`)."""
        drive = as_drive(inputs, like=state.v)

        def derivatives(t, y):
            v, m, h, n = y
            a_m, b_m, a_h, b_h, a_n, b_n = self.rates(v)
            dv = (self.membrane_current(v, m, h, n) + drive.current(v)) / self.C
            return HHState(dv, _gating(a_m, b_m, m), _gating(a_h, b_h, h), _gating(a_n, b_n, n))

        new = integrate(self.method, derivatives, state, t, dt)
        below_before = jax.lax.stop_gradient((state.v <= self.v_spike).astype(new.v.dtype))
        spikes = below_before * self.spike_fn((new.v - self.v_spike) / 20.0)
        return new, spikes


class HH(_HHBase):
    """Hodgkin-Huxley model of the squid giant axon (1952), in the modern sign convention.

    `C dv/dt = g_Na m³h (E_Na - v) + g_K n⁴ (E_K - v) + g_L (E_L - v) + I(v)`,
    `dx/dt = α_x(v)(1 - x) - β_x(v) x` for x in m, h, n, with
    `α_m = 0.1 (v+40)/(1 - e^{-(v+40)/10})`, `β_m = 4 e^{-(v+65)/18}`, `α_h = 0.07 e^{-(v+65)/20}`,
    `β_h = 1/(1 + e^{-(v+35)/10})`, `α_n = 0.01 (v+55)/(1 - e^{-(v+55)/10})`,
    `β_n = 0.125 e^{-(v+65)/80}` (1/ms). A spike is an upward crossing of `v_spike`.

    The defaults describe a 100 µm² patch, so that the per-cm² values of the paper (µF, mS, µA)
    read directly as pF, nS and pA.

    Attributes:
        C: capacitance (pF, > 0).  g_Na, g_K, g_L: maximal conductances (nS, >= 0).
        E_Na, E_K, E_L: reversal potentials (mV).
        v_spike: spike-detection level (mV).  v_init: initial potential (mV).
        v_init_sd: spread of the initial potential when `init` gets a key (mV, >= 0).
        spike_fn: surrogate for the backward pass.  method: integrator (`"exp_euler"` default).

    Examples:
        >>> import brainsim as bs
        >>> hh = bs.neurons.HH()
        >>> state, spikes = hh.step(hh.init(1), 10.0, t=0.0, dt=0.01)   # 10 pA (= 10 µA/cm²)

    Reference: Hodgkin & Huxley (1952), J. Physiol. 117:500.
    """

    C: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    g_Na: Float[Array, "*n"] = eqx.field(default=120.0, converter=as_param)
    g_K: Float[Array, "*n"] = eqx.field(default=36.0, converter=as_param)
    g_L: Float[Array, "*n"] = eqx.field(default=0.3, converter=as_param)
    E_Na: Float[Array, "*n"] = eqx.field(default=50.0, converter=as_param)
    E_K: Float[Array, "*n"] = eqx.field(default=-77.0, converter=as_param)
    E_L: Float[Array, "*n"] = eqx.field(default=-54.387, converter=as_param)
    v_spike: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    v_init: Float[Array, "*n"] = eqx.field(default=-65.0, converter=as_param)
    v_init_sd: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    method: str = eqx.field(default="exp_euler", static=True)

    def __check_init__(self):
        check_positive("C", self.C)
        for name in ("g_Na", "g_K", "g_L"):
            check_positive(name, getattr(self, name), allow_zero=True)
        for name in ("E_Na", "E_K", "E_L", "v_spike", "v_init"):
            check_finite(name, getattr(self, name))
        check_positive("v_init_sd", self.v_init_sd, allow_zero=True)

    def rates(self, v):
        """The six rate functions α_m, β_m, α_h, β_h, α_n, β_n (1/ms) at `v` (mV)."""
        return (
            _vtrap((v + 40.0) / 10.0),
            4.0 * jnp.exp(-(v + 65.0) / 18.0),
            0.07 * jnp.exp(-(v + 65.0) / 20.0),
            1.0 / (1.0 + jnp.exp(-(v + 35.0) / 10.0)),
            0.1 * _vtrap((v + 55.0) / 10.0),
            0.125 * jnp.exp(-(v + 65.0) / 80.0),
        )

    def membrane_current(self, v, m, h, n):
        """Ionic currents into the cell (pA)."""
        return (
            self.g_Na * m**3 * h * (self.E_Na - v)
            + self.g_K * n**4 * (self.E_K - v)
            + self.g_L * (self.E_L - v)
        )


class TraubHH(_HHBase):
    """Traub-Miles Hodgkin-Huxley neuron of the COBAHH benchmark (Brette et al. 2007).

    `C dv/dt = g_L (E_L - v) - g_Na m³h (v - E_Na) - g_K n⁴ (v - E_K) + I(v)` with, for
    `V_T = -63 mV`: `α_m = 0.32 (13 - v + V_T)/(e^{(13 - v + V_T)/4} - 1)`,
    `β_m = 0.28 (v - V_T - 40)/(e^{(v - V_T - 40)/5} - 1)`, `α_h = 0.128 e^{(17 - v + V_T)/18}`,
    `β_h = 4/(1 + e^{(40 - v + V_T)/5})`, `α_n = 0.032 (15 - v + V_T)/(e^{(15 - v + V_T)/5} - 1)`,
    `β_n = 0.5 e^{(10 - v + V_T)/40}` (1/ms). Defaults are for the benchmark's 20 000 µm² cell.

    Attributes:
        C: capacitance (pF, > 0; 1 µF/cm² × 20 000 µm² = 200 pF).
        g_L, g_Na, g_K: conductances (nS, >= 0; 0.05, 100, 30 mS/cm² × area).
        E_L, E_K, E_Na: reversal potentials (mV).  V_T: rate offset (mV).
        v_spike: spike-detection level (mV, default -20).  v_init: initial potential (mV).
        v_init_sd: spread of the initial potential when `init` gets a key (mV, >= 0).
        spike_fn: surrogate for the backward pass.  method: integrator (`"exp_euler"` default).

    Examples:
        >>> import brainsim as bs
        >>> neuron = bs.neurons.TraubHH()
        >>> state, spikes = neuron.step(neuron.init(10), 500.0, t=0.0, dt=0.01)

    References: Traub & Miles (1991), *Neuronal Networks of the Hippocampus*; Brette et al.
    (2007), J. Comput. Neurosci. 23:349 (benchmark 3).
    """

    C: Float[Array, "*n"] = eqx.field(default=200.0, converter=as_param)
    g_L: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    g_Na: Float[Array, "*n"] = eqx.field(default=20000.0, converter=as_param)
    g_K: Float[Array, "*n"] = eqx.field(default=6000.0, converter=as_param)
    E_L: Float[Array, "*n"] = eqx.field(default=-60.0, converter=as_param)
    E_K: Float[Array, "*n"] = eqx.field(default=-90.0, converter=as_param)
    E_Na: Float[Array, "*n"] = eqx.field(default=50.0, converter=as_param)
    V_T: Float[Array, "*n"] = eqx.field(default=-63.0, converter=as_param)
    v_spike: Float[Array, "*n"] = eqx.field(default=-20.0, converter=as_param)
    v_init: Float[Array, "*n"] = eqx.field(default=-60.0, converter=as_param)
    v_init_sd: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    method: str = eqx.field(default="exp_euler", static=True)

    def __check_init__(self):
        check_positive("C", self.C)
        for name in ("g_L", "g_Na", "g_K"):
            check_positive(name, getattr(self, name), allow_zero=True)
        for name in ("E_L", "E_K", "E_Na", "V_T", "v_spike", "v_init"):
            check_finite(name, getattr(self, name))
        check_positive("v_init_sd", self.v_init_sd, allow_zero=True)

    def rates(self, v):
        """The six rate functions α_m, β_m, α_h, β_h, α_n, β_n (1/ms) at `v` (mV)."""
        u = v - self.V_T
        return (
            1.28 * _vtrap((u - 13.0) / 4.0),
            1.4 * _vtrap((40.0 - u) / 5.0),
            0.128 * jnp.exp((17.0 - u) / 18.0),
            4.0 / (1.0 + jnp.exp((40.0 - u) / 5.0)),
            0.16 * _vtrap((u - 15.0) / 5.0),
            0.5 * jnp.exp((10.0 - u) / 40.0),
        )

    def membrane_current(self, v, m, h, n):
        """Ionic currents into the cell (pA)."""
        return (
            self.g_L * (self.E_L - v)
            - self.g_Na * m**3 * h * (v - self.E_Na)
            - self.g_K * n**4 * (v - self.E_K)
        )
