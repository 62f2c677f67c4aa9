"""Spiking layers for user models: a dense projection into a population, and a stack of them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._run import run
from brainsim.train._parameters import unwrap


class SpikingDense(eqx.Module):
    """All-to-all weights into a population of neurons: `I(t) = x(t) W`, then one neuron step.

    `x(t)` are the presynaptic spikes (or any real input) of shape `(n_in,)`, `W` the weights
    (pA per input spike, shape `(n_in, n_out)`), and `I(t)` the current (pA) delivered to the
    `n_out` neurons during the step from `t` to `t + dt`. The neuron can be any model with the
    `init(n, key)` / `step(state, inputs, *, t, dt)` contract (`LIF`, `ALIF`, ...; a
    `LeakyReadout` makes an output layer). Parameters may be wrapped in `Positive`.

    A sample is one vector; batches go through `jax.vmap`, which turns the product into a
    matrix product. The layer is an `equinox.Module`: it sits inside equinox models, trains with
    optax, and its arrays can be held by a Flax `nnx` module (see the docs).

    Args:
        n_in: number of inputs.
        n_out: number of neurons.
        neuron: the neuron model (parameters scalar or one per neuron).
        key: key for the initial weights, `W ~ N(0, weight_scale² / n_in)`.
        weight_scale: input current (pA) when all inputs spike with unit-variance weights.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> import brainsim as bs
        >>> layer = bs.train.SpikingDense(3, 2, bs.neurons.LIF(), key=jax.random.key(0))
        >>> state, spikes = layer.step(layer.init(), jnp.array([1.0, 0.0, 1.0]), t=0.0, dt=1.0)
        >>> spikes.shape
        (2,)

    Reference: Neftci, Mostafa & Zenke (2019), *Surrogate gradient learning in spiking neural
    networks*, IEEE Signal Processing Magazine.
    """

    weight: Float[Array, "n_in n_out"]
    neuron: eqx.Module
    n_in: int = eqx.field(static=True)
    n_out: int = eqx.field(static=True)

    def __init__(
        self,
        n_in: int,
        n_out: int,
        neuron: eqx.Module,
        *,
        key: PRNGKeyArray,
        weight_scale: float = 1000.0,
    ):
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
        if not (hasattr(neuron, "init") and hasattr(neuron, "step")):
            raise TypeError(
                f"`neuron` must have `init(n, key)` and `step(state, inputs, *, t, dt)`, "
                f"got {type(neuron).__name__}."
            )
        self.n_in = n_in
        self.n_out = n_out
        self.neuron = neuron
        std = weight_scale / math.sqrt(n_in)
        self.weight = std * jax.random.normal(key, (n_in, n_out), jnp.result_type(float))

    def init(self, key: PRNGKeyArray | None = None):
        """The state of the layer's `n_out` neurons (`neuron.init(n_out, key)`)."""
        return unwrap(self.neuron).init(self.n_out, key)

    def step(self, state, inputs: Float[Array, " n_in"], *, t, dt):
        """One step: the current `inputs @ W` (pA) drives the neurons; returns their outputs."""
        return self.drive(state, self.current(inputs), t=t, dt=dt)

    def current(self, inputs: Float[Array, "*T n_in"]) -> Float[Array, "*T n_out"]:
        """The current `inputs @ W` (pA) for one step's inputs, or for a series `(T, n_in)`."""
        return inputs @ unwrap(self.weight)

    def drive(self, state, current: Float[Array, " n_out"], *, t, dt):
        """One step of the neurons driven by `current` (pA, as made by `current`)."""
        return unwrap(self.neuron).step(state, current, t=t, dt=dt)


class Sequential(eqx.Module):
    """Layers applied in order within each time step: layer `l` receives layer `l-1`'s outputs
    of the same step (no synaptic delay), the first layer the network input.

    `init(key)` gives a tuple of layer states; `step(state, x, *, t, dt)` returns the new states
    and a tuple of each layer's outputs, so the stack runs with `brainsim.run` like any model;
    `run` does that for an input series and returns every layer's outputs over time.

    Args:
        layers: layers with `init(key)` and `step(state, inputs, *, t, dt)`, e.g.
            `SpikingDense`; consecutive `n_out` / `n_in` must agree.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> import brainsim as bs
        >>> k1, k2 = jax.random.split(jax.random.key(0))
        >>> net = bs.train.Sequential([
        ...     bs.train.SpikingDense(5, 8, bs.neurons.LIF(), key=k1),
        ...     bs.train.SpikingDense(8, 2, bs.train.LeakyReadout(), key=k2),
        ... ])
        >>> hidden, out = net.run(jnp.ones((50, 5)), dt=1.0)
        >>> hidden.shape, out.shape
        ((50, 8), (50, 2))
    """

    layers: tuple

    def __init__(self, layers: Sequence):
        layers = tuple(layers)
        if not layers:
            raise ValueError("`layers` must hold at least one layer.")
        for i, (a, b) in enumerate(zip(layers[:-1], layers[1:], strict=False)):
            n_out, n_in = getattr(a, "n_out", None), getattr(b, "n_in", None)
            if n_out is not None and n_in is not None and n_out != n_in:
                raise ValueError(
                    f"layer {i} has {n_out} outputs but layer {i + 1} takes {n_in} inputs."
                )
        self.layers = layers

    def init(self, key: PRNGKeyArray | None = None) -> tuple:
        """A tuple with each layer's initial state (keys split from `key` if given)."""
        keys = [None] * len(self.layers) if key is None else jax.random.split(key, len(self.layers))
        return tuple(layer.init(k) for layer, k in zip(self.layers, keys, strict=True))

    def step(self, state: tuple, inputs, *, t, dt) -> tuple[tuple, tuple]:
        """Advance every layer by `dt` ms; returns `(states, outputs)`, one entry per layer."""
        return _step_layers(self.layers, state, inputs, t=t, dt=dt)

    def run(
        self,
        input_series: Float[Array, "T n_in"],
        *,
        dt: float,
        state: tuple | None = None,
        key: PRNGKeyArray | None = None,
        t0: float = 0.0,
        checkpoint_every: int | None = None,
        layers: Sequence[int] | None = None,
    ) -> tuple[Float[Array, "T _"], ...]:
        """Run over `input_series` (one row per step of `dt` ms) with `brainsim.run`'s on-device
        scan; returns each layer's outputs over time (spikes, or potentials for a readout), all
        differentiable. `checkpoint_every` enables checkpointed BPTT (see `brainsim.run`).
        `layers` (indices, e.g. `[-1]`) keeps only those layers' outputs: recordings are
        O(T) memory that checkpointing cannot remove. Batches:
        `jax.vmap(lambda x: net.run(x, dt=dt))(batch)`.

        Without checkpointing, a first `SpikingDense` layer's input current is computed for all
        steps at once (`input_series @ W`, one matrix product, instead of one per step; its
        input does not depend on the network's state). The values are those of `step`; the
        gradient of `W` becomes one matrix product too, and the input series is not copied
        into the saved activations. With checkpointing every step computes its own current,
        so that memory stays that of the checkpointed blocks."""
        state = self.init(key) if state is None else state
        n = len(self.layers)
        chosen = range(n) if layers is None else [int(i) % n for i in layers]
        record = {f"layer{i}": _select(i) for i in chosen}
        model, series = self, input_series
        if checkpoint_every is None and isinstance(self.layers[0], SpikingDense):
            model, series = _CurrentDriven(self.layers), self.layers[0].current(input_series)
        result = run(
            model,
            state,
            dt=dt,
            steps=input_series.shape[0],
            input_series=series,
            t0=t0,
            record=record,
            stream=False,
            checkpoint_every=checkpoint_every,
        )
        return tuple(result.traces[f"layer{i}"] for i in chosen)


class _CurrentDriven(eqx.Module):
    """A `Sequential`'s step whose first layer (a `SpikingDense`) receives its input current
    instead of its inputs (`Sequential.run` computes the current for all steps at once)."""

    layers: tuple

    def step(self, state: tuple, current, *, t, dt) -> tuple[tuple, tuple]:
        return _step_layers(self.layers, state, current, t=t, dt=dt, first_takes_current=True)


def _step_layers(layers, state, x, *, t, dt, first_takes_current=False):
    """Step each layer on the previous one's outputs of the same step; the first takes `x`
    (its input current given `first_takes_current`)."""
    states, outputs = [], []
    for i, (layer, s) in enumerate(zip(layers, state, strict=True)):
        advance = layer.drive if i == 0 and first_takes_current else layer.step
        s, x = advance(s, x, t=t, dt=dt)
        states.append(s)
        outputs.append(x)
    return tuple(states), tuple(outputs)


def _select(i: int):
    return lambda state, outputs: outputs[i]
