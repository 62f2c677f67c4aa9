"""What `brainsim.run` returns."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int


class SpikeEvents(eqx.Module):
    """Spikes as events: `times[k]` (ms) is when neuron `indices[k]` fired.

    Attributes:
        times: spike times (ms), sorted, shape `(k,)`.
        indices: neuron index of each spike, shape `(k,)`.
        n: number of recorded neurons (for rates).
    """

    times: Float[np.ndarray, " k"]
    indices: Int[np.ndarray, " k"]
    n: int = eqx.field(static=True)

    def __len__(self) -> int:
        return int(self.times.size)

    def count(self) -> Int[np.ndarray, " n"]:
        """Number of spikes of each neuron index `0..max`, covering the recorded population."""
        size = max(self.n, int(self.indices.max()) + 1 if self.indices.size else 0)
        return np.bincount(self.indices, minlength=size)

    def trains(self) -> list[np.ndarray]:
        """Spike times (ms) of each neuron, as a list indexed by neuron."""
        counts = self.count()
        order = np.argsort(self.indices, kind="stable")
        return np.split(self.times[order], np.cumsum(counts)[:-1])


class RunResult(eqx.Module):
    """The result of `brainsim.run`.

    Attributes:
        dt: time step (ms).  t0: time of the first step (ms).  steps: number of steps run.
        every: decimation of the traces.
        final_state: the state after the last step (continue a run from it).
        spikes: per recorded spike variable, `SpikeEvents` (streaming runs) or a float array
            `(steps, n)` of 0/1 (traced runs, differentiable).
        traces: per recorded variable, an array `(samples, n)`; sample `k` is the value after
            step `(k + 1)·every - 1`, at time `t[k]`.
        indices: per recorded variable, the recorded neuron indices (`None`: all).

    `result["v"]` is `result.traces["v"]`; `result["spikes"]` is `result.spikes["spikes"]`.
    """

    dt: float = eqx.field(static=True)
    t0: float = eqx.field(static=True)
    steps: int = eqx.field(static=True)
    every: int = eqx.field(static=True)
    final_state: Any
    spikes: dict
    traces: dict
    indices: dict

    @property
    def t(self) -> Float[np.ndarray, " samples"]:
        """Time axis of the traces (ms): the end of every `every`-th step."""
        samples = self.steps // self.every
        return self.t0 + self.dt * self.every * np.arange(1, samples + 1)

    @property
    def duration(self) -> float:
        """Simulated time (ms)."""
        return self.steps * self.dt

    def __getitem__(self, name: str):
        if name in self.traces:
            return self.traces[name]
        if name in self.spikes:
            return self.spikes[name]
        raise KeyError(
            f"{name!r} was not recorded; recorded: {sorted(self.traces) + sorted(self.spikes)}."
        )

    def rate(self, name: str = "spikes") -> Float[Array, ""] | float:
        """Mean firing rate over the run and the recorded neurons (Hz)."""
        spikes = self.spikes[name]
        if isinstance(spikes, SpikeEvents):
            return len(spikes) / max(spikes.n, 1) / (self.duration * 1e-3)
        return jnp.mean(spikes) / (self.dt * 1e-3)

    def plot_raster(self, name: str = "spikes", **kwargs):
        """Raster plot of a spike variable (see `brainsim.plot.raster`)."""
        from brainsim import plot

        return plot.raster(self, name, **kwargs)

    def plot_traces(self, name: str = "v", **kwargs):
        """Plot a recorded trace against time (see `brainsim.plot.traces`)."""
        from brainsim import plot

        return plot.traces(self, name, **kwargs)

    def plot_rate(self, name: str = "spikes", **kwargs):
        """Population firing rate over time (see `brainsim.plot.rate`)."""
        from brainsim import plot

        return plot.rate(self, name, **kwargs)
