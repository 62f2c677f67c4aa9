"""What the spike-driven rules share: synaptic traces, spike and modulator inputs, bounds.

A trace decays exactly between calls, `x ← x exp(-dt / tau)`, so a rule may be called once per
time step or once per event with `dt` the time since the last call. At a spike it jumps by 1
(all-to-all pairing) or is reset to 1 (nearest-neighbour pairing).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import _concrete, check_less

PAIRINGS = ("all_to_all", "nearest")


def decay(trace: Float[Array, "*n"], tau, dt) -> Float[Array, "*n"]:
    """The trace after `dt` ms of exponential decay with time constant `tau` (ms)."""
    return trace * jnp.exp(-dt / tau)


def jump(trace: Float[Array, " n"], spikes: Float[Array, " n"], pairing: str) -> Float[Array, " n"]:
    """Add this step's spikes: `x + s` (all-to-all) or `x + s (1 - x)` (nearest: reset to 1).

    Both forms are linear in the spike `s`, so surrogate gradients of float spikes flow through.
    """
    if pairing == "nearest":
        return trace + spikes * (1.0 - trace)
    return trace + spikes


def check_pairing(pairing: str) -> None:
    """Raise `ValueError` unless `pairing` is one of `PAIRINGS`."""
    if pairing not in PAIRINGS:
        raise ValueError(f"`pairing` must be 'all_to_all' or 'nearest', got {pairing!r}.")


def check_bounds(w_min, w_max) -> None:
    """Raise `ValueError` for a NaN bound, `w_min = inf`, `w_max = -inf` or `w_min >= w_max`."""
    for name, value, forbidden in (("w_min", w_min, np.inf), ("w_max", w_max, -np.inf)):
        array = _concrete(value)
        if array is not None and (np.any(np.isnan(array)) or np.any(array == forbidden)):
            raise ValueError(f"`{name}` must be a number (an infinite bound only on its side), "
                             f"got {array}.")
    check_less("w_min", w_min, "w_max", w_max)


def synapse_shape(conn) -> tuple[int, ...]:
    """Shape of one value per synapse of `conn` (`conn.synapse_shape`); checks the type."""
    if not isinstance(conn, bo.CSR | bo.ELL | bo.Dense):
        raise TypeError(
            f"`conn` must be a brainsim_ops CSR, ELL or Dense, got {type(conn).__name__}."
        )
    return tuple(conn.synapse_shape)


def trace_dtype(conn):
    """The floating dtype of the traces of `conn`: that of its weights (checks `conn`)."""
    synapse_shape(conn)
    return jnp.asarray(conn.weights).dtype


def resolve(conn, weights) -> tuple[object, Array]:
    """The connectivity of `weights` and the weights with one value per synapse.

    `conn=None` means `weights` is a dense `(n_pre, n_post)` matrix.
    """
    if conn is None:
        w = jnp.asarray(weights)
        if w.ndim != 2:
            raise ValueError(
                f"`weights` has shape {w.shape}: pass the connectivity as `conn=` (CSR, ELL or "
                "Dense), or give a dense (n_pre, n_post) matrix."
            )
        conn = bo.Dense(w)
    shape = synapse_shape(conn)
    w = jnp.asarray(weights)
    if w.shape not in ((), shape):
        raise ValueError(f"`weights` must have shape {shape} (one per synapse), got {w.shape}.")
    return conn, jnp.broadcast_to(w, shape)


def as_spikes(spikes, n: int, name: str, dtype) -> Float[Array, " n"]:
    """Spikes (bool or 0/1 floats, shape `(n,)`) as floats of `dtype`."""
    s = jnp.asarray(spikes)
    if s.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},), got {s.shape}.")
    real = jnp.issubdtype(s.dtype, jnp.integer) or jnp.issubdtype(s.dtype, jnp.floating)
    if not (s.dtype == jnp.bool_ or real):
        raise TypeError(f"`{name}` must be bool or real numbers, got dtype {s.dtype}.")
    return s.astype(dtype)


def as_modulator(modulator, n_post: int, dtype) -> Float[Array, " n_post"]:
    """The third factor: a scalar (global) or one value per postsynaptic neuron, as `(n_post,)`."""
    m = jnp.asarray(0.0 if modulator is None else modulator, dtype)
    if m.shape not in ((), (n_post,)):
        raise ValueError(
            f"`modulator` must be a scalar or have shape ({n_post},) (one value per postsynaptic "
            f"neuron), got {m.shape}."
        )
    return jnp.broadcast_to(m, (n_post,))


def check_step(dt) -> None:
    """Raise `ValueError` unless `dt` (ms) is a finite scalar >= 0 (0: events at one instant)."""
    if isinstance(dt, jax.core.Tracer):
        return
    array = np.asarray(dt)
    if array.shape != () or not np.isfinite(array) or array < 0:
        raise ValueError(f"`dt` must be a finite scalar >= 0 in ms, got {dt!r}.")


def begin_update(conn, weights, pre_spikes, post_spikes, dt, dtype):
    """The checks and conversions every rule's `update` starts with: `dt` (ms) checked, the
    connectivity and per-synapse weights (`resolve`), both spike vectors as floats of `dtype`.

    Returns `(conn, weights, pre, post)`.
    """
    check_step(dt)
    conn, w = resolve(conn, weights)
    pre = as_spikes(pre_spikes, conn.n_pre, "pre_spikes", dtype)
    post = as_spikes(post_spikes, conn.n_post, "post_spikes", dtype)
    return conn, w, pre, post
