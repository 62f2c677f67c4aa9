"""The NIR primitives as brainsim modules: one small equinox module per node type.

Every node has `init(n)` (its state, `None` when it has none), `step(state, x, *, t, dt) ->
(state, y)` with `x` the sum of its inputs in this step, `n_out(n_in)` (its output size) and
`to_nir(time_unit)` (the NIR node it came from, time constants divided by `time_unit` ms).
Signals are 1-D: one value per neuron or channel, held constant over the step; a signal of
NIR shape `(C, H, W)` is flattened in row-major order (convolutions and pooling, in `_conv.py`,
reshape it).

`method` is `"euler"` (forward Euler, the discretisation of snnTorch, Norse and Spyx) or
`"exp_euler"` (exact for an input held over the step).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from brainsim.neurons import LIF
from brainsim.neurons._base import default_surrogate
from brainsim.nir._conv import conv_from_nir, pool_from_nir
from brainsim.surrogate import Surrogate

METHODS = ("euler", "exp_euler")


def _numpy(value, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, np.float32), (n,)).copy()


def _leak(v, v_inf, tau, dt, method: str):
    """One step of `tau dv/dt = v_inf - v` with `v_inf` held: forward Euler or exact.

    The exact step is written `v_inf + (v - v_inf) e` as `brainsim.integrators.relax` does,
    but grouped as `v e + v_inf (1 - e)` so that a large `v_inf` with a small `1 - e` (a
    synapse whose gain `r` is `1 / (1 - e)`) keeps its relative precision.
    """
    if method == "euler":
        return v + dt / tau * (v_inf - v)
    decay = jnp.exp(-dt / tau)
    return v * decay - v_inf * jnp.expm1(-dt / tau)


def _fire(v, v_th, v_reset, spike_fn: Surrogate):
    """Spikes where `v > v_th` (surrogate on `(v - v_th) / |v_th - v_reset|`), and `v` reset."""
    span = jnp.abs(v_th - v_reset)
    spikes = spike_fn((v - v_th) / jnp.where(span > 0, span, 1.0))
    reset = jnp.where(spikes > 0, v_reset, v)
    return spikes, reset + (spikes - jax.lax.stop_gradient(spikes)) * (v_reset - v)


class Identity(eqx.Module):
    """`Input`, `Output` and `Flatten` (all signals are flat already, in row-major order of
    their NIR shape): `y = x`."""

    kind: str = eqx.field(static=True)
    n: int = eqx.field(static=True)

    def init(self, n: int):
        return None

    def step(self, state, x, *, t, dt):
        return state, x

    def n_out(self, n_in):
        return self.n

    def to_nir(self, time_unit: float, shape: tuple[int, ...] | None = None):
        """The NIR node; `shape` is the signal's NIR shape (the input's, for `Flatten`)."""
        import nir

        shape = np.array(shape if shape is not None else [self.n])
        if self.kind == "Input":
            return nir.Input(input_type=shape)
        if self.kind == "Flatten":
            return nir.Flatten(input_type={"input": shape}, start_dim=0)
        return nir.Output(output_type=shape)


class Affine(eqx.Module):
    """`Linear` and `Affine`: `y = W x + b`, `W` of shape `(n_out, n_in)` as NIR stores it."""

    weight: Float[Array, "n_out n_in"]
    bias: Float[Array, " n_out"] | None

    def init(self, n: int):
        return None

    def step(self, state, x, *, t, dt):
        y = x @ self.weight.T
        return state, y if self.bias is None else y + self.bias

    def n_out(self, n_in):
        return self.weight.shape[0]

    def to_nir(self, time_unit: float):
        import nir

        weight = np.asarray(self.weight, np.float32)
        if self.bias is None:
            return nir.Linear(weight=weight)
        return nir.Affine(weight=weight, bias=np.asarray(self.bias, np.float32))


class Scale(eqx.Module):
    """`Scale`: `y = s x`, element-wise."""

    scale: Float[Array, " n"]

    def init(self, n: int):
        return None

    def step(self, state, x, *, t, dt):
        return state, self.scale * x

    def n_out(self, n_in):
        return self.scale.shape[0]

    def to_nir(self, time_unit: float):
        import nir

        return nir.Scale(scale=np.asarray(self.scale, np.float32))


class Threshold(eqx.Module):
    """`Threshold`: `y = 1[x > threshold]` (surrogate gradient `spike_fn`)."""

    threshold: Float[Array, " n"]
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)

    def init(self, n: int):
        return None

    def step(self, state, x, *, t, dt):
        return state, self.spike_fn(x - self.threshold)

    def n_out(self, n_in):
        return self.threshold.shape[0]

    def to_nir(self, time_unit: float):
        import nir

        return nir.Threshold(threshold=np.asarray(self.threshold, np.float32))


class Delay(eqx.Module):
    """`Delay`: `y(t) = x(t - d)`, `d` a whole number (>= 1) of steps per element.

    Its output is read at the start of a step (`read`) and its input stored at the end
    (`write`), so a cycle through a `Delay` needs no other delay.
    """

    steps: tuple[int, ...] = eqx.field(static=True)
    dt: float = eqx.field(static=True)

    def init(self, n: int):
        return jnp.zeros((max(self.steps), n), jnp.result_type(float))

    def read(self, state):
        rows = jnp.asarray(self.steps) - 1
        return state[rows, jnp.arange(len(self.steps))]

    def write(self, state, x):
        return jnp.concatenate([x[None], state[:-1]])

    def n_out(self, n_in):
        return len(self.steps)

    def to_nir(self, time_unit: float):
        import nir

        return nir.Delay(delay=np.asarray(self.steps, np.float32) * self.dt / time_unit)


class LIFNode(eqx.Module):
    """`LIF`: `tau dv/dt = (v_leak - v) + r I`, spike when `v > v_threshold`, `v ← v_reset`.

    A `brainsim.neurons.LIF` with `t_ref = 0` (NIR has no refractory period)."""

    neuron: LIF
    n: int = eqx.field(static=True)

    def init(self, n: int):
        return self.neuron.init(n)

    def step(self, state, x, *, t, dt):
        return self.neuron.step(state, x, t=t, dt=dt)

    def n_out(self, n_in):
        return self.n

    def to_nir(self, time_unit: float):
        import nir

        lif, n = self.neuron, self.n
        return nir.LIF(
            tau=_numpy(lif.tau_m, n) / time_unit,
            r=_numpy(lif.R, n),
            v_leak=_numpy(lif.v_rest, n),
            v_threshold=_numpy(lif.v_th, n),
            v_reset=_numpy(lif.v_reset, n),
            metadata={"brainsim_method": lif.method},
        )


class VState(NamedTuple):
    """State of a single-variable node: `v`, shape `(n,)`."""

    v: Float[Array, " n"]


class CubaState(NamedTuple):
    """State of a current-based node: synaptic current `i` and potential `v`, shape `(n,)`."""

    i: Float[Array, " n"]
    v: Float[Array, " n"]


class LI(eqx.Module):
    """`LI`: `tau dv/dt = (v_leak - v) + r I`; the output is `v`."""

    tau: Float[Array, " n"]
    r: Float[Array, " n"]
    v_leak: Float[Array, " n"]
    method: str = eqx.field(static=True)

    def init(self, n: int):
        return VState(v=self.v_leak)

    def step(self, state, x, *, t, dt):
        v = _leak(state.v, self.v_leak + self.r * x, self.tau, dt, self.method)
        return VState(v), v

    def n_out(self, n_in):
        return self.tau.shape[0]

    def to_nir(self, time_unit: float):
        import nir

        return nir.LI(
            tau=np.asarray(self.tau, np.float32) / time_unit,
            r=np.asarray(self.r, np.float32),
            v_leak=np.asarray(self.v_leak, np.float32),
            metadata={"brainsim_method": self.method},
        )


class Integrator(eqx.Module):
    """`I` (`dv/dt = r I`, output `v`) and `IF` (the same with a threshold and reset).

    Exact for an input held over the step, with either method."""

    r: Float[Array, " n"]
    v_threshold: Float[Array, " n"] | None
    v_reset: Float[Array, " n"] | None
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)

    def init(self, n: int):
        start = self.v_reset if self.v_reset is not None else jnp.zeros_like(self.r)
        return VState(v=start)

    def step(self, state, x, *, t, dt):
        v = state.v + dt * self.r * x
        if self.v_threshold is None:
            return VState(v), v
        spikes, v = _fire(v, self.v_threshold, self.v_reset, self.spike_fn)
        return VState(v), spikes

    def n_out(self, n_in):
        return self.r.shape[0]

    def to_nir(self, time_unit: float):
        import nir

        r = np.asarray(self.r, np.float32) * time_unit
        if self.v_threshold is None:
            return nir.I(r=r)
        return nir.IF(
            r=r,
            v_threshold=np.asarray(self.v_threshold, np.float32),
            v_reset=np.asarray(self.v_reset, np.float32),
        )


class Cuba(eqx.Module):
    """`CubaLIF` and `CubaLI`: a current-based synapse in front of a leaky membrane.

    `tau_syn di/dt = -i + w_in I`, `tau_mem dv/dt = (v_leak - v) + r i`; each step first
    advances `i` with the input `I` held, then `v` with the new `i` held (snnTorch's
    `Synaptic` order). `CubaLIF` spikes when `v > v_threshold` and resets to `v_reset`;
    `CubaLI` outputs `v`."""

    tau_syn: Float[Array, " n"]
    tau_mem: Float[Array, " n"]
    r: Float[Array, " n"]
    v_leak: Float[Array, " n"]
    w_in: Float[Array, " n"]
    v_threshold: Float[Array, " n"] | None
    v_reset: Float[Array, " n"] | None
    method: str = eqx.field(static=True)
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)

    def init(self, n: int):
        return CubaState(i=jnp.zeros_like(self.v_leak), v=self.v_leak)

    def step(self, state, x, *, t, dt):
        i = _leak(state.i, self.w_in * x, self.tau_syn, dt, self.method)
        v = _leak(state.v, self.v_leak + self.r * i, self.tau_mem, dt, self.method)
        if self.v_threshold is None:
            return CubaState(i, v), v
        spikes, v = _fire(v, self.v_threshold, self.v_reset, self.spike_fn)
        return CubaState(i, v), spikes

    def n_out(self, n_in):
        return self.r.shape[0]

    def to_nir(self, time_unit: float):
        import nir

        common = dict(
            tau_syn=np.asarray(self.tau_syn, np.float32) / time_unit,
            tau_mem=np.asarray(self.tau_mem, np.float32) / time_unit,
            r=np.asarray(self.r, np.float32),
            v_leak=np.asarray(self.v_leak, np.float32),
            w_in=np.asarray(self.w_in, np.float32),
            metadata={"brainsim_method": self.method},
        )
        if self.v_threshold is None:
            return nir.CubaLI(**common)
        return nir.CubaLIF(
            v_threshold=np.asarray(self.v_threshold, np.float32),
            v_reset=np.asarray(self.v_reset, np.float32),
            **common,
        )


class SpyxLIF(eqx.Module):
    """A `LIF` node read as Spyx reads it: `s_t = 1[V_{t-1} > θ]`,
    `V_t = β V_{t-1} + x_t - θ s_t` with `β = 1 - dt/tau`; the output is `s_t` (the spike of
    the previous step's potential) and the reset subtracts `θ`. `r`, `v_leak` and `v_reset`
    are not read (Spyx writes `r = β`, and ignores it on import)."""

    beta: Float[Array, " n"]
    v_threshold: Float[Array, " n"]
    spike_fn: Surrogate = eqx.field(default_factory=default_surrogate)

    def init(self, n: int):
        return VState(v=jnp.zeros_like(self.beta))

    def step(self, state, x, *, t, dt):
        spikes = self.spike_fn(state.v - self.v_threshold)
        v = jnp.clip(self.beta, 0.0, 1.0) * state.v + x - spikes * self.v_threshold
        return VState(v), spikes

    def n_out(self, n_in):
        return self.beta.shape[0]

    def to_nir(self, time_unit: float):
        raise NotImplementedError(
            "a node imported with convention='spyx' is not written back to NIR (NIR's LIF has "
            "no subtractive reset); import the graph with convention='nir' to export it."
        )


def from_nir_node(
    node,
    name: str,
    *,
    method: str,
    time_unit: float,
    dt: float,
    convention: str = "nir",
    in_shape: tuple[int, ...] | None = None,
):
    """The brainsim module of one NIR node (not a graph); `in_shape` is the shape of the
    signal its source gives (`None`: unknown), which convolutions and pooling need."""
    kind = type(node).__name__
    if convention == "spyx" and kind not in ("_Pass", "Input", "Output", "Linear", "Affine", "LIF"):
        raise NotImplementedError(
            f"NIR node {name!r} is a {kind}; convention='spyx' reads Input, Output, Linear, "
            "Affine and LIF nodes."
        )
    dtype = jnp.result_type(float)
    f = lambda value: jnp.asarray(np.asarray(value).reshape(-1), dtype)  # noqa: E731
    if kind == "_Pass":
        return Identity(kind="Flatten", n=int(np.prod(node.input_type["input"])))
    if kind in ("Input", "Output"):
        shape = node.input_type["input"] if kind == "Input" else node.output_type["output"]
        return Identity(kind=kind, n=int(np.prod(shape)) if shape is not None else 0)
    if kind == "Flatten":
        shape = node.input_type["input"]
        return Identity(kind=kind, n=int(np.prod(shape)) if shape is not None else 0)
    if kind in ("Conv1d", "Conv2d"):
        return conv_from_nir(node, name, in_shape, dtype)
    if kind in ("SumPool2d", "AvgPool2d"):
        return pool_from_nir(node, name, in_shape)
    if kind in ("Linear", "Affine"):
        weight = np.asarray(node.weight)
        if weight.ndim != 2:
            raise ValueError(
                f"NIR node {name!r} ({kind}) has a weight of shape {weight.shape}; brainsim "
                "imports 2-D weights (n_out, n_in) only."
            )
        bias = f(node.bias) if kind == "Affine" else None
        return Affine(weight=jnp.asarray(weight, dtype), bias=bias)
    if kind == "Scale":
        return Scale(scale=f(node.scale))
    if kind == "Threshold":
        return Threshold(threshold=f(node.threshold))
    if kind == "Delay":
        delay = np.asarray(node.delay, np.float64).reshape(-1) * time_unit
        steps = np.round(delay / dt)
        if np.any(steps < 1) or np.any(np.abs(steps * dt - delay) > 1e-6 * np.maximum(delay, dt)):
            raise ValueError(
                f"NIR node {name!r} (Delay): delays {delay} ms are not whole numbers (>= 1) of "
                f"dt = {dt} ms."
            )
        return Delay(steps=tuple(int(s) for s in steps), dt=float(dt))
    if kind == "LIF" and convention == "spyx":
        tau = np.asarray(node.tau, np.float64).reshape(-1) * time_unit
        return SpyxLIF(beta=jnp.asarray(1.0 - dt / tau, dtype), v_threshold=f(node.v_threshold))
    if kind == "LIF":
        v_th, v_reset = f(node.v_threshold), f(node.v_reset)
        if np.any(np.asarray(v_reset) >= np.asarray(v_th)):
            raise ValueError(
                f"NIR node {name!r} (LIF): v_reset must be below v_threshold for brainsim's LIF."
            )
        lif = LIF(
            tau_m=f(node.tau) * time_unit, v_rest=f(node.v_leak), v_th=v_th, v_reset=v_reset,
            t_ref=0.0, R=f(node.r), method=method,
        )  # fmt: skip
        return LIFNode(neuron=lif, n=int(np.size(node.tau)))
    if kind == "LI":
        return LI(tau=f(node.tau) * time_unit, r=f(node.r), v_leak=f(node.v_leak), method=method)
    if kind in ("I", "IF"):
        r = f(node.r) / time_unit
        if kind == "I":
            return Integrator(r=r, v_threshold=None, v_reset=None)
        return Integrator(r=r, v_threshold=f(node.v_threshold), v_reset=f(node.v_reset))
    if kind in ("CubaLIF", "CubaLI"):
        spiking = kind == "CubaLIF"
        return Cuba(
            tau_syn=f(node.tau_syn) * time_unit, tau_mem=f(node.tau_mem) * time_unit,
            r=f(node.r), v_leak=f(node.v_leak), w_in=f(node.w_in),
            v_threshold=f(node.v_threshold) if spiking else None,
            v_reset=f(node.v_reset) if spiking else None, method=method,
        )  # fmt: skip
    raise NotImplementedError(
        f"NIR node {name!r} is a {kind}, which brainsim.nir does not import (supported: Input, "
        "Output, Flatten, Linear, Affine, Conv1d, Conv2d, SumPool2d, AvgPool2d, Scale, "
        "Threshold, Delay, LIF, LI, I, IF, CubaLIF, CubaLI)."
    )
