"""brainsim.analysis against Elephant 1.2.1 on the same spike trains
(tests/reference/make_elephant_refs.py). Where the definitions match, the numbers agree to
float32 rounding; the Gaussian rate differs by how the kernel is discretised (see there)."""

import pathlib

import numpy as np
import pytest

from brainsim import analysis

REF = np.load(pathlib.Path(__file__).resolve().parents[1] / "reference" / "elephant_analysis.npz")
N = int(REF["indices"].max()) + 1
T_STOP = float(REF["t_stop"])
SPIKES = (REF["times"], REF["indices"], N)
TRAINS = [REF["times"][REF["indices"] == i] for i in range(N)]


@pytest.mark.parametrize("name", ["cv", "cv2", "lv"])
def test_interval_statistics_equal_elephant(name):
    # float64 on both sides: only summation order differs
    np.testing.assert_allclose(getattr(analysis, name)(SPIKES), REF[name], rtol=1e-12)


def test_fano_factor_equals_elephant_on_the_windows():
    fano = analysis.fano_factor(SPIKES, float(REF["fano_window"]), t_stop=T_STOP)
    np.testing.assert_allclose(fano, REF["fano"], rtol=1e-5)        # float32 counts


def test_correlation_matrix_equals_elephant():
    c = analysis.correlation_matrix(SPIKES, float(REF["corr_bin"]), t_stop=T_STOP)
    np.testing.assert_allclose(c, REF["corrcoef"], atol=1e-5)


def test_cross_correlogram_equals_elephant_and_peaks_at_the_delay():
    i, j = REF["cch_pair"]
    lags, cch = analysis.cross_correlogram(TRAINS[i], TRAINS[j], 1.0, 20.0, t_stop=T_STOP)
    np.testing.assert_array_equal(lags, REF["cch_lags"])
    np.testing.assert_allclose(cch, REF["cch"], atol=1e-3)          # integer counts via FFT
    assert lags[np.argmax(cch)] == 7.0                               # train 4 is train 0 + 7.3 ms


def test_spike_time_tiling_equals_elephant():
    dt = float(REF["sttc_dt"])
    ours = [analysis.spike_time_tiling(TRAINS[i], TRAINS[j], dt=dt, t_stop=T_STOP)
            for i, j in REF["sttc_pairs"]]
    np.testing.assert_allclose(ours, REF["sttc"], rtol=1e-12, atol=1e-14)


def test_binned_rate_equals_elephant_time_histogram():
    t, rate = analysis.population_rate(SPIKES, 1.0, t_stop=T_STOP)
    np.testing.assert_allclose(rate, REF["histogram_rate"], rtol=1e-6)
    np.testing.assert_allclose(t, np.arange(T_STOP) + 0.5)


def test_gaussian_rate_matches_elephant_away_from_the_ends():
    """Elephant samples the continuous density (1/s) on the grid, ours is normalised to sum 1
    on it: they differ by the Riemann error of the kernel's integral (3e-4 here); within 4
    sigma of the ends Elephant also truncates differently."""
    sigma = float(REF["gaussian_sigma"])
    _, rate = analysis.population_rate(SPIKES, 1.0, kernel="gaussian", width=sigma,
                                       t_stop=T_STOP)
    inner = slice(int(4 * sigma), -int(4 * sigma))
    error = np.abs(np.asarray(rate) - REF["gaussian_rate"])[inner]
    assert error.max() < 1e-3 * REF["gaussian_rate"].mean()


@pytest.mark.parametrize(("key", "options"), [("psd", {}),
                                              ("psd256", {"segment": 256.0, "overlap": 0.25})])
def test_power_spectrum_equals_elephant_welch(key, options):
    freqs, psd = analysis.power_spectrum(REF["histogram_rate"], 1.0, **options)
    np.testing.assert_allclose(freqs, REF[f"{key}_freqs"], rtol=1e-12)
    np.testing.assert_allclose(psd, REF[key], rtol=1e-5, atol=1e-6 * REF[key].max())


def test_spike_triggered_average_equals_elephant():
    lags, sta = analysis.spike_triggered_average(REF["signal"], TRAINS[0],
                                                 dt=float(REF["signal_dt"]),
                                                 window=tuple(REF["sta_window"]))
    np.testing.assert_allclose(lags, -10.0 + 0.5 * np.arange(44))
    np.testing.assert_allclose(sta, REF["sta"], atol=1e-4)   # float32 sums of a random walk
