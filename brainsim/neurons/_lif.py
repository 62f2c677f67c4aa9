"""Leaky integrate-and-fire neurons: LIF and adaptive LIF (ALIF)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

import brainsim_ops as bo
from brainsim._validation import as_param, check_finite, check_less, check_positive
from brainsim.integrators import exact_decay
from brainsim.neurons._base import (
    Neuron,
    as_drive,
    default_surrogate,
    integrate,
    next_refractory,
    refractory_mask,
)
from brainsim.surrogate import Surrogate


class LIFState(NamedTuple):
    """State of a LIF population.

    Attributes:
        v: membrane potential (mV), shape `(n,)`.
        refractory_left: refractory time still to run (ms), shape `(n,)`.
    """

    v: Float[Array, " n"]
    refractory_left: Float[Array, " n"]


def _initial_v(key, n, v_rest, v_reset, v_th, full):
    if key is None:
        return full(v_rest, n)
    return jax.random.uniform(key, (n,), minval=full(v_reset, n), maxval=full(v_th, n))


def reset_gate(spikes, detach: bool):
    """The spikes as they drive resets and spike-triggered jumps: without gradient if `detach`."""
    return jax.lax.stop_gradient(spikes) if detach else spikes


def _reset(v, gate, v_reset, detach: bool):
    """`v_reset` where a neuron spiked, else `v`, with gradient `∂/∂gate = v_reset - v` unless
    `detach` (the gate made by `reset_gate(spikes, detach)`).

    The forward value is selected (not `v - s (v - v_reset)`, which loses `v_reset` to rounding
    when `v` overshoots far past threshold, as exponential models do in their spike step). A
    detached gate has no gradient, so its straight-through term is left out: it would be an array
    of zeros that reverse mode stores every step and multiplies in the backward pass.
    """
    selected = jnp.where(gate > 0, v_reset, v)
    if detach:
        return selected
    return selected + (gate - jax.lax.stop_gradient(gate)) * (v_reset - v)


def _integrate_and_fire(model, state, dv_dt, threshold, top, t, dt):
    """The step shared by the integrate-and-fire models (LIF, ALIF, ExpIF).

    Integrates `dv_dt` (held during refractoriness), spikes when `v > threshold` (the surrogate
    sees `(v - threshold) / (top - v_reset)`), resets to `model.v_reset` and restarts the
    refractory countdown. Returns `(v, refractory_left, spikes, gate)`, `gate` being the spikes as
    they drive resets and jumps (`reset_gate`).

    The integrated `v` is materialised (`brainsim_ops.materialize`): the spike test, the reset,
    the refractory countdown, the recording and the events of every projection all read it,
    and XLA would otherwise recompute the integration (reading `v`, the conductances and the
    refractory time again) in each of them.
    """
    refractory = refractory_mask(state.refractory_left, dt)
    v = jnp.where(refractory, state.v, integrate(model.method, dv_dt, state.v, t, dt))
    v = bo.materialize(v)
    spikes = model.spike_fn((v - threshold) / (top - model.v_reset))
    gate = reset_gate(spikes, model.detach_reset)
    v = _reset(v, gate, model.v_reset, model.detach_reset)
    left = next_refractory(state.refractory_left, spikes, model.t_ref, dt)
    return v, left, spikes, gate


class LIF(Neuron):
    """Leaky integrate-and-fire neuron with a refractory period.

    `tau_m dv/dt = -(v - v_rest) + R I(v)`; a spike when `v > v_th`, then `v ← v_reset`, held
    there for `t_ref`. `I(v)` is the input current (pA, see `Drive`). A spike in the step from `t`
    to `t + dt` is reported by that step (stamped `t`, as in Brian2).

    The surrogate `spike_fn` sees the threshold distance `(v - v_th) / (v_th - v_reset)`.

    Attributes:
        tau_m: membrane time constant (ms, > 0).
        v_rest: resting potential (mV).
        v_th: threshold (mV), above `v_reset`.
        v_reset: reset potential (mV).
        t_ref: absolute refractory period (ms, >= 0).
        R: membrane resistance (GΩ = mV/pA, > 0); `R · 1 pA` is a drive in mV.
        spike_fn: surrogate Heaviside for the backward pass.
        method: integrator: `"exp_euler"` (default, exact for constant input), `"euler"`, `"rk4"`.
        detach_reset: stop the gradient through the reset and the spike-triggered jumps
            (common for training; without it the surrogate also differentiates the reset).

    Each parameter is a scalar or one value per neuron (shape `(n,)`).

    Examples:
        >>> import brainsim as bs
        >>> lif = bs.neurons.LIF(tau_m=20.0, v_th=-50.0, t_ref=2.0)
        >>> state = lif.init(3)
        >>> state, spikes = lif.step(state, 200.0, t=0.0, dt=0.1)   # 200 pA into each neuron

    Reference: Lapicque (1907); Gerstner et al., *Neuronal Dynamics* (2014), ch. 1.3.
    """

    tau_m: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    v_rest: Float[Array, "*n"] = eqx.field(default=-65.0, converter=as_param)
    v_th: Float[Array, "*n"] = eqx.field(default=-50.0, converter=as_param)
    v_reset: Float[Array, "*n"] = eqx.field(default=-65.0, converter=as_param)
    t_ref: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    R: Float[Array, "*n"] = eqx.field(default=0.1, converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    method: str = eqx.field(default="exp_euler", static=True)
    detach_reset: bool = eqx.field(default=False, static=True)

    def __check_init__(self):
        check_positive("tau_m", self.tau_m)
        check_positive("t_ref", self.t_ref, allow_zero=True)
        check_positive("R", self.R)
        for name in ("v_rest", "v_th", "v_reset"):
            check_finite(name, getattr(self, name))
        check_less("v_reset", self.v_reset, "v_th", self.v_th)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> LIFState:
        """State of `n` neurons at rest, or with `v` uniform in `[v_reset, v_th]` given a key."""
        self._check_shapes(n)
        v = _initial_v(key, n, self.v_rest, self.v_reset, self.v_th, self._full)
        return LIFState(v=v, refractory_left=jnp.zeros_like(v))

    def step(self, state: LIFState, inputs=None, *, t, dt) -> tuple[LIFState, Float[Array, " n"]]:
        """Advance by `dt` ms with input current `inputs` (pA array or `Drive`)."""
        drive = as_drive(inputs, like=state.v)

        def dv_dt(t, v):
            return (-(v - self.v_rest) + self.R * drive.current(v)) / self.tau_m

        v, left, spikes, _ = _integrate_and_fire(self, state, dv_dt, self.v_th, self.v_th, t, dt)
        return LIFState(v=v, refractory_left=left), spikes


class ALIFState(NamedTuple):
    """State of an ALIF population.

    Attributes:
        v: membrane potential (mV), shape `(n,)`.
        a: threshold adaptation variable (dimensionless; jumps by 1 per spike), shape `(n,)`.
        refractory_left: refractory time still to run (ms), shape `(n,)`.
    """

    v: Float[Array, " n"]
    a: Float[Array, " n"]
    refractory_left: Float[Array, " n"]


class ALIF(LIF):
    """Adaptive LIF: a LIF whose threshold rises by `beta` per spike and relaxes with `tau_a`.

    `tau_m dv/dt = -(v - v_rest) + R I(v)`, `tau_a da/dt = -a`; a spike when
    `v > v_th + beta · a`, then `v ← v_reset` and `a ← a + 1`. Other parameters as `LIF`.

    Attributes:
        tau_a: adaptation time constant (ms, > 0).
        beta: threshold increase per unit of `a` (mV, >= 0).

    Examples:
        >>> import brainsim as bs
        >>> alif = bs.neurons.ALIF(tau_a=200.0, beta=2.0)
        >>> state = alif.init(4)

    Reference: Bellec et al. (2018), *Long short-term memory and learning-to-learn in networks of
    spiking neurons*, NeurIPS.
    """

    tau_a: Float[Array, "*n"] = eqx.field(default=200.0, converter=as_param)
    beta: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)

    def __check_init__(self):
        check_positive("tau_a", self.tau_a)
        check_positive("beta", self.beta, allow_zero=True)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> ALIFState:
        """State of `n` neurons at rest (or uniform in `[v_reset, v_th]` given a key), `a = 0`."""
        base = LIF.init(self, n, key)
        return ALIFState(v=base.v, a=jnp.zeros_like(base.v), refractory_left=base.refractory_left)

    def step(self, state: ALIFState, inputs=None, *, t, dt):
        """Advance by `dt` ms with input current `inputs` (pA array or `Drive`)."""
        drive = as_drive(inputs, like=state.v)

        def dv_dt(t, v):
            return (-(v - self.v_rest) + self.R * drive.current(v)) / self.tau_m

        a = exact_decay(state.a, self.tau_a, dt)
        threshold = self.v_th + self.beta * a
        v, left, spikes, gate = _integrate_and_fire(self, state, dv_dt, threshold, self.v_th, t, dt)
        return ALIFState(v=v, a=a + gate, refractory_left=left), spikes
