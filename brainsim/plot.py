"""Plotting helpers for `RunResult`s (needs matplotlib: `pip install brainsim[plot]`).

Example:
    >>> import brainsim as bs
    >>> lif = bs.neurons.LIF()
    >>> result = bs.run(lif, lif.init(20, key=__import__("jax").random.key(0)), inputs=200.0,
    ...                 duration=200.0, dt=0.1, record=["spikes", "v"])
    >>> ax = bs.plot.raster(result)            # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from brainsim._result import RunResult, SpikeEvents

__all__ = ["raster", "traces", "rate"]


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
    """Population rate (Hz) in bins of `bin_ms` ms, averaged over the recorded neurons."""
    ax = _axes(ax)
    events = _events(result, name)
    edges = np.arange(result.t0, result.t0 + result.duration + bin_ms, bin_ms)
    counts, _ = np.histogram(events.times, edges)
    ax.plot(edges[:-1], counts / max(events.n, 1) / (bin_ms * 1e-3), **plot_kwargs)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    return ax
