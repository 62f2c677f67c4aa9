"""Generalized integrate-and-fire neuron with escape noise (GIF; Mensi 2012, Pozzorini 2015)."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_broadcasts, check_finite, check_positive
from brainsim.neurons._base import Neuron, as_drive, default_surrogate
from brainsim.neurons._glif import held_refractory
from brainsim.neurons._lif import reset_gate
from brainsim.surrogate import Surrogate


class GIFState(NamedTuple):
    """State of a GIF population.

    Attributes:
        v: membrane potential (mV), shape `(n,)`.
        stc: spike-triggered current components `η_j` (pA), shape `(k, n)`.
        sfa: threshold-movement components `γ_j` (mV), shape `(m, n)`.
        refractory_left: refractory time still to run (ms), shape `(n,)`.
        key: the random key, split once per step.
    """

    v: Float[Array, " n"]
    stc: Float[Array, "k n"]
    sfa: Float[Array, "m n"]
    refractory_left: Float[Array, " n"]
    key: PRNGKeyArray


class GIF(Neuron):
    """Generalized integrate-and-fire neuron with escape noise, as NEST's `gif_psc_exp`.

        C_m dv/dt = -g_L (v - E_L) - η(t) + I(v)
        λ(t) = λ_0 exp((v - V_T(t)) / ΔV),     V_T(t) = V_T* + γ(t)
        η = Σ_j η_j,  τ_stc,j dη_j/dt = -η_j,  η_j ← η_j + q_stc,j at a spike
        γ = Σ_j γ_j,  τ_sfa,j dγ_j/dt = -γ_j,  γ_j ← γ_j + q_sfa,j at a spike

    In each step of `dt` ms a non-refractory neuron spikes with probability
    `1 - exp(-λ dt)`, `λ` taken at the potential reached at the end of the step, and `η`, `γ` at
    its start. After a spike, `v` is clamped to `V_reset` for `t_ref`. The membrane is advanced
    exactly for input `I(v) = I + g_E - g v` (pA, see `Drive`) held over the step; `η`, `γ`
    decay exactly and keep decaying while refractory. Sums of exponentials are the
    parametrisation of the spike-triggered current and threshold kernels in Pozzorini et al.

    The random draw comes from the key carried in the state: the same key gives the same spike
    trains, `vmap` over keys equals a loop, and a neuron's draws do not depend on the size of its
    population (each neuron folds its index into the step's key). Forward spikes are the exact
    Bernoulli draws `1[u < p]`; the backward pass is that of the surrogate `spike_fn` at the
    distance to the moving threshold in units of the noise, `(v - V_T) / ΔV` (a
    straight-through estimator: the deterministic models' gradient, with ΔV as the scale).

    As in NEST, the step that spikes reports the potential it reached (the reset shows from the
    next step on).

    Attributes:
        C_m: membrane capacitance (pF, > 0).
        g_L: leak conductance (nS, > 0).
        E_L: resting potential (mV).
        V_reset: reset potential (mV).
        V_T_star: baseline threshold `V_T*` (mV).
        Delta_V: threshold sharpness `ΔV` (mV, > 0).
        lambda_0: firing intensity at threshold (Hz, > 0; NEST's unit, 1/s).
        t_ref: refractory period (ms, >= 0).
        tau_stc: spike-triggered current time constants (ms, > 0), shape `(k,)` (`k` may be 0).
        q_stc: spike-triggered current jumps (pA), shape `(k,)`.
        tau_sfa: threshold-movement time constants (ms, > 0), shape `(m,)`.
        q_sfa: threshold jumps (mV), shape `(m,)`.
        spike_fn: surrogate Heaviside for the backward pass.
        detach_reset: stop the gradient through the spike-triggered jumps.

    Examples:
        >>> import jax, brainsim as bs
        >>> gif = bs.neurons.GIF(tau_stc=(10.0, 100.0), q_stc=(20.0, 5.0),
        ...                      tau_sfa=(20.0,), q_sfa=(8.0,))
        >>> state = gif.init(3, key=jax.random.key(0))
        >>> state, spikes = gif.step(state, 200.0, t=0.0, dt=0.1)

    Reference: Mensi, Naud, Pozzorini, Avermann, Petersen & Gerstner (2012), J. Neurophysiol.
    107:1756; Pozzorini, Mensi, Hagens, Naud, Koch & Gerstner (2015), *Automated
    high-throughput characterization of single neurons by means of simplified spiking models*,
    PLoS Comput. Biol. 11:e1004275.
    """

    C_m: Float[Array, "*n"] = eqx.field(default=80.0, converter=as_param)
    g_L: Float[Array, "*n"] = eqx.field(default=4.0, converter=as_param)
    E_L: Float[Array, "*n"] = eqx.field(default=-70.0, converter=as_param)
    V_reset: Float[Array, "*n"] = eqx.field(default=-55.0, converter=as_param)
    V_T_star: Float[Array, "*n"] = eqx.field(default=-35.0, converter=as_param)
    Delta_V: Float[Array, "*n"] = eqx.field(default=0.5, converter=as_param)
    lambda_0: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    t_ref: Float[Array, "*n"] = eqx.field(default=4.0, converter=as_param)
    tau_stc: Float[Array, " k"] = eqx.field(default=(), converter=as_param)
    q_stc: Float[Array, " k"] = eqx.field(default=(), converter=as_param)
    tau_sfa: Float[Array, " m"] = eqx.field(default=(), converter=as_param)
    q_sfa: Float[Array, " m"] = eqx.field(default=(), converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)
    detach_reset: bool = eqx.field(default=False, static=True)

    _KERNELS: ClassVar[tuple[tuple[str, str], ...]] = (("tau_stc", "q_stc"), ("tau_sfa", "q_sfa"))
    _PER_NEURON: ClassVar[tuple[str, ...]] = (
        "C_m",
        "g_L",
        "E_L",
        "V_reset",
        "V_T_star",
        "Delta_V",
        "lambda_0",
        "t_ref",
    )

    def __check_init__(self):
        for name in ("C_m", "g_L", "Delta_V", "lambda_0", "tau_stc", "tau_sfa"):
            check_positive(name, getattr(self, name))
        check_positive("t_ref", self.t_ref, allow_zero=True)
        for name in ("E_L", "V_reset", "V_T_star", "q_stc", "q_sfa"):
            check_finite(name, getattr(self, name))
        for tau, q in self._KERNELS:
            shapes = jnp.shape(getattr(self, tau)), jnp.shape(getattr(self, q))
            if len(shapes[0]) != 1 or shapes[0] != shapes[1]:
                raise ValueError(
                    f"`{tau}` and `{q}` must be 1-d with one entry per kernel component, got "
                    f"shapes {shapes[0]} and {shapes[1]}."
                )

    def init(self, n: int, key: PRNGKeyArray | None = None) -> GIFState:
        """State of `n` neurons at rest with empty kernels, drawing from `key` (a `jax.random`
        key; without one, `jax.random.PRNGKey(0)`, so that runs are reproducible by default)."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` (number of neurons) must be a positive int, got {n!r}.")
        for name in self._PER_NEURON:
            check_broadcasts(name, getattr(self, name), n)
        if key is None:
            key = jax.random.PRNGKey(0)
        v = self._full(self.E_L, n)
        return GIFState(
            v=v,
            stc=jnp.zeros((self.tau_stc.shape[0], n), v.dtype),
            sfa=jnp.zeros((self.tau_sfa.shape[0], n), v.dtype),
            refractory_left=jnp.zeros_like(v),
            key=key,
        )

    def step(self, state: GIFState, inputs=None, *, t, dt) -> tuple[GIFState, Float[Array, " n"]]:
        """Advance by `dt` ms with input current `inputs` (pA array or `Drive`)."""
        drive = as_drive(inputs, like=state.v)
        refractory = held_refractory(state.refractory_left, dt)
        eta = jnp.sum(state.stc, axis=0)
        v_threshold = self.V_T_star + jnp.sum(state.sfa, axis=0)
        stc = state.stc * jnp.exp(-dt / self.tau_stc[:, None])
        sfa = state.sfa * jnp.exp(-dt / self.tau_sfa[:, None])

        g_total = self.g_L + drive.g
        v_inf = (self.g_L * self.E_L + drive.I + drive.g_E - eta) / g_total
        v = v_inf + (state.v - v_inf) * jnp.exp(-g_total * dt / self.C_m)
        # The exponent is capped so that a potential far above threshold gives p = 1 and a
        # finite gradient (exp(30) ΔV-units above threshold is certain firing at any dt).
        intensity = (
            self.lambda_0 * 1e-3 * jnp.exp(jnp.minimum((v - v_threshold) / self.Delta_V, 30.0))
        )
        probability = -jnp.expm1(-intensity * dt)
        key, draw = jax.random.split(state.key)
        # One stream per neuron (the step's key folded with the neuron index), so that neuron
        # `i` draws the same numbers whatever the size of its population.
        uniform = jax.vmap(lambda i: jax.random.uniform(jax.random.fold_in(draw, i), (), v.dtype))(
            jnp.arange(v.shape[0])
        )
        fired = jnp.where(refractory, 0.0, (uniform < probability).astype(v.dtype))
        surrogate = self.spike_fn((v - v_threshold) / self.Delta_V) * (1.0 - refractory)
        spikes = fired + surrogate - jax.lax.stop_gradient(surrogate)
        gate = reset_gate(spikes, self.detach_reset)

        v = jnp.where(refractory, self.V_reset, v)
        stc = stc + self.q_stc[:, None] * gate
        sfa = sfa + self.q_sfa[:, None] * gate
        left = jnp.where(spikes > 0, self.t_ref, jnp.maximum(state.refractory_left - dt, 0.0))
        return GIFState(v=v, stc=stc, sfa=sfa, refractory_left=left, key=key), spikes

    def threshold(self, state: GIFState) -> Float[Array, " n"]:
        """The current moving threshold `V_T* + γ` (mV) of each neuron."""
        return self.V_T_star + jnp.sum(state.sfa, axis=0)
