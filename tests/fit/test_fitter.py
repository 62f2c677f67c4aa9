import jax
import matplotlib
import numpy as np
import pytest

import brainsim as bs
from brainsim.datasets import load_idrest
from brainsim.fit import FitResult, SweepData, evaluate, fit_model, simulate

NEURONS = bs.neurons
DT = 0.5
TARGET = NEURONS.LIF(tau_m=15.0, R=0.1, v_th=-52.0)
BOUNDS = {"tau_m": (1.0, 50.0), "v_th": (-60.0, -40.0)}
SETTINGS = dict(n_samples=16, n_starts=2, progress=False)


def _own_sweeps(model, amplitudes, *, noise=0.0, seed=0):
    """A model's own response to 200 ms current steps (pA) as recorded sweeps, with noise (mV)."""
    n = len(amplitudes)
    probe = SweepData(np.full((400, n), amplitudes), spike_times=[[]] * n, dt=DT)
    sim = simulate(model, probe)
    times = [bs.fit.spike_times(sim.spikes[:, i], dt=DT) for i in range(n)]
    v = np.asarray(sim.v) + np.random.default_rng(seed).normal(0.0, noise, sim.v.shape)
    return SweepData(probe.current, v, times, dt=DT, t_start=10.0)


@pytest.fixture(scope="module")
def lif_fit() -> tuple[FitResult, SweepData]:
    data = _own_sweeps(TARGET, [180.0, 250.0], noise=0.5)
    return fit_model(NEURONS.LIF(), BOUNDS, data, steps=80, **SETTINGS), data


def test_synthetic_lif_recovers_tau_m_and_v_th_within_5_percent(lif_fit):
    result, _ = lif_fit
    assert result.values["tau_m"] == pytest.approx(15.0, rel=0.05)
    assert result.values["v_th"] == pytest.approx(-52.0, rel=0.05)
    # noise of sd 0.5 mV: a perfect fit leaves a trace MSE of about 0.25 mV²
    assert result.loss < 1.0


def test_result_holds_best_model_histories_global_stage_and_fitted_traces(lif_fit):
    result, data = lif_fit
    assert result.history.shape == (81, 2)
    assert result.final_losses.shape == (2,)
    assert result.loss == pytest.approx(result.final_losses.min())
    assert np.all(result.final_losses <= np.nanmin(result.history, axis=0) + 1e-6)
    assert result.search_losses.shape == (16,)
    assert result.search_values["tau_m"].shape == (16,)
    assert result.search_values["tau_m"][0] == pytest.approx(10.0)   # the template is a candidate
    best_two = np.sort(result.search_losses)[:2]
    assert np.allclose(np.sort(result.history[0]), best_two, rtol=1e-4)   # refined the best two
    for name, (low, high) in BOUNDS.items():
        assert low < result.search_values[name].min() < result.search_values[name].max() < high
        assert float(getattr(result.model, name)) == pytest.approx(float(result.values[name]))
    assert result.fitted.v.shape == result.fitted.spikes.shape == (400, 2)
    assert result.data is data and result.wall_time > 0
    assert isinstance(result.plot(), matplotlib.figure.Figure)
    matplotlib.pyplot.close("all")


def test_held_out_sweep_is_predicted_by_the_fitted_model(lif_fit):
    result, _ = lif_fit
    held_out = _own_sweeps(TARGET, [215.0])
    report = result.evaluate(held_out)
    # Spike timing over a 200 ms held-out sweep is sensitive to the last per cent of the fit:
    # parameters 0.4-1 % off (well inside the 5 % checked above, and within what float32
    # rounding on another CPU can move) give Γ 0.25-0.33 and RMSE 2.7-3.0 mV here, the exact
    # ones Γ 1. The bounds below hold for both; the exact value is checked with the target.
    assert abs(report.count_error[0]) <= 1
    assert report.gamma[0] > 0.2
    assert report.rmse[0] < 5.0      # mV, spike windows masked
    np.testing.assert_allclose(report.gamma, evaluate(result.model, held_out).gamma)
    summary = report.summary()
    assert set(summary) == {"gamma", "count_error", "relative_count_error", "rmse"}
    own = evaluate(TARGET, held_out)
    assert own.gamma[0] == pytest.approx(1.0) and own.rmse[0] == pytest.approx(0.0, abs=1e-4)


def test_vmapped_multistart_equals_a_loop_over_its_starts():
    data = _own_sweeps(TARGET, [180.0, 250.0])
    batched = fit_model(NEURONS.LIF(), BOUNDS, data, steps=2, **SETTINGS)
    to_model = batched.to_model
    for i in range(2):
        start = to_model(to_model.unconstrained({k: v[i] for k, v in batched.start_values.items()}))
        alone = fit_model(start, BOUNDS, data, steps=2, n_samples=1, n_starts=1, progress=False)
        np.testing.assert_allclose(alone.history[:, 0], batched.history[:, i], rtol=1e-4)
        for name in BOUNDS:
            np.testing.assert_allclose(
                alone.final_values[name][0], batched.final_values[name][i], rtol=1e-4
            )


def test_global_stage_is_reproducible_from_its_key():
    data = _own_sweeps(TARGET, [180.0, 250.0])
    kwargs = dict(n_samples=16, n_starts=1, steps=2, progress=False)
    a, b, c = (
        fit_model(NEURONS.LIF(), BOUNDS, data, key=jax.random.key(seed), **kwargs)
        for seed in (1, 1, 2)
    )
    np.testing.assert_array_equal(a.search_values["tau_m"], b.search_values["tau_m"])
    np.testing.assert_array_equal(a.search_losses, b.search_losses)
    assert not np.allclose(a.search_values["tau_m"][1:], c.search_values["tau_m"][1:])


def test_bad_names_bounds_and_search_ranges_are_refused():
    data = _own_sweeps(TARGET, [250.0])
    with pytest.raises(ValueError, match="no parameter `tau`"):
        fit_model(NEURONS.LIF(), ["tau"], data)
    with pytest.raises(ValueError, match="not strictly inside"):
        fit_model(NEURONS.LIF(), {"tau_m": (20.0, 50.0)}, data)       # tau_m = 10 ms
    with pytest.raises(ValueError, match=r"`b` has no bounds.*search=\{'b'"):
        fit_model(NEURONS.AdEx(), ["b"], data)
    with pytest.raises(ValueError, match="leaves its bounds"):
        fit_model(NEURONS.LIF(), BOUNDS, data, search={"tau_m": (0.5, 20.0)})
    with pytest.raises(ValueError, match="not fitted"):
        fit_model(NEURONS.LIF(), BOUNDS, data, search={"R": (0.05, 0.2)})
    with pytest.raises(ValueError, match="at least `n_starts`"):
        fit_model(NEURONS.LIF(), BOUNDS, data, n_samples=2, n_starts=3)
    with pytest.raises(TypeError, match="SweepData or a Recording"):
        fit_model(NEURONS.LIF(), BOUNDS, np.zeros((10, 1)))


def test_bad_recordings_are_refused():
    current, voltage = np.zeros((100, 2)), np.full((100, 2), -65.0)
    with pytest.raises(ValueError, match="same shape"):
        SweepData(current, voltage[:90], dt=DT)                     # mismatched lengths
    holed = voltage.copy()
    holed[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"`voltage` holds NaN.*\(5, 1\)"):
        SweepData(current, holed, dt=DT)
    with pytest.raises(ValueError, match="NaN"):
        SweepData(current, voltage, [[1.0, np.nan], [2.0, np.inf]], dt=DT)
    with pytest.raises(ValueError, match="2 sweeps"):
        SweepData(current, voltage, [[1.0]], dt=DT)
    with pytest.raises(ValueError, match="voltage.*spike_times"):
        SweepData(current, dt=DT)
    with pytest.raises(ValueError, match="t_start"):
        SweepData(current, voltage, dt=DT, t_start=60.0)
    recording = load_idrest("B6")
    with pytest.raises(ValueError, match="sampling interval 0.25 ms"):
        SweepData.from_recording(recording, dt=0.3)                 # not a multiple of 0.25 ms
    with pytest.raises(ValueError, match="window"):
        SweepData.from_recording(recording, window=(2000.0, 4000.0))


def test_resampled_recording_keeps_charge_spikes_and_window():
    recording = load_idrest("B6")
    data = SweepData.from_recording(recording, [0, 4], dt=1.0, window=(600.0, 1600.0),
                                    t_start=50.0)
    assert data.current.shape == data.voltage.shape == (1000, 2)
    np.testing.assert_allclose(
        np.asarray(data.current).sum(axis=0),
        recording.current[[0, 4], 2400:6400].sum(axis=1) / 4, rtol=1e-5,
    )
    np.testing.assert_array_equal(data.voltage[:, 0], recording.voltage[0, 2400:6400:4])
    full = recording.spike_times()
    for trains, whole in zip(data.trains(), [full[0], full[4]], strict=True):
        inside = whole[(whole >= 600.0) & (whole < 1600.0)]
        np.testing.assert_allclose(trains, inside - 600.0, rtol=1e-6)
    assert data.t_offset == 600.0 and data.t_start == 50.0


def test_fitting_from_an_nwb_file_equals_fitting_from_the_shipped_recording(tmp_path):
    """The shipped B6 sweeps written to NWB and read back fit to the same parameters."""
    recording = load_idrest("B6").select([0])
    path = tmp_path / "b6.nwb"
    bs.nwb.write_current_clamp(path, recording)
    from_nwb = bs.nwb.read_current_clamp(path)
    kwargs = dict(dt=1.0, window=(650.0, 950.0), t_start=20.0)
    direct = SweepData.from_recording(recording, **kwargs)
    via_nwb = SweepData.from_recording(from_nwb, **kwargs)
    np.testing.assert_allclose(via_nwb.current, direct.current, rtol=1e-6)
    settings = dict(steps=10, n_samples=8, n_starts=2, progress=False, key=jax.random.key(0))
    model = NEURONS.LIF(v_rest=-70.0, v_reset=-70.0, v_th=-45.0, R=0.1)
    a = fit_model(model, {"tau_m": (2.0, 60.0), "R": (0.01, 1.0)}, direct, **settings)
    b = fit_model(model, {"tau_m": (2.0, 60.0), "R": (0.01, 1.0)}, via_nwb, **settings)
    for name in ("tau_m", "R"):
        assert float(a.values[name]) == pytest.approx(float(b.values[name]), rel=1e-5)
    assert np.isfinite(a.loss)
