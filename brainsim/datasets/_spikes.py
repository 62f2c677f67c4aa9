"""Spike times of recorded voltage traces by upward threshold crossing."""

import numpy as np
from jaxtyping import Float


def spike_times(
    voltage: Float[np.ndarray, "*sweeps samples"], dt: float, *, threshold: float = -20.0
) -> np.ndarray | list[np.ndarray]:
    """Spike times of recorded voltage traces: upward crossings of `threshold`.

    A spike is counted where the voltage goes from below `threshold` to at or above it; its
    time is interpolated linearly between the two samples. Time 0 is the first sample.

    Args:
        voltage: membrane potential (mV), shape `(samples,)` for one sweep or
            `(sweeps, samples)`.
        dt: sampling interval (ms).
        threshold: crossing level (mV). The default, -20 mV, is eFEL's; it suits the raw
            (uncorrected) IDRest voltages, whose action potentials peak above 0 mV.

    Returns:
        The spike times (ms, float64): one array for one sweep, or a list with one array per
        sweep.

    Examples:
        >>> import numpy as np
        >>> v = np.array([-70.0, -30.0, 10.0, -60.0, -70.0, 30.0])
        >>> spike_times(v, dt=0.25)
        array([0.3125, 1.125 ])
    """
    voltage = np.asarray(voltage, dtype=np.float64)
    if voltage.ndim not in (1, 2):
        raise ValueError(
            f"voltage must have shape (samples,) or (sweeps, samples), got {voltage.shape}"
        )
    if not dt > 0:
        raise ValueError(f"dt must be positive (ms), got {dt}")
    if voltage.ndim == 2:
        return [spike_times(sweep, dt, threshold=threshold) for sweep in voltage]
    before, after = voltage[:-1], voltage[1:]
    (index,) = np.nonzero((before < threshold) & (after >= threshold))
    fraction = (threshold - before[index]) / (after[index] - before[index])
    return (index + fraction) * dt
