"""Generate Elephant's results on a few fixed spike trains, for tests/analysis.

Elephant is not a test dependency: run this with an environment that has it, e.g.

    python3 -m venv /tmp/eleph && /tmp/eleph/bin/pip install elephant
    /tmp/eleph/bin/python tests/reference/make_elephant_refs.py

It writes `elephant_analysis.npz`: the spike trains (ms) and an analog signal it used, and
Elephant's CV, CV2, LV (per train), Fano factors (per train, over 100 ms windows), the
correlation-coefficient matrix of 5 ms counts, a cross-correlogram, STTCs, the binned and the
Gaussian-smoothed rate, the Welch PSD of the binned population rate and a spike-triggered
average. All times in ms.
"""

from __future__ import annotations

import pathlib

import elephant
import neo
import numpy as np
import quantities as pq
from elephant import conversion, kernels, spectral, sta, statistics
from elephant import spike_train_correlation as corr

HERE = pathlib.Path(__file__).resolve().parent
T_STOP, SIGNAL_DT = 2000.0, 0.5


def _trains(rng) -> list[np.ndarray]:
    """Poisson 20 Hz; gamma (order 4) 15 Hz; bursty; a jittered and a delayed copy of the first;
    a slow Poisson train; a sinusoidally modulated one (40 Hz, 30 +- 25 Hz)."""
    poisson = np.sort(rng.uniform(0, T_STOP, rng.poisson(20 * T_STOP / 1000)))
    gamma = np.cumsum(rng.gamma(4.0, 1000 / 15 / 4, 60))
    starts = np.sort(rng.uniform(0, T_STOP - 20, 12))
    bursty = np.sort((starts[:, None] + np.array([0.0, 3.1, 6.3, 9.2])).ravel())
    jittered = np.sort(poisson + rng.normal(0, 2.0, poisson.size))
    delayed = poisson + 7.3
    slow = np.sort(rng.uniform(0, T_STOP, 9))
    grid = np.arange(0, T_STOP, 0.1)
    rate = 30 + 25 * np.sin(2 * np.pi * 40 * grid / 1000)
    modulated = grid[rng.random(grid.size) < rate * 1e-4]
    trains = [poisson, gamma, bursty, jittered, delayed, slow, modulated]
    return [t[(t > 0) & (t < T_STOP)] for t in trains]


def main() -> None:
    rng = np.random.default_rng(14)
    trains = _trains(rng)
    neo_trains = [neo.SpikeTrain(t, t_start=0.0, t_stop=T_STOP, units="ms") for t in trains]
    out = {
        "elephant_version": np.array(elephant.__version__),
        "times": np.concatenate(trains),
        "indices": np.concatenate([np.full(t.size, i) for i, t in enumerate(trains)]),
        "t_stop": np.array(T_STOP),
    }
    isis = [statistics.isi(t) for t in trains]
    out["cv"] = np.array([statistics.cv(i) for i in isis])
    out["cv2"] = np.array([statistics.cv2(i) for i in isis])
    out["lv"] = np.array([statistics.lv(i) for i in isis])

    window = 100.0
    edges = np.arange(0, T_STOP + window, window)
    out["fano_window"] = np.array(window)
    out["fano"] = np.array([
        statistics.fanofactor([t[(t >= a) & (t < a + window)] for a in edges[:-1]])
        for t in trains
    ])

    binned = conversion.BinnedSpikeTrain(neo_trains, bin_size=5 * pq.ms)
    out["corr_bin"] = np.array(5.0)
    out["corrcoef"] = corr.correlation_coefficient(binned)

    ones = [conversion.BinnedSpikeTrain(neo_trains[i], bin_size=1 * pq.ms) for i in (0, 4)]
    cch, lags = corr.cross_correlation_histogram(ones[0], ones[1], window=[-20, 20])
    out["cch_pair"] = np.array([0, 4])
    out["cch"] = np.asarray(cch.magnitude).ravel()
    out["cch_lags"] = np.asarray(lags)

    pairs = np.array([[0, 3], [0, 1], [2, 5], [0, 6], [3, 4]])
    out["sttc_pairs"] = pairs
    out["sttc_dt"] = np.array(5.0)
    out["sttc"] = np.array([corr.spike_time_tiling_coefficient(neo_trains[i], neo_trains[j],
                                                               dt=5 * pq.ms) for i, j in pairs])

    histogram = statistics.time_histogram(neo_trains, bin_size=1 * pq.ms, output="rate")
    out["histogram_rate"] = np.asarray(histogram.rescale("Hz").magnitude).ravel()
    smooth = statistics.instantaneous_rate(neo_trains, sampling_period=1 * pq.ms,
                                           kernel=kernels.GaussianKernel(10 * pq.ms))
    out["gaussian_sigma"] = np.array(10.0)
    out["gaussian_rate"] = np.asarray(smooth.rescale("Hz").magnitude).mean(1)

    freqs, psd = spectral.welch_psd(out["histogram_rate"], fs=1000.0)
    out["psd_freqs"], out["psd"] = freqs, psd
    freqs, psd = spectral.welch_psd(out["histogram_rate"], fs=1000.0, len_segment=256,
                                    overlap=0.25)
    out["psd256_freqs"], out["psd256"] = freqs, psd

    samples = np.arange(int(T_STOP / SIGNAL_DT)) * SIGNAL_DT
    signal = np.stack([np.sin(2 * np.pi * samples / 37.0),
                       np.cumsum(rng.normal(0, 1, samples.size))], 1)
    analog = neo.AnalogSignal(signal, units="mV", sampling_period=SIGNAL_DT * pq.ms,
                              t_start=0 * pq.ms)
    average = sta.spike_triggered_average(analog, neo_trains[0], window=(-10 * pq.ms, 12 * pq.ms))
    out["signal"], out["signal_dt"] = signal, np.array(SIGNAL_DT)
    out["sta_window"] = np.array([-10.0, 12.0])
    out["sta"] = np.asarray(average.magnitude)

    path = HERE / "elephant_analysis.npz"
    np.savez_compressed(path, **out)
    print(f"wrote {path} ({path.stat().st_size / 1000:.0f} kB), Elephant {elephant.__version__}")


if __name__ == "__main__":
    main()
