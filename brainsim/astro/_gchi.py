"""The G-ChI astrocyte: glutamate-dependent Ca²⁺–IP3 dynamics with gliotransmitter release."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from brainsim import integrators
from brainsim._validation import as_param, check_at_most, check_broadcasts, check_positive
from brainsim.astro._base import Astrocyte
from brainsim.surrogate import FastSigmoid, Surrogate

_METHODS = ("rk4", "euler", "milstein")
_PER_S = 1e-3  # rates are given per second; time steps are in ms


class AstrocyteDrive(NamedTuple):
    """Input to an astrocyte population for one step (held over the step).

    Attributes:
        Y_S: neurotransmitter at the synapses the astrocyte covers (µM): drives its receptors
            `Γ_A`. Summed (or averaged) over the synapses by the coupling that provides it.
        J_coupling: extra IP3 flux (µM/s), e.g. from gap junctions (`GapJunctions`).
    """

    Y_S: Float[ArrayLike, "*n"] = 0.0
    J_coupling: Float[ArrayLike, "*n"] = 0.0


def as_astrocyte_drive(inputs) -> AstrocyteDrive:
    """Interpret a step's `inputs`: `None` (no input) or an `AstrocyteDrive`."""
    if inputs is None:
        return AstrocyteDrive()
    if isinstance(inputs, AstrocyteDrive):
        return inputs
    raise TypeError(
        "astrocyte inputs must be an `AstrocyteDrive(Y_S=..., J_coupling=...)` or None, got "
        f"{type(inputs).__name__} (a current in pA is not an input of an astrocyte)."
    )


class GChIState(NamedTuple):
    """State of a G-ChI astrocyte population (each field has shape `(n,)`).

    Attributes:
        C: cytosolic Ca²⁺ (µM).
        h: fraction of de-inactivated IP3 receptors (dimensionless).
        I: IP3 (µM).
        Gamma_A: fraction of activated astrocytic receptors (dimensionless).
        x_A: fraction of gliotransmitter resources available (dimensionless).
        G_A: released gliotransmitter in the extracellular space (µM).
        key: random key (only with `method="milstein"`, else `None`).
    """

    C: Float[Array, " n"]
    h: Float[Array, " n"]
    I: Float[Array, " n"]
    Gamma_A: Float[Array, " n"]
    x_A: Float[Array, " n"]
    G_A: Float[Array, " n"]
    key: PRNGKeyArray | None = None


def _hill(x, K, n):
    return x**n / (x**n + K**n)


class GChI(Astrocyte):
    """G-ChI astrocyte (De Pittà et al. 2009; Stimberg et al. 2019).

    Ca²⁺-induced Ca²⁺ release through IP3 receptors, IP3 production by PLCβ (driven by
    neurotransmitter through receptors `Γ_A`) and PLCδ (Ca²⁺-dependent), IP3 degradation by
    IP3-3K and IP-5P, an exogenous IP3 clamp, gap-junction fluxes, and gliotransmitter release:

        dC/dt = (Ω_C m∞³ h³ + Ω_L)(C_T − (1+ρ_A) C) − O_P C²/(C² + K_P²)
        dh/dt = (h∞ − h)/τ_h,   h∞ = Q_2/(Q_2+C),  τ_h = 1/(O_2 (Q_2+C)),
                Q_2 = d_2 (I+d_1)/(I+d_3),  m∞ = I/(I+d_1) · C/(C+d_5)
        dI/dt = O_β Γ_A + O_δ/(1 + I/κ_δ) C²/(C²+K_δ²) − O_3K C⁴/(C⁴+K_D⁴) I/(I+K_3K)
                − Ω_5P I + J_ex + J_coupling
        J_ex  = −(F_ex/2)(1 + tanh((|I − I_bias g(t)| − I_Θ)/ω_I)) sign(I − I_bias g(t))
        dΓ_A/dt = O_N Y_S (1 − Γ_A) − Ω_N (1 + ζ C/(C + K_KC)) Γ_A
        dx_A/dt = Ω_A (1 − x_A),   dG_A/dt = −Ω_e G_A          (exact propagators)

    `h` and `Γ_A` are clipped to [0, 1] where they enter the right-hand sides (as in the
    published scripts). A release ("astrocyte spike") happens when `C` crosses `C_Θ` upward
    within a step (`C ≤ C_Θ` at the start, `> C_Θ` at the end): one release per crossing, never
    one per step above threshold, as Brian2's `threshold='C>C_Theta', refractory='C>C_Theta'`.
    At a release `G_A ← G_A + ρ_e G_T U_A x_A` then `x_A ← (1 − U_A) x_A`. The step returns the
    releases (0.0 / 1.0, through the surrogate `spike_fn` of `(C − C_Θ)/C_Θ`).

    Units: concentrations in µM, rates in 1/s (or µM/s, 1/(µM·s)) as published; the step `dt`
    is in ms. `method`: `"rk4"` (default), `"euler"`, or `"milstein"`: Brian2's derivative-free
    Milstein scheme (Stratonovich) with multiplicative noise on `h`,
    `dh = (h∞ − h)/τ_h dt + noise (h∞ − h)/√τ_h dW` (Euler for the other variables); it needs
    a key in `init`.

    Attributes:
        O_P: maximal SERCA uptake rate (µM/s). K_P: SERCA Ca²⁺ affinity (µM).
        C_T: total free Ca²⁺ (µM). rho_A: ER-to-cytoplasm volume ratio.
        Omega_C: maximal IP3R release rate (1/s). Omega_L: ER leak rate (1/s).
        d_1, d_2, d_3, d_5: IP3R dissociation constants (µM). O_2: IP3R Ca²⁺-inhibition
            binding rate (1/(µM·s)).
        O_beta: maximal PLCβ rate (µM/s). O_N: receptor binding rate (1/(µM·s)).
        Omega_N: receptor inactivation rate (1/s). K_KC: PKC Ca²⁺ affinity (µM).
        zeta: maximal PKC reduction of receptor affinity.
        O_delta: maximal PLCδ rate (µM/s). kappa_delta: PLCδ inhibition by IP3 (µM).
        K_delta: PLCδ Ca²⁺ affinity (µM).
        O_3K: maximal IP3-3K rate (µM/s). K_D: IP3-3K Ca²⁺ affinity (µM). K_3K: IP3-3K IP3
            affinity (µM). Omega_5P: IP-5P rate (1/s).
        F_ex: maximal exogenous IP3 flux (µM/s). I_bias: clamp target (µM).
        I_Theta: clamp threshold (µM). omega_I: clamp steepness (µM).
        C_Theta: release threshold (µM). Omega_A: gliotransmitter recycling rate (1/s).
        U_A: release fraction (0, 1]. G_T: vesicular gliotransmitter (µM). rho_e:
            vesicle-to-extracellular volume ratio. Omega_e: gliotransmitter clearance (1/s).
        noise: noise intensity on `h` (dimensionless, `method="milstein"` only).
        bias_gate: optional static function of time `t` (ms) returning a factor on `I_bias`
            (e.g. a stimulus switched on and off); it is evaluated at the integrator's stage
            times, as Brian2 evaluates a `TimedArray`.
        method: `"rk4"`, `"euler"` or `"milstein"` (static).
        spike_fn: surrogate of the release threshold.

    Defaults are the astrocytes of the published neuron–glia network (example 6 of
    Stimberg et al. 2019), without the exogenous clamp (`F_ex = 0`).

    Examples:
        >>> import jax.numpy as jnp, brainsim as bs
        >>> astro = bs.astro.GChI(O_beta=3.2, F_ex=2.0, I_bias=1.0)
        >>> state = astro.init(3)
        >>> state, releases = astro.step(state, None, t=0.0, dt=1.0)

    References: De Pittà et al. (2009) J. Biol. Phys. 35:383; Stimberg, Goodman, Brette &
    De Pittà (2019) in Computational Glioscience, Springer, pp. 471–505.
    """

    O_P: Float[Array, "*n"] = eqx.field(default=0.9, converter=as_param)
    K_P: Float[Array, "*n"] = eqx.field(default=0.05, converter=as_param)
    C_T: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    rho_A: Float[Array, "*n"] = eqx.field(default=0.18, converter=as_param)
    Omega_C: Float[Array, "*n"] = eqx.field(default=6.0, converter=as_param)
    Omega_L: Float[Array, "*n"] = eqx.field(default=0.1, converter=as_param)
    d_1: Float[Array, "*n"] = eqx.field(default=0.13, converter=as_param)
    d_2: Float[Array, "*n"] = eqx.field(default=1.05, converter=as_param)
    O_2: Float[Array, "*n"] = eqx.field(default=0.2, converter=as_param)
    d_3: Float[Array, "*n"] = eqx.field(default=0.9434, converter=as_param)
    d_5: Float[Array, "*n"] = eqx.field(default=0.08, converter=as_param)
    O_beta: Float[Array, "*n"] = eqx.field(default=0.5, converter=as_param)
    O_N: Float[Array, "*n"] = eqx.field(default=0.3, converter=as_param)
    Omega_N: Float[Array, "*n"] = eqx.field(default=0.5, converter=as_param)
    K_KC: Float[Array, "*n"] = eqx.field(default=0.5, converter=as_param)
    zeta: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    O_delta: Float[Array, "*n"] = eqx.field(default=1.2, converter=as_param)
    kappa_delta: Float[Array, "*n"] = eqx.field(default=1.5, converter=as_param)
    K_delta: Float[Array, "*n"] = eqx.field(default=0.1, converter=as_param)
    O_3K: Float[Array, "*n"] = eqx.field(default=4.5, converter=as_param)
    K_D: Float[Array, "*n"] = eqx.field(default=0.7, converter=as_param)
    K_3K: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    Omega_5P: Float[Array, "*n"] = eqx.field(default=0.05, converter=as_param)
    F_ex: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    I_bias: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    I_Theta: Float[Array, "*n"] = eqx.field(default=0.3, converter=as_param)
    omega_I: Float[Array, "*n"] = eqx.field(default=0.05, converter=as_param)
    C_Theta: Float[Array, "*n"] = eqx.field(default=0.5, converter=as_param)
    Omega_A: Float[Array, "*n"] = eqx.field(default=0.6, converter=as_param)
    U_A: Float[Array, "*n"] = eqx.field(default=0.6, converter=as_param)
    G_T: Float[Array, "*n"] = eqx.field(default=200_000.0, converter=as_param)
    rho_e: Float[Array, "*n"] = eqx.field(default=6.5e-4, converter=as_param)
    Omega_e: Float[Array, "*n"] = eqx.field(default=60.0, converter=as_param)
    noise: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    bias_gate: Callable[[ArrayLike], ArrayLike] | None = eqx.field(default=None, static=True)
    method: str = eqx.field(default="rk4", static=True)
    spike_fn: Surrogate = eqx.field(default_factory=FastSigmoid)

    _POSITIVE: ClassVar[tuple[str, ...]] = (
        "K_P", "C_T", "d_1", "d_2", "d_3", "d_5", "K_KC", "kappa_delta", "K_delta", "K_D", "K_3K",
        "omega_I", "C_Theta", "U_A", "G_T",
    )  # fmt: skip

    def __check_init__(self):
        if self.method not in _METHODS:
            raise ValueError(f"`method` must be one of {_METHODS}, got {self.method!r}.")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in ("bias_gate", "method", "spike_fn", "I_bias"):
                continue
            check_positive(field.name, value, allow_zero=field.name not in self._POSITIVE)
        check_at_most("U_A", self.U_A, 1.0)
        if self.bias_gate is not None and not callable(self.bias_gate):
            raise TypeError("`bias_gate` must be a function of t (ms) or None.")

    def init(
        self,
        n: int,
        key: PRNGKeyArray | None = None,
        *,
        C: ArrayLike = 0.0,
        h: ArrayLike = 0.9,
        I: ArrayLike = 0.0,
        Gamma_A: ArrayLike = 0.0,
        x_A: ArrayLike = 1.0,
        G_A: ArrayLike = 0.0,
    ) -> GChIState:
        """State of `n` astrocytes (initial values: scalars or one per astrocyte).

        Defaults: resting Ca²⁺ and IP3 at 0, `h = 0.9`, full gliotransmitter resources. With
        `method="milstein"` a `key` is required (it drives the noise).
        """
        self._check_shapes(n)
        dtype = jnp.result_type(float)
        values = {}
        for name, value in (("C", C), ("h", h), ("I", I), ("Gamma_A", Gamma_A), ("x_A", x_A),
                            ("G_A", G_A)):  # fmt: skip
            check_broadcasts(name, jnp.asarray(value), n)
            check_positive(name, value, allow_zero=True)
            values[name] = jnp.broadcast_to(jnp.asarray(value, dtype), (n,))
        if self.method == "milstein" and key is None:
            raise ValueError("GChI(method='milstein').init needs `key`, e.g. jax.random.key(0).")
        return GChIState(**values, key=key if self.method == "milstein" else None)

    def _derivatives(self, t, y, drive: AstrocyteDrive):
        """Right-hand sides of (C, h, I, Γ_A) per ms, with the inputs held over the step."""
        C, h, I, Gamma_A = y
        h_c = jnp.clip(h, 0.0, 1.0)
        Gamma_c = jnp.clip(Gamma_A, 0.0, 1.0)
        Q_2 = self.d_2 * (I + self.d_1) / (I + self.d_3)
        m_inf = I / (I + self.d_1) * C / (C + self.d_5)
        h_inf = Q_2 / (Q_2 + C)
        tau_h = 1.0 / (self.O_2 * (Q_2 + C))
        free_ER = self.C_T - (1.0 + self.rho_A) * C
        J_r = self.Omega_C * m_inf**3 * h_c**3 * free_ER
        J_l = self.Omega_L * free_ER
        J_p = self.O_P * _hill(C, self.K_P, 2)
        gate = 1.0 if self.bias_gate is None else self.bias_gate(t)
        delta = I - self.I_bias * gate
        J_ex = -self.F_ex / 2 * (1 + jnp.tanh((jnp.abs(delta) - self.I_Theta) / self.omega_I))
        J_ex = J_ex * jnp.sign(delta)
        J_beta = self.O_beta * Gamma_c
        J_delta = self.O_delta / (1 + I / self.kappa_delta) * _hill(C, self.K_delta, 2)
        J_3K = self.O_3K * _hill(C, self.K_D, 4) * I / (I + self.K_3K)
        J_5P = self.Omega_5P * I
        dC = J_r + J_l - J_p
        dh = (h_inf - h_c) / tau_h
        dI = J_beta + J_delta - J_3K - J_5P + J_ex + drive.J_coupling
        dGamma = self.O_N * drive.Y_S * (1 - Gamma_c) - self.Omega_N * (
            1 + self.zeta * C / (C + self.K_KC)
        ) * Gamma_c
        noise_h = self.noise * (h_inf - h_c) / jnp.sqrt(tau_h)  # per √s
        return (dC * _PER_S, dh * _PER_S, dI * _PER_S, dGamma * _PER_S), noise_h

    def _milstein(self, y, t, dt, drive, key):
        """Brian2's derivative-free Milstein step (Stratonovich), noise on `h` only."""
        dt_s = dt * _PER_S
        f, g = self._derivatives(t, y, drive)
        dW = jnp.sqrt(dt_s) * jax.random.normal(key, y[1].shape, y[1].dtype)
        euler = tuple(a + dt * b for a, b in zip(y, f, strict=True))
        support = euler[:1] + (euler[1] + jnp.sqrt(dt_s) * g,) + euler[2:]
        _, g_support = self._derivatives(t, support, drive)
        h = euler[1] + g * dW + (g_support - g) * dW**2 / (2 * jnp.sqrt(dt_s))
        return euler[:1] + (h,) + euler[2:]

    def step(self, state: GChIState, inputs=None, *, t, dt):
        """Advance by `dt` ms; returns the new state and this step's releases (0.0 / 1.0)."""
        drive = as_astrocyte_drive(inputs)
        y = (state.C, state.h, state.I, state.Gamma_A)
        key = state.key
        if self.method == "milstein":
            key, draw = jax.random.split(state.key)
            C, h, I, Gamma_A = self._milstein(y, t, dt, drive, draw)
        else:

            def f(time, values):
                return self._derivatives(time, values, drive)[0]

            C, h, I, Gamma_A = integrators.get(self.method)(f, y, t, dt)
        armed = jax.lax.stop_gradient((state.C <= self.C_Theta).astype(C.dtype))
        release = armed * self.spike_fn((C - self.C_Theta) / self.C_Theta)
        x_A = integrators.relax(state.x_A, 1.0, 1.0 / (self.Omega_A * _PER_S), dt)
        G_A = integrators.exact_decay(state.G_A, 1.0 / (self.Omega_e * _PER_S), dt)
        released = release * self.U_A * x_A
        G_A = G_A + self.rho_e * self.G_T * released
        x_A = x_A - released
        new = GChIState(C=C, h=h, I=I, Gamma_A=Gamma_A, x_A=x_A, G_A=G_A, key=key)
        return new, release
