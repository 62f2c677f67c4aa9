"""Correlated spike trains: the multiple-interaction process and Gaussian pulse packets."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_at_most, check_finite, check_positive
from brainsim.neurons._base import Neuron
from brainsim.neurons._sources import PoissonState
from brainsim.stimulation._poisson import bernoulli_spikes


class MIP(Neuron):
    """Correlated Poisson trains of the multiple-interaction process (Kuhn et al. 2003).

    One mother Poisson train of rate `rate` (Hz) is drawn for the population; each neuron copies
    each mother spike independently with probability `copy_probability`. Each neuron's train is
    Poisson with rate `rate · copy_probability`, and the spike counts of two neurons (in windows
    of any length) have correlation coefficient `copy_probability`; coincident spikes fall in
    the same step. NEST: `mip_generator` (`rate`, `p_copy`).

    Attributes:
        rate: rate of the mother train (Hz, >= 0).
        copy_probability: probability that a neuron copies a mother spike (in [0, 1]).

    Examples:
        >>> import jax, brainsim as bs
        >>> source = bs.stimulation.MIP(rate=100.0, copy_probability=0.1)   # 10 Hz, c = 0.1
        >>> state, spikes = source.step(source.init(50, key=jax.random.key(0)), t=0.0, dt=0.1)

    Reference: Kuhn, A., Aertsen, A., & Rotter, S. (2003). Higher-order statistics of input
    ensembles and the response of simple model neurons. Neural Computation 15, 67-101.
    """

    rate: Float[Array, ""] = eqx.field(converter=as_param)
    copy_probability: Float[Array, ""] = eqx.field(converter=as_param)

    def __check_init__(self):
        check_positive("rate", self.rate, allow_zero=True)
        check_positive("copy_probability", self.copy_probability, allow_zero=True)
        check_at_most("copy_probability", self.copy_probability, 1.0)
        for name in ("rate", "copy_probability"):
            if jnp.ndim(getattr(self, name)) != 0:
                raise ValueError(
                    f"`{name}` must be a scalar (one mother train per population), got shape "
                    f"{jnp.shape(getattr(self, name))}."
                )

    def init(self, n: int, key: PRNGKeyArray | None = None) -> PoissonState:
        """State of `n` correlated trains; `key` (a `jax.random` key) is required."""
        self._check_shapes(n)
        if key is None:
            raise ValueError("MIP.init needs `key`, e.g. key=jax.random.key(0).")
        return PoissonState(key=key, spikes=jnp.zeros((n,), jnp.result_type(float)))

    def step(self, state: PoissonState, inputs=None, *, t, dt):
        """Draw the mother spike of this step and the neurons that copy it."""
        key, mother_key, copy_key = jax.random.split(state.key, 3)
        dtype = state.spikes.dtype
        mother = bernoulli_spikes(mother_key, self.rate, (), dt, dtype)
        shape = state.spikes.shape
        copies = jax.random.uniform(copy_key, shape, dtype) < self.copy_probability
        spikes = mother * copies.astype(dtype)
        return PoissonState(key=key, spikes=spikes), spikes


class PulsePacketState(NamedTuple):
    """State of pulse-packet trains.

    Attributes:
        times: each neuron's spike times (ms), shape `(n, pulses · activity)`.
        spikes: the spikes of the last step (0.0 / 1.0), shape `(n,)`.
    """

    times: Float[Array, "n m"]
    spikes: Float[Array, " n"]


class PulsePacket(Neuron):
    """Gaussian pulse packets: bursts of spikes jittered around given times.

    For each pulse time `c` every neuron fires `activity` spikes at times `c + sdev · ξ`,
    `ξ ~ N(0, 1)` independent (Diesmann et al. 1999). The times are drawn by `init` (from its
    key) and emitted at the nearest step, like `brainsim.neurons.SpikeTimes`: the step with
    `t - dt/2 <= τ < t + dt/2`; spikes of one neuron that fall into one step merge. A packet of
    `a` spikes spread over a population is `activity=1` with `a` neurons. NEST:
    `pulsepacket_generator` (same parameters; NEST sends one train to all its targets, here
    each neuron has its own draw).

    Attributes:
        times: centres of the pulses (ms), shape `(p,)`.
        activity: spikes per pulse and neuron (int, >= 0).
        sdev: standard deviation of the spike times around the centre (ms, >= 0).

    Examples:
        >>> import jax, brainsim as bs
        >>> source = bs.stimulation.PulsePacket(times=[20.0, 60.0], activity=1, sdev=2.0)
        >>> result = bs.run(source, source.init(100, key=jax.random.key(0)), duration=80.0,
        ...                 dt=0.1)

    Reference: Diesmann, M., Gewaltig, M.-O., & Aertsen, A. (1999). Stable propagation of
    synchronous spiking in cortical neural networks. Nature 402, 529-533.
    """

    times: Float[Array, " p"] = eqx.field(converter=as_param)
    activity: int = eqx.field(static=True)
    sdev: Float[Array, ""] = eqx.field(converter=as_param)

    def __check_init__(self):
        if self.times.ndim != 1:
            raise ValueError(f"`times` must be 1-D, got shape {self.times.shape}.")
        check_finite("times", self.times)
        if not isinstance(self.activity, int) or self.activity < 0:
            raise ValueError(f"`activity` must be an int >= 0, got {self.activity!r}.")
        check_positive("sdev", self.sdev, allow_zero=True)
        if jnp.ndim(self.sdev) != 0:
            raise ValueError(f"`sdev` must be a scalar, got shape {jnp.shape(self.sdev)}.")

    def init(self, n: int, key: PRNGKeyArray | None = None) -> PulsePacketState:
        """Draw the spike times of `n` neurons; `key` (a `jax.random` key) is required."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` (number of neurons) must be a positive int, got {n!r}.")
        if key is None:
            raise ValueError("PulsePacket.init needs `key`, e.g. key=jax.random.key(0).")
        dtype = jnp.result_type(float)
        shape = (n, self.times.shape[0], self.activity)
        jitter = self.sdev * jax.random.normal(key, shape, dtype)
        times = (self.times[None, :, None] + jitter).reshape(n, -1)
        return PulsePacketState(times=times, spikes=jnp.zeros((n,), dtype))

    def step(self, state: PulsePacketState, inputs=None, *, t, dt):
        """Emit the spikes that fall into this step (compares all `n · pulses · activity`
        times)."""
        inside = (state.times >= t - dt / 2) & (state.times < t + dt / 2)
        spikes = jnp.any(inside, axis=1).astype(state.spikes.dtype)
        return PulsePacketState(times=state.times, spikes=spikes), spikes
