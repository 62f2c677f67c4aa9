"""NWB in and out: current-clamp recordings to fit, simulated traces and spike trains to share.

`read_current_clamp` reads the current-clamp sweeps of one cell (each response with its
stimulus) into the `brainsim.datasets.Recording` that `brainsim.datasets.load_idrest` returns,
so that fitting code takes either; `write_current_clamp` writes a `Recording` (recorded, or a
model's voltage under the recorded current) back. `write_simulation` writes simulated voltage
traces and spike trains (the units table); `read_spike_trains` reads a units table.

NWB stores SI units (volts, amperes, seconds); these functions convert to brainsim's mV, pA
and ms. They need `pynwb`: `pip install "brainsim[nwb]"`.
"""

import datetime
import pathlib
import uuid
from collections.abc import Sequence

import numpy as np
from jaxtyping import Float

from brainsim.datasets import Recording

__all__ = ["read_current_clamp", "read_spike_trains", "write_current_clamp", "write_simulation"]

_TO_MV = {"volts": 1e3, "volt": 1e3, "v": 1e3, "millivolts": 1.0, "mv": 1.0}
_TO_PA = {"amperes": 1e12, "ampere": 1e12, "amps": 1e12, "a": 1e12, "picoamperes": 1.0, "pa": 1.0}


def _pynwb():
    try:
        import pynwb
    except ImportError as error:
        raise ImportError(
            'brainsim.nwb needs pynwb, from the "nwb" extra: pip install "brainsim[nwb]"'
        ) from error
    return pynwb


def _values(series, table: dict[str, float], quantity: str) -> np.ndarray:
    """The samples of a TimeSeries in brainsim units (table: unit name -> factor)."""
    factor = table.get(series.unit.strip().lower())
    if factor is None:
        raise ValueError(f"{series.name!r}: unit {series.unit!r} is not a {quantity} unit "
                         f"({', '.join(sorted(table))})")
    data = np.asarray(series.data[:], dtype=np.float64)
    offset = getattr(series, "offset", 0.0) or 0.0
    return ((data * series.conversion + offset) * factor).astype(np.float32)


def _dt(series) -> float:
    """Sampling interval (ms) of a regularly sampled TimeSeries."""
    if series.rate is not None:
        return 1e3 / float(series.rate)
    steps = np.diff(np.asarray(series.timestamps[:], dtype=np.float64))
    if steps.size == 0 or not np.allclose(steps, steps[0], rtol=1e-6):
        raise ValueError(f"{series.name!r} is not regularly sampled")
    return 1e3 * float(steps[0])


def _pairs(nwbfile, responses) -> list:
    """(stimulus, response) of every current-clamp response, from the intracellular-recordings
    table when the file has one, else matching sweep numbers on the same electrode."""
    stimulus_of = {}
    table = nwbfile.intracellular_recordings
    if table is not None and len(table):
        for row in range(len(table)):
            response = table["responses"]["response"][row].timeseries
            stimulus = table["stimuli"]["stimulus"][row].timeseries
            if stimulus is not None:
                stimulus_of[id(response)] = stimulus
    from pynwb.icephys import CurrentClampStimulusSeries

    stimuli = [s for s in nwbfile.stimulus.values() if isinstance(s, CurrentClampStimulusSeries)]
    pairs = []
    for response in responses:
        stimulus = stimulus_of.get(id(response))
        if stimulus is None and response.sweep_number is not None:
            stimulus = next((s for s in stimuli if s.sweep_number == response.sweep_number
                             and s.electrode is response.electrode), None)
        if stimulus is None:
            raise ValueError(f"current-clamp series {response.name!r} has no stimulus (neither "
                             "in the intracellular-recordings table nor by sweep number)")
        pairs.append((stimulus, response))
    return pairs


def read_current_clamp(path: str | pathlib.Path, *, electrode: str | None = None) -> Recording:
    """Read the current-clamp sweeps of one cell from an NWB file.

    Every `CurrentClampSeries` in the file's acquisition recorded by the electrode is paired
    with its stimulus (a `CurrentClampStimulusSeries`), through the file's
    intracellular-recordings table or, failing that, by sweep number. Voltages are converted
    to mV, currents to pA, and the steps are estimated as by `Recording.from_sweeps`. The
    sweeps are ordered by sweep number; time 0 is each sweep's first sample.

    Args:
        path: the NWB file.
        electrode: name of the intracellular electrode (the cell) to read; needed only when
            the file holds current-clamp series from several electrodes.

    Returns:
        A `Recording` whose `cell` is the electrode's name and whose `sweep_ids` are the
        sweep numbers (positions where the file has none).

    Raises:
        ValueError: the file has no current-clamp series (for that electrode), a response has
            no stimulus, a stimulus and its response differ in sampling rate or length, or
            the sweeps differ in sampling rate or length.

    Examples:
        >>> import tempfile, pathlib
        >>> from brainsim.datasets import load_idrest
        >>> from brainsim.nwb import read_current_clamp, write_current_clamp
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     write_current_clamp(pathlib.Path(folder) / "b95.nwb", load_idrest("B95"))
        ...     recording = read_current_clamp(pathlib.Path(folder) / "b95.nwb")
        >>> recording.cell, recording.dt, recording.voltage.shape
        ('B95', 0.25, (1, 12000))
    """
    pynwb = _pynwb()
    from pynwb.icephys import CurrentClampSeries, IZeroClampSeries

    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        responses = [s for s in nwbfile.acquisition.values()
                     if isinstance(s, CurrentClampSeries) and not isinstance(s, IZeroClampSeries)]
        electrodes = sorted({s.electrode.name for s in responses})
        if electrode is None and len(electrodes) > 1:
            raise ValueError(f"{path} has current-clamp series from several electrodes "
                             f"({', '.join(electrodes)}); pass electrode=")
        if electrode is not None:
            responses = [s for s in responses if s.electrode.name == electrode]
        if not responses:
            where = "" if electrode is None else f" for electrode {electrode!r} ({electrodes})"
            raise ValueError(f"{path} has no CurrentClampSeries in its acquisition{where}")
        responses.sort(key=lambda s: (s.sweep_number is None, s.sweep_number or 0))
        currents, voltages, dts = [], [], set()
        for stimulus, response in _pairs(nwbfile, responses):
            dt_i, dt_v = _dt(stimulus), _dt(response)
            if not np.isclose(dt_i, dt_v, rtol=1e-9):
                raise ValueError(
                    f"stimulus {stimulus.name!r} is sampled at {1e3 / dt_i:g} Hz but its response "
                    f"{response.name!r} at {1e3 / dt_v:g} Hz; resample one to the other's rate"
                )
            currents.append(_values(stimulus, _TO_PA, "current"))
            voltages.append(_values(response, _TO_MV, "voltage"))
            if currents[-1].shape != voltages[-1].shape:
                raise ValueError(f"stimulus {stimulus.name!r} has {currents[-1].size} samples "
                                 f"but its response {response.name!r} {voltages[-1].size}")
            dts.add(round(dt_v, 9))
        lengths = {v.size for v in voltages}
        if len(dts) > 1 or len(lengths) > 1:
            raise ValueError(f"the sweeps of {path} differ in sampling interval {sorted(dts)} ms "
                             f"or length {sorted(lengths)}; a Recording needs one time grid")
        numbers = [s.sweep_number for s in responses]
        sweep_ids = np.arange(len(responses)) if None in numbers else np.asarray(numbers)
        return Recording.from_sweeps(np.stack(currents), np.stack(voltages), dts.pop(),
                                     cell=responses[0].electrode.name, sweep_ids=sweep_ids)


def _new_file(pynwb, description: str, identifier: str | None, start):
    return pynwb.NWBFile(
        session_description=description,
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=start or datetime.datetime.now(datetime.UTC),
    )


def write_current_clamp(
    path: str | pathlib.Path,
    recording: Recording,
    *,
    description: str = "current-clamp recording",
    identifier: str | None = None,
    session_start_time: datetime.datetime | None = None,
) -> None:
    """Write a `Recording` as NWB current-clamp sweeps (what `read_current_clamp` reads).

    Each sweep becomes a `CurrentClampStimulusSeries` (`stimulus_<id>`, the current) and a
    `CurrentClampSeries` (`response_<id>`, the voltage) with that sweep number, on one
    intracellular electrode named after `recording.cell`, linked in the
    intracellular-recordings table. The samples are stored as given (float32 pA and mV) with
    the conversion factors to amperes and volts. To share a fitted model's traces, write
    `recording._replace(voltage=model_voltage)`.

    Args:
        path: the NWB file to create (overwritten).
        recording: the sweeps (pA, mV, ms).
        description: the session description.
        identifier: the file's identifier (default: a random UUID).
        session_start_time: the session's start (default: now, UTC).

    Examples:
        >>> import tempfile, pathlib
        >>> from brainsim.datasets import load_idrest
        >>> from brainsim.nwb import write_current_clamp
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     write_current_clamp(pathlib.Path(folder) / "b6.nwb", load_idrest("B6"))
    """
    pynwb = _pynwb()
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    nwbfile = _new_file(pynwb, description, identifier, session_start_time)
    device = nwbfile.create_device(name="amplifier")
    electrode = nwbfile.create_icephys_electrode(
        name=recording.cell or "electrode", description="whole-cell patch electrode",
        device=device,
    )
    rate = 1e3 / recording.dt
    for sweep, current, voltage in zip(recording.sweep_ids, recording.current,
                                       recording.voltage, strict=True):
        common = dict(electrode=electrode, rate=rate, sweep_number=np.uint32(sweep), gain=1.0)
        stimulus = CurrentClampStimulusSeries(
            name=f"stimulus_{sweep}", data=np.asarray(current, np.float32), unit="amperes",
            conversion=1e-12, **common,
        )
        response = CurrentClampSeries(
            name=f"response_{sweep}", data=np.asarray(voltage, np.float32), conversion=1e-3,
            **common,
        )
        nwbfile.add_intracellular_recording(electrode=electrode, stimulus=stimulus,
                                            response=response)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def write_simulation(
    path: str | pathlib.Path,
    *,
    time: Float[np.ndarray, " samples"] | None = None,
    voltage: Float[np.ndarray, "samples n"] | None = None,
    spikes: Sequence[np.ndarray] | None = None,
    description: str = "brainsim simulation",
    identifier: str | None = None,
    session_start_time: datetime.datetime | None = None,
) -> None:
    """Write simulated voltage traces and spike trains to an NWB file.

    The voltage becomes a `TimeSeries` `membrane_potential` in the acquisition (stored in mV
    with the conversion to volts, sampled at the rate of `time`, starting at `time[0]`); the
    spike trains become the units table, one unit per neuron (spike times in seconds, as NWB
    requires).

    Args:
        path: the NWB file to create (overwritten).
        time: sample times of `voltage` (ms), regularly spaced, e.g. `result.t`.
        voltage: membrane potential (mV), shape `(samples, n)`, e.g. `result["v"]`.
        spikes: spike times (ms) of each neuron: a list of arrays, or a
            `brainsim.SpikeEvents` (`result["spikes"]` of a streaming run).
        description: the session description.
        identifier: the file's identifier (default: a random UUID).
        session_start_time: the session's start (default: now, UTC).

    Examples:
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> from brainsim.nwb import read_spike_trains, write_simulation
        >>> time = np.arange(1, 101) * 0.1
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder) / "sim.nwb"
        ...     write_simulation(path, time=time, voltage=np.full((100, 2), -65.0),
        ...                      spikes=[np.array([1.5, 7.0]), np.array([])])
        ...     trains = read_spike_trains(path)
        >>> trains
        [array([1.5, 7. ]), array([], dtype=float64)]
    """
    pynwb = _pynwb()
    if voltage is None and spikes is None:
        raise ValueError("nothing to write: pass voltage= (with time=) and/or spikes=")
    nwbfile = _new_file(pynwb, description, identifier, session_start_time)
    if voltage is not None:
        voltage = np.asarray(voltage, dtype=np.float32)
        time = None if time is None else np.asarray(time, dtype=np.float64)
        if voltage.ndim != 2 or time is None or time.shape != (voltage.shape[0],):
            raise ValueError(f"voltage must be (samples, n) with time of shape (samples,), got "
                             f"{voltage.shape} and {None if time is None else time.shape}")
        steps = np.diff(time)
        if steps.size == 0 or not np.allclose(steps, steps[0], rtol=1e-6) or steps[0] <= 0:
            raise ValueError("time must be at least 2 increasing, regularly spaced samples (ms)")
        nwbfile.add_acquisition(pynwb.TimeSeries(
            name="membrane_potential", data=voltage, unit="volts", conversion=1e-3,
            rate=1e3 / float(steps[0]), starting_time=float(time[0]) * 1e-3,
            description="simulated membrane potential of each neuron (columns)",
        ))
    if spikes is not None:
        if hasattr(spikes, "ndim") and np.asarray(spikes).dtype != object:
            raise ValueError(
                f"spikes must be spike times per neuron (a list of arrays, ms) or SpikeEvents, "
                f"got an array of shape {spikes.shape}; from a (steps, n) 0/1 raster `s` with "
                f"step times `t`, pass [t[s[:, i] > 0] for i in range(n)]"
            )
        trains = spikes.trains() if hasattr(spikes, "trains") else spikes
        for train in trains:
            nwbfile.add_unit(spike_times=np.asarray(train, dtype=np.float64) * 1e-3)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def read_spike_trains(path: str | pathlib.Path) -> list[np.ndarray]:
    """Spike times (ms) of every unit in an NWB file's units table, in row order.

    Raises:
        ValueError: the file has no units table.
    """
    pynwb = _pynwb()
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        units = io.read().units
        if units is None:
            raise ValueError(f"{path} has no units table")
        return [np.asarray(units.get_unit_spike_times(i), dtype=np.float64) * 1e3
                for i in range(len(units))]
