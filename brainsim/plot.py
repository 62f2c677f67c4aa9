"""Plotting helpers for `RunResult`s (needs matplotlib: `pip install brainsim[plot]`).

Examples:
    >>> import brainsim as bs
    >>> lif = bs.neurons.LIF()
    >>> result = bs.run(lif, lif.init(20, key=__import__("jax").random.key(0)), inputs=200.0,
    ...                 duration=200.0, dt=0.1, record=["spikes", "v"])
    >>> ax = bs.plot.raster(result)            # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from brainsim._result import RunResult, SpikeEvents

__all__ = ["raster", "traces", "rate", "isi_histogram", "spectrum", "correlogram"]


def _axes(ax):
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "brainsim.plot needs matplotlib: `pip install 'brainsim[plot]'`."
        ) from error
    return ax if ax is not None else plt.subplots()[1]


def _events(result: RunResult, name: str) -> SpikeEvents:
    spikes = result.spikes[name]
    if isinstance(spikes, SpikeEvents):
        return spikes
    steps, neurons = np.nonzero(np.asarray(spikes))
    return SpikeEvents(result.t0 + steps * result.dt, neurons, n=np.shape(spikes)[-1])


def raster(result: RunResult, name: str = "spikes", *, ax=None, **scatter_kwargs):
    """Raster plot: one dot per spike, time (ms) against neuron index. Returns the axes."""
    ax = _axes(ax)
    events = _events(result, name)
    options = {"s": 2, "c": "k", "marker": "|", "linewidths": 0.8} | scatter_kwargs
    ax.scatter(events.times, events.indices, **options)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_xlim(result.t0, result.t0 + result.duration)
    return ax


def traces(result: RunResult, name: str = "v", *, neurons=None, ax=None, **plot_kwargs):
    """Plot a recorded variable against time (ms) for some neurons (default: up to 10)."""
    ax = _axes(ax)
    values = np.asarray(result.traces[name])
    columns = np.arange(min(values.shape[-1], 10)) if neurons is None else np.asarray(neurons)
    ax.plot(result.t, values[:, columns], **plot_kwargs)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(name)
    return ax


def rate(result: RunResult, name: str = "spikes", *, bin_ms: float = 5.0, ax=None, **plot_kwargs):
    """Population rate (Hz) in bins of `bin_ms` ms, averaged over the recorded neurons
    (`brainsim.analysis.population_rate`), against the bin centres (ms)."""
    from brainsim.analysis import population_rate

    ax = _axes(ax)
    t, values = population_rate(result, bin_ms, name=name)
    ax.plot(t, np.asarray(values), **plot_kwargs)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    return ax


def isi_histogram(spikes, *, name: str = "spikes", bins=50, ax=None, **hist_kwargs):
    """Histogram of the inter-spike intervals (ms) of all neurons from 0 to the longest,
    titled with the mean CV.

    `spikes` is any form `brainsim.analysis` accepts (a `RunResult`, `SpikeEvents`,
    `(times, indices, n)` or one neuron's spike times in ms). Returns the axes.

    Examples:
        >>> import numpy as np, brainsim as bs
        >>> ax = bs.plot.isi_histogram(np.cumsum(np.full(50, 10.0)))   # doctest: +SKIP
    """
    from brainsim.analysis import cv, inter_spike_intervals

    ax = _axes(ax)
    intervals = np.concatenate(inter_spike_intervals(spikes, name=name))
    longest = float(intervals.max()) if intervals.size else 1.0
    options = {"color": "0.3", "range": (0.0, 1.05 * longest)} | hist_kwargs
    ax.hist(intervals, bins=bins, **options)
    ax.set_xlabel("inter-spike interval (ms)")
    ax.set_ylabel("count")
    values = cv(spikes, name=name)
    if np.any(np.isfinite(values)):
        ax.set_title(f"mean CV {np.nanmean(values):.2f}")
    return ax


def spectrum(spikes, *, name: str = "spikes", bin_size: float = 1.0,
             segment: float | None = None, t_start: float | None = None,
             t_stop: float | None = None, ax=None, **plot_kwargs):
    """Power spectral density (Hz²/Hz, log scale) of the population rate against frequency (Hz).

    The rate is binned at `bin_size` ms (`brainsim.analysis.population_rate`) and its spectrum
    estimated by Welch's method with segments of `segment` ms
    (`brainsim.analysis.power_spectrum`); the zero-frequency bin is not drawn. Returns the axes.
    """
    from brainsim.analysis import population_rate, power_spectrum

    ax = _axes(ax)
    _, values = population_rate(spikes, bin_size, name=name, t_start=t_start, t_stop=t_stop)
    freqs, psd = power_spectrum(values, bin_size, segment=segment)
    ax.semilogy(freqs[1:], np.asarray(psd)[1:], **plot_kwargs)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("power (Hz²/Hz)")
    return ax


def correlogram(reference, target, *, bin_size: float = 1.0, max_lag: float = 50.0,
                name: str = "spikes", t_start: float | None = None,
                t_stop: float | None = None, ax=None, **bar_kwargs):
    """Cross-correlogram (`brainsim.analysis.cross_correlogram`) as bars: coincidences of
    `target` spikes at each lag (ms) after `reference` spikes (an autocorrelogram when they
    are the same). Returns the axes."""
    from brainsim.analysis import cross_correlogram

    ax = _axes(ax)
    lags, counts = cross_correlogram(reference, target, bin_size, max_lag, name=name,
                                     t_start=t_start, t_stop=t_stop)
    ax.bar(lags, np.asarray(counts), width=bin_size, **({"color": "0.3"} | bar_kwargs))
    ax.set_xlabel("lag (ms)")
    ax.set_ylabel("coincidences")
    return ax
