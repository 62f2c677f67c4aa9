"""Delays in ms to whole time steps."""

from __future__ import annotations

import numpy as np


def delay_steps(delay, dt: float) -> np.ndarray:
    """Delays in ms as whole steps of ``dt``: the nearest step, halves rounded up.

    ``floor(delay / dt + 1/2 + 1e-9)``: the ``1e-9`` step keeps a delay written in ms that is a
    half or whole number of steps (0.25 ms at dt = 0.1 ms) from falling one step short by the
    rounding of ``delay / dt`` in binary.

    A delay shorter than one step (after rounding, 0 steps) raises, because a spike must not
    arrive in the step it was sent (NEST rejects delays below its resolution too).

    Args:
        delay (float | Array): delays in ms, any shape (>= dt / 2 after rounding to at least 1
            step).
        dt: time step in ms (> 0).

    Returns:
        int32 array of ``delay``'s shape, each >= 1.

    Examples:
        >>> delay_steps([0.1, 0.24, 0.25, 1.0], dt=0.1)
        array([ 1,  2,  3, 10], dtype=int32)
    """
    if isinstance(dt, bool) or np.ndim(dt) != 0 or not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"`dt` must be a time step in ms > 0, got {dt!r}.")
    d = np.asarray(delay, dtype=np.float64)
    if not np.all(np.isfinite(d)):
        raise ValueError("`delay` must hold finite delays in ms.")
    steps = np.floor(d / dt + 0.5 + 1e-9)
    if steps.size and steps.min() < 1:
        i = np.unravel_index(int(np.argmin(steps)), steps.shape)
        raise ValueError(
            f"delay {float(d[i]):.6g} ms is under one step of dt = {dt} ms (it rounds to "
            f"{int(steps[i])} steps); use delays >= {dt} ms or a smaller dt."
        )
    if steps.size and steps.max() > np.iinfo(np.int32).max:
        raise ValueError("`delay` / `dt` exceeds 2**31 - 1 steps.")
    return steps.astype(np.int32)
