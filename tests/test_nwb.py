"""brainsim.nwb: current-clamp recordings and simulations to NWB and back (needs pynwb, in dev)."""

import datetime
import sys

import numpy as np
import pynwb
import pytest
from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

from brainsim import SpikeEvents
from brainsim.datasets import Recording, load_idrest
from brainsim.nwb import (
    read_current_clamp,
    read_spike_trains,
    write_current_clamp,
    write_simulation,
)

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def _assert_recordings_equal(read, expected, rtol):
    assert read.cell == expected.cell and read.dt == pytest.approx(expected.dt, rel=1e-12)
    for name in ("time", "current", "voltage", "sweep_ids", "holding", "amplitudes",
                 "step_start", "step_end"):
        np.testing.assert_allclose(getattr(read, name), getattr(expected, name), rtol=rtol,
                                   atol=0, err_msg=name)


def test_round_trip_of_a_recording_is_equal_to_float32_rounding(tmp_path):
    rng = np.random.default_rng(1)
    current = rng.normal(-20.0, 3.0, (3, 2000)).astype(np.float32)
    current[:, 500:1500] += np.array([[50.0], [100.0], [150.0]], dtype=np.float32)
    voltage = rng.normal(-65.0, 1.0, (3, 2000)).astype(np.float32)
    recording = Recording.from_sweeps(current, voltage, 0.1, cell="cell_1", sweep_ids=[7, 8, 9])
    write_current_clamp(tmp_path / "r.nwb", recording, session_start_time=START)
    # The samples are stored as given, with conversion factors: back to rounding of the
    # float64 product (relative 1e-7 of float32).
    _assert_recordings_equal(read_current_clamp(tmp_path / "r.nwb"), recording, rtol=1e-6)


def test_shipped_b6_recordings_converted_to_nwb_load_back_equal_to_the_npz(tmp_path):
    b6 = load_idrest("B6")
    write_current_clamp(tmp_path / "b6.nwb", b6, description="BluePyEfe IDRest, cell B6")
    read = read_current_clamp(tmp_path / "b6.nwb")
    _assert_recordings_equal(read, b6, rtol=1e-6)
    assert [len(s) for s in read.spike_times()] == [26, 50, 68, 82, 89]


def test_simulated_traces_and_spike_trains_are_written_in_si_units(tmp_path):
    time = 5.0 + 0.5 * np.arange(1, 41)
    voltage = np.linspace(-70.0, -50.0, 120, dtype=np.float32).reshape(40, 3)
    spikes = SpikeEvents(times=np.array([6.0, 9.5, 12.25]), indices=np.array([2, 0, 2]), n=3)
    write_simulation(tmp_path / "sim.nwb", time=time, voltage=voltage, spikes=spikes)
    trains = read_spike_trains(tmp_path / "sim.nwb")
    assert len(trains) == 3 and trains[1].size == 0
    np.testing.assert_allclose(trains[0], [9.5], rtol=1e-12)
    np.testing.assert_allclose(trains[2], [6.0, 12.25], rtol=1e-12)
    with pynwb.NWBHDF5IO(str(tmp_path / "sim.nwb"), "r") as io:
        series = io.read().acquisition["membrane_potential"]
        assert series.unit == "volts" and series.rate == pytest.approx(2000.0)
        assert series.starting_time == pytest.approx(5.5e-3)
        np.testing.assert_allclose(series.data[:] * series.conversion, voltage * 1e-3, rtol=1e-6)


def _write_file(path, stimulus_rate, response_rate, *, stimulus=True, electrodes=("cell",)):
    nwbfile = pynwb.NWBFile(session_description="test", identifier="test",
                            session_start_time=START)
    device = nwbfile.create_device(name="amplifier")
    for sweep, name in enumerate(electrodes):
        electrode = nwbfile.create_icephys_electrode(name=name, description="e", device=device)
        common = dict(electrode=electrode, sweep_number=np.uint32(sweep), gain=1.0)
        nwbfile.add_acquisition(CurrentClampSeries(
            name=f"response_{sweep}", data=np.full(100, -0.07), rate=response_rate, **common))
        if stimulus:
            nwbfile.add_stimulus(CurrentClampStimulusSeries(
                name=f"stimulus_{sweep}", data=np.zeros(100), rate=stimulus_rate, **common))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def test_stimulus_paired_by_sweep_number_when_the_file_has_no_recordings_table(tmp_path):
    _write_file(tmp_path / "f.nwb", 10_000.0, 10_000.0)
    recording = read_current_clamp(tmp_path / "f.nwb")
    assert recording.dt == pytest.approx(0.1) and recording.cell == "cell"
    np.testing.assert_allclose(recording.voltage, -70.0, rtol=1e-6)


def test_mismatched_sampling_rates_of_stimulus_and_response_are_refused(tmp_path):
    _write_file(tmp_path / "f.nwb", 10_000.0, 4_000.0)
    message = "'stimulus_0' is sampled at 10000 Hz but its response 'response_0' at 4000 Hz"
    with pytest.raises(ValueError, match=message):
        read_current_clamp(tmp_path / "f.nwb")


def test_response_without_stimulus_is_refused_naming_it(tmp_path):
    _write_file(tmp_path / "f.nwb", 10_000.0, 10_000.0, stimulus=False)
    with pytest.raises(ValueError, match="'response_0' has no stimulus"):
        read_current_clamp(tmp_path / "f.nwb")


def test_several_electrodes_need_one_chosen(tmp_path):
    _write_file(tmp_path / "f.nwb", 10_000.0, 10_000.0, electrodes=("a", "b"))
    with pytest.raises(ValueError, match=r"several electrodes \(a, b\); pass electrode="):
        read_current_clamp(tmp_path / "f.nwb")
    assert read_current_clamp(tmp_path / "f.nwb", electrode="b").sweep_ids.tolist() == [1]
    with pytest.raises(ValueError, match="for electrode 'c'"):
        read_current_clamp(tmp_path / "f.nwb", electrode="c")


def test_file_without_current_clamp_series_or_units_is_refused(tmp_path):
    write_simulation(tmp_path / "sim.nwb", time=np.arange(3.0), voltage=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="no CurrentClampSeries"):
        read_current_clamp(tmp_path / "sim.nwb")
    with pytest.raises(ValueError, match="no units table"):
        read_spike_trains(tmp_path / "sim.nwb")


def test_write_simulation_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="nothing to write"):
        write_simulation(tmp_path / "x.nwb")
    with pytest.raises(ValueError, match=r"\(samples, n\)"):
        write_simulation(tmp_path / "x.nwb", time=np.arange(3.0), voltage=np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(5, 2\); from a \(steps, n\) 0/1 raster"):
        write_simulation(tmp_path / "x.nwb", spikes=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="a list of arrays"):  # one train, not one per neuron
        write_simulation(tmp_path / "x.nwb", spikes=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="regularly spaced"):
        write_simulation(tmp_path / "x.nwb", time=np.array([0.0, 1.0, 3.0]),
                         voltage=np.zeros((3, 1)))


def test_missing_pynwb_names_the_nwb_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(ImportError, match=r"brainsim\[nwb\]"):
        read_current_clamp(tmp_path / "f.nwb")
