"""NEST's `aeif_cond_alpha_astro`: AdEx with alpha conductances integrated with the membrane,
spikes detected within the step, and a slow inward current from astrocytes."""

from __future__ import annotations

import math
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from brainsim import integrators
from brainsim._validation import as_param, check_finite, check_less, check_positive
from brainsim.neurons._base import Drive, Neuron, default_surrogate, refractory_mask
from brainsim.neurons._lif import _reset, reset_gate
from brainsim.surrogate import Surrogate

_GAUSS_LEGENDRE_2 = ((-0.5773502691896258, 0.5773502691896258), (1.0, 1.0))


class Instantaneous(eqx.Module):
    """Kinetics that hand on the weights arriving in a step, once (a `Projection`'s kinetics).

    The value seen by the postsynaptic population in a step is the summed weight of the spikes
    that arrived at the end of the previous step, and nothing afterwards: what NEST's ring
    buffers give `aeif_cond_alpha_astro` (conductance jumps) and `astrocyte_lr_1994` (IP3
    jumps). Use with the outputs `AlphaSpikeInput` and `IP3Input`.

    Examples:
        >>> import brainsim as bs
        >>> syn = bs.astro.Instantaneous()
        >>> state = syn.step(syn.init(2), 0.5, dt=0.1)
        >>> syn.value(state).tolist()
        [0.5, 0.5]
    """

    def init(self, n: int) -> Float[Array, " n"]:
        """Nothing arrived yet, for `n` postsynaptic cells."""
        return jnp.zeros((n,), jnp.result_type(float))

    def step(self, state, arriving, *, dt) -> Float[Array, " n"]:
        """Replace by this step's `arriving` weights (per postsynaptic cell)."""
        return jnp.broadcast_to(jnp.asarray(arriving, state.dtype), state.shape)

    def value(self, state) -> Float[Array, " n"]:
        """The weights that arrived in the previous step."""
        return state


class AEIFAstroInput(NamedTuple):
    """Input of an `AEIFCondAlphaAstro` population for one step.

    Attributes:
        I: current (pA) held over the step: injected current and the astrocytes' slow inward
            current (`SlowInwardCurrent`).
        w_ex: summed weights (nS) of the excitatory spikes that arrived at the end of the
            previous step (jumps of the excitatory alpha conductance).
        w_in: summed weights (nS, >= 0) of the inhibitory spikes that arrived then.
    """

    I: Float[ArrayLike, "*n"] = 0.0
    w_ex: Float[ArrayLike, "*n"] = 0.0
    w_in: Float[ArrayLike, "*n"] = 0.0


class AlphaSpikeInput(eqx.Module):
    """Projection output onto an `AEIFCondAlphaAstro` population (with `Instantaneous`
    kinetics): arriving weights (nS) become jumps of its alpha conductances, excitatory for
    positive weights and inhibitory for negative ones, as NEST routes each spike by the sign of
    its weight. Give a projection weights of one sign (the weights arriving at a neuron in a
    step are summed before the sign is read).

    Examples:
        >>> import brainsim as bs, brainsim_ops as bo
        >>> proj = bs.Projection("I", "E", bo.one_to_one(4, -4.0), bs.astro.Instantaneous(),
        ...                      bs.astro.AlphaSpikeInput(), delay_steps=10)
    """

    def drive(self, value: Float[Array, " n"], v=None) -> AEIFAstroInput:
        """Conductance jumps for the arriving weights `value` (nS; `v` is unused)."""
        return AEIFAstroInput(w_ex=jnp.maximum(value, 0.0), w_in=jnp.maximum(-value, 0.0))


class AEIFAstroState(NamedTuple):
    """State of an `AEIFCondAlphaAstro` population (each field has shape `(n,)`).

    Attributes:
        v: membrane potential (mV) (NEST's `V_m`).
        w: adaptation current (pA).
        g_ex, g_in: excitatory and inhibitory conductances (nS).
        dg_ex, dg_in: their derivatives (nS/ms), which the spikes increment.
        refractory_left: refractory time still to run (ms).
    """

    v: Float[Array, " n"]
    w: Float[Array, " n"]
    g_ex: Float[Array, " n"]
    dg_ex: Float[Array, " n"]
    g_in: Float[Array, " n"]
    dg_in: Float[Array, " n"]
    refractory_left: Float[Array, " n"]

    @staticmethod
    def as_current_input(I: Float[Array, " n"]) -> AEIFAstroInput:
        """A current (pA) in this population's input type (used by `SlowInwardCurrent`)."""
        return AEIFAstroInput(I=I)


def _as_input(inputs):
    """`(I, g, g_E, w_ex, w_in)` from `None`, a current (pA), a `Drive` or an `AEIFAstroInput`."""
    if inputs is None:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    if isinstance(inputs, AEIFAstroInput):
        return inputs.I, 0.0, 0.0, inputs.w_ex, inputs.w_in
    if isinstance(inputs, Drive):
        return inputs.I, inputs.g, inputs.g_E, 0.0, 0.0
    if isinstance(inputs, tuple):
        raise TypeError(
            "AEIFCondAlphaAstro inputs must be None, a current (pA), a Drive or an "
            f"AEIFAstroInput, got {type(inputs).__name__}."
        )
    return inputs, 0.0, 0.0, 0.0, 0.0


class AEIFCondAlphaAstro(Neuron):
    """Adaptive exponential integrate-and-fire neuron with alpha conductances and astrocytic
    input: NEST's `aeif_cond_alpha_astro` (Brette & Gerstner 2005).

        C dv/dt = −g_L (V − E_L) + g_L Δ_T exp((V − V_T)/Δ_T) − g_ex (V − E_ex) − g_in (V − E_in)
                  − w + I_e + I
        tau_w dw/dt = a (V − E_L) − w
        dg_ex/dt = dg_ex' − g_ex/tau_syn_ex,   d(dg_ex')/dt = −dg_ex'/tau_syn_ex  (same for in)

    with `V = min(v, V_peak)` (`V = V_r` and `dv/dt = 0` while refractory). `I` is the input
    current (pA), including the astrocytes' slow inward current (`SlowInwardCurrent`). A spike
    of weight `q` (nS) arriving at the end of a step adds `q e / tau_syn` to `dg'` (at the
    start of the next step), so that one spike gives `g(t) = q (t/tau_syn) e^{1 − t/tau_syn}`.

    NEST integrates with GSL's adaptive RKF45 (error tolerance `gsl_error_tol` = 1e-6) and
    checks for spikes after every accepted sub-step, so that a spike resets the neuron within
    the step and integration goes on from `V_r` (`w ← w + b`) for the rest of it. Here each
    step of `dt` is `substeps + 1` RK4 spans sharing the time left in the step. Above `V_T` the
    membrane variable is `s = exp(−(v − V_T)/Δ_T)`, which falls almost linearly to
    `s(V_peak)` on the upstroke (`ds/dt = −(g_L Δ_T + s R)/(C Δ_T)`, `R` the other currents),
    where `v` itself diverges and RK4 on `v` would lag; a span in which the time to reach
    `V_peak` (a 2-point Gauss–Legendre quadrature of `dt = dv/F(v)` in `s`, the other
    variables held) is shorter than the span ends at that time with the spike (`v ← V_r`,
    `w ← w + b`, refractory for `t_ref`, with `V = V_r` clamped for the rest of the step if
    `t_ref > 0`), and the time left goes to the next spans. Spike times thus converge to the
    exact ones as `substeps` grows, without the drift of a reset at the end of a sub-step; at
    `substeps = 5` and `dt = 0.1 ms` they fall in NEST's step (see docs/astro_nest.md). The
    step reports whether the neuron spiked (0.0 / 1.0; two spikes in one step, which NEST can
    emit, would need a ~0.1 ms interspike interval). The surrogate sees
    `(v − V_peak)/(V_peak − V_r)` at the end of each span.

    In a `Network`, spikes reach it through projections with `Instantaneous()` kinetics and
    `AlphaSpikeInput()` output (weights in nS, negative = inhibitory); all its inputs are then
    `AEIFAstroInput`s (`SlowInwardCurrent` and external currents too:
    `inputs={"E": AEIFAstroInput(I=...)}`). Alone (or with ordinary brainsim projections) it
    also takes a current (pA) or a `Drive`, whose conductances are held over the step.

    Parameters follow `AdEx`'s names; `from_nest` takes NEST's (`C_m → C`, `V_th → V_T`,
    `Delta_T → delta_T`, `V_reset → V_r`). Defaults are NEST 3.10's.

    Attributes:
        C: membrane capacitance (pF, > 0). g_L: leak conductance (nS, > 0).
        E_L: leak reversal potential (mV). V_T: threshold of the exponential (mV).
        delta_T: slope factor (mV, > 0). a: subthreshold adaptation (nS).
        tau_w: adaptation time constant (ms, > 0). b: spike-triggered adaptation (pA).
        V_r: reset potential (mV). V_peak: spike cut-off (mV, above `V_r` and `V_T`).
        t_ref: refractory period (ms, >= 0).
        E_ex, E_in: excitatory and inhibitory reversal potentials (mV).
        tau_syn_ex, tau_syn_in: rise times of the alpha conductances (ms, > 0).
        I_e: constant injected current (pA).
        substeps: RK4 spans per step, minus one (static int >= 1; default 5).
        spike_fn: surrogate of the spike threshold.
        detach_reset: no gradient through resets and the adaptation jump (static).

    Examples:
        >>> import brainsim as bs
        >>> neuron = bs.astro.AEIFCondAlphaAstro.from_nest(tau_syn_ex=2.0, I_e=1000.0)
        >>> state, spikes = neuron.step(neuron.init(3), None, t=0.0, dt=0.1)

    References: Brette & Gerstner (2005) J. Neurophysiol. 94:3637; NEST 3.10
    `aeif_cond_alpha_astro`.
    """

    C: Float[Array, "*n"] = eqx.field(default=281.0, converter=as_param)
    g_L: Float[Array, "*n"] = eqx.field(default=30.0, converter=as_param)
    E_L: Float[Array, "*n"] = eqx.field(default=-70.6, converter=as_param)
    V_T: Float[Array, "*n"] = eqx.field(default=-50.4, converter=as_param)
    delta_T: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    a: Float[Array, "*n"] = eqx.field(default=4.0, converter=as_param)
    tau_w: Float[Array, "*n"] = eqx.field(default=144.0, converter=as_param)
    b: Float[Array, "*n"] = eqx.field(default=80.5, converter=as_param)
    V_r: Float[Array, "*n"] = eqx.field(default=-60.0, converter=as_param)
    V_peak: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    t_ref: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    E_ex: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    E_in: Float[Array, "*n"] = eqx.field(default=-85.0, converter=as_param)
    tau_syn_ex: Float[Array, "*n"] = eqx.field(default=0.2, converter=as_param)
    tau_syn_in: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    I_e: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    substeps: int = eqx.field(default=5, static=True)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    detach_reset: bool = eqx.field(default=False, static=True)

    #: NEST's parameter names that differ from this model's.
    NEST_NAMES: ClassVar[dict[str, str]] = {
        "C_m": "C", "V_th": "V_T", "Delta_T": "delta_T", "V_reset": "V_r",
    }  # fmt: skip

    def __check_init__(self):
        for name in ("C", "g_L", "delta_T", "tau_w", "tau_syn_ex", "tau_syn_in"):
            check_positive(name, getattr(self, name))
        check_positive("t_ref", self.t_ref, allow_zero=True)
        for name in ("E_L", "V_T", "a", "b", "V_r", "V_peak", "E_ex", "E_in", "I_e"):
            check_finite(name, getattr(self, name))
        check_less("V_r", self.V_r, "V_peak", self.V_peak)
        check_less("V_T", self.V_T, "V_peak", self.V_peak)
        if not isinstance(self.substeps, int) or self.substeps < 1:
            raise ValueError(f"`substeps` must be an int >= 1, got {self.substeps!r}.")

    @classmethod
    def from_nest(cls, **params) -> AEIFCondAlphaAstro:
        """The model from NEST's parameter names (`C_m`, `V_th`, `Delta_T`, `V_reset`, ...);
        brainsim's own names and `substeps`, `spike_fn`, `detach_reset` pass through."""
        return cls(**{cls.NEST_NAMES.get(name, name): value for name, value in params.items()})

    def init(self, n: int, key: PRNGKeyArray | None = None) -> AEIFAstroState:
        """State of `n` neurons at `v = E_L` (NEST's default), no adaptation nor conductance;
        with a key, `v` uniform in `[V_r, V_T]`."""
        self._check_shapes(n)
        if key is None:
            v = self._full(self.E_L, n)
        else:
            v = jax.random.uniform(key, (n,), minval=self._full(self.V_r, n),
                                   maxval=self._full(self.V_T, n))  # fmt: skip
        zeros = jnp.zeros_like(v)
        return AEIFAstroState(v, zeros, zeros, zeros, zeros, zeros, zeros)

    def _other_currents(self, V, w, g_ex, g_in, I, g, g_E):
        """All currents but the exponential one (pA) at potential `V`."""
        synaptic = -g_ex * (V - self.E_ex) - g_in * (V - self.E_in) + g_E - g * V
        return -self.g_L * (V - self.E_L) + synaptic - w + self.I_e + I

    def _derivatives(self, y, upstroke, refractory, I, g, g_E):
        """Right-hand sides per ms; on the `upstroke` the first variable is
        `s = exp(−(v − V_T)/Δ_T)` instead of `v`, with `ds/dt = −(g_L Δ_T + s R(V))/(C Δ_T)`."""
        u, w, g_ex, dg_ex, g_in, dg_in = y
        v = u if upstroke is False else jnp.where(upstroke, self._v_of_s(u), u)
        V = jnp.where(refractory, self.V_r, jnp.minimum(v, self.V_peak))
        rest = self._other_currents(V, w, g_ex, g_in, I, g, g_E)
        spike_current = self.g_L * self.delta_T * jnp.exp((V - self.V_T) / self.delta_T)
        du = (spike_current + rest) / self.C
        if upstroke is not False:
            ds = -(self.g_L * self.delta_T + u * rest) / (self.C * self.delta_T)
            du = jnp.where(upstroke, ds, du)
        du = jnp.where(refractory, 0.0, du)
        dw = (self.a * (V - self.E_L) - w) / self.tau_w
        return (
            du,
            dw,
            dg_ex - g_ex / self.tau_syn_ex,
            -dg_ex / self.tau_syn_ex,
            dg_in - g_in / self.tau_syn_in,
            -dg_in / self.tau_syn_in,
        )

    def _s_of_v(self, v):
        return jnp.exp(-(v - self.V_T) / self.delta_T)

    def _v_of_s(self, s):
        """`v` for `s` (mV), `V_peak` at and beyond the peak (`s <= s(V_peak)`, also `s <= 0`)."""
        s_peak = self._s_of_v(self.V_peak)
        return self.V_T - self.delta_T * jnp.log(jnp.maximum(s, s_peak))

    def _time_to_peak(self, y, I, g, g_E):
        """Time (ms) for `v` to run from its value in `y` (above `V_T`) up to `V_peak`, the
        other variables held; infinite where it does not get there.

        `dt = dv/F(v)` integrated in `s = exp(−(v − V_T)/Δ_T)`, where the integrand
        `C/(g_L + s R(v)/Δ_T)` (`R`: all currents but the exponential one) is smooth up to the
        divergence: 2-point Gauss–Legendre quadrature (as exact as 4 points where it decides a
        spike, within a span of the peak, where the integrand is nearly constant).
        """
        v0, w, g_ex, _, g_in, _ = y
        s0 = self._s_of_v(jnp.minimum(v0, self.V_peak))
        s_peak = self._s_of_v(self.V_peak)
        total, valid = 0.0, s0 > s_peak
        for node, weight in zip(*_GAUSS_LEGENDRE_2, strict=True):
            s = s_peak + (s0 - s_peak) * (node + 1.0) / 2.0
            rest = self._other_currents(self._v_of_s(s), w, g_ex, g_in, I, g, g_E)
            denominator = self.g_L + s * rest / self.delta_T
            valid = valid & (denominator > 0)
            total = total + weight * self.C / jnp.where(denominator > 0, denominator, 1.0)
        return jnp.where(valid, (s0 - s_peak) / 2.0 * total, jnp.inf)

    def step(self, state: AEIFAstroState, inputs=None, *, t, dt):
        """Advance by `dt` ms; returns the new state and this step's spikes (0.0 / 1.0)."""
        I, g, g_E, w_ex, w_in = _as_input(inputs)
        y = (
            state.v,
            state.w,
            state.g_ex,
            state.dg_ex + w_ex * math.e / self.tau_syn_ex,
            state.g_in,
            state.dg_in + w_in * math.e / self.tau_syn_in,
        )
        refractory = refractory_mask(state.refractory_left, dt)
        remaining = jnp.full_like(state.v, dt)
        carry = (y, refractory, remaining, jnp.zeros_like(state.v))
        # the upstroke machinery only for populations with a neuron above V_T: from below V_T,
        # V_peak is out of reach within a step short of enormous inputs (and should a neuron
        # get there, it spikes at the end of its span)
        (y, refractory, remaining, spiked) = jax.lax.cond(
            jnp.any((state.v > self.V_T) & ~refractory),
            lambda c: self._spans(c, True, I, g, g_E, t),
            lambda c: self._spans(c, False, I, g, g_E, t),
            carry,
        )
        # the time that a spike in the last span leaves (from V_r: no second spike in it)
        y = integrators.rk4(
            lambda _, x: self._derivatives(x, False, refractory, I, g, g_E), y, t, remaining
        )
        left = jnp.where(spiked > 0, self.t_ref, jnp.maximum(state.refractory_left - dt, 0.0))
        left = jnp.broadcast_to(left, state.v.shape)
        return AEIFAstroState(*y, refractory_left=left), spiked

    def _spans(self, carry, upstrokes: bool, I, g, g_E, t):
        """The `substeps + 1` RK4 spans of a step; `upstrokes=False` (static) leaves out the
        upstroke machinery, for steps in which every neuron starts below `V_T`."""
        s_peak = self._s_of_v(self.V_peak)
        n_spans = self.substeps + 1
        holds = self.t_ref > 0

        def span(carry, k):
            """One RK4 span of `remaining / (n_spans − k)` (in `s` above `V_T`), cut short at
            the spike when `V_peak` is reached within it."""
            y0, refractory, remaining, spiked = carry
            length = remaining / (n_spans - k)
            if upstrokes:
                upstroke = (y0[0] > self.V_T) & ~refractory
                u0 = jnp.where(upstroke, self._s_of_v(jnp.minimum(y0[0], self.V_peak)), y0[0])
                to_peak = jax.lax.stop_gradient(self._time_to_peak(y0, I, g, g_E))
                reach = upstroke & (to_peak <= length)
                length = jnp.where(reach, to_peak, length)
            else:
                upstroke, u0, reach = False, y0[0], False
            y1 = integrators.rk4(
                lambda _, x: self._derivatives(x, upstroke, refractory, I, g, g_E),
                (u0, *y0[1:]), t, length,
            )  # fmt: skip
            u1 = y1[0]
            v1 = jnp.where(refractory, self.V_r, u1)
            if upstrokes:  # v = V_T − Δ_T ln s, floored past V_peak
                log_s = jnp.log(jnp.maximum(u1, 1e-3 * s_peak))
                v1 = jnp.where(upstroke, self.V_T - self.delta_T * log_s, v1)
            spikes = self.spike_fn((v1 - self.V_peak) / (self.V_peak - self.V_r))
            if upstrokes:
                forward = jnp.maximum(spikes, reach.astype(spikes.dtype))
                spikes = spikes + jax.lax.stop_gradient(forward - spikes)
            spikes = jnp.where(refractory, 0.0, spikes)
            gate = reset_gate(spikes, self.detach_reset)
            others = y1[1:]
            if upstrokes:  # a crossing found by RK4, not the quadrature: where s passes s_peak
                crossed = upstroke & ~reach & (u1 < s_peak)
                theta = jax.lax.stop_gradient(jnp.where(
                    crossed, (u0 - s_peak) / jnp.where(crossed, u0 - u1, 1.0), 1.0))  # fmt: skip
                others = tuple(a + theta * (b - a) for a, b in zip(y0[1:], others, strict=True))
                length = length * jnp.where(gate > 0, theta, 1.0)
                v1 = jnp.where(upstroke, self._v_of_s(u1), v1)
            v = _reset(v1, gate, self.V_r, self.detach_reset)
            w = others[0] + gate * self.b
            refractory = refractory | ((spikes > 0) & holds)
            spiked = spiked + spikes - spiked * spikes
            return ((v, w, *others[1:]), refractory, remaining - length, spiked), None

        carry, _ = jax.lax.scan(span, carry, jnp.arange(n_spans))
        return carry
