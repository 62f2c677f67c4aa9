"""The spike inputs the analysis functions accept, turned into events or binned counts."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from brainsim._result import RunResult, SpikeEvents


def check_time(name: str, value, *, allow_zero: bool = False) -> float:
    """`value` as a float, or a ValueError naming `name` unless it is a finite time > 0 ms."""
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be a number of ms, got {value!r}.") from error
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be a finite time {bound} in ms, got {value!r}.")
    return number


def _raster(result: RunResult, name: str):
    if name not in result.spikes:
        raise KeyError(f"{name!r} is not a recorded spike variable; recorded: "
                       f"{sorted(result.spikes)}.")
    return result.spikes[name]


def events(spikes, name: str = "spikes") -> tuple[np.ndarray, np.ndarray, int]:
    """`(times, indices, n)` (ms, neuron index, number of neurons) of any accepted input."""
    if isinstance(spikes, RunResult):
        recorded = _raster(spikes, name)
        spikes = recorded if isinstance(recorded, SpikeEvents) else _raster_events(spikes, name)
    if isinstance(spikes, SpikeEvents):
        return np.asarray(spikes.times, float), np.asarray(spikes.indices, np.int64), spikes.n
    if isinstance(spikes, tuple) and len(spikes) == 3:
        times, indices, n = spikes
        times, indices = np.asarray(times, float).ravel(), np.asarray(indices).ravel()
        if times.shape != indices.shape:
            raise ValueError(f"`spikes` times and indices must have the same length, got "
                             f"{times.size} and {indices.size}.")
        if not np.issubdtype(indices.dtype, np.integer) and indices.size:
            raise TypeError(f"`spikes` indices must be integers, got dtype {indices.dtype}.")
        indices = indices.astype(np.int64)
        if not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"`spikes` n (number of neurons) must be a positive int, got {n!r}.")
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValueError(f"`spikes` indices must lie in [0, {n}), got "
                             f"[{indices.min()}, {indices.max()}].")
        return times, indices, int(n)
    try:
        times = np.asarray(spikes, float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`spikes` must be SpikeEvents, a RunResult, (times, indices, n) or a "
                        f"1-d array of spike times, got {type(spikes).__name__}.") from error
    if times.ndim != 1:
        raise ValueError(f"`spikes` as an array must be the 1-d spike times (ms) of one neuron, "
                         f"got shape {times.shape}; give (times, indices, n) for a population.")
    return times, np.zeros(times.shape, np.int64), 1


def _raster_events(result: RunResult, name: str) -> SpikeEvents:
    raster = np.asarray(_raster(result, name))
    steps, neurons = np.nonzero(raster)
    return SpikeEvents(result.t0 + steps * result.dt, neurons, n=raster.shape[-1])


def window(spikes, t_start, t_stop) -> tuple[float, float]:
    """The analysed time range (ms): given, or the run's for a `RunResult`."""
    if isinstance(spikes, RunResult):
        t_start = spikes.t0 if t_start is None else t_start
        t_stop = spikes.t0 + spikes.duration if t_stop is None else t_stop
    t_start = 0.0 if t_start is None else t_start
    if t_stop is None:
        raise ValueError("give `t_stop` (ms): spike events do not carry the recording's end.")
    for label, value in (("t_start", t_start), ("t_stop", t_stop)):
        if not math.isfinite(float(value)):
            raise ValueError(f"`{label}` must be a finite time in ms, got {value!r}.")
    if float(t_stop) <= float(t_start):
        raise ValueError(f"`t_stop` ({t_stop} ms) must be after `t_start` ({t_start} ms).")
    return float(t_start), float(t_stop)


def counts(spikes, bin_size: float, name: str, t_start, t_stop
           ) -> tuple[Float[Array, "bins n"], float]:
    """Spike counts in bins of `bin_size` ms from `t_start` (whole bins up to `t_stop`), and
    `t_start`. A traced `RunResult` raster is summed in JAX, so gradients flow through."""
    bin_size = check_time("bin_size", bin_size)
    t_start, t_stop = window(spikes, t_start, t_stop)
    n_bins = int(math.floor((t_stop - t_start) / bin_size + 1e-9))
    if n_bins < 1:
        raise ValueError(f"`bin_size` ({bin_size} ms) is longer than the analysed range "
                         f"[{t_start}, {t_stop}] ms.")
    if isinstance(spikes, RunResult) and not isinstance(_raster(spikes, name), SpikeEvents):
        per_bin = bin_size / spikes.dt
        first = (t_start - spikes.t0) / spikes.dt
        if abs(per_bin - round(per_bin)) > 1e-6 or abs(first - round(first)) > 1e-6:
            raise ValueError(f"`bin_size` ({bin_size} ms) and `t_start` - t0 must be multiples "
                             f"of the run's dt ({spikes.dt} ms) to bin a raster.")
        per_bin, first = round(per_bin), round(first)
        raster = jnp.asarray(_raster(spikes, name))
        if first < 0 or first + n_bins * per_bin > raster.shape[0]:
            raise ValueError(f"[`t_start`, `t_stop`] = [{t_start}, {t_stop}] ms lies outside "
                             f"the run [{spikes.t0}, {spikes.t0 + spikes.duration}] ms.")
        used = raster[first:first + n_bins * per_bin]
        return used.reshape(n_bins, per_bin, -1).sum(1), t_start
    times, indices, n = events(spikes, name)
    which = np.floor((times - t_start) / bin_size).astype(np.int64)
    keep = (which >= 0) & (which < n_bins)
    table = np.zeros((n_bins, n))
    np.add.at(table, (which[keep], indices[keep]), 1.0)
    return jnp.asarray(table), t_start
