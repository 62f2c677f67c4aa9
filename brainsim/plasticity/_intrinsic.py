"""Intrinsic plasticity: a spike threshold that adapts until the neuron fires at a target rate."""

from __future__ import annotations

from typing import Any, NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_positive

_MS_PER_S = 1000.0


class AdaptiveThresholdState(NamedTuple):
    """State of a neuron with an adaptive threshold.

    Attributes:
        neuron: the state of the wrapped neuron model.
        theta: threshold offset of each neuron (mV), added to the model's threshold.
    """

    neuron: Any
    theta: Float[Array, " n"]

    @property
    def v(self):
        """The membrane potential of the wrapped neuron (mV), for conductance inputs."""
        return getattr(self.neuron, "v", None)


class AdaptiveThreshold(eqx.Module):
    """A neuron whose threshold moves until it fires at `target_rate` (intrinsic plasticity).

    Wraps a neuron model with a threshold field (`v_th` by default) and adds to it an offset
    `theta` per neuron that rises by `eta` at each spike and falls steadily:

        dtheta/dt = eta (Σ_k δ(t - t^k) - target_rate / 1000)       (t in ms)

    Integrated over `[0, T]`: `theta(T) - theta(0) = eta (N - target_rate T / 1000)` with `N`
    the number of spikes, so the threshold stops drifting on average exactly when the rate is
    `target_rate`, and the rate over any window differs from the target by `Δtheta / (eta T)`.
    A stable fixed point wherever the rate falls as the threshold rises (any integrate-and-fire
    neuron). `eta` sets both the speed (a rate error `Δr` moves the threshold by
    `eta Δr / 1000` mV per ms) and the jitter of the threshold around its fixed point (about
    `eta`). `init` and `step` follow the wrapped model, so the wrapper is a population model
    of a `brainsim.Network`. Gradients flow to `eta` and `target_rate`, and through the
    wrapped model's surrogate spikes.

    Attributes:
        neuron: the neuron model (e.g. `brainsim.neurons.LIF`).
        target_rate: target rate (Hz, > 0; scalar or one per neuron).
        eta: threshold jump per spike (mV, > 0).
        theta_max: bound on `|theta|` (mV, > 0; default: none), a guard for silent neurons.
        threshold: the name of the wrapped model's threshold field (default `"v_th"`).

    Examples:
        >>> import jax.numpy as jnp, brainsim as bs
        >>> from brainsim.plasticity import AdaptiveThreshold
        >>> neuron = AdaptiveThreshold(bs.neurons.LIF(), target_rate=5.0, eta=0.5)
        >>> state = neuron.init(3)
        >>> state, spikes = neuron.step(state, jnp.zeros(3), t=0.0, dt=0.1)
        >>> round(float(state.theta[0]), 6)              # -0.5 * 5 * 0.1 / 1000, no spike
        -0.00025

    Reference: Triesch (2005), Neural Comput. 17:1411 (intrinsic plasticity); Desai, Rutherford
    & Turrigiano (1999), Nat. Neurosci. 2:515; Zenke, Hennequin & Gerstner (2013), PLoS
    Comput. Biol. 9:e1003330 (homeostatic threshold of the same form).
    """

    neuron: Any
    target_rate: Float[Array, "*n"] = eqx.field(default=5.0, converter=as_param)
    eta: Float[Array, ""] = eqx.field(default=0.1, converter=as_param)
    theta_max: Float[Array, ""] = eqx.field(default=float("inf"), converter=as_param)
    threshold: str = eqx.field(default="v_th", static=True)

    def __check_init__(self):
        if not (hasattr(self.neuron, "init") and hasattr(self.neuron, "step")):
            raise TypeError(f"`neuron` must be a neuron model with `init` and `step`, got "
                            f"{type(self.neuron).__name__}.")  # fmt: skip
        if not hasattr(self.neuron, self.threshold):
            raise ValueError(f"`threshold`: {type(self.neuron).__name__} has no field "
                             f"{self.threshold!r}.")  # fmt: skip
        check_positive("target_rate", self.target_rate)
        check_positive("eta", self.eta)
        check_positive("theta_max", jnp.minimum(self.theta_max, 1.0))  # inf allowed

    def init(self, n: int, key: PRNGKeyArray | None = None) -> AdaptiveThresholdState:
        """The wrapped model's initial state and a zero threshold offset for `n` neurons."""
        state = self.neuron.init(n, key)
        theta = jnp.zeros((n,), jnp.result_type(float))
        return AdaptiveThresholdState(neuron=state, theta=theta)

    def step(self, state: AdaptiveThresholdState, inputs=None, *, t, dt):
        """Step the wrapped model with its threshold raised by `theta`, then move `theta`."""
        shifted = eqx.tree_at(lambda m: getattr(m, self.threshold), self.neuron,
                              getattr(self.neuron, self.threshold) + state.theta)
        neuron, spikes = shifted.step(state.neuron, inputs, t=t, dt=dt)
        theta = state.theta + self.eta * (spikes - self.target_rate * dt / _MS_PER_S)
        theta = jnp.clip(theta, -self.theta_max, self.theta_max)
        return AdaptiveThresholdState(neuron=neuron, theta=theta), spikes
