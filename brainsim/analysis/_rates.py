"""Firing rates: per neuron, and of the population in bins or smoothed with a kernel."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from brainsim.analysis._spikes import check_time, counts, window

KERNELS = ("gaussian", "exponential", "box")


def spike_counts(spikes, bin_size: float, *, name: str = "spikes", t_start: float | None = None,
                 t_stop: float | None = None) -> Float[Array, "bins n"]:
    """Spike counts of each neuron in consecutive bins of `bin_size` ms.

    Bin `k` is `[t_start + k·bin_size, t_start + (k + 1)·bin_size)`; the bins that fit whole
    into `[t_start, t_stop)` are kept. The raster of a traced `RunResult` (a `(steps, n)` array
    of 0/1) is summed in JAX, so gradients reach the spikes; events are binned on the host.

    Args:
        spikes (SpikeEvents | RunResult | tuple | Array): `SpikeEvents`, a `RunResult` (its spike
            variable `name`), a tuple `(times, indices, n)` (ms, neuron index, number of neurons) or
            a 1-d array of the spike times (ms) of one neuron.
        bin_size: bin width (ms, > 0; a multiple of the run's `dt` for a raster).
        name: the spike variable of a `RunResult`.
        t_start: start of the analysed range (ms); default the run's start, or 0 for events.
        t_stop: end of the analysed range (ms); default the run's end (required for events).

    Returns:
        Counts, shape `(bins, n)` (float, so that they can carry gradients).

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import spike_counts
        >>> spike_counts((np.array([1.0, 2.5, 7.0]), np.array([0, 1, 0]), 2), 5.0, t_stop=10.0)
        Array([[1., 1.],
               [1., 0.]], dtype=float32)
    """
    return counts(spikes, bin_size, name, t_start, t_stop)[0]


def firing_rates(spikes, *, name: str = "spikes", t_start: float | None = None,
                 t_stop: float | None = None) -> Float[Array, " n"]:
    """Mean firing rate of each neuron over `[t_start, t_stop)` (Hz).

    `rate_i = (spikes of i in the range) / (t_stop - t_start)`. Differentiable for a traced
    `RunResult`. Arguments as for `spike_counts`.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import firing_rates
        >>> firing_rates((np.array([1.0, 2.5, 7.0]), np.array([0, 1, 0]), 2), t_stop=100.0)
        Array([20., 10.], dtype=float32)
    """
    t_start, t_stop = window(spikes, t_start, t_stop)
    table, _ = counts(spikes, t_stop - t_start, name, t_start, t_stop)
    return table[0] / ((t_stop - t_start) * 1e-3)


def _kernel(kernel: str, width: float, bin_size: float) -> tuple[np.ndarray, int]:
    """Weights (sum 1) on the bin grid and the number of them before lag 0."""
    if kernel == "gaussian":
        half = math.ceil(4 * width / bin_size)
        lags = np.arange(-half, half + 1) * bin_size
        weights, before = np.exp(-0.5 * (lags / width) ** 2), half
    elif kernel == "exponential":
        lags = np.arange(math.ceil(8 * width / bin_size) + 1) * bin_size
        weights, before = np.exp(-lags / width), 0
    else:
        half = math.floor(width / (2 * bin_size) + 1e-9)
        weights, before = np.ones(2 * half + 1), half
    return weights / weights.sum(), before


def population_rate(spikes, bin_size: float = 1.0, *, kernel: str | None = None,
                    width: float | None = None, name: str = "spikes",
                    t_start: float | None = None, t_stop: float | None = None
                    ) -> tuple[Float[np.ndarray, " bins"], Float[Array, " bins"]]:
    """Population firing rate (Hz): spikes of all neurons per bin, per neuron, per second,
    optionally smoothed with a kernel.

        r_k = Σ_i c_ik / (n · bin_size),      smoothed: r̃_k = Σ_j w_j r_{k-j}

    where `c_ik` are the spike counts (`spike_counts`) and `w` is the kernel sampled on the bin
    grid and normalised to sum 1 (so smoothing keeps the spike count; bins near the ends see
    zeros outside the range and read low). Kernels: `"gaussian"` (standard deviation `width`,
    cut at 4 `width`), `"exponential"` (causal, `w(t) ∝ exp(-t/width)` for `t >= 0`, cut at
    8 `width`) and `"box"` (centred, total width `width`, rounded down to an odd number of
    bins). JAX, differentiable for a traced `RunResult`.

    Args:
        spikes (SpikeEvents | RunResult | tuple | Array): as for `spike_counts`.
        bin_size: bin width (ms, > 0).
        kernel: None (plain histogram), `"gaussian"`, `"exponential"` or `"box"`.
        width: the kernel's time scale (ms, > 0); required with `kernel`.
        name: as for `spike_counts`.
        t_start: as for `spike_counts`.
        t_stop: as for `spike_counts`.

    Returns:
        `(t, rate)`: bin centres (ms) and the rate (Hz) in each bin.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import population_rate
        >>> t, r = population_rate((np.array([1.0, 2.5, 7.0]), np.array([0, 1, 0]), 2),
        ...                        bin_size=5.0, t_stop=10.0)
        >>> t.tolist(), r.tolist()                  # 2 spikes / 2 neurons / 5 ms = 200 Hz
        ([2.5, 7.5], [200.0, 100.0])
    """
    if kernel is not None and kernel not in KERNELS:
        raise ValueError(f"`kernel` must be None or one of {KERNELS}, got {kernel!r}.")
    if (kernel is None) != (width is None):
        raise ValueError("give `kernel` and `width` (ms) together, or neither for a histogram.")
    table, start = counts(spikes, bin_size, name, t_start, t_stop)
    bin_size = float(bin_size)
    rate = table.sum(1) / (table.shape[1] * bin_size * 1e-3)
    if kernel is not None:
        width = check_time("width", width)
        weights, before = _kernel(kernel, width, bin_size)
        full = jnp.convolve(rate, jnp.asarray(weights, rate.dtype), mode="full")
        rate = full[before:before + rate.shape[0]]
    t = start + bin_size * (np.arange(rate.shape[0]) + 0.5)
    return t, rate
