import jax
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import brainsim as bs  # noqa: E402


def _result(stream):
    lif = bs.neurons.LIF(R=0.1)
    return bs.run(
        lif,
        lif.init(5, key=jax.random.key(0)),
        inputs=300.0,
        duration=100.0,
        dt=0.1,
        record=["spikes", "v"],
        every=5,
        stream=stream,
    )


def test_raster_draws_one_point_per_spike():
    for stream in (True, False):
        result = _result(stream)
        ax = bs.plot.raster(result)
        offsets = ax.collections[0].get_offsets()
        n_spikes = len(result.spikes["spikes"]) if stream else int(result.spikes["spikes"].sum())
        assert len(offsets) == n_spikes > 0
        assert ax.get_xlabel() == "time (ms)"


def test_traces_and_rate_plot_against_time():
    result = _result(True)
    ax = result.plot_traces("v", neurons=[0, 2])
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_xdata(), result.t)
    ax = result.plot_rate(bin_ms=10.0)
    rates = ax.lines[0].get_ydata()
    assert abs(np.mean(rates) - result.rate()) < 0.2 * result.rate()


def test_isi_histogram_spectrum_and_correlogram_draw_the_analysis():
    from brainsim import analysis

    result = _result(True)
    ax = bs.plot.isi_histogram(result, bins=20)
    intervals = np.concatenate(analysis.inter_spike_intervals(result))
    assert sum(p.get_height() for p in ax.patches) == intervals.size > 0
    assert ax.get_title().startswith("mean CV")
    ax = bs.plot.spectrum(result, segment=50.0)
    freqs, psd = analysis.power_spectrum(analysis.population_rate(result, 1.0)[1], 1.0,
                                         segment=50.0)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), freqs[1:])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), psd[1:], rtol=1e-6)
    train = result.spikes["spikes"].trains()[0]
    ax = bs.plot.correlogram(train, train, bin_size=1.0, max_lag=10.0, t_stop=100.0)
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 21 and np.argmax(heights) == 10
    assert heights[10] == pytest.approx(len(train), abs=1e-4)     # FFT in float32
