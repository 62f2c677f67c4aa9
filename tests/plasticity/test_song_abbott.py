"""Song, Miller & Abbott (2000): additive STDP on 1000 Poisson inputs makes the weights bimodal.

The experiment is the network of `examples/song_miller_abbott.py` (public API only: a Poisson
population, one conductance-based LIF, a plastic `Projection`), run with `bs.run` and compared
with the Brian2 reference `tests/reference/brian2_song_abbott.npz`: 8 independent trials of the
same discrete model (see `make_brian2_song_abbott_ref.py`). The tolerances come from the
reference's trial-to-trial spread: if both simulators compute the same model, one brainsim
trial minus the mean of `n` reference trials has standard deviation `sd sqrt(1 + 1/n)`, and we
allow `N_SD = 4` of them. Seeds are fixed, so a run is deterministic; 4 standard deviations
leave room for random streams that differ between platforms. The negative controls check that
these tolerances reject a wrong depression/potentiation ratio.
"""

from __future__ import annotations

import importlib.util
import pathlib

import jax
import numpy as np
import pytest

import brainsim as bs

REFERENCE = np.load(pathlib.Path(__file__).resolve().parents[1] / "reference"
                    / "brian2_song_abbott.npz")  # fmt: skip
N_INPUTS = 1000
RATE = 15.0  # Hz
G_MAX = 0.01  # units of the leak conductance
DT = 0.1  # ms
SNAPSHOT_S = float(REFERENCE["snapshot_t"][1] - REFERENCE["snapshot_t"][0])  # s
N_SD = 4.0
PROJECTION = "inputs->neuron"


def _load_example():
    """examples/song_miller_abbott.py, whose `song_abbott_network` builds the experiment."""
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "song_miller_abbott.py"
    spec = importlib.util.spec_from_file_location("song_miller_abbott", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _network(key, depression_ratio: float) -> bs.Network:
    """1000 Poisson inputs at 15 Hz onto one LIF (`tau_m dv/dt = (E_L - v) + g (E_e - v)`,
    conductance in units of the leak, so `R = 1`), additive pair STDP with
    `A_minus = depression_ratio A_plus` and `tau_plus = tau_minus = 20 ms`: the example's
    network with every constant of the experiment given here."""
    return _load_example().song_abbott_network(
        key, n_inputs=N_INPUTS, rate=RATE, g_max=G_MAX, A_plus=0.01 * G_MAX,
        depression_ratio=depression_ratio,
    )  # fmt: skip


def _fractions(w) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of the weights (last axis) below 0.1 g_max and above 0.9 g_max."""
    w = np.asarray(w)
    return np.mean(w < 0.1 * G_MAX, axis=-1), np.mean(w > 0.9 * G_MAX, axis=-1)


def _simulate(seed: int, duration_s: float, depression_ratio: float = 1.05) -> dict:
    """Final weights, output rate (Hz) per `SNAPSHOT_S` window, and the end-decile fractions
    and mean weight at the snapshot times `SNAPSHOT_S, 2 SNAPSHOT_S, ...` (s)."""
    k_weights, k_state = jax.random.split(jax.random.key(seed))
    network = _network(k_weights, depression_ratio)
    result = bs.run(network, network.init(k_state), dt=DT, duration=duration_s * 1000,
                    record=["neuron.spikes", f"synapses.{PROJECTION}.weights"],
                    every=round(SNAPSHOT_S * 1000 / DT), progress=False)  # fmt: skip
    edges = np.arange(0.0, duration_s + SNAPSHOT_S / 2, SNAPSHOT_S) * 1000
    counts, _ = np.histogram(result.spikes["neuron.spikes"].times, edges)
    history = np.asarray(result.traces[f"synapses.{PROJECTION}.weights"])[..., 0]
    low, high = _fractions(history)
    return {
        "final": np.asarray(result.final_state["synapses"][PROJECTION].weights)[:, 0],
        "window_rate": counts / SNAPSHOT_S,
        "t": np.asarray(result.t) / 1000,
        "low": low,
        "high": high,
        "mean_w": history.mean(axis=-1),
    }


def _tolerance(reference_values) -> float:
    """`N_SD` standard deviations of one trial minus the mean of the reference trials."""
    values = np.asarray(reference_values)
    return N_SD * float(np.std(values, ddof=1)) * np.sqrt(1 + 1 / values.size)


def _deviations_at(run: dict, t_s: float, rate_window_s: float = 20.0) -> dict:
    """`{statistic: (|brainsim - Brian2 mean|, tolerance)}` at time `t_s` (s): the end-decile
    fractions and the mean weight at `t_s`, and the output rate over the `rate_window_s`
    seconds before it (the early rate depends much on the initial weights)."""
    k_ref = int(np.flatnonzero(np.isclose(REFERENCE["snapshot_t"], t_s))[0])
    k_run = int(np.flatnonzero(np.isclose(run["t"], t_s))[0])
    last = round(t_s / SNAPSHOT_S)
    first = max(0, last - round(rate_window_s / SNAPSHOT_S))
    pairs = {
        "lowest decile": (run["low"][k_run], REFERENCE["snapshot_low"][:, k_ref]),
        "highest decile": (run["high"][k_run], REFERENCE["snapshot_high"][:, k_ref]),
        "mean weight": (run["mean_w"][k_run], REFERENCE["snapshot_mean_w"][:, k_ref]),
        "rate": (run["window_rate"][first:last].mean(),
                 REFERENCE["snapshot_rate"][:, first:last].mean(axis=1)),
    }  # fmt: skip
    return {k: (abs(float(v) - float(np.mean(r))), _tolerance(r)) for k, (v, r) in pairs.items()}


def _histogram(w, bins: int = 10) -> np.ndarray:
    return np.histogram(np.asarray(w) / G_MAX, bins=bins, range=(0.0, 1.0))[0] / np.size(w)


def _total_variation(p, q) -> float:
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


def test_reference_holds_the_constants_of_the_experiment():
    expected = {"p_tau_m": 10.0, "p_E_L": -74.0, "p_v_th": -54.0, "p_v_reset": -60.0,
                "p_E_e": 0.0, "p_tau_e": 5.0, "p_g_max": G_MAX, "p_tau_plus": 20.0,
                "p_tau_minus": 20.0, "p_A_plus": 0.01 * G_MAX, "p_A_minus": 1.05e-2 * G_MAX,
                "input_rate": RATE, "dt_ms": DT, "n_inputs": N_INPUTS}  # fmt: skip
    for key, value in expected.items():
        assert float(REFERENCE[key]) == pytest.approx(value, rel=1e-12), key
    assert REFERENCE["final_weights"].shape == (int(REFERENCE["n_trials"]), N_INPUTS)


def test_end_deciles_and_rate_follow_brian2_over_the_first_30_s():
    run = _simulate(seed=0, duration_s=30.0)
    for name, (deviation, tolerance) in _deviations_at(run, 30.0).items():
        assert deviation <= tolerance, (name, deviation, tolerance)
    # Competition has started: both ends already hold clearly more than the uniform 10 %.
    k = int(np.flatnonzero(np.isclose(run["t"], 30.0))[0])
    assert run["low"][k] > 0.14 and run["high"][k] > 0.115


@pytest.mark.parametrize("depression_ratio", [1.0, 1.1])
def test_wrong_depression_ratio_is_rejected_by_the_comparison(depression_ratio):
    """Symmetric STDP (no net depression) runs away to high rates and weights; 10 % instead of
    5 % extra depression lowers the mean weight and the rate. The comparison with Brian2 must
    reject both."""
    run = _simulate(seed=0, duration_s=30.0, depression_ratio=depression_ratio)
    deviations = _deviations_at(run, 30.0)
    rejected = {name for name, (deviation, tolerance) in deviations.items()
                if deviation > tolerance}  # fmt: skip
    expected = set(deviations) if depression_ratio == 1.0 else {"mean weight", "rate"}
    assert expected <= rejected, deviations


@pytest.fixture(scope="module")
def full_run() -> dict:
    """The whole experiment: 100 s (about 10 to 30 s of run time on one CPU core)."""
    return _simulate(seed=0, duration_s=float(REFERENCE["duration_s"]))


@pytest.mark.slow
def test_final_weights_are_bimodal(full_run):
    """After 100 s about a fifth to a quarter of the synapses lie in each end decile of
    [0, g_max], and each decile of the middle (0.2 to 0.8 g_max) holds less than half as many
    as either end."""

    def trough(hist):  # each decile in 0.2-0.8 g_max below half of either end decile
        return bool(np.all(hist[2:-2] < 0.5 * min(hist[0], hist[-1])))

    assert all(trough(_histogram(w)) for w in REFERENCE["final_weights"])  # the criterion holds
    hist = _histogram(full_run["final"])
    assert hist[0] >= 0.18 and hist[-1] >= 0.15, hist
    assert trough(hist), hist


@pytest.mark.slow
def test_final_weights_and_rate_match_brian2(full_run):
    """End deciles, output rate and the weight histogram after 100 s agree with Brian2, and so
    do the end deciles, the mean weight and the rate every 5 s on the way."""
    duration = float(REFERENCE["duration_s"])
    ref_low, ref_high = _fractions(REFERENCE["final_weights"])
    low, high = _fractions(full_run["final"])
    rate = full_run["window_rate"].mean()
    for name, value, reference in (("lowest decile", low, ref_low),
                                   ("highest decile", high, ref_high),
                                   ("rate", rate, REFERENCE["rate"])):  # fmt: skip
        deviation = abs(float(value) - float(np.mean(reference)))
        assert deviation <= _tolerance(reference), (name, value, np.mean(reference))
    for t in REFERENCE["snapshot_t"][1:]:
        for name, (deviation, tolerance) in _deviations_at(full_run, float(t)).items():
            assert deviation <= tolerance, (float(t), name, deviation, tolerance)
    # Histogram distance: one reference trial against the mean of the others measures how far
    # apart two realisations of the same model fall; brainsim may be 1.5 times the farthest.
    ref_hists = np.array([_histogram(w) for w in REFERENCE["final_weights"]])
    leave_one_out = [
        _total_variation(ref_hists[k], np.delete(ref_hists, k, axis=0).mean(axis=0))
        for k in range(len(ref_hists))
    ]
    distance = _total_variation(_histogram(full_run["final"]), ref_hists.mean(axis=0))
    assert distance <= 1.5 * max(leave_one_out), (distance, leave_one_out)
    assert full_run["t"][-1] == pytest.approx(duration)
