"""Noise currents: Gaussian white noise (piecewise constant) and Ornstein–Uhlenbeck noise."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from brainsim._validation import as_param, check_broadcasts, check_finite, check_positive
from brainsim.stimulation._currents import CurrentSource, _check_n


def _need_key(name: str, key) -> None:
    if key is None:
        raise ValueError(f"{name}.init needs `key`, e.g. key=jax.random.key(0).")


def _full(name: str, value, n: int) -> Float[Array, " n"]:
    check_broadcasts(name, value, n)
    return jnp.broadcast_to(jnp.asarray(value, jnp.result_type(float)), (n,))


class GaussianNoiseState(NamedTuple):
    """State of a Gaussian white-noise current.

    Attributes:
        key: the random key, split at each new draw.
        I: the current (pA) of the next step, shape `(n,)`.
        steps_left: steps before the next draw (int).
    """

    key: PRNGKeyArray
    I: Float[Array, " n"]
    steps_left: Int[Array, ""]


class GaussianNoise(CurrentSource):
    """Gaussian white-noise current, piecewise constant over intervals of `interval` ms.

    At the start of each interval every output draws an independent current
    `I ~ N(mean, std²)` and holds it for the interval (NEST: `noise_generator`, whose `dt` is
    `interval` here). The intervals start at the run's first step. `std` is the standard
    deviation of the current itself, so its effect on a membrane depends on `interval`: the
    current approximates white noise of intensity `std² · interval` (pA² ms) when `interval` is
    much shorter than the membrane time constant, and the membrane potential's variance then
    scales with `std² · interval`.

    Attributes:
        mean: mean current (pA), a scalar or one per output; differentiable.
        std: standard deviation (pA, >= 0), a scalar or one per output; differentiable.
        interval: time between draws (ms, a whole multiple of the run's `dt`); default: a new
            draw every step.

    Examples:
        >>> import jax, brainsim as bs
        >>> noise = bs.stimulation.GaussianNoise(mean=100.0, std=50.0, interval=1.0)
        >>> state = noise.init(1000, key=jax.random.key(0))
        >>> state, current = noise.step(state, t=0.0, dt=0.1)   # (1000,) currents, pA
    """

    mean: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    std: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    interval: float | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        check_finite("mean", self.mean)
        check_positive("std", self.std, allow_zero=True)
        if self.interval is not None and not self.interval > 0:
            raise ValueError(f"`interval` must be a positive number of ms, got {self.interval!r}.")

    def _draw(self, key, n) -> Float[Array, " n"]:
        xi = jax.random.normal(key, (n,), jnp.result_type(float))
        return _full("mean", self.mean, n) + _full("std", self.std, n) * xi

    def init(self, n: int, key: PRNGKeyArray | None = None) -> GaussianNoiseState:
        """State of `n` independent outputs with the first interval's draw; `key` is required."""
        _check_n(n)
        _need_key("GaussianNoise", key)
        key, draw = jax.random.split(key)
        return GaussianNoiseState(key=key, I=self._draw(draw, n), steps_left=jnp.int32(-1))

    def _steps_per_draw(self, dt) -> int:
        if self.interval is None:
            return 1
        steps = round(self.interval / float(dt))
        if steps < 1 or abs(steps * float(dt) - self.interval) > 1e-6 * self.interval:
            raise ValueError(
                f"`interval` = {self.interval} ms is not a whole multiple of dt = {dt} ms."
            )
        return steps

    def step(self, state: GaussianNoiseState, inputs=None, *, t, dt):
        """Return this step's current and the state of the next step (a new draw when the
        interval ends)."""
        every = self._steps_per_draw(dt)
        left = jnp.where(state.steps_left < 0, every, state.steps_left) - 1
        key, draw = jax.random.split(state.key)
        redraw = left == 0
        current = jnp.where(redraw, self._draw(draw, state.I.shape[0]), state.I)
        new = GaussianNoiseState(
            key=key,
            I=current,
            steps_left=jnp.where(redraw, every, left),
        )
        return new, state.I


class OUState(NamedTuple):
    """State of an Ornstein–Uhlenbeck current.

    Attributes:
        key: the random key, split once per step.
        I: the current (pA) of the next step, shape `(n,)`.
    """

    key: PRNGKeyArray
    I: Float[Array, " n"]


class OUNoise(CurrentSource):
    """Ornstein–Uhlenbeck (coloured) noise current, updated exactly.

    `τ dI/dt = -(I - mean) + std · sqrt(2τ) · ξ(t)`: a Gaussian process with mean `mean`,
    stationary variance `std²` and autocorrelation `std² · exp(-|s| / τ)`. Each step applies the
    exact transition over `dt` (Gillespie 1996):

        I ← mean + (I - mean) · exp(-dt/τ) + std · sqrt(1 - exp(-2 dt/τ)) · ξ,   ξ ~ N(0, 1),

    so the statistics do not depend on `dt`. `init` draws `I` from the stationary distribution,
    so the process is stationary from the first step. The current is held over each step.
    Outputs are independent. Gradients with respect to `mean`, `std` and `tau` are exact for a
    fixed key (the noise is reparametrised). NEST has no OU current generator.

    Attributes:
        mean: mean current (pA), a scalar or one per output; differentiable.
        std: stationary standard deviation (pA, >= 0), a scalar or one per output;
            differentiable.
        tau: correlation time (ms, > 0), a scalar or one per output; differentiable.

    Examples:
        >>> import jax, brainsim as bs
        >>> noise = bs.stimulation.OUNoise(mean=0.0, std=100.0, tau=5.0)
        >>> result = bs.run(noise, noise.init(100, key=jax.random.key(0)), duration=50.0,
        ...                 dt=0.1, record=["I"])
        >>> result.traces["I"].shape
        (500, 100)

    Reference: Gillespie, D. T. (1996). Exact numerical simulation of the Ornstein-Uhlenbeck
    process and its integral. Phys. Rev. E 54, 2084.
    """

    mean: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    std: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    tau: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)

    def __check_init__(self):
        check_finite("mean", self.mean)
        check_positive("std", self.std, allow_zero=True)
        check_positive("tau", self.tau)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> OUState:
        """State of `n` independent outputs drawn from the stationary distribution; `key` is
        required."""
        _check_n(n)
        _need_key("OUNoise", key)
        _full("tau", self.tau, n)
        key, draw = jax.random.split(key)
        xi = jax.random.normal(draw, (n,), jnp.result_type(float))
        return OUState(key=key, I=_full("mean", self.mean, n) + _full("std", self.std, n) * xi)

    def step(self, state: OUState, inputs=None, *, t, dt):
        """Return this step's current and the state after the exact transition over `dt`."""
        key, draw = jax.random.split(state.key)
        xi = jax.random.normal(draw, state.I.shape, state.I.dtype)
        decay = jnp.exp(-dt / self.tau)
        spread = self.std * jnp.sqrt(-jnp.expm1(-2 * dt / self.tau))
        current = self.mean + (state.I - self.mean) * decay + spread * xi
        return OUState(key=key, I=current.astype(state.I.dtype)), state.I
