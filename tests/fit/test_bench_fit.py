"""bench/fit.py's helpers: the peer's simulation is scored exactly as brainsim's, and the data
the peer reads hold the bounds and fixed values of the fit."""

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import brainsim as bs
from brainsim.datasets import load_idrest
from brainsim.fit import SweepData, evaluate, simulate, spike_times

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench" / "fit.py"


@pytest.fixture(scope="module")
def bench_fit():
    spec = importlib.util.spec_from_file_location("bench_fit", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sweeps():
    recording = load_idrest("B6")
    return [SweepData.from_recording(recording, sweeps, dt=1.0, window=(650.0, 1150.0),
                                     t_start=20.0) for sweeps in ([2, 4], [1])]


def adex():
    """About brainsim's fit to cell B6 (bench/fit.py): it fires 15-25 spikes a sweep here."""
    return bs.neurons.AdEx(C=170.0, g_L=7.7, E_L=-68.4, V_T=-38.9, delta_T=2.0, a=-7.3,
                           tau_w=172.0, b=21.6, V_r=-47.4, V_peak=-30.0)


def test_replayed_simulation_scores_exactly_as_the_model_it_replays(bench_fit, sweeps):
    data, _ = sweeps
    model = adex()
    sim = simulate(model, data)
    trains = [spike_times(np.asarray(sim.spikes[:, i]), dt=data.dt) for i in range(2)]
    padded = np.full((2, max([len(t) for t in trains] + [1])), np.inf)
    for row, train in zip(padded, trains, strict=True):
        row[: len(train)] = train
    replay = bench_fit.Replay.from_spike_times(sim.v, padded, dt=data.dt)
    direct, replayed = evaluate(model, data), evaluate(replay, data)
    assert direct.n_model.min() > 5  # the comparison sees spikes
    np.testing.assert_array_equal(replayed.n_model, direct.n_model)
    np.testing.assert_array_equal(replayed.gamma, direct.gamma)
    np.testing.assert_array_equal(replayed.rmse, direct.rmse)
    scores = bench_fit.held_out_scores(direct)
    error = 1 - direct.gamma + 2 * np.abs(direct.count_error) / direct.n_data
    assert scores["gamma_error"] == pytest.approx(error.mean(), abs=1e-4)


def test_replay_rejects_another_number_of_sweeps(bench_fit, sweeps):
    data, _ = sweeps
    replay = bench_fit.Replay.from_spike_times(np.zeros((data.n_samples, 2)),
                                               np.full((2, 1), np.inf), dt=data.dt)
    with pytest.raises(ValueError, match="holds 2 sweeps, not 3"):
        replay.init(3)


def test_export_holds_bounds_fixed_values_and_both_sweep_sets(bench_fit, sweeps, tmp_path):
    train, test = sweeps
    ranges = {"C": (50.0, 800.0), "V_T": (-55.0, -35.0)}
    path = tmp_path / "sweeps.npz"
    bench_fit.export_sweeps(path, train, test, adex(), ranges)
    with np.load(path) as data:
        assert data["fit_names"].tolist() == ["C", "V_T"]
        assert data["fit_low"].tolist() == [50.0, -55.0]
        assert data["fit_high"].tolist() == [800.0, -35.0]
        fixed = dict(zip(data["fixed_names"].tolist(), data["fixed_values"].tolist(), strict=True))
        assert fixed["V_peak"] == -30.0 and fixed["delta_T"] == 2.0 and "C" not in fixed
        assert data["train_current"].shape == (500, 2) and data["test_voltage"].shape == (500, 1)
        np.testing.assert_array_equal(data["test_spikes"], np.asarray(test.spike_times))
        assert float(data["dt"]) == 1.0 and float(data["t_start"]) == 20.0


def test_export_rejects_a_refractory_template(bench_fit, sweeps, tmp_path):
    train, test = sweeps
    with pytest.raises(ValueError, match="no refractory period"):
        bench_fit.export_sweeps(tmp_path / "x.npz", train, test,
                                bs.neurons.AdEx(t_ref=2.0), {"C": (50.0, 800.0)})
