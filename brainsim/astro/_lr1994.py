"""NEST's `astrocyte_lr_1994`: Li–Rinzel Ca²⁺ dynamics with IP3 driven by synaptic spikes."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from brainsim import integrators
from brainsim._validation import as_param, check_at_most, check_broadcasts, check_positive
from brainsim.astro._base import Astrocyte


class LR1994Drive(NamedTuple):
    """Input of an `AstrocyteLR1994` population for one step.

    Attributes:
        J_syn: summed weight of the spikes that arrived at the end of the previous step
            (NEST's dimensionless spike weights, >= 0); IP3 jumps by `delta_IP3 · J_syn` at the
            start of the step. A `Projection` with `Instantaneous` kinetics and `IP3Input`
            output provides it.
        J_noise: Ca²⁺ current added to `dCa/dt` (µM/ms), held over the step (NEST's current
            input of the astrocyte).
    """

    J_syn: Float[ArrayLike, "*n"] = 0.0
    J_noise: Float[ArrayLike, "*n"] = 0.0


def as_lr1994_drive(inputs) -> LR1994Drive:
    """Interpret a step's `inputs`: `None` (no input) or an `LR1994Drive`."""
    if inputs is None:
        return LR1994Drive()
    if isinstance(inputs, LR1994Drive):
        return inputs
    raise TypeError(
        "AstrocyteLR1994 inputs must be an `LR1994Drive(J_syn=..., J_noise=...)` or None, got "
        f"{type(inputs).__name__} (spikes reach it through a Projection with "
        "`Instantaneous()` kinetics and `IP3Input()` output)."
    )


class IP3Input(eqx.Module):
    """Projection output onto an `AstrocyteLR1994` population: spikes drive its IP3.

    With `Instantaneous()` kinetics, the weights that arrive in a step (NEST spike weights,
    >= 0: NEST refuses negative ones) become `LR1994Drive(J_syn=...)`, so that IP3 jumps by
    `delta_IP3 · J_syn` as in NEST's `astrocyte_lr_1994`.

    Examples:
        >>> import brainsim as bs, brainsim_ops as bo
        >>> proj = bs.Projection("E", "A", bo.one_to_one(5), bs.astro.Instantaneous(),
        ...                      bs.astro.IP3Input(), delay_steps=10)
    """

    def drive(self, value: Float[Array, " n"], v=None) -> LR1994Drive:
        """The astrocyte input for the arriving weights `value` (`v` is unused)."""
        return LR1994Drive(J_syn=value)


class LR1994State(NamedTuple):
    """State of an `AstrocyteLR1994` population.

    Attributes:
        IP3: IP3 concentration (µM), shape `(n,)` (NEST's `IP3`).
        Ca: cytosolic Ca²⁺ concentration (µM), shape `(n,)` (NEST's `Ca_astro`).
        h_IP3R: fraction of IP3 receptors not inactivated by Ca²⁺, shape `(n,)` (NEST's
            `h_IP3R`).
        sic: the slow inward current of the last `max_sic_delay + 1` steps, newest first
            (pA per unit weight), shape `(max_sic_delay + 1, n)`; `sic[d]` is what a
            `SlowInwardCurrent` with a delay of `d` steps delivers.
    """

    IP3: Float[Array, " n"]
    Ca: Float[Array, " n"]
    h_IP3R: Float[Array, " n"]
    sic: Float[Array, "d n"]


class AstrocyteLR1994(Astrocyte):
    """Li–Rinzel astrocyte with synaptically driven IP3 and a slow inward current (NEST).

    NEST's `astrocyte_lr_1994` (Li & Rinzel 1994, after De Young & Keizer 1992; input and
    output after Nadkarni & Jung 2003). With `c = clip(Ca, 0, Ca_tot)`:

        dIP3/dt   = (IP3_0 − IP3)/tau_IP3                    (+ delta_IP3 · J_syn jumps)
        dCa/dt    = J_channel − J_pump + J_leak + J_noise
        dh_IP3R/dt = k_IP3R Kd_inh (IP3 + Kd_IP3_1)/(IP3 + Kd_IP3_2) (1 − h_IP3R) − k_IP3R c h_IP3R
        J_channel = ratio_ER_cyt rate_IP3R m∞³ n∞³ h_IP3R³ (c_ER − c)
        J_leak    = ratio_ER_cyt rate_L (c_ER − c),   c_ER = (Ca_tot − c)/ratio_ER_cyt
        J_pump    = rate_SERCA c²/(c² + Km_SERCA²)
        m∞ = IP3/(IP3 + Kd_IP3_1),   n∞ = c/(c + Kd_act)

    A step (NEST's order): IP3 jumps by `delta_IP3 · J_syn` for the spikes that arrived at the
    end of the previous step, the three equations advance by `dt` (RK4), Ca is clipped to
    `[0, Ca_tot]`, and the slow inward current is computed from the new Ca:

        SIC = SIC_scale · ln(y)  if y > 1 else 0,   y = (Ca − SIC_th) · 1000  (Ca in nM above
        threshold)

    The step returns `(state, sic)`: this step's SIC per astrocyte (pA for a connection of
    weight 1); `SlowInwardCurrent` carries it to neurons.

    NEST integrates with GSL's adaptive RKF45 (absolute tolerance 1e-3 µM, one step of `dt`
    accepted whenever the error estimate allows, which it always does for these slow
    equations at dt = 0.1 ms). Here RK4 with the step `dt`: both methods are exact to far
    below float64 rounding at this step (time scales of tens of ms and longer), so traces
    agree with NEST's to ~1e-12 µM (see docs/astro_nest.md).

    Parameters have NEST's names and units (µM, ms); defaults are NEST 3.10's.

    Attributes:
        Ca_tot: total free Ca²⁺ in terms of cytosolic volume (µM, > 0).
        IP3_0: baseline IP3 (µM, >= 0).
        Kd_IP3_1, Kd_IP3_2: first and second IP3R dissociation constants of IP3 (µM, > 0).
        Kd_act: IP3R dissociation constant of Ca²⁺ activation (µM, > 0).
        Kd_inh: IP3R dissociation constant of Ca²⁺ inhibition (µM, >= 0).
        Km_SERCA: half-activation constant of the SERCA pump (µM, > 0).
        SIC_scale: scale of the SIC (pA, > 0; NEST: "unitless").
        SIC_th: Ca²⁺ threshold of the SIC (µM, >= 0).
        delta_IP3: IP3 increase per unit of spike weight (µM, >= 0).
        k_IP3R: IP3R binding constant of Ca²⁺ inhibition (1/(µM·ms), >= 0).
        rate_IP3R: maximal Ca²⁺ release rate through IP3R (1/ms, >= 0).
        rate_L: Ca²⁺ leak rate from the ER (1/ms, >= 0).
        rate_SERCA: maximal SERCA uptake rate (µM/ms, >= 0).
        ratio_ER_cyt: ER-to-cytosol volume ratio (> 0).
        tau_IP3: IP3 decay time constant (ms, > 0).
        max_sic_delay: longest delay (steps) of the `SlowInwardCurrent` couplings reading this
            population; the state keeps that many past SIC values (static, default 0).
        method: integrator (`"rk4"`, default, or `"euler"`), static.

    Examples:
        >>> import jax.numpy as jnp, brainsim as bs
        >>> astro = bs.astro.AstrocyteLR1994(delta_IP3=0.2)
        >>> state = astro.init(2, IP3=0.4)
        >>> drive = bs.astro.LR1994Drive(J_syn=jnp.array([1.0, 0.0]))
        >>> state, sic = astro.step(state, drive, t=0.0, dt=0.1)
        >>> [round(x, 4) for x in state.IP3.tolist()]
        [0.6, 0.4]

    References: Li & Rinzel (1994) J. Theor. Biol. 166:461; De Young & Keizer (1992) PNAS
    89:9895; Nadkarni & Jung (2003) Phys. Rev. Lett. 91:268101; NEST 3.10
    `astrocyte_lr_1994`.
    """

    Ca_tot: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    IP3_0: Float[Array, "*n"] = eqx.field(default=0.16, converter=as_param)
    Kd_IP3_1: Float[Array, "*n"] = eqx.field(default=0.13, converter=as_param)
    Kd_IP3_2: Float[Array, "*n"] = eqx.field(default=0.9434, converter=as_param)
    Kd_act: Float[Array, "*n"] = eqx.field(default=0.08234, converter=as_param)
    Kd_inh: Float[Array, "*n"] = eqx.field(default=1.049, converter=as_param)
    Km_SERCA: Float[Array, "*n"] = eqx.field(default=0.1, converter=as_param)
    SIC_scale: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    SIC_th: Float[Array, "*n"] = eqx.field(default=0.19669, converter=as_param)
    delta_IP3: Float[Array, "*n"] = eqx.field(default=0.0002, converter=as_param)
    k_IP3R: Float[Array, "*n"] = eqx.field(default=0.0002, converter=as_param)
    rate_IP3R: Float[Array, "*n"] = eqx.field(default=0.006, converter=as_param)
    rate_L: Float[Array, "*n"] = eqx.field(default=0.00011, converter=as_param)
    rate_SERCA: Float[Array, "*n"] = eqx.field(default=0.0009, converter=as_param)
    ratio_ER_cyt: Float[Array, "*n"] = eqx.field(default=0.185, converter=as_param)
    tau_IP3: Float[Array, "*n"] = eqx.field(default=7142.0, converter=as_param)
    max_sic_delay: int = eqx.field(default=0, static=True)
    method: str = eqx.field(default="rk4", static=True)

    _POSITIVE: ClassVar[tuple[str, ...]] = (
        "Ca_tot", "Kd_IP3_1", "Kd_IP3_2", "Kd_act", "Km_SERCA", "SIC_scale", "ratio_ER_cyt",
        "tau_IP3",
    )  # fmt: skip
    _METHODS: ClassVar[tuple[str, ...]] = ("rk4", "euler")
    #: NEST 3.10's initial state (µM, µM, dimensionless; IP3 starts at `IP3_0`).
    INITIAL: ClassVar[dict[str, float]] = {"Ca": 0.073, "h_IP3R": 0.793}

    def __check_init__(self):
        if self.method not in self._METHODS:
            raise ValueError(f"`method` must be one of {self._METHODS}, got {self.method!r}.")
        if not isinstance(self.max_sic_delay, int) or self.max_sic_delay < 0:
            raise ValueError(
                f"`max_sic_delay` must be an int >= 0 (steps), got {self.max_sic_delay!r}."
            )
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, jax.Array):
                check_positive(field.name, value, allow_zero=field.name not in self._POSITIVE)

    def init(
        self,
        n: int,
        key: PRNGKeyArray | None = None,
        *,
        IP3: ArrayLike | None = None,
        Ca: ArrayLike = INITIAL["Ca"],
        h_IP3R: ArrayLike = INITIAL["h_IP3R"],
    ) -> LR1994State:
        """State of `n` astrocytes (scalars or one value per astrocyte; `key` is unused).

        Defaults are NEST's: `IP3 = IP3_0`, `Ca = 0.073` µM, `h_IP3R = 0.793`; no SIC sent yet.
        Concentrations must be >= 0 and `h_IP3R` in [0, 1].
        """
        self._check_shapes(n)
        dtype = jnp.result_type(float)
        IP3 = self.IP3_0 if IP3 is None else IP3
        values = {}
        for name, value in (("IP3", IP3), ("Ca", Ca), ("h_IP3R", h_IP3R)):
            check_broadcasts(name, jnp.asarray(value), n)
            check_positive(name, value, allow_zero=True)
            values[name] = jnp.broadcast_to(jnp.asarray(value, dtype), (n,))
        check_at_most("h_IP3R", h_IP3R, 1.0)
        sic = jnp.zeros((self.max_sic_delay + 1, n), dtype)
        return LR1994State(**values, sic=sic)

    def _derivatives(self, t, y, J_noise=0.0):
        """Right-hand sides of `(IP3, Ca, h_IP3R)` per ms, with the Ca²⁺ current `J_noise`."""
        IP3, Ca, h = y
        c = jnp.clip(Ca, 0.0, self.Ca_tot)
        m_inf = IP3 / (IP3 + self.Kd_IP3_1)
        n_inf = c / (c + self.Kd_act)
        c_ER = (self.Ca_tot - c) / self.ratio_ER_cyt
        J_channel = self.ratio_ER_cyt * self.rate_IP3R * (m_inf * n_inf * h) ** 3 * (c_ER - c)
        J_leak = self.ratio_ER_cyt * self.rate_L * (c_ER - c)
        J_pump = self.rate_SERCA * c**2 / (c**2 + self.Km_SERCA**2)
        alpha_h = self.k_IP3R * self.Kd_inh * (IP3 + self.Kd_IP3_1) / (IP3 + self.Kd_IP3_2)
        beta_h = self.k_IP3R * c
        dIP3 = (self.IP3_0 - IP3) / self.tau_IP3
        dCa = J_channel - J_pump + J_leak + J_noise
        dh = alpha_h * (1.0 - h) - beta_h * h
        return dIP3, dCa, dh

    def slow_inward_current(self, Ca: Float[Array, " n"]) -> Float[Array, " n"]:
        """SIC (pA per unit weight) for Ca²⁺ `Ca` (µM): `SIC_scale ln((Ca − SIC_th)/1 nM)`
        above 1 nM over threshold, else 0."""
        y = (Ca - self.SIC_th) * 1000.0
        above = y > 1.0
        return jnp.where(above, self.SIC_scale * jnp.log(jnp.where(above, y, 1.0)), 0.0)

    def step(self, state: LR1994State, inputs=None, *, t, dt):
        """Advance by `dt` ms; returns the new state and this step's SIC (pA per unit weight)."""
        drive = as_lr1994_drive(inputs)
        IP3 = state.IP3 + self.delta_IP3 * drive.J_syn

        def f(time, y):
            return self._derivatives(time, y, drive.J_noise)

        IP3, Ca, h = integrators.get(self.method)(f, (IP3, state.Ca, state.h_IP3R), t, dt)
        Ca = jnp.clip(Ca, 0.0, self.Ca_tot)
        sic = self.slow_inward_current(Ca)
        history = jnp.concatenate([sic[None], state.sic[:-1]], axis=0)
        return LR1994State(IP3=IP3, Ca=Ca, h_IP3R=h, sic=history), sic
