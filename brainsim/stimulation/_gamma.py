"""Gamma renewal spike trains."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from brainsim._validation import as_param, check_positive
from brainsim.neurons._base import Neuron


class GammaState(NamedTuple):
    """State of gamma spike trains.

    Attributes:
        key: the random key, split once per step.
        phase: the stage (0 ... shape - 1) each train has reached in its current interval.
        spikes: the spikes of the last step (0.0 / 1.0), shape `(n,)`.
    """

    key: PRNGKeyArray
    phase: Int[Array, " n"]
    spikes: Float[Array, " n"]


class GammaProcess(Neuron):
    """Independent gamma renewal spike trains of integer order.

    The inter-spike intervals are independent and gamma distributed with shape `k = shape` and
    mean `1 / rate`: density `p(s) = (kλ)^k s^(k-1) e^(-kλs) / (k-1)!`, coefficient of variation
    `1 / sqrt(k)` (`k = 1` is Poisson; larger `k` is more regular). An interval is the sum of
    `k` exponential stages of rate `kλ`; in each step a train completes its current stage with
    probability `kλ dt` (as NEST's `gamma_sup_generator` draws stage transitions, there with
    probability `1 - exp(-kλ dt)`) and emits a spike when it completes stage `k`. The mean
    interval is `1 / λ` exactly; the squared CV is `(1 - kλ dt) / k`, the gamma law's `1 / k`
    up to the time grid (keep `kλ dt` small). `init` draws each train's stage uniformly, the
    stationary distribution, so the trains are stationary from the first step.
    NEST: `gamma_sup_generator` with `n_proc = 1`.

    Attributes:
        rate: firing rate (Hz, >= 0), a scalar or one per neuron.
        shape: order `k` of the gamma distribution (int, >= 1).

    Examples:
        >>> import jax, brainsim as bs
        >>> source = bs.stimulation.GammaProcess(rate=20.0, shape=4)
        >>> result = bs.run(source, source.init(100, key=jax.random.key(0)), duration=500.0,
        ...                 dt=0.1)
    """

    rate: Float[Array, "*n"] = eqx.field(converter=as_param)
    shape: int = eqx.field(default=2, static=True)

    def __check_init__(self):
        check_positive("rate", self.rate, allow_zero=True)
        if not isinstance(self.shape, int) or self.shape < 1:
            raise ValueError(f"`shape` must be an int >= 1, got {self.shape!r}.")

    def init(self, n: int, key: PRNGKeyArray | None = None) -> GammaState:
        """State of `n` stationary trains; `key` (a `jax.random` key) is required."""
        self._check_shapes(n)
        if key is None:
            raise ValueError("GammaProcess.init needs `key`, e.g. key=jax.random.key(0).")
        key, draw = jax.random.split(key)
        phase = jax.random.randint(draw, (n,), 0, self.shape, jnp.int32)
        return GammaState(key=key, phase=phase, spikes=jnp.zeros((n,), jnp.result_type(float)))

    def step(self, state: GammaState, inputs=None, *, t, dt):
        """Complete a stage with probability `kλ dt`; spike on completing the last one."""
        key, draw = jax.random.split(state.key)
        dtype = state.spikes.dtype
        p = jnp.clip(jnp.broadcast_to(self.shape * self.rate * dt * 1e-3, state.phase.shape), 0, 1)
        advance = jax.random.uniform(draw, state.phase.shape, dtype) < p
        stages = state.phase + advance.astype(jnp.int32)
        spikes = (stages >= self.shape).astype(dtype)
        return GammaState(key=key, phase=stages % self.shape, spikes=spikes), spikes
