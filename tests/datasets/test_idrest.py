"""The shipped BluePyEfe IDRest recordings: contents, units, spike counts (spec), step estimates."""

import importlib.resources

import numpy as np
import pytest

from brainsim.datasets import Recording, estimate_step, load_idrest, spike_times

# From the spec (specs/fitting.md): steps above holding (pA) and spikes per sweep.
EXPECTED = {
    "B6": (-12.5, [119, 175, 238, 297, 353], [26, 50, 68, 82, 89]),
    "B8": (-53.0, [94, 141, 184, 228, 275], [20, 44, 62, 75, 81]),
    "B95": (-31.0, [38], [9]),
}


@pytest.mark.parametrize("cell", sorted(EXPECTED))
def test_spike_counts_per_step_match_the_spec(cell):
    holding, amplitudes, counts = EXPECTED[cell]
    recording = load_idrest(cell)
    assert [len(s) for s in recording.spike_times()] == counts
    # The counts do not hinge on the threshold: every action potential peaks above +10 mV.
    assert [len(s) for s in recording.spike_times(threshold=-30.0)] == counts
    # Steps and holding, estimated from the recorded current (quantised in ~3.1 pA steps).
    np.testing.assert_allclose(recording.amplitudes, amplitudes, atol=2.0)
    np.testing.assert_allclose(recording.holding, holding, atol=2.0)


@pytest.mark.parametrize("cell", sorted(EXPECTED))
def test_protocol_is_a_2_s_step_from_700_ms_in_3_s_sweeps_at_4_khz(cell):
    recording = load_idrest(cell)
    assert isinstance(recording, Recording) and recording.cell == cell
    assert recording.dt == 0.25
    assert recording.current.shape == recording.voltage.shape == (len(EXPECTED[cell][2]), 12_000)
    assert recording.current.dtype == recording.voltage.dtype == np.float32
    np.testing.assert_array_equal(recording.time, np.arange(12_000) * 0.25)
    np.testing.assert_allclose(recording.step_start, 700.0, atol=1.0)
    np.testing.assert_allclose(recording.step_end, 2700.0, atol=1.0)
    for times, start, end in zip(recording.spike_times(), recording.step_start,
                                 recording.step_end, strict=True):
        assert start < times[0] and times[-1] < end  # spikes only during the step
    # Raw voltage: rest about -70 mV before the step (liquid-junction potential not corrected).
    rest = recording.voltage[:, recording.time < 690.0].mean(axis=1)
    assert np.all((rest > -80.0) & (rest < -60.0))


def test_sweeps_are_in_order_of_increasing_step_with_their_source_numbers():
    recording = load_idrest("B8")
    np.testing.assert_array_equal(recording.sweep_ids, [145, 146, 147, 148, 149])
    assert np.all(np.diff(recording.amplitudes) > 0)


def test_select_keeps_sweeps_aligned_and_rejects_positions_out_of_range():
    recording = load_idrest("B6")
    held_out = recording.select([4, 0])
    np.testing.assert_array_equal(held_out.sweep_ids, [185, 181])
    np.testing.assert_array_equal(held_out.voltage[0], recording.voltage[4])
    np.testing.assert_array_equal(held_out.current[1], recording.current[0])
    assert held_out.amplitudes[0] == recording.amplitudes[4] and held_out.n_sweeps == 2
    with pytest.raises(ValueError, match="0..4"):
        recording.select([5])


def test_shipped_file_is_small_and_attributed():
    data = importlib.resources.files("brainsim.datasets")
    assert len(data.joinpath("bluepyefe_idrest.npz").read_bytes()) < 1_500_000
    attribution = data.joinpath("ATTRIBUTION.md").read_text()
    for phrase in ("BluePyEfe 2.3.63", "BSD", "10.5281/zenodo", "14 mV", "voltage - 14.0"):
        assert phrase in attribution


def test_unknown_cell_is_refused_naming_the_shipped_cells():
    with pytest.raises(ValueError, match="'B7'.*B6, B8, B95"):
        load_idrest("B7")


def test_spike_times_interpolate_upward_crossings_only():
    v = np.array([-70.0, -30.0, 10.0, 20.0, -60.0, -20.0, -70.0])
    # One crossing of -20 mV between samples 1 and 2 (a quarter of the way); the return to
    # exactly -20 mV at sample 5 is a crossing too (from below to at-or-above).
    np.testing.assert_allclose(spike_times(v, dt=0.5), [0.625, 2.5])
    assert spike_times(np.full(10, -70.0), dt=0.5).size == 0
    per_sweep = spike_times(np.stack([v, v + 100.0]), dt=0.5)
    assert len(per_sweep) == 2 and per_sweep[1].size == 0  # always above: no crossing


def test_spike_times_rejects_bad_shapes_and_dt():
    with pytest.raises(ValueError, match="shape"):
        spike_times(np.zeros((2, 2, 2)), dt=0.1)
    with pytest.raises(ValueError, match="dt"):
        spike_times(np.zeros(5), dt=0.0)


def test_estimate_step_finds_hyperpolarising_steps_and_no_step_in_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 3.0, 8000)
    current = -20.0 + noise
    current[2000:6000] -= 50.0
    holding, amplitude, start, end = estimate_step(current, dt=0.1)
    assert abs(holding + 20.0) < 0.5 and abs(amplitude + 50.0) < 0.5
    assert abs(start - 200.0) <= 0.2 and abs(end - 600.0) <= 0.2
    holding, amplitude, start, end = estimate_step(-20.0 + noise, dt=0.1)
    assert amplitude == 0.0 and np.isnan(start) and np.isnan(end)
    with pytest.raises(ValueError, match="NaN"):
        estimate_step(np.full(100, np.nan), dt=0.1)


def test_from_sweeps_checks_shapes_and_nan_and_estimates_steps():
    recording = load_idrest("B95")
    rebuilt = Recording.from_sweeps(recording.current, recording.voltage, recording.dt,
                                    cell="B95", sweep_ids=recording.sweep_ids)
    for name in Recording._fields:
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(recording, name))
    with pytest.raises(ValueError, match="same shape"):
        Recording.from_sweeps(np.zeros((2, 100)), np.zeros((2, 99)), 0.1)
    voltage = np.zeros((2, 100))
    voltage[1, 7] = np.nan
    with pytest.raises(ValueError, match=r"voltage has NaN.*\(1, 7\)"):
        Recording.from_sweeps(np.zeros((2, 100)), voltage, 0.1)
