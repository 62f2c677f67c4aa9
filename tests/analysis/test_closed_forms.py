"""brainsim.analysis against closed forms: Poisson and gamma processes, a sinusoidal rate, a
delayed copy, identical and independent trains, linear signals."""

import numpy as np
import pytest

from brainsim import analysis

N, DURATION = 50, 20_000.0          # 50 neurons, 20 s


def _poisson(rng, rate, n=N, duration=DURATION):
    counts = rng.poisson(rate * duration / 1000, n)
    times = rng.uniform(0, duration, counts.sum())
    return times, np.repeat(np.arange(n), counts), n


def _gamma(rng, rate, order, n=N, duration=DURATION):
    intervals = rng.gamma(order, 1000 / rate / order, (n, int(2 * rate * duration / 1000)))
    times = np.cumsum(intervals, 1)
    keep = times < duration
    return times[keep], np.nonzero(keep)[0], n


def test_poisson_trains_have_cv_cv2_lv_and_fano_of_one():
    """20 Hz for 20 s: m ~ 400 intervals per neuron, 50 neurons. The sample CV of exponential
    intervals has standard deviation ~ 1/sqrt(m) per neuron, the CV2 and LV terms variances 1/3
    and 4/5 (from U = I_1 / (I_1 + I_2) uniform); the Fano factor over K = 200 windows has
    variance 2/(K-1) and mean 1 - 1/K. Tolerances are 5 standard deviations of the mean over
    neurons (plus the O(1/m) bias of the CV)."""
    spikes = _poisson(np.random.default_rng(0), 20.0)
    m, k = 400, 200
    assert abs(np.nanmean(analysis.cv(spikes)) - 1) < 5 / np.sqrt(N * m) + 1 / m
    assert abs(np.nanmean(analysis.cv2(spikes)) - 1) < 5 * np.sqrt(2 / 3 / (N * m))
    assert abs(np.nanmean(analysis.lv(spikes)) - 1) < 5 * np.sqrt(2 * 0.8 / (N * m))
    fano = analysis.fano_factor(spikes, DURATION / k, t_stop=DURATION)
    assert abs(float(np.mean(fano)) - (1 - 1 / k)) < 5 * np.sqrt(2 / (k - 1) / N)


def test_gamma_trains_have_cv_one_over_root_order_and_a_clock_zero():
    spikes = _gamma(np.random.default_rng(1), 20.0, order=4)
    assert abs(np.nanmean(analysis.cv(spikes)) - 0.5) < 0.02    # ~ 10 sd of the mean over 50
    clock = np.arange(0.0, 1000.0, 10.0)
    assert analysis.cv(clock)[0] == pytest.approx(0, abs=1e-12)
    assert analysis.cv2(clock)[0] == pytest.approx(0, abs=1e-12)
    assert analysis.lv(clock)[0] == pytest.approx(0, abs=1e-12)


def test_neurons_with_too_few_intervals_get_nan():
    spikes = (np.array([1.0, 5.0, 2.0, 4.0, 9.0]), np.array([0, 0, 1, 1, 1]), 3)
    values = analysis.cv(spikes)
    assert np.isnan(values[0]) and np.isfinite(values[1]) and np.isnan(values[2])
    assert np.isnan(analysis.cv(spikes, min_intervals=3)[1])


def test_sinusoidal_rate_shows_its_frequency_in_the_spectrum():
    """Inhomogeneous Poisson spikes, rate 30 + 20 sin(2π 40 Hz t), 200 neurons for 4 s: the
    population rate's spectrum peaks at 40 Hz (resolution 2 Hz with 500 ms segments), and the
    peak's power matches the modulation: a sinusoid of amplitude A has spectral power A² / 2,
    spread by the Hann window over bins whose density sums to A² / 2 / df."""
    rng = np.random.default_rng(2)
    n, duration, dt = 200, 4000.0, 1.0
    grid = np.arange(0, duration, 0.1)
    rate = 30 + 20 * np.sin(2 * np.pi * 40 * grid / 1000)
    fired = rng.random((grid.size, n)) < rate[:, None] * 1e-4
    steps, neurons = np.nonzero(fired)
    _, population = analysis.population_rate((grid[steps], neurons, n), dt, t_stop=duration)
    freqs, psd = analysis.power_spectrum(population, dt, segment=500.0)
    assert freqs[np.argmax(psd[1:]) + 1] == 40.0
    near = np.abs(freqs - 40.0) <= 6.0
    power = float(np.sum(psd[near]) * (freqs[1] - freqs[0]))
    assert power == pytest.approx(20.0**2 / 2, rel=0.1)


def test_cross_correlogram_of_a_delayed_copy_peaks_at_the_delay():
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 10_000.0, 300))
    for delay in (-4.0, 0.0, 6.0):     # every spike of the copy inside [0, 11 s)
        lags, cch = analysis.cross_correlogram(times, times + delay, 1.0, 20.0, t_stop=11_000.0)
        assert lags[np.argmax(cch)] == delay
        chance = 300 * 300 / 11_000                   # coincidences per 1 ms lag by chance
        assert 300 + chance - 5 * np.sqrt(chance) < float(cch.max()) < 300 + 5 * chance


def test_population_counts_correlations_of_copies_and_independent_trains():
    rng = np.random.default_rng(4)
    a, b = np.sort(rng.uniform(0, 5000.0, 250)), np.sort(rng.uniform(0, 5000.0, 250))
    spikes = (np.concatenate([a, a, b]), np.repeat([0, 1, 2], 250), 3)
    c = np.asarray(analysis.correlation_matrix(spikes, 10.0, t_stop=5000.0))
    assert c[0, 1] == pytest.approx(1.0, abs=1e-6)
    assert abs(c[0, 2]) < 5 / np.sqrt(500)             # 500 bins of independent counts


def test_sttc_is_one_for_identical_and_near_zero_for_independent_trains():
    rng = np.random.default_rng(5)
    a, b = np.sort(rng.uniform(0, 20_000.0, 400)), np.sort(rng.uniform(0, 20_000.0, 100))
    assert analysis.spike_time_tiling(a, a, dt=5.0, t_stop=20_000.0) == 1.0
    assert abs(analysis.spike_time_tiling(a, b, dt=5.0, t_stop=20_000.0)) < 0.1
    assert np.isnan(analysis.spike_time_tiling(a, np.array([]), t_stop=20_000.0))


def test_gaussian_smoothing_keeps_the_spike_count():
    rng = np.random.default_rng(6)
    times = rng.uniform(200.0, 800.0, 100)
    for kernel, width in (("gaussian", 10.0), ("exponential", 5.0), ("box", 20.0)):
        t, rate = analysis.population_rate((times, np.zeros(100, int), 4), 1.0, kernel=kernel,
                                           width=width, t_stop=1000.0)
        assert float(np.sum(rate)) * 1e-3 * 4 == pytest.approx(100.0, rel=1e-5)


def test_exponential_kernel_is_causal_and_gaussian_centred():
    spike = (np.array([500.5]), np.array([0]), 1)
    t, rate = analysis.population_rate(spike, 1.0, kernel="exponential", width=5.0,
                                       t_stop=1000.0)
    assert float(np.sum(rate[t < 500])) == 0 and t[np.argmax(rate)] == 500.5
    t, rate = analysis.population_rate(spike, 1.0, kernel="gaussian", width=5.0, t_stop=1000.0)
    np.testing.assert_allclose(rate[:500][::-1][:499], rate[501:], rtol=1e-5, atol=1e-9)


def test_firing_rates_count_spikes_per_second():
    spikes = _poisson(np.random.default_rng(7), 12.0)
    rates = analysis.firing_rates(spikes, t_stop=DURATION)
    np.testing.assert_allclose(rates, np.bincount(spikes[1], minlength=N) / 20.0, rtol=1e-6)


def test_chi_is_one_for_identical_and_one_over_root_n_for_independent_traces():
    rng = np.random.default_rng(8)
    common = rng.normal(size=(5000, 1))
    assert float(analysis.chi(common * np.ones((1, 16)))) == pytest.approx(1.0, rel=1e-5)
    independent = rng.normal(size=(5000, 64))
    assert float(analysis.chi(independent)) == pytest.approx(1 / 8, rel=0.1)


def test_lfp_proxy_is_the_delayed_weighted_sum():
    rng = np.random.default_rng(9)
    e, i = rng.normal(size=(100, 5)), rng.normal(size=(100, 5))
    lfp = np.asarray(analysis.lfp_proxy(e, i, dt=0.5, delay=3.0, alpha=2.0))
    e_sum, i_sum = np.abs(e).sum(1), np.abs(i).sum(1)
    np.testing.assert_allclose(lfp[6:], e_sum[:-6] - 2.0 * i_sum[6:], rtol=1e-5)
    np.testing.assert_allclose(lfp[:6], e_sum[0] - 2.0 * i_sum[:6], rtol=1e-5)


def test_spike_triggered_average_recovers_a_shape_locked_to_spikes():
    """A signal made of one kernel at each spike (spikes far apart) has that kernel as its
    STA, shifted by the kernel's delay."""
    dt, kernel = 0.5, np.array([1.0, 3.0, 2.0])
    spikes = np.arange(20.0, 980.0, 50.0) + 0.25
    signal = np.zeros(2000)
    for s in spikes:
        signal[int(s / dt) + 4:int(s / dt) + 7] += kernel
    lags, sta = analysis.spike_triggered_average(signal, spikes, dt=dt, window=(0.0, 5.0))
    np.testing.assert_allclose(sta, [0, 0, 0, 0, 1, 3, 2, 0, 0, 0])
