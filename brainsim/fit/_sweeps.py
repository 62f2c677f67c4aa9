"""Recorded sweeps prepared for fitting: input current, voltage and spike times on one grid."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from brainsim.fit._spike_data import check_positive_scalar


def _checked(name: str, x, ndim: int) -> np.ndarray:
    """`x` as float32 NumPy with `ndim` axes (a 1-D trace becomes one sweep); no NaN."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == ndim - 1:
        x = x[..., None] if name != "spike_times" else x[None]
    if x.ndim != ndim:
        what = "(k,) or (sweeps, k)" if name == "spike_times" else "(T,) or (T, sweeps)"
        raise ValueError(f"`{name}` must have shape {what}, got {x.shape}.")
    bad = np.argwhere(np.isnan(x) if name == "spike_times" else ~np.isfinite(x))
    if bad.size:
        raise ValueError(
            f"`{name}` holds NaN or infinite values (first at index {tuple(bad[0].tolist())}); "
            "cut the sweep or interpolate the bad samples before fitting."
        )
    return x


def _pad_trains(trains) -> np.ndarray:
    """A list of spike trains (ms) as one array `(sweeps, k)` padded with `inf`."""
    k = max([len(train) for train in trains] + [1])
    padded = np.full((len(trains), k), np.inf, dtype=np.float32)
    for row, train in zip(padded, trains, strict=True):
        row[: len(train)] = np.sort(np.asarray(train, dtype=np.float32))
    return padded


class SweepData(eqx.Module):
    """Current-clamp sweeps on the simulation grid: what a model is fitted to or evaluated on.

    Sample `n` of every sweep is at time `t_n = n·dt` (ms, from the start of the window). The
    model is driven by `current[n]` during the step from `t_n` to `t_n + dt` and compared with
    `voltage[n]` at `t_n`; its spikes, stamped with the start of their step, are compared with
    `spike_times`. Losses and metrics score only `t >= t_start`, giving the model time to settle
    from its initial state.

    Attributes:
        current: injected current (pA), `(T, sweeps)`, time first.
        voltage: recorded membrane potential (mV), `(T, sweeps)`, or `None`.
        spike_times: recorded spike times (ms), `(sweeps, k)` padded with `inf`, or `None`.
        dt: sampling interval = simulation time step (ms).
        t_start: first scored time (ms).
        t_offset: time of sample 0 in the source recording (ms; for plots).

    Args:
        current: `(T, sweeps)` or one sweep `(T,)` (pA).
        voltage: the same shape (mV), or `None`.
        spike_times: `(sweeps, k)` or one train `(k,)` (ms), padded with `inf`; or a list of
            trains of any length (ms); or `None`.
        dt: sampling interval (ms, > 0).
        t_start: first scored time (ms, `0 <= t_start < T·dt`).
        t_offset: time of sample 0 in the source recording (ms).

    Raises:
        ValueError: for NaN, mismatched lengths or sweep counts, no voltage and no spikes, or
            `t_start` outside the sweep.

    Examples:
        >>> import numpy as np
        >>> from brainsim.fit import SweepData
        >>> data = SweepData(np.full((400, 2), 100.0), np.full((400, 2), -65.0), dt=0.5,
        ...                  t_start=20.0)
        >>> data.n_samples, data.n_sweeps, data.duration
        (400, 2, 200.0)

    Reference: Rossant et al. (2011), *Fitting neuron models to spike trains*, Front. Neurosci.
    5:9 (inputs and target traces of brian2modelfitting's ancestor).
    """

    current: Float[Array, "T sweeps"]
    voltage: Float[Array, "T sweeps"] | None
    spike_times: Float[Array, "sweeps k"] | None
    dt: float = eqx.field(static=True)
    t_start: float = eqx.field(static=True)
    t_offset: float = eqx.field(static=True)

    def __init__(
        self,
        current: Float[ArrayLike, "T sweeps"],
        voltage: Float[ArrayLike, "T sweeps"] | None = None,
        spike_times: Float[ArrayLike, "sweeps k"] | None = None,
        *,
        dt: float,
        t_start: float = 0.0,
        t_offset: float = 0.0,
    ):
        self.dt = check_positive_scalar("dt", dt)
        current = _checked("current", current, 2)
        if current.shape[0] < 2:
            raise ValueError(f"`current` needs at least 2 samples, got {current.shape[0]}.")
        if voltage is not None:
            voltage = _checked("voltage", voltage, 2)
            if voltage.shape != current.shape:
                raise ValueError(
                    f"`voltage` {voltage.shape} and `current` {current.shape} must have the same "
                    "shape (T, sweeps): the same number of samples at the same rate. Resample "
                    "one of them (`SweepData.from_recording(..., dt=...)`)."
                )
        if isinstance(spike_times, list | tuple) and all(np.ndim(s) == 1 for s in spike_times):
            spike_times = _pad_trains(spike_times)
        if spike_times is not None:
            spike_times = _checked("spike_times", spike_times, 2)
            if spike_times.shape[0] != current.shape[1]:
                raise ValueError(
                    f"`spike_times` has {spike_times.shape[0]} trains for {current.shape[1]} "
                    "sweeps of `current`; give one train per sweep, (sweeps, k)."
                )
        if voltage is None and spike_times is None:
            raise ValueError("give a recorded `voltage`, `spike_times`, or both to fit to.")
        duration = current.shape[0] * self.dt
        if not 0.0 <= t_start < duration:
            raise ValueError(f"`t_start` must be in [0, {duration}) ms, got {t_start}.")
        self.t_start, self.t_offset = float(t_start), float(t_offset)
        self.current = jnp.asarray(current)
        self.voltage = None if voltage is None else jnp.asarray(voltage)
        self.spike_times = None if spike_times is None else jnp.asarray(spike_times)

    @property
    def n_samples(self) -> int:
        """Number of samples `T` per sweep."""
        return self.current.shape[0]

    @property
    def n_sweeps(self) -> int:
        """Number of sweeps."""
        return self.current.shape[1]

    @property
    def duration(self) -> float:
        """Length of a sweep, `T·dt` (ms)."""
        return self.n_samples * self.dt

    @property
    def time(self) -> Float[np.ndarray, " T"]:
        """Sample times `n·dt` (ms, from the start of the window)."""
        return self.dt * np.arange(self.n_samples)

    def trains(self) -> list[np.ndarray]:
        """The recorded spike times (ms) of each sweep, without padding (NumPy)."""
        if self.spike_times is None:
            raise ValueError("these sweeps have no recorded spike times.")
        return [row[np.isfinite(row)] for row in np.asarray(self.spike_times, dtype=float)]

    @classmethod
    def from_recording(
        cls,
        recording,
        sweeps=None,
        *,
        dt: float | None = None,
        window: tuple[float, float] | None = None,
        t_start: float = 0.0,
        threshold: float = -20.0,
    ) -> SweepData:
        """Sweeps of a `brainsim.datasets.Recording`, cut to a window and resampled to `dt`.

        With `k = dt / recording.dt` (an integer), the current of step `n` is the mean of the
        `k` recorded samples in `[t_n, t_n + dt)` (the injected charge is kept) and the voltage
        is the recorded sample at `t_n`. Spike times are upward crossings of `threshold` in the
        full-rate recording, shifted to the window's clock.

        Args:
            recording (Recording): a `Recording` (`brainsim.datasets.load_idrest`,
                `brainsim.nwb.read_current_clamp`).
            sweeps (Sequence[int] | None): positions of the sweeps to use (default all).
            dt: sampling interval (ms), a multiple of `recording.dt` (default `recording.dt`).
            window: `(start, stop)` in the recording's clock (ms; default the whole sweep).
            t_start: first scored time (ms, from the window start).
            threshold: spike detection level (mV).

        Raises:
            ValueError: when `dt` is not a multiple of the recording's interval or the window
                is outside the sweep.

        Examples:
            >>> from brainsim.datasets import load_idrest
            >>> from brainsim.fit import SweepData
            >>> data = SweepData.from_recording(load_idrest("B6"), [0, 2], dt=1.0,
            ...                                 window=(600.0, 1100.0), t_start=50.0)
            >>> data.current.shape, [len(s) for s in data.trains()]
            ((500, 2), [4, 14])
        """
        if sweeps is not None:
            recording = recording.select(sweeps)
        dt = recording.dt if dt is None else check_positive_scalar("dt", dt)
        k = int(round(dt / recording.dt))
        if k < 1 or abs(k * recording.dt - dt) > 1e-6 * dt:
            raise ValueError(
                f"`dt` = {dt} ms does not match the recording's sampling interval "
                f"{recording.dt} ms ({1 / recording.dt:g} kHz): use a whole multiple of it."
            )
        length = recording.current.shape[1] * recording.dt
        start, stop = (0.0, length) if window is None else map(float, window)
        if not 0.0 <= start < stop <= length + 1e-9:
            raise ValueError(f"`window` must lie within [0, {length}] ms, got {window}.")
        first = int(round(start / recording.dt))
        n = int((stop - start + 1e-9) // dt)
        block = slice(first, first + n * k)
        current = recording.current[:, block].reshape(recording.n_sweeps, n, k).mean(axis=-1)
        voltage = recording.voltage[:, block][:, ::k]
        trains = [
            s[(s >= start) & (s < start + n * dt)] - start
            for s in recording.spike_times(threshold)
        ]
        return cls(
            current.T, voltage.T, trains, dt=dt, t_start=t_start, t_offset=start
        )
