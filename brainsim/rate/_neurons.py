"""Rate neurons with input noise and with output noise (NEST's `rate_neuron_ipn` / `_opn`)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from brainsim._validation import _concrete, as_param, check_finite, check_positive
from brainsim.rate._base import RatePopulation, rate_input
from brainsim.rate._gain import Gain, Linear


class RateState(NamedTuple):
    """State of a rate neuron population.

    Attributes:
        rate: the rate `X` of each unit (unit of `mu`), shape `(n,)`.
        output: what the units send in this step (`X` with input noise; `X` plus the output
            noise with output noise), shape `(n,)`.
        history: the last `history` outputs, shape `(history, n)` (None without history).
        head: the number of steps taken (the ring's write position).
        key: the random key, split each step (None: no noise).
    """

    rate: Float[Array, " n"]
    output: Float[Array, " n"]
    history: Float[Array, "d n"] | None
    head: Int[Array, ""]
    key: PRNGKeyArray | None


def _check_gain(gain) -> None:
    if not isinstance(gain, Gain):
        raise TypeError(
            "`gain` must be a brainsim.rate gain function (Linear, ThresholdLinear, Tanh, "
            f"Sigmoid), got {type(gain).__name__}."
        )


def _init_state(model, n: int, key, sigma) -> RateState:
    model._check_shapes(n)
    sigma_value = _concrete(sigma)
    if key is None and sigma_value is not None and np.any(sigma_value != 0):
        raise ValueError(
            f"{type(model).__name__}.init needs `key` when `sigma` is not 0, "
            "e.g. key=jax.random.key(0)."
        )
    rate = jnp.zeros((n,), jnp.result_type(float))
    history, head = model._init_history(rate)
    return RateState(rate=rate, output=rate, history=history, head=head, key=key)


def _normal(key, shape, dtype):
    """A standard normal draw and the next key (zeros and None without a key)."""
    if key is None:
        return jnp.zeros(shape, dtype), None
    key, draw = jax.random.split(key)
    return jax.random.normal(draw, shape, dtype), key


class InputNoiseRate(RatePopulation):
    """Rate neurons with input noise (NEST: `rate_neuron_ipn`, e.g. `tanh_rate_ipn`).

    `τ dX = [-λ X + μ + φ(h)] dt + √τ σ dW`, where `h = Σ_j w_ij X_j(t - d_ij)` is the summed
    input of the step (from `RateCoupling`s, spike projections with a current output, or
    `inputs`) and `φ` the `gain`. With `linear_summation=False` the gain is instead applied to
    each input before it is summed (the coupling does it: give it `gain=`), and `h` enters as is.

    Integrated exactly for the piecewise-constant input (stochastic exponential Euler, as NEST):
    `X ← e^{-λ dt/τ} X + (1 - e^{-λ dt/τ})/λ · (μ + φ(h)) + √((1 - e^{-2λ dt/τ})/(2λ)) σ ξ`, with
    `ξ ~ N(0, 1)` drawn each step (for `λ = 0`: Euler-Maruyama, `X ← X + dt/τ (μ + φ(h)) +
    √(dt/τ) σ ξ`). Without input, `X` is an Ornstein-Uhlenbeck process with stationary mean
    `μ/λ` and variance `σ²/(2λ)`. With `rectify=True`, `X` is clipped below at `rectify_rate`
    after each step.

    Attributes:
        tau: time constant (ms, > 0).
        lam: leak `λ` (dimensionless, >= 0).
        mu: constant drive (unit of `X`).
        sigma: noise strength (unit of `X`, >= 0); needs a key in `init` when not 0.
        gain: the gain function `φ` (default `Linear()`).
        linear_summation: apply `φ` to the summed input (True) or leave it to the couplings.
        rectify: clip `X` below at `rectify_rate` (NEST: `rectify_output`).
        rectify_rate: the lower bound (>= 0).
        history: steps of output kept for delayed couplings.

    Examples:
        >>> import jax, brainsim as bs
        >>> model = bs.rate.InputNoiseRate(tau=10.0, mu=1.0, sigma=0.5,
        ...                                gain=bs.rate.Tanh(g=1.0))
        >>> state = model.init(100, key=jax.random.key(0))
        >>> state, rate = model.step(state, 0.2, t=0.0, dt=0.1)

    Reference:
        Hahne J, Dahmen D, Schuecker J, Frommer A, Bolten M, Helias M, Diesmann M (2017).
        Integration of continuous-time dynamics in a spiking neural network simulator.
        Front. Neuroinform. 11:34.
    """

    tau: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    lam: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    mu: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    sigma: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    gain: Gain = eqx.field(default_factory=Linear)
    linear_summation: bool = eqx.field(default=True, static=True)
    rectify: bool = eqx.field(default=False, static=True)
    rectify_rate: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)

    def __check_init__(self):
        check_positive("tau", self.tau)
        check_positive("lam", self.lam, allow_zero=True)
        check_finite("mu", self.mu)
        check_positive("sigma", self.sigma, allow_zero=True)
        check_positive("rectify_rate", self.rectify_rate, allow_zero=True)
        _check_gain(self.gain)
        self._check_history()

    def init(self, n: int, key: PRNGKeyArray | None = None) -> RateState:
        """`n` units at `X = 0`; `key` is needed when `sigma` is not 0."""
        return _init_state(self, n, key, self.sigma)

    def step(self, state: RateState, inputs=None, *, t, dt):
        """Advance by `dt` ms; returns the new state and the new rates."""
        x = state.rate
        h = rate_input(inputs, x.shape[0], x.dtype)
        drive = self.gain(h) if self.linear_summation else h
        leaky = self.lam > 0
        lam = jnp.where(leaky, self.lam, 1.0)
        decay = -lam * dt / self.tau
        p1 = jnp.where(leaky, jnp.exp(decay), 1.0)
        p2 = jnp.where(leaky, -jnp.expm1(decay) / lam, dt / self.tau)
        noise_factor = jnp.where(
            leaky, jnp.sqrt(-jnp.expm1(2.0 * decay) / (2.0 * lam)), jnp.sqrt(dt / self.tau)
        )
        xi, key = _normal(state.key, x.shape, x.dtype)
        x_new = p1 * x + p2 * (self.mu + drive) + noise_factor * self.sigma * xi
        if self.rectify:
            x_new = jnp.maximum(x_new, self.rectify_rate)
        history, head = self._push_history(state.history, state.head, state.output)
        return RateState(x_new, x_new, history, head, key), x_new


class OutputNoiseRate(RatePopulation):
    """Rate neurons with output noise (NEST: `rate_neuron_opn`, e.g. `tanh_rate_opn`).

    `τ dX/dt = -X + μ + φ(h)`, and the units send the noisy rate `X̃ = X + √(τ/dt) σ ξ`, with
    `ξ ~ N(0, 1)` drawn each step (white noise approximated by a piecewise-constant value;
    `h`, `φ` and `linear_summation` as in `InputNoiseRate`). `X` is integrated exactly for the
    piecewise-constant input: `X ← e^{-dt/τ} X + (1 - e^{-dt/τ}) (μ + φ(h))`. The noisy rate
    of the step from `t` to `t + dt` (in `state.output`, what couplings read) is drawn at the
    end of the previous step, so the output before the first step carries no noise.

    Attributes:
        tau: time constant (ms, > 0).
        mu: constant drive (unit of `X`).
        sigma: noise strength (unit of `X`, >= 0); needs a key in `init` when not 0.
        gain: the gain function `φ` (default `Linear()`).
        linear_summation: apply `φ` to the summed input (True) or leave it to the couplings.
        history: steps of output kept for delayed couplings.

    Examples:
        >>> import jax, brainsim as bs
        >>> model = bs.rate.OutputNoiseRate(tau=10.0, mu=1.0, sigma=0.1,
        ...                                 gain=bs.rate.ThresholdLinear(g=2.0))
        >>> state = model.init(100, key=jax.random.key(0))
        >>> state, noisy_rate = model.step(state, 0.2, t=0.0, dt=0.1)

    Reference:
        Hahne J, Dahmen D, Schuecker J, Frommer A, Bolten M, Helias M, Diesmann M (2017).
        Integration of continuous-time dynamics in a spiking neural network simulator.
        Front. Neuroinform. 11:34.
    """

    tau: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    mu: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    sigma: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    gain: Gain = eqx.field(default_factory=Linear)
    linear_summation: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_positive("tau", self.tau)
        check_finite("mu", self.mu)
        check_positive("sigma", self.sigma, allow_zero=True)
        _check_gain(self.gain)
        self._check_history()

    def init(self, n: int, key: PRNGKeyArray | None = None) -> RateState:
        """`n` units at `X = 0`; `key` is needed when `sigma` is not 0."""
        return _init_state(self, n, key, self.sigma)

    def step(self, state: RateState, inputs=None, *, t, dt):
        """Advance by `dt` ms; returns the new state and the noisy rates of the next step."""
        x = state.rate
        h = rate_input(inputs, x.shape[0], x.dtype)
        drive = self.gain(h) if self.linear_summation else h
        decay = -dt / self.tau
        x_new = jnp.exp(decay) * x - jnp.expm1(decay) * (self.mu + drive)
        xi, key = _normal(state.key, x.shape, x.dtype)
        output = x_new + jnp.sqrt(self.tau / dt) * self.sigma * xi
        history, head = self._push_history(state.history, state.head, state.output)
        return RateState(x_new, output, history, head, key), output
