"""Online training (OTTT, SLTT): spatial-only gradients accumulated step by step."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim.train._layers import Sequential
from brainsim.train._parameters import unwrap


def _traced_current(x, trace, weight):
    """`x @ W` forward; backward gives `∂/∂W = trace ⊗ δ` and `∂/∂x = δ Wᵀ` (trace: constant)."""
    sg = jax.lax.stop_gradient
    return x @ sg(weight) + trace @ weight - sg(trace @ weight)


def online_value_and_grad(
    model: Sequential,
    loss_fn: Callable[[tuple, Array], Float[Array, ""]],
    input_series: Float[Array, "T n_in"],
    *,
    dt: float,
    tau_trace: float | None = None,
    state: tuple | None = None,
    key: PRNGKeyArray | None = None,
    t0: float = 0.0,
    lateral: tuple | None = None,
):
    """Loss and online (forward-in-time) gradient of a `Sequential` of `SpikingDense` layers.

    The loss is `L = Σ_n loss_fn(outputs(t_n), n)`, a sum of instantaneous losses. At each step
    the gradient of the instantaneous loss is taken with the temporal paths stopped: the state
    entering the step (`v(t) → v(t+dt)`, refractoriness, adaptation, the readout's potential)
    and the reset carry no gradient, while the spatial path through the layers of the same step
    keeps its surrogate gradient. Each layer keeps a presynaptic trace of its input

        `â(t) = λ â(t - dt) + x(t)`,   `λ = exp(-dt / tau_trace)`,

    and its weight gradient is accumulated online, `ΔW += â(t)ᵀ (∂L(t)/∂I(t))`, with `I = x W`
    the layer's input current. With `tau_trace=None` the trace is the input itself (`λ = 0`),
    the spatial-only gradient of SLTT. Other parameters (neuron `tau_m`, `v_th`, ...) receive
    their spatial-only gradient at every step. Nothing is stored per step: memory does not grow
    with `T`.

    A batch is a middle axis of `input_series`, `(T, batch, n_in)`: every layer then works on
    `(batch, n)` arrays (the neuron models are elementwise), `loss_fn` receives outputs with
    the batch axis (reduce it inside, e.g. with a mean), and the gradient is accumulated once
    for the whole batch (memory O(parameters + batch · neurons), not per sample as with
    `jax.vmap`).

    With `lateral`, HLOP's lateral subspace neurons learn online too, from each layer's
    presynaptic activity at every step: the input itself for the first layer, the presynaptic
    spikes together with their trace `â` for later layers. Linear lateral neurons accumulate
    the second moment of that activity over the steps (memory O(n_in²), not O(T)) and take
    their Hebbian update once, at the end (`LateralSubspace.update_from_moment`), as for a
    batch holding every step's activity; spiking ones need the activity itself, which is kept
    for that one update (memory O(T · batch · n_in) for those layers). Protect the
    weights by projecting the accumulated gradient (`project_updates`,
    `orthogonal_projection`): since `ΔW = Σ â(t)ᵀ δ(t)`, that equals projecting the trace at
    every step.

    Args:
        model: the network, a `Sequential` whose layers are `SpikingDense`.
        loss_fn: `loss_fn(outputs, n)`, the loss at step `n` from the tuple of every layer's
            outputs at that step (`outputs[-1]` is the readout); targets are closed over.
        input_series: network input, one row per step, `(T, n_in)` or `(T, batch, n_in)`.
        dt: time step (ms, > 0).
        tau_trace: presynaptic trace time constant (ms, > 0), usually the neurons' `tau_m`
            (OTTT); `None` for SLTT.
        state: initial network state (default `model.init(key)`, shared by the batch).
        key: key for the initial state when `state` is not given.
        t0: time of the first step (ms).
        lateral: optional, one entry per layer: `(rule, state)` with a
            `brainsim.plasticity.LateralSubspace` and its state, or `None`.

    Returns:
        (tuple): `(loss, grads, final_state)`, and the lateral states (a tuple, `None` where
            a layer has none) as a fourth element when `lateral` is given: `grads` has the
            structure of `equinox.filter(model, equinox.is_inexact_array)`, like
            `equinox.filter_grad`.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> import brainsim as bs
        >>> k1, k2 = jax.random.split(jax.random.key(0))
        >>> net = bs.train.Sequential([
        ...     bs.train.SpikingDense(4, 6, bs.neurons.LIF(), key=k1),
        ...     bs.train.SpikingDense(6, 2, bs.train.LeakyReadout(), key=k2),
        ... ])
        >>> def loss_fn(outputs, n):
        ...     return jnp.sum(outputs[-1] ** 2)
        >>> loss, grads, _ = bs.train.online_value_and_grad(
        ...     net, loss_fn, jnp.ones((20, 4)), dt=1.0, tau_trace=10.0)
        >>> grads.layers[0].weight.shape
        (4, 6)

    Reference: Xiao et al. (2022), *Online training through time for spiking neural networks*,
    NeurIPS; Meng et al. (2023), *Towards memory- and time-efficient backpropagation for
    training spiking neural networks* (SLTT), ICCV.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a brainsim.train.Sequential, got {type(model).__name__}.")
    if tau_trace is not None and not tau_trace > 0:
        raise ValueError(
            f"`tau_trace` must be a positive time constant (ms) or None, got {tau_trace!r}."
        )
    if jnp.ndim(input_series) not in (2, 3):
        raise ValueError(
            "`input_series` must have shape (T, n_in) or (T, batch, n_in), "
            f"got {jnp.shape(input_series)}."
        )
    if lateral is not None and len(lateral) != len(model.layers):
        raise ValueError(
            f"`lateral` needs one entry per layer ({len(model.layers)}), got {len(lateral)}."
        )
    decay = 0.0 if tau_trace is None else math.exp(-dt / tau_trace)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    batch = tuple(jnp.shape(input_series)[1:-1])
    state = model.init(key) if state is None else state
    state = jax.tree.map(lambda a: jnp.broadcast_to(a, batch + jnp.shape(a)[-1:]), state)
    dtype = jnp.result_type(float)
    traces = tuple(jnp.zeros(batch + (layer.n_in,), dtype) for layer in model.layers)

    def instantaneous_loss(params, state, traces, x, n):
        net = eqx.combine(params, static)
        t = t0 + n * dt
        states, new_traces, outputs, inputs = [], [], [], []
        for layer, s, trace in zip(net.layers, state, traces, strict=True):
            inputs.append(jax.lax.stop_gradient(x))
            trace = decay * trace + jax.lax.stop_gradient(x)
            current = _traced_current(x, trace, unwrap(layer.weight))
            s, x = unwrap(layer.neuron).step(s, current, t=t, dt=dt)
            states.append(s)
            new_traces.append(trace)
            outputs.append(x)
        aux = (tuple(states), tuple(new_traces), tuple(inputs))
        return loss_fn(tuple(outputs), n), aux

    value_and_grad = jax.value_and_grad(instantaneous_loss, has_aux=True)
    rules = (None,) * len(model.layers) if lateral is None else tuple(
        None if entry is None else entry[0] for entry in lateral
    )

    def hebbian(moments, inputs, traces):
        """Linear lateral neurons accumulate the second moment of each step's activity;
        the activity of spiking ones is kept (scan output) for one update at the end."""
        new_moments, kept = [], []
        for i, (rule, moment, x, trace) in enumerate(
            zip(rules, moments, inputs, traces, strict=True)
        ):
            samples = None
            if rule is not None:
                n_in = x.shape[-1]
                x = x.reshape(-1, n_in)
                samples = x if i == 0 else jnp.concatenate([x, trace.reshape(-1, n_in)])
                if rule.spike_steps is None:
                    moment = moment + samples.T @ samples / samples.shape[0]
                    samples = None
            new_moments.append(moment)
            kept.append(samples)
        return tuple(new_moments), tuple(kept)

    def one_step(carry, inputs):
        state, traces, total, grads, moments = carry
        x, n = inputs
        (loss, (state, traces, layer_inputs)), g = value_and_grad(params, state, traces, x, n)
        kept = None
        if lateral is not None:
            moments, kept = hebbian(moments, layer_inputs, traces)
        grads = jax.tree.map(jnp.add, grads, g)
        return (state, traces, total + loss, grads, moments), kept

    zeros = jax.tree.map(jnp.zeros_like, params)
    steps = input_series.shape[0]
    lateral_states = moments = None
    if lateral is not None:
        lateral_states = tuple(None if entry is None else entry[1] for entry in lateral)
        moments = tuple(
            None if rule is None else jnp.zeros((layer.n_in, layer.n_in), dtype)
            for rule, layer in zip(rules, model.layers, strict=True)
        )
    carry = (state, traces, jnp.zeros((), dtype), zeros, moments)
    (state, _, total, grads, moments), kept = jax.lax.scan(
        one_step, carry, (input_series, jnp.arange(steps))
    )
    if lateral is None:
        return total, grads, state
    learned = []
    for rule, ls, moment, activity in zip(rules, lateral_states, moments, kept, strict=True):
        if rule is not None and rule.spike_steps is None:
            ls = rule.update_from_moment(ls, moment / steps)
        elif rule is not None:
            ls = rule.update(ls, activity.reshape(-1, activity.shape[-1]))
        learned.append(ls)
    return total, grads, state, tuple(learned)
