"""The structure every current-clamp recording is loaded into (shipped data sets, NWB files)."""

from typing import NamedTuple

import numpy as np
from jaxtyping import Float, Int

from brainsim.datasets._spikes import spike_times
from brainsim.datasets._steps import estimate_step


class Recording(NamedTuple):
    """Current-clamp sweeps of one cell on a common time grid.

    Sweep `k` injected `current[k]` and recorded `voltage[k]`, sampled every `dt` from time 0.
    The step fields describe a single current step per sweep, estimated from the recorded
    current by `estimate_step` (amplitude 0 and NaN times where a sweep has no step).

    Attributes:
        cell: name of the cell (or of the NWB file's session).
        dt: sampling interval (ms).
        time: sample times (ms), `arange(samples) * dt`, shape `(samples,)`.
        current: injected current (pA), shape `(sweeps, samples)`.
        voltage: membrane potential (mV), shape `(sweeps, samples)`.
        sweep_ids: the source's number of each sweep, shape `(sweeps,)`.
        holding: holding current (pA), shape `(sweeps,)`.
        amplitudes: step amplitude above holding (pA), shape `(sweeps,)`.
        step_start: onset of the step (ms), shape `(sweeps,)`.
        step_end: offset of the step (ms), shape `(sweeps,)`.

    Examples:
        >>> from brainsim.datasets import load_idrest
        >>> recording = load_idrest("B6")
        >>> held_out = recording.select([1, 3])
        >>> held_out.sweep_ids, held_out.voltage.shape
        (array([182, 184], dtype=int32), (2, 12000))
        >>> [len(s) for s in held_out.spike_times()]
        [50, 82]
    """

    cell: str
    dt: float
    time: Float[np.ndarray, " samples"]
    current: Float[np.ndarray, "sweeps samples"]
    voltage: Float[np.ndarray, "sweeps samples"]
    sweep_ids: Int[np.ndarray, " sweeps"]
    holding: Float[np.ndarray, " sweeps"]
    amplitudes: Float[np.ndarray, " sweeps"]
    step_start: Float[np.ndarray, " sweeps"]
    step_end: Float[np.ndarray, " sweeps"]

    @classmethod
    def from_sweeps(
        cls,
        current: Float[np.ndarray, "sweeps samples"],
        voltage: Float[np.ndarray, "sweeps samples"],
        dt: float,
        *,
        cell: str = "",
        sweep_ids: Int[np.ndarray, " sweeps"] | None = None,
    ) -> "Recording":
        """A recording from arrays of sweeps (or one sweep), checked, with its steps estimated.

        Args:
            current: injected current (pA), shape `(sweeps, samples)` or `(samples,)`.
            voltage: membrane potential (mV), the same shape as `current`.
            dt: sampling interval (ms).
            cell: a name for the cell.
            sweep_ids: a number for each sweep (default `0, 1, ...`).

        Raises:
            ValueError: shapes differ, `dt` is not positive, or the data hold NaN.
        """
        current = np.atleast_2d(np.asarray(current, dtype=np.float32))
        voltage = np.atleast_2d(np.asarray(voltage, dtype=np.float32))
        if current.ndim != 2 or current.shape != voltage.shape:
            raise ValueError(
                f"current and voltage must have the same shape (sweeps, samples), got "
                f"{current.shape} and {voltage.shape}"
            )
        if not dt > 0:
            raise ValueError(f"dt must be positive (ms), got {dt}")
        for name, data in (("current", current), ("voltage", voltage)):
            bad = np.argwhere(~np.isfinite(data))
            if bad.size:
                raise ValueError(f"{name} has NaN or infinite samples (first at sweep, sample "
                                 f"{tuple(bad[0].tolist())})")
        n = current.shape[0]
        sweep_ids = np.arange(n) if sweep_ids is None else np.asarray(sweep_ids)
        if sweep_ids.shape != (n,):
            raise ValueError(f"sweep_ids must have shape ({n},), got {sweep_ids.shape}")
        steps = np.array([estimate_step(sweep, dt) for sweep in current], dtype=np.float32)
        steps = steps.reshape(n, 4)
        return cls(cell, float(dt), np.arange(current.shape[1], dtype=np.float32) * np.float32(dt),
                   current, voltage, sweep_ids.astype(np.int32), *steps.T)

    @property
    def n_sweeps(self) -> int:
        """Number of sweeps."""
        return self.current.shape[0]

    def select(self, sweeps) -> "Recording":
        """The recording restricted to some sweeps (positions `0 .. n_sweeps - 1`, in order
        given), e.g. to hold some out for evaluation."""
        index = np.asarray(sweeps, dtype=int).reshape(-1)
        if index.size and (index.min() < -self.n_sweeps or index.max() >= self.n_sweeps):
            raise ValueError(
                f"sweeps must be positions in 0..{self.n_sweeps - 1}, got {np.asarray(sweeps)}"
            )
        per_sweep = ("current", "voltage", "sweep_ids", "holding", "amplitudes", "step_start",
                     "step_end")
        return self._replace(**{name: getattr(self, name)[index] for name in per_sweep})

    def spike_times(self, threshold: float = -20.0) -> list[np.ndarray]:
        """Recorded spike times (ms) per sweep, by upward crossing of `threshold` (mV); see
        `spike_times`."""
        return spike_times(self.voltage, self.dt, threshold=threshold)
