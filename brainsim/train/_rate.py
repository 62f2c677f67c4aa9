"""Rate-based training: spiking forward pass, gradient through each layer's rate map (DSR)."""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim.train._layers import Sequential
from brainsim.train._parameters import unwrap
from brainsim.train._readout import LeakyReadout


def _rate_map(neuron, current, *, dt: float, steps: int):
    """Differentiable rate (spikes per step) of `neuron` under the constant current (pA)."""
    if isinstance(neuron, LeakyReadout):
        charge = 1.0 - jnp.exp(-jnp.arange(1, steps + 1) * dt / neuron.tau_m[..., None])
        return neuron.R * current * jnp.mean(charge, axis=-1)
    needed = ("tau_m", "R", "v_th", "v_reset")
    if not all(hasattr(neuron, name) for name in needed):
        raise TypeError(
            "rate-based training needs integrate-and-fire layers (fields tau_m, R, v_th, "
            f"v_reset, e.g. LIF) or a LeakyReadout, got {type(neuron).__name__}."
        )
    step_gain = neuron.R * (1.0 - jnp.exp(-dt / neuron.tau_m)) / (neuron.v_th - neuron.v_reset)
    max_rate = dt / (dt + getattr(neuron, "t_ref", 0.0))
    return jnp.clip(current * step_gain, 0.0, max_rate)


def rate_value_and_grad(
    model: Sequential,
    loss_fn: Callable[[tuple], Float[Array, ""]],
    input_series: Float[Array, "T *batch n_in"],
    *,
    dt: float,
    state: tuple | None = None,
    key: PRNGKeyArray | None = None,
):
    """Loss and rate-based gradient of a `Sequential` (differentiation on spike representation).

    The forward pass is the spiking network, run exactly for `T` steps; each layer's output is
    summarised by its rate `r_l` (spikes per step, the mean over the steps; for a
    `LeakyReadout`, its mean potential). The gradient treats each layer as a map of rates,

        `a_l = r_{l-1} W_l`,   `r_l ≈ φ_l(a_l)`,   `r_0` = the mean input,

    with `φ_l` the rate of an integrate-and-fire neuron charged from reset by the constant
    current `a_l` (pA): `clip(a_l · R (1 - e^{-dt/τ_m}) / (v_th - v_reset), 0, dt/(dt + t_ref))`
    spikes per step (leak ignored), or for a `LeakyReadout` its mean response
    `R a_l · mean_n (1 - e^{-n dt/τ_m})`. In the loss each `r_l` takes its measured value and
    the derivative of `φ_l` (straight-through), so the weight gradient is `r_{l-1}ᵀ δ_l`: the
    rates are the presynaptic quantity (and the Hebbian input of HLOP). Memory does not grow
    with `T` beyond the forward pass; no surrogate spike derivative is used.

    Args:
        model: a `Sequential` of `SpikingDense` layers with LIF-like neurons (fields `tau_m`,
            `R`, `v_th`, `v_reset`) and, usually, a `LeakyReadout` output layer.
        loss_fn: `loss_fn(rates)`, the loss from the tuple of every layer's rate (`rates[-1]`
            is the readout); targets are closed over. With a batch, reduce it inside.
        input_series: network input, one row per step, `(T, n_in)` or `(T, batch, n_in)`.
        dt: time step (ms, > 0).
        state: initial network state (default `model.init(key)`, shared by the batch).
        key: key for the initial state when `state` is not given.

    Returns:
        (tuple): `(loss, grads, rates)`: `grads` has the structure of
            `equinox.filter(model, equinox.is_inexact_array)`; `rates` is the tuple of
            measured layer rates, `(*batch, n_l)` each.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> import brainsim as bs
        >>> k1, k2 = jax.random.split(jax.random.key(0))
        >>> lif = bs.neurons.LIF(tau_m=20.0, v_rest=0.0, v_reset=0.0, v_th=1.0, R=20.0)
        >>> net = bs.train.Sequential([
        ...     bs.train.SpikingDense(4, 6, lif, key=k1, weight_scale=1.0),
        ...     bs.train.SpikingDense(6, 2, bs.train.LeakyReadout(), key=k2),
        ... ])
        >>> loss, grads, rates = bs.train.rate_value_and_grad(
        ...     net, lambda r: jnp.sum(r[-1] ** 2), jnp.ones((20, 4)), dt=1.0)
        >>> grads.layers[0].weight.shape, rates[0].shape
        ((4, 6), (6,))

    Reference: Meng et al. (2022), *Training high-performance low-latency spiking neural
    networks by differentiation on spike representation*, CVPR.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a brainsim.train.Sequential, got {type(model).__name__}.")
    if not (isinstance(dt, int | float) and dt > 0 and math.isfinite(dt)):
        raise ValueError(f"`dt` must be a positive time step (ms), got {dt!r}.")
    if jnp.ndim(input_series) not in (2, 3):
        raise ValueError(
            "`input_series` must have shape (T, n_in) or (T, batch, n_in), "
            f"got {jnp.shape(input_series)}."
        )
    steps = input_series.shape[0]
    batch = tuple(jnp.shape(input_series)[1:-1])
    state = model.init(key) if state is None else state
    state = jax.tree.map(lambda a: jnp.broadcast_to(a, batch + jnp.shape(a)[-1:]), state)

    def forward(carry, inputs):
        x, n = inputs
        return model.step(carry, x, t=n * dt, dt=dt)

    series = jax.lax.stop_gradient(input_series)
    _, outputs = jax.lax.scan(forward, state, (series, jnp.arange(steps)))
    rates = tuple(jax.lax.stop_gradient(jnp.mean(o, axis=0)) for o in outputs)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def rate_loss(params):
        net = eqx.combine(params, static)
        r = jnp.mean(input_series, axis=0)
        modelled = []
        for layer, measured in zip(net.layers, rates, strict=True):
            phi = _rate_map(unwrap(layer.neuron), r @ unwrap(layer.weight), dt=dt, steps=steps)
            r = measured + phi - jax.lax.stop_gradient(phi)
            modelled.append(r)
        return loss_fn(tuple(modelled))

    loss, grads = jax.value_and_grad(rate_loss)(params)
    return loss, grads, rates
