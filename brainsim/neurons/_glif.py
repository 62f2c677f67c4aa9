"""Generalized leaky integrate-and-fire models (GLIF levels 1-5 of the Allen Institute)."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import (
    as_param,
    check_at_most,
    check_broadcasts,
    check_finite,
    check_less,
    check_positive,
)
from brainsim.neurons._base import Neuron, as_drive, default_surrogate
from brainsim.neurons._lif import _reset, reset_gate
from brainsim.surrogate import Surrogate


class GLIFState(NamedTuple):
    """State of a GLIF population.

    Attributes:
        v: membrane potential (mV), shape `(n,)`.
        theta_s: spike-dependent threshold component (mV), shape `(n,)`.
        theta_v: voltage-dependent threshold component (mV), shape `(n,)`.
        asc: after-spike currents (pA), shape `(k, n)` for `k` currents (`k = 0` below level 3).
        refractory_left: refractory time still to run (ms), shape `(n,)`.
    """

    v: Float[Array, " n"]
    theta_s: Float[Array, " n"]
    theta_v: Float[Array, " n"]
    asc: Float[Array, "k n"]
    refractory_left: Float[Array, " n"]


def exp_difference(a, b, dt):
    """`(exp(-a dt) - exp(-b dt)) / (b - a)`, continued by its limit `dt exp(-a dt)` at `a = b`.

    The relative gap where the limit is used (1e-6) keeps the quotient accurate in float32 and
    float64 alike (the neglected term is `(b - a)² dt³ / 6` relative to `dt`)."""
    close = jnp.abs(b - a) <= 1e-6 * jnp.maximum(jnp.abs(a), jnp.abs(b))
    safe_b = jnp.where(close, b + 1.0, b)
    quotient = (jnp.exp(-a * dt) - jnp.exp(-safe_b * dt)) / (safe_b - a)
    return jnp.where(close, dt * jnp.exp(-a * dt), quotient)


def held_refractory(refractory_left, dt):
    """True in the steps of the refractory period (NEST counts `round(t_ref / dt)` of them; the
    margin below half a step absorbs the rounding of the repeated subtraction of `dt`)."""
    return refractory_left > 0.499 * dt


class GLIF(Neuron):
    """Generalized leaky integrate-and-fire neuron, levels 1-5 (Teeter et al. 2018), as NEST's
    `glif_psc` / `glif_cond`.

    With `U = v - E_L` (mV), after-spike currents `I_j` (pA) and threshold components `θ_s`,
    `θ_v` (mV):

        C_m dU/dt = -g_L U + Σ_j I_j + I(v)
        dI_j/dt = -k_j I_j                     (levels 3, 4, 5)
        dθ_s/dt = -b_s θ_s                     (levels 2, 4, 5)
        dθ_v/dt = a_v U - b_v θ_v              (level 5)

    and a spike when `U > θ_∞ + θ_s + θ_v` (`θ_∞ = V_th - E_L`). At a spike: level 1 and 3 reset
    `v ← V_reset`; levels 2, 4 and 5 reset `U ← f_v U_old + δV` (`U_old` the potential at the
    start of the step) and `θ_s ← θ_s e^(-b_s t_ref) + δθ_s`; levels 3-5 set
    `I_j ← ΔI_j + r_j I_j e^(-k_j t_ref)`. For `t_ref` after a spike `v`, `I_j`, `θ_s` and `θ_v`
    are held (the decay over the refractory period is applied at the spike, as above).

    The step is NEST's exact integration for input `I(v) = I + g_E - g v` (pA, see `Drive`) held
    constant over the step: the after-spike currents enter the voltage update with their mean
    over the step, `I_j (1 - e^(-k_j dt)) / (k_j dt)`, and `θ_v` is integrated exactly along the
    exponential relaxation of `U`. With conductance input (`g ≠ 0`) the leak becomes `g_L + g`,
    so the same exact update serves `glif_cond`-style inputs (NEST integrates `glif_cond` with an
    adaptive Runge-Kutta solver, and its synaptic conductances live in the neuron; here they come
    from `brainsim.synapses`, and alpha-shaped PSCs of `glif_psc` likewise from a synapse model).

    The surrogate `spike_fn` sees `(U - threshold) / (V_th - E_L)`. A spike in the step from `t`
    to `t + dt` is reported by that step (NEST stamps it `t + dt`).

    Attributes:
        level: 1 (LIF), 2 (LIF-R), 3 (LIF-ASC), 4 (LIF-R-ASC) or 5 (LIF-R-ASC-A); static.
        C_m: membrane capacitance (pF, > 0).
        g_L: leak conductance (nS, > 0); NEST's `g`.
        E_L: resting potential (mV).
        V_th: instantaneous threshold `E_L + θ_∞` (mV), above `E_L`.
        V_reset: reset potential of levels 1 and 3 (mV), below `V_th`.
        t_ref: refractory period (ms, >= 0).
        th_spike_add: threshold jump per spike `δθ_s` (mV).
        th_spike_decay: decay rate `b_s` of the spike component of the threshold (1/ms, > 0).
        voltage_reset_fraction: `f_v` (dimensionless, in [0, 1]).
        voltage_reset_add: `δV` (mV).
        th_voltage_index: `a_v` (1/ms).
        th_voltage_decay: `b_v` (1/ms, > 0).
        asc_decay: after-spike current decay rates `k_j` (1/ms, > 0), shape `(k,)` or `(k, n)`.
        asc_amps: after-spike current jumps `ΔI_j` (pA), same shape rules.
        asc_r: fractions `r_j` of the current kept at a spike (in [0, 1]), same shape rules.
        spike_fn: surrogate Heaviside for the backward pass.
        detach_reset: stop the gradient through the reset and the spike-triggered jumps.

    The defaults are NEST's: GLIF 5 of Allen cell 490626718 (whose other levels share them).

    Examples:
        >>> import brainsim as bs
        >>> glif = bs.neurons.GLIF(level=5)
        >>> state = glif.init(2)
        >>> state, spikes = glif.step(state, 350.0, t=0.0, dt=0.1)   # 350 pA
        >>> state.asc.shape
        (2, 2)

    Reference: Teeter, Iyer, Menon, Gouwens, Feng, Berg, Szafer, Cain, Zeng, Hawrylycz, Koch &
    Mihalas (2018), *Generalized leaky integrate-and-fire models classify multiple neuron
    types*, Nature Communications 9:709.
    """

    level: int = eqx.field(default=1, static=True)
    C_m: Float[Array, "*n"] = eqx.field(default=58.72, converter=as_param)
    g_L: Float[Array, "*n"] = eqx.field(default=9.43, converter=as_param)
    E_L: Float[Array, "*n"] = eqx.field(default=-78.85, converter=as_param)
    V_th: Float[Array, "*n"] = eqx.field(default=-51.68, converter=as_param)
    V_reset: Float[Array, "*n"] = eqx.field(default=-78.85, converter=as_param)
    t_ref: Float[Array, "*n"] = eqx.field(default=3.75, converter=as_param)
    th_spike_add: Float[Array, "*n"] = eqx.field(default=0.37, converter=as_param)
    th_spike_decay: Float[Array, "*n"] = eqx.field(default=0.009, converter=as_param)
    voltage_reset_fraction: Float[Array, "*n"] = eqx.field(default=0.2, converter=as_param)
    voltage_reset_add: Float[Array, "*n"] = eqx.field(default=18.51, converter=as_param)
    th_voltage_index: Float[Array, "*n"] = eqx.field(default=0.005, converter=as_param)
    th_voltage_decay: Float[Array, "*n"] = eqx.field(default=0.09, converter=as_param)
    asc_decay: Float[Array, " k *n"] = eqx.field(default=(0.003, 0.1), converter=as_param)
    asc_amps: Float[Array, " k *n"] = eqx.field(default=(-9.18, -198.94), converter=as_param)
    asc_r: Float[Array, " k *n"] = eqx.field(default=(1.0, 1.0), converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    detach_reset: bool = eqx.field(default=False, static=True)

    LEVELS: ClassVar[dict[int, str]] = {
        1: "LIF",
        2: "LIF-R",
        3: "LIF-ASC",
        4: "LIF-R-ASC",
        5: "LIF-R-ASC-A",
    }
    _ASC_FIELDS: ClassVar[tuple[str, ...]] = ("asc_decay", "asc_amps", "asc_r")

    def __check_init__(self):
        if self.level not in self.LEVELS:
            raise ValueError(
                f"`level` must be one of 1-5 ({', '.join(map(str, self.LEVELS.values()))}), "
                f"got {self.level!r}."
            )
        for name in ("C_m", "g_L", "th_spike_decay", "th_voltage_decay", "asc_decay"):
            check_positive(name, getattr(self, name))
        check_positive("t_ref", self.t_ref, allow_zero=True)
        check_positive("voltage_reset_fraction", self.voltage_reset_fraction, allow_zero=True)
        check_at_most("voltage_reset_fraction", self.voltage_reset_fraction, 1.0)
        check_positive("asc_r", self.asc_r, allow_zero=True)
        check_at_most("asc_r", self.asc_r, 1.0)
        for name in ("E_L", "V_reset", "th_spike_add", "voltage_reset_add", "th_voltage_index"):
            check_finite(name, getattr(self, name))
        check_finite("asc_amps", self.asc_amps)
        check_less("E_L", self.E_L, "V_th", self.V_th)
        check_less("V_reset", self.V_reset, "V_th", self.V_th)
        shapes = {name: jnp.shape(getattr(self, name)) for name in self._ASC_FIELDS}
        if (
            any(len(shape) not in (1, 2) for shape in shapes.values())
            or len({shape[:1] for shape in shapes.values()}) != 1
        ):
            raise ValueError(
                "`asc_decay`, `asc_amps` and `asc_r` must have one entry per after-spike current "
                f"(shape (k,) or (k, n)) and the same k, got shapes {shapes}."
            )

    @property
    def has_theta_spike(self) -> bool:
        """Levels 2, 4 and 5: spike-dependent threshold and the biological reset rule."""
        return self.level in (2, 4, 5)

    @property
    def has_asc(self) -> bool:
        """Levels 3, 4 and 5: after-spike currents."""
        return self.level in (3, 4, 5)

    @property
    def has_theta_voltage(self) -> bool:
        """Level 5: voltage-dependent threshold."""
        return self.level == 5

    def _asc_param(self, name: str) -> Float[Array, " k *n"]:
        value = getattr(self, name)
        return value[:, None] if value.ndim == 1 else value

    def init(self, n: int, key: PRNGKeyArray | None = None) -> GLIFState:
        """State of `n` neurons at rest with zero threshold components and currents (`key` is
        accepted for a uniform interface and unused: the model is deterministic)."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` (number of neurons) must be a positive int, got {n!r}.")
        for name in (
            "C_m",
            "g_L",
            "E_L",
            "V_th",
            "V_reset",
            "t_ref",
            "th_spike_add",
            "th_spike_decay",
            "voltage_reset_fraction",
            "voltage_reset_add",
            "th_voltage_index",
            "th_voltage_decay",
        ):
            check_broadcasts(name, getattr(self, name), n)
        for name in self._ASC_FIELDS:
            shape = jnp.shape(getattr(self, name))
            if len(shape) == 2 and shape[1] not in (1, n):
                raise ValueError(
                    f"`{name}` has shape {shape}, but the population has {n} neurons: give "
                    f"shape (k,) or (k, {n})."
                )
        v = self._full(self.E_L, n)
        k = self.asc_decay.shape[0] if self.has_asc else 0
        zeros = jnp.zeros_like(v)
        return GLIFState(
            v=v, theta_s=zeros, theta_v=zeros, asc=jnp.zeros((k, n), v.dtype), refractory_left=zeros
        )

    def step(self, state: GLIFState, inputs=None, *, t, dt) -> tuple[GLIFState, Float[Array, " n"]]:
        """Advance by `dt` ms with input current `inputs` (pA array or `Drive`)."""
        drive = as_drive(inputs, like=state.v)
        refractory = held_refractory(state.refractory_left, dt)
        u_old = state.v - self.E_L
        g_total = self.g_L + drive.g
        # Input current at U = 0, with the conductance part measured from E_L (pA).
        current = drive.I + drive.g_E - drive.g * self.E_L

        theta_s = state.theta_s
        if self.has_theta_spike:
            theta_s = jnp.where(refractory, theta_s, theta_s * jnp.exp(-self.th_spike_decay * dt))
        asc, asc_mean = state.asc, 0.0
        if self.has_asc:
            k = self._asc_param("asc_decay")
            decayed = state.asc * jnp.exp(-k * dt)
            asc_mean = jnp.sum(state.asc * -jnp.expm1(-k * dt) / (k * dt), axis=0)
            asc = jnp.where(refractory, state.asc, decayed)
            current = current + jnp.where(refractory, 0.0, asc_mean)
        u_inf = current / g_total
        decay = jnp.exp(-g_total * dt / self.C_m)

        theta_v = state.theta_v
        if self.has_theta_voltage:
            a_v, b_v = self.th_voltage_index, self.th_voltage_decay
            relaxed = (
                theta_v * jnp.exp(-b_v * dt)
                + a_v / b_v * u_inf * -jnp.expm1(-b_v * dt)
                + a_v * (u_old - u_inf) * exp_difference(g_total / self.C_m, b_v, dt)
            )
            theta_v = jnp.where(refractory, theta_v, relaxed)

        u = jnp.where(refractory, u_old, u_inf + (u_old - u_inf) * decay)
        theta_inf = self.V_th - self.E_L
        distance = (u - theta_inf - theta_s - theta_v) / theta_inf
        spikes = self.spike_fn(jnp.where(refractory, -1.0, distance))
        gate = reset_gate(spikes, self.detach_reset)

        if self.has_theta_spike:
            u_reset = self.voltage_reset_fraction * u_old + self.voltage_reset_add
            jumped = theta_s * jnp.exp(-self.th_spike_decay * self.t_ref) + self.th_spike_add
            theta_s = _reset(theta_s, gate, jumped, self.detach_reset)
        else:
            u_reset = self.V_reset - self.E_L
        u = _reset(u, gate, u_reset, self.detach_reset)
        if self.has_asc:
            k, r = self._asc_param("asc_decay"), self._asc_param("asc_r")
            jumped = self._asc_param("asc_amps") + r * asc * jnp.exp(-k * self.t_ref)
            asc = _reset(asc, gate[None], jumped, self.detach_reset)

        left = jnp.where(spikes > 0, self.t_ref, jnp.maximum(state.refractory_left - dt, 0.0))
        new = GLIFState(
            v=u + self.E_L, theta_s=theta_s, theta_v=theta_v, asc=asc, refractory_left=left
        )
        return new, spikes

    def threshold(self, state: GLIFState) -> Float[Array, " n"]:
        """The current threshold `V_th + θ_s + θ_v` (mV) of each neuron."""
        return self.V_th + state.theta_s + state.theta_v
