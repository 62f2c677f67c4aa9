"""The Wilson-Cowan model of coupled excitatory and inhibitory populations."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from brainsim import integrators
from brainsim._validation import as_param, check_finite, check_positive
from brainsim.rate._base import RatePopulation, rate_input


class WilsonCowanState(NamedTuple):
    """State of Wilson-Cowan units.

    Attributes:
        E: active fraction of the excitatory population, shape `(n,)`.
        I: active fraction of the inhibitory population, shape `(n,)`.
        output: what a unit sends to others (`E`), shape `(n,)`.
        history: the last `history` outputs (None without history).
        head: the number of steps taken.
    """

    E: Float[Array, " n"]
    I: Float[Array, " n"]
    output: Float[Array, " n"]
    history: Float[Array, "d n"] | None
    head: Int[Array, ""]


def _logistic(x):
    return 1.0 / (1.0 + jnp.exp(-x))


def _response(x, a, theta):
    """The subtractive sigmoid `S(x) = 1/(1 + e^{-a(x-θ)}) - 1/(1 + e^{aθ})`, with S(0) = 0."""
    return _logistic(a * (x - theta)) - _logistic(-a * theta)


class WilsonCowan(RatePopulation):
    """Wilson-Cowan units: an excitatory and an inhibitory population each (Wilson & Cowan 1972).

    `τ_E dE/dt = -E + (k_E - r_E E) S_E(c_EE E - c_IE I + P + h)`,
    `τ_I dI/dt = -I + (k_I - r_I I) S_I(c_EI E - c_II I + Q)`,
    with `S(x) = 1/(1 + e^{-a(x-θ)}) - 1/(1 + e^{aθ})` and `k = 1 - 1/(1 + e^{aθ})` (the
    maximum of `S`). `h` is the step's input (from `RateCoupling`s or `inputs`) to the
    excitatory population; a unit sends `E`. Integrated with RK4 (input constant over the
    step). The defaults are the limit-cycle parameters of Wilson & Cowan (1972), Fig. 9
    (`P = 1.25`), with `τ = 10 ms`.

    Attributes:
        tau_E, tau_I: time constants (ms, > 0).
        c_EE, c_IE, c_EI, c_II: coupling strengths (>= 0; `c_IE` is from I to E).
        a_E, a_I: slopes of the response functions (> 0).
        theta_E, theta_I: thresholds of the response functions.
        r_E, r_I: refractory periods (in units of `τ`, >= 0).
        P, Q: constant external inputs to E and I.

    Examples:
        >>> import brainsim as bs
        >>> wc = bs.rate.WilsonCowan()
        >>> state, E = wc.step(wc.init(3), None, t=0.0, dt=0.1)

    Reference:
        Wilson HR, Cowan JD (1972). Excitatory and inhibitory interactions in localized
        populations of model neurons. Biophys. J. 12:1-24.
    """

    tau_E: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    tau_I: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    c_EE: Float[Array, "*n"] = eqx.field(default=16.0, converter=as_param)
    c_IE: Float[Array, "*n"] = eqx.field(default=12.0, converter=as_param)
    c_EI: Float[Array, "*n"] = eqx.field(default=15.0, converter=as_param)
    c_II: Float[Array, "*n"] = eqx.field(default=3.0, converter=as_param)
    a_E: Float[Array, "*n"] = eqx.field(default=1.3, converter=as_param)
    a_I: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    theta_E: Float[Array, "*n"] = eqx.field(default=4.0, converter=as_param)
    theta_I: Float[Array, "*n"] = eqx.field(default=3.7, converter=as_param)
    r_E: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    r_I: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    P: Float[Array, "*n"] = eqx.field(default=1.25, converter=as_param)
    Q: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)

    def __check_init__(self):
        for name in ("tau_E", "tau_I", "a_E", "a_I"):
            check_positive(name, getattr(self, name))
        for name in ("c_EE", "c_IE", "c_EI", "c_II", "r_E", "r_I"):
            check_positive(name, getattr(self, name), allow_zero=True)
        for name in ("theta_E", "theta_I", "P", "Q"):
            check_finite(name, getattr(self, name))
        self._check_history()

    def init(self, n: int, key: PRNGKeyArray | None = None) -> WilsonCowanState:
        """`n` units at rest, `E = I = 0` (`key` is not used)."""
        self._check_shapes(n)
        zeros = jnp.zeros((n,), jnp.result_type(float))
        history, head = self._init_history(zeros)
        return WilsonCowanState(E=zeros, I=zeros, output=zeros, history=history, head=head)

    def derivatives(self, E, I, h=0.0):
        """`(dE/dt, dI/dt)` (1/ms) at `E`, `I` with input `h` to the excitatory population."""
        k_E = 1.0 - _logistic(-self.a_E * self.theta_E)
        k_I = 1.0 - _logistic(-self.a_I * self.theta_I)
        x_E = self.c_EE * E - self.c_IE * I + self.P + h
        x_I = self.c_EI * E - self.c_II * I + self.Q
        dE = (-E + (k_E - self.r_E * E) * _response(x_E, self.a_E, self.theta_E)) / self.tau_E
        dI = (-I + (k_I - self.r_I * I) * _response(x_I, self.a_I, self.theta_I)) / self.tau_I
        return dE, dI

    def step(self, state: WilsonCowanState, inputs=None, *, t, dt):
        """Advance by `dt` ms (RK4); returns the new state and `E`."""
        h = rate_input(inputs, state.E.shape[0], state.E.dtype)
        E, I = integrators.rk4(
            lambda _, y: self.derivatives(*y, h), (state.E, state.I), t, dt
        )
        history, head = self._push_history(state.history, state.head, state.output)
        return WilsonCowanState(E, I, E, history, head), E
