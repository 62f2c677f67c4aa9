"""Synaptic delays: one per projection, one per presynaptic neuron, or one per synapse.

Delays are integers of time steps. A spike emitted at step `n` arrives (is added to the
synaptic variable) at step `n + d`; `d = 0` delivers in the emitting step, so the postsynaptic
neuron sees it from the next step on (as Brian2 does without delay).

- Projection and per-presynaptic delays keep a ring of the last `D + 1` presynaptic event vectors
  and read, for each presynaptic neuron, the events of `d_i` steps ago.
- Per-synapse delays deliver at emission into a postsynaptic ring buffer
  `buf[(n + d_ij) mod (D + 1), j] += w_ij · s_i` and read `buf[n mod (D + 1)]`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

import brainsim_ops as bo

MODES = ("projection", "pre", "synapse")
ROUNDING = ("exact", "nearest")
_TOLERANCE = 1e-6  # steps: how far from a whole number `delay / dt` may be and count as exact


def delay_steps_from_ms(delay, dt: float, rounding: str = "exact") -> np.ndarray:
    """Delays in ms (a scalar or an array) as whole numbers of steps of `dt` ms.

    `rounding="exact"` accepts only delays that are whole multiples of `dt` (to 1e-6 of a
    step, so that 1.5 ms at 0.1 ms is 15 steps despite floating point) and raises otherwise;
    `"nearest"` rounds `delay / dt` to the nearest step, half a step up (as Brian2 does; here
    `delay / dt` within 1e-6 of a half counts as a half, so 0.15 ms at 0.1 ms is 2 steps).
    """
    if rounding not in ROUNDING:
        raise ValueError(f"`delay_rounding` must be one of {ROUNDING}, got {rounding!r}.")
    if not (isinstance(dt, (int, float, np.floating)) and dt > 0):
        raise ValueError(f"delays in ms need the time step: pass `dt` (ms, > 0), got {dt!r}.")
    ms = np.asarray(delay, np.float64)
    if not np.all(np.isfinite(ms)) or np.any(ms < 0):
        raise ValueError(f"`delay` must be finite and >= 0 ms, got a minimum of {ms.min()} ms.")
    steps = ms / dt
    whole = np.floor(steps + 0.5 + _TOLERANCE)
    off = np.abs(steps - whole) > _TOLERANCE
    if rounding == "exact" and np.any(off):
        worst = ms.flat[int(np.argmax(np.abs(steps - whole)))]
        raise ValueError(
            f"`delay` {worst:g} ms is not a whole number of steps of dt = {dt:g} ms; choose a "
            f"dt that divides it, or pass delay_rounding='nearest' to round to the nearest step."
        )
    return whole.astype(np.int64)


def parse_delay(delay_steps, delay_per: str | None, n_pre: int, n_syn: int):
    """Validate `delay_steps` and decide its mode; returns `(mode, steps as int32, D)`."""
    steps = np.asarray(delay_steps)
    if not np.issubdtype(steps.dtype, np.integer):
        if np.any(steps != np.round(steps)):
            raise TypeError(
                f"`delay_steps` must be whole numbers of steps, got dtype {steps.dtype}; "
                "convert a delay in ms with round(delay / dt)."
            )
    steps = steps.astype(np.int64)
    if np.any(steps < 0):
        raise ValueError(f"`delay_steps` must be >= 0, got a minimum of {int(steps.min())}.")
    if delay_per is None:
        if steps.ndim == 0:
            delay_per = "projection"
        elif steps.shape == (n_pre,) and n_pre != n_syn:
            delay_per = "pre"
        elif steps.shape == (n_syn,) and n_pre != n_syn:
            delay_per = "synapse"
        else:
            raise ValueError(
                f"cannot tell whether `delay_steps` of shape {steps.shape} is per presynaptic "
                f"neuron ({n_pre}) or per synapse ({n_syn}); pass delay_per='pre' or 'synapse'."
            )
    if delay_per not in MODES:
        raise ValueError(f"`delay_per` must be one of {MODES}, got {delay_per!r}.")
    expected = {"projection": (), "pre": (n_pre,), "synapse": (n_syn,)}[delay_per]
    if steps.shape != expected:
        raise ValueError(
            f"`delay_steps` for delay_per={delay_per!r} must have shape {expected}, "
            f"got {steps.shape}."
        )
    max_delay = int(steps.max()) if steps.size else 0
    if max_delay > 100_000:
        raise ValueError(
            f"`delay_steps` up to {max_delay} would need a ring buffer of that many steps; "
            "use a coarser dt or shorter delays."
        )
    return delay_per, jnp.asarray(steps, jnp.int32), max_delay


class DelayState(NamedTuple):
    """Ring buffer of a delayed projection: `(D + 1, n_pre)` events or `(D + 1, n_post)` input."""

    ring: Float[Array, "slots n"]


def init_delay(mode: str, max_delay: int, n_pre: int, n_post: int, dtype) -> DelayState:
    """An empty ring for a projection with delays up to `max_delay` steps."""
    width = n_post if mode == "synapse" else n_pre
    return DelayState(ring=jnp.zeros((max_delay + 1, width), dtype))


def emit(
    mode: str,
    delay_steps: Int[Array, ...],
    state: DelayState,
    events: Float[Array, " n_pre"],
    conn,
    step_index: Int[Array, ""],
) -> DelayState:
    """Push the presynaptic `events` emitted at step `step_index` into the ring.

    Per-synapse delays scatter them at once to their arrival slots
    (`brainsim_ops.event_scatter_delayed`, event-driven); the other modes keep the events.
    """
    if mode == "synapse":
        return DelayState(bo.event_scatter_delayed(events, conn, delay_steps, state.ring,
                                                   step_index))  # fmt: skip
    return DelayState(state.ring.at[step_index % state.ring.shape[0]].set(events))


def arrive(
    mode: str,
    delay_steps: Int[Array, ...],
    state: DelayState,
    conn,
    step_index: Int[Array, ""],
) -> tuple[DelayState, Float[Array, " n_post"]]:
    """The input arriving at step `step_index` per post neuron (per-synapse delays: read and
    clear the current slot in place, `brainsim_ops.ring_pop`)."""
    if mode == "synapse":
        ring, arriving = bo.ring_pop(state.ring, step_index)
        return DelayState(ring=ring), arriving
    slots = state.ring.shape[0]
    source_slot = (step_index - delay_steps) % slots
    if mode == "projection":
        delayed = state.ring[source_slot]
    else:
        delayed = state.ring[source_slot, jnp.arange(state.ring.shape[1])]
    return state, bo.event_matvec(delayed, conn)


def deliver(
    mode: str,
    delay_steps: Int[Array, ...],
    state: DelayState,
    events: Float[Array, " n_pre"],
    conn,
    step_index: Int[Array, ""],
) -> tuple[DelayState, Float[Array, " n_post"]]:
    """Push this step's presynaptic `events` and return the input arriving now per post neuron
    (`emit`, then `arrive`)."""
    state = emit(mode, delay_steps, state, events, conn, step_index)
    return arrive(mode, delay_steps, state, conn, step_index)
