"""What a fit returns: the best model, every start's history, the global stage, and plots."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from jaxtyping import Float

from brainsim.fit._evaluate import Evaluation, evaluate
from brainsim.fit._parametrize import ParameterMap
from brainsim.fit._simulate import Simulation
from brainsim.fit._sweeps import SweepData


@dataclasses.dataclass(frozen=True)
class FitResult:
    """The outcome of `fit_model`.

    Attributes:
        model: the fitted model (the template with the best values).
        values: the best value of each fitted parameter (its unit), `{name: array}`.
        loss: the loss of the best values on the training sweeps.
        to_model: the `ParameterMap` of the fit.
        params: the best values as unconstrained parameters (`to_model(params)` is `model`).
        history: loss of each refined start at each refinement step, `(steps + 1, starts)`
            (NaN where a start's simulation failed).
        start_values: values each refinement started from, `{name: (starts, *shape)}`.
        final_values: the best values each start reached, `{name: (starts, *shape)}`.
        final_losses: their losses, `(starts,)`.
        search_values: the candidates of the global stage, `{name: (samples, *shape)}`
            (with `strategy="random"`, candidate 0 is the template).
        search_losses: their search losses, `(samples,)` (`inf` where the simulation failed).
        data: the training sweeps.
        fitted: the fitted model's response to them (NumPy `Simulation`).
        wall_time: seconds the fit took (compilation included).
        voltage: the model's voltage state variable.

    Examples:
        >>> import numpy as np
        >>> import brainsim as bs
        >>> from brainsim.fit import SweepData, fit_model, simulate
        >>> target = bs.neurons.LIF(tau_m=15.0, R=0.1)
        >>> probe = SweepData(np.full((200, 1), 140.0), spike_times=[[np.inf]], dt=0.5)
        >>> data = SweepData(probe.current, simulate(target, probe).v, dt=0.5)
        >>> result = fit_model(bs.neurons.LIF(), {"tau_m": (1.0, 50.0)}, data, n_samples=16,
        ...                    n_starts=2, steps=40, progress=False)
        >>> result.history.shape, bool(abs(result.values["tau_m"] - 15.0) < 0.5)
        ((41, 2), True)

    Reference: Rossant et al. (2011), Front. Neurosci. 5:9 (brian2modelfitting's results).
    """

    model: Any
    values: dict[str, np.ndarray]
    loss: float
    to_model: ParameterMap
    params: dict[str, Any]
    history: Float[np.ndarray, "steps starts"]
    start_values: dict[str, np.ndarray]
    final_values: dict[str, np.ndarray]
    final_losses: Float[np.ndarray, " starts"]
    search_values: dict[str, np.ndarray]
    search_losses: Float[np.ndarray, " samples"]
    data: SweepData
    fitted: Simulation
    wall_time: float
    voltage: str = "v"

    def evaluate(self, data: SweepData, **kwargs) -> Evaluation:
        """Score the fitted model on other sweeps (held out): `evaluate(self.model, data)`;
        keywords as `brainsim.fit.evaluate` (`delta` 4 ms, `spike_window`)."""
        return evaluate(self.model, data, voltage=self.voltage, **kwargs)

    def plot(self, data: SweepData | None = None, *, sweeps=None, history: bool = True):
        """Recorded against fitted voltage, one panel per sweep, and the loss of every start.

        Args:
            data: sweeps to simulate the fitted model on (default: the training sweeps).
            sweeps (Sequence[int] | None): positions of the sweeps to draw (default all).
            history: add a panel with each start's loss over the refinement steps.

        Returns:
            (matplotlib.figure.Figure): the figure.
        """
        import matplotlib.pyplot as plt

        if data is None:
            data, sim = self.data, self.fitted
        else:
            sim = self.evaluate(data).simulation
        sweeps = range(data.n_sweeps) if sweeps is None else list(sweeps)
        rows = len(sweeps) + history
        fig, axes = plt.subplots(rows, 1, figsize=(8, 2.2 * rows), squeeze=False)
        t = data.time + data.t_offset
        for ax, i in zip(axes[:, 0], sweeps, strict=False):
            if data.voltage is not None:
                ax.plot(t, np.asarray(data.voltage[:, i]), color="0.4", lw=0.7, label="recorded")
            ax.plot(t, np.asarray(sim.v[:, i]), color="C1", lw=0.8, label="fitted")
            if data.spike_times is not None:
                ticks = data.trains()[i] + data.t_offset
                ax.plot(ticks, np.full_like(ticks, ax.get_ylim()[1]), "|", color="k", ms=6)
            ax.axvline(data.t_start + data.t_offset, color="0.8", lw=0.8, ls="--")
            ax.set_ylabel(f"sweep {i}\nv (mV)")
        axes[len(sweeps) - 1, 0].set_xlabel("time (ms)")
        axes[0, 0].legend(loc="upper right", fontsize="small")
        if history:
            ax = axes[-1, 0]
            ax.plot(self.history, lw=0.8)
            ax.set_yscale("log")
            ax.set_xlabel("refinement step")
            ax.set_ylabel("loss")
        fig.tight_layout()
        return fig
