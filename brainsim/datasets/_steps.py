"""Estimating a current step (holding level, amplitude, onset and offset) from a recorded sweep."""

import numpy as np
from jaxtyping import Float


def estimate_step(
    current: Float[np.ndarray, " samples"], dt: float, *, smooth: float = 5.0
) -> tuple[float, float, float, float]:
    """Estimate the single current step of a sweep from its recorded current.

    The holding current is the median of the sweep's first 5 % (the sweep must start at
    holding). The current, less holding, is smoothed by a moving average over `smooth` ms;
    the step is where it lies beyond half its largest deviation, and its amplitude is the
    median of the samples inside the step less the median of those outside (the holding
    current). A sweep whose smoothed current never leaves the holding level by more than
    5 robust standard deviations of its start has no step: amplitude 0, onset and offset NaN.

    Args:
        current: the injected current of one sweep (pA), shape `(samples,)`.
        dt: sampling interval (ms).
        smooth: width of the moving average used to find the edges (ms).

    Returns:
        `(holding, amplitude, start, end)`: holding current (pA), step amplitude above
        holding (pA, negative for a hyperpolarising step), onset and offset of the step (ms
        from the start of the sweep; the step covers `start <= t < end`).

    Examples:
        >>> import numpy as np
        >>> current = np.full(4000, -10.0)
        >>> current[1000:3000] += 100.0
        >>> estimate_step(current, dt=0.25)
        (-10.0, 100.0, 250.0, 750.0)
    """
    current = np.asarray(current, dtype=np.float64)
    if current.ndim != 1 or current.size < 20:
        raise ValueError(
            f"current must be one sweep of at least 20 samples, got shape {current.shape}"
        )
    if not dt > 0:
        raise ValueError(f"dt must be positive (ms), got {dt}")
    if not np.all(np.isfinite(current)):
        raise ValueError("current contains NaN or infinite samples")
    lead = current[: max(current.size // 20, 10)]
    baseline = float(np.median(lead))
    noise = 1.4826 * float(np.median(np.abs(lead - baseline)))
    width = min(max(1, round(smooth / dt)), current.size // 2)
    cumulative = np.concatenate([[0.0], np.cumsum(current - baseline)])
    averaged = (cumulative[width:] - cumulative[:-width]) / width
    peak = averaged[np.argmax(np.abs(averaged))]
    if abs(peak) <= 5 * noise / np.sqrt(width) or peak == 0:
        return baseline, 0.0, float("nan"), float("nan")
    inside = np.flatnonzero(averaged * np.sign(peak) > abs(peak) / 2)
    first, last = inside[0] + (width - 1) // 2, inside[-1] + width // 2 + 1
    outside = np.concatenate([current[:first], current[last:]])
    holding = float(np.median(outside)) if outside.size else baseline
    amplitude = float(np.median(current[first:last])) - holding
    return holding, amplitude, float(first * dt), float(last * dt)
