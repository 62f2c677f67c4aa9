"""Held-out evaluation of a fitted model: Γ, spike-count error and subthreshold RMSE per sweep."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import numpy as np
from jaxtyping import Float, Int

from brainsim.fit._coincidence import coincidence_factor
from brainsim.fit._simulate import Simulation, simulate
from brainsim.fit._spike_data import spike_times
from brainsim.fit._sweeps import SweepData


class Evaluation(NamedTuple):
    """How well a model predicts some sweeps, one entry per sweep (see `evaluate`).

    Attributes:
        gamma: coincidence factor Γ (NaN where undefined: no spikes in either train, or a
            model so fast that `2 ν Δ >= 1`).
        n_model: model spikes in the scored window.
        n_data: recorded spikes in the scored window.
        rmse: subthreshold voltage RMSE (mV), spike windows masked (NaN without voltage).
        simulation: the model's response (NumPy), `(T, sweeps)` each.
    """

    gamma: Float[np.ndarray, " sweeps"]
    n_model: Int[np.ndarray, " sweeps"]
    n_data: Int[np.ndarray, " sweeps"]
    rmse: Float[np.ndarray, " sweeps"]
    simulation: Simulation

    @property
    def count_error(self) -> Int[np.ndarray, " sweeps"]:
        """`n_model - n_data` per sweep (spikes)."""
        return self.n_model - self.n_data

    def summary(self) -> dict[str, float]:
        """Means over sweeps: Γ, |spike-count error| (spikes), relative |count error| and RMSE
        (mV); undefined entries (NaN) are left out of the means."""
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.abs(self.count_error) / np.maximum(self.n_data, 1)
        return {
            "gamma": float(np.nanmean(self.gamma)) if np.any(np.isfinite(self.gamma)) else np.nan,
            "count_error": float(np.mean(np.abs(self.count_error))),
            "relative_count_error": float(np.mean(relative)),
            "rmse": float(np.nanmean(self.rmse)) if np.any(np.isfinite(self.rmse)) else np.nan,
        }


def _gamma(model_times, data_times, duration, delta) -> float:
    rate = len(model_times) / duration
    if len(model_times) + len(data_times) == 0 or 2 * rate * delta >= 1:
        return np.nan
    return coincidence_factor(model_times, data_times, duration=duration, delta=delta)


def _subthreshold_rmse(v, v_data, t, keep, spikes, window) -> float:
    before, after = window
    for s in spikes:
        keep &= ~((t >= s - before) & (t < s + after))
    if not keep.any():
        return np.nan
    return float(np.sqrt(np.mean((v[keep] - v_data[keep]) ** 2)))


def evaluate(
    model,
    data: SweepData,
    *,
    delta: float = 4.0,
    spike_window: tuple[float, float] = (2.0, 5.0),
    voltage: str = "v",
) -> Evaluation:
    """Simulate `model` under the current of each sweep and score its prediction.

    On the scored window `t >= data.t_start` (duration `T_s`), per sweep:

    - Γ `= (N_coinc - 2 ν Δ N_data) / (½ (N_data + N_model)) · 1 / (1 - 2 ν Δ)`
      (`coincidence_factor`, `Δ = delta`);
    - the spike-count error `N_model - N_data`;
    - the subthreshold RMSE `sqrt(mean (v - v_data)²)` (mV) over samples outside
      `[s - before, s + after)` of every recorded *and* model spike `s`
      (`spike_window = (before, after)`): neither spike shape is compared.

    Args:
        model (Neuron): the (fitted) model.
        data: the sweeps to predict, typically held out from the fit.
        delta: coincidence window Δ of Γ (ms).
        spike_window: time masked around spikes for the RMSE (ms).
        voltage: the model's voltage state variable.

    Returns:
        An `Evaluation` (per-sweep arrays, `.summary()` for the means).

    Examples:
        >>> import numpy as np
        >>> import brainsim as bs
        >>> from brainsim.fit import SweepData, evaluate, simulate
        >>> lif = bs.neurons.LIF(tau_m=10.0, R=0.1, v_th=-50.0)
        >>> probe = SweepData(np.full((1000, 1), 300.0), spike_times=[[np.inf]], dt=0.1)
        >>> sim = simulate(lif, probe)
        >>> times = [bs.fit.spike_times(sim.spikes[:, 0], dt=0.1)]
        >>> own = SweepData(probe.current, sim.v, times, dt=0.1)
        >>> result = evaluate(lif, own)             # the model predicts its own response
        >>> result.gamma.round(6).tolist(), result.count_error.tolist(), result.rmse.tolist()
        ([1.0], [0], [0.0])

    References: Jolivet et al. (2008), *A benchmark test for a quantitative assessment of simple
    neuron models*, J. Neurosci. Methods 169:417; Rossant et al. (2011), Front. Neurosci. 5:9.
    """
    sim = eqx.filter_jit(simulate)(model, data, voltage=voltage)
    sim = Simulation(np.asarray(sim.v, dtype=float), np.asarray(sim.spikes))
    t = data.time
    scored = t >= data.t_start
    duration = data.duration - data.t_start
    trains = data.trains() if data.spike_times is not None else None
    voltage_data = None if data.voltage is None else np.asarray(data.voltage, dtype=float)
    gamma, n_model, n_data, rmse = [], [], [], []
    for i in range(data.n_sweeps):
        model_times = spike_times(sim.spikes[:, i], dt=data.dt)
        model_times = model_times[model_times >= data.t_start]
        data_times = np.empty(0) if trains is None else trains[i][trains[i] >= data.t_start]
        n_model.append(len(model_times))
        n_data.append(len(data_times))
        gamma.append(np.nan if trains is None else _gamma(model_times, data_times, duration, delta))
        rmse.append(
            np.nan if voltage_data is None else _subthreshold_rmse(
                sim.v[:, i], voltage_data[:, i], t, scored.copy(),
                np.concatenate([model_times, data_times]), spike_window,
            )
        )
    return Evaluation(
        gamma=np.array(gamma),
        n_model=np.array(n_model),
        n_data=np.array(n_data),
        rmse=np.array(rmse),
        simulation=sim,
    )
