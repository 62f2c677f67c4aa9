"""Linear synaptic kinetics with exact propagators, kept on the postsynaptic side.

A kinetics object turns the weight arriving at each postsynaptic neuron in a step (the summed
weights of the presynaptic spikes delivered to it) into a synaptic variable `g` (nS for
conductance synapses, pA for current synapses). Its state has one value per postsynaptic neuron,
not per synapse, because the kinetics are linear.

Order within a step (as in Brian2): the neuron integrates with `g` as it was at the start of the
step, then `g` decays over the step, then the spikes delivered in this step add to it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim._validation import as_param, check_less, check_positive


class ExponentialState(NamedTuple):
    """State of exponential kinetics: `g`, the synaptic variable per postsynaptic neuron."""

    g: Float[Array, " n"]


class Exponential(eqx.Module):
    """Exponentially decaying synapse: `tau dg/dt = -g`, `g ← g + w` at each arriving spike.

    Attributes:
        tau: decay time constant (ms, > 0).

    Examples:
        >>> from brainsim.synapses import Exponential
        >>> syn = Exponential(tau=5.0)
        >>> state = syn.step(syn.init(3), 0.6, dt=0.1)   # 0.6 nS arrive at each neuron
        >>> [round(g, 3) for g in syn.value(state).tolist()]
        [0.6, 0.6, 0.6]
    """

    tau: Float[Array, "*n"] = eqx.field(default=5.0, converter=as_param)

    def __check_init__(self):
        check_positive("tau", self.tau)

    def init(self, n: int) -> ExponentialState:
        """Zero synaptic variable for `n` postsynaptic neurons."""
        return ExponentialState(g=jnp.zeros((n,), jnp.result_type(float)))

    def step(self, state: ExponentialState, arriving, *, dt) -> ExponentialState:
        """Decay over `dt` ms, then add the `arriving` weight per neuron."""
        return ExponentialState(g=state.g * jnp.exp(-dt / self.tau) + arriving)

    def step_delivering(self, state: ExponentialState, deliver, *, dt) -> ExponentialState:
        """`step` with the arrivals added by `deliver(base, scale) = scale * base + arriving`.

        A projection passes the event-driven product with `add_to=base, add_scale=scale`, so
        that the native kernel decays `g` and adds the spikes in one pass, in place.
        """
        return ExponentialState(g=deliver(state.g, jnp.exp(-dt / self.tau)))

    def value(self, state: ExponentialState) -> Float[Array, " n"]:
        """The synaptic variable `g`."""
        return state.g


class AlphaState(NamedTuple):
    """State of alpha kinetics: `g` and its driving variable `h`, per postsynaptic neuron."""

    g: Float[Array, " n"]
    h: Float[Array, " n"]


class Alpha(eqx.Module):
    """Alpha-function synapse: one spike of weight `w` gives `g(t) = w (t/tau) e^{1 - t/tau}`.

    `tau dg/dt = h - g`, `tau dh/dt = -h`, `h ← h + e·w` at a spike; `g` peaks at `w` after `tau`.

    Attributes:
        tau: time to peak and decay constant (ms, > 0).

    Examples:
        >>> from brainsim.synapses import Alpha
        >>> syn = Alpha(tau=2.0)
        >>> state = syn.step(syn.init(1), 1.0, dt=0.1)
    """

    tau: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)

    def __check_init__(self):
        check_positive("tau", self.tau)

    def init(self, n: int) -> AlphaState:
        """Zero state for `n` postsynaptic neurons."""
        zeros = jnp.zeros((n,), jnp.result_type(float))
        return AlphaState(g=zeros, h=zeros)

    def step(self, state: AlphaState, arriving, *, dt) -> AlphaState:
        """Exact propagation over `dt` ms, then the `arriving` weights."""
        decay = jnp.exp(-dt / self.tau)
        g = (state.g + state.h * dt / self.tau) * decay
        return AlphaState(g=g, h=state.h * decay + math.e * arriving)

    def value(self, state: AlphaState) -> Float[Array, " n"]:
        """The synaptic variable `g`."""
        return state.g


class DualExponentialState(NamedTuple):
    """State of dual-exponential kinetics: decaying (`a`) and rising (`b`) components."""

    a: Float[Array, " n"]
    b: Float[Array, " n"]


class DualExponential(eqx.Module):
    """Dual-exponential synapse: one spike of weight `w` gives
    `g(t) = w N (e^{-t/tau_decay} - e^{-t/tau_rise})`, normalised so that its peak is `w`.

    Attributes:
        tau_rise: rise time constant (ms, > 0, below `tau_decay`).
        tau_decay: decay time constant (ms).

    Examples:
        >>> from brainsim.synapses import DualExponential
        >>> syn = DualExponential(tau_rise=0.5, tau_decay=5.0)
        >>> state = syn.step(syn.init(2), 1.0, dt=0.1)
    """

    tau_rise: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    tau_decay: Float[Array, "*n"] = eqx.field(default=5.0, converter=as_param)

    def __check_init__(self):
        check_positive("tau_rise", self.tau_rise)
        check_positive("tau_decay", self.tau_decay)
        check_less("tau_rise", self.tau_rise, "tau_decay", self.tau_decay)

    @property
    def peak_time(self) -> Float[Array, "*n"]:
        """Time of the peak after a spike (ms)."""
        r, d = self.tau_rise, self.tau_decay
        return r * d / (d - r) * jnp.log(d / r)

    def init(self, n: int) -> DualExponentialState:
        """Zero state for `n` postsynaptic neurons."""
        zeros = jnp.zeros((n,), jnp.result_type(float))
        return DualExponentialState(a=zeros, b=zeros)

    def step(self, state: DualExponentialState, arriving, *, dt) -> DualExponentialState:
        """Exact decay of both components over `dt` ms, then the `arriving` weights."""
        return DualExponentialState(
            a=state.a * jnp.exp(-dt / self.tau_decay) + arriving,
            b=state.b * jnp.exp(-dt / self.tau_rise) + arriving,
        )

    def value(self, state: DualExponentialState) -> Float[Array, " n"]:
        """The synaptic variable `g = N (a - b)`."""
        t = self.peak_time
        norm = 1.0 / (jnp.exp(-t / self.tau_decay) - jnp.exp(-t / self.tau_rise))
        return norm * (state.a - state.b)
