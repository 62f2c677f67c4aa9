"""Building blocks for fitting neuron models to recordings.

Losses compare a simulation with recorded data and are differentiable in the model's output:
`trace_mse` (voltage, mV²), `van_rossum_loss`, `spike_count_loss`, `fi_loss` (Hz²),
`latency_loss` (ms²), combined by `weighted_sum`. Reporting metrics need not be
differentiable: `coincidence_factor` (Γ), `gamma_error`, `victor_purpura`. Parameters are fitted
in an unconstrained space: `Bounded` and `parametrize` keep each value inside bounds (defaults
from `default_bounds`) through smooth transforms.

The fitter: `fit_model` fits a model's parameters to recorded `SweepData` (a global random
search, then multistart gradient refinement with optax, vmapped over starts) and returns a
`FitResult`; `simulate` drives a model with the recorded currents, `recording_loss` is the
default loss, and `evaluate` scores held-out sweeps (Γ, spike-count error, subthreshold RMSE).

Conventions: model spikes are arrays `(T, *batch)` of 0/1 per step (step `n` at `t0 + n·dt`,
ms); recorded spike times are arrays `(*batch, k)` in ms, padded with `jnp.inf`.
"""

from brainsim.fit._bounds import Bounded
from brainsim.fit._coincidence import coincidence_factor, gamma_error
from brainsim.fit._default_bounds import default_bounds
from brainsim.fit._evaluate import Evaluation, evaluate
from brainsim.fit._evolution import evosax_strategies
from brainsim.fit._fitter import fit_model
from brainsim.fit._gamma_loss import GammaLoss, gamma_loss
from brainsim.fit._latency import first_spike_latency, latency_loss, soft_first_spike_latency
from brainsim.fit._parametrize import ParameterMap, parametrize
from brainsim.fit._recording_loss import recording_loss
from brainsim.fit._result import FitResult
from brainsim.fit._simulate import Simulation, simulate
from brainsim.fit._spike_data import bin_spike_times, spike_times
from brainsim.fit._spike_losses import fi_loss, spike_count_loss, van_rossum_loss
from brainsim.fit._sweeps import SweepData
from brainsim.fit._trace import trace_mse
from brainsim.fit._victor_purpura import victor_purpura
from brainsim.fit._weighted_sum import WeightedSum, weighted_sum

__all__ = [
    "trace_mse",
    "van_rossum_loss",
    "spike_count_loss",
    "fi_loss",
    "first_spike_latency",
    "soft_first_spike_latency",
    "latency_loss",
    "weighted_sum",
    "WeightedSum",
    "coincidence_factor",
    "gamma_error",
    "victor_purpura",
    "gamma_loss",
    "GammaLoss",
    "evosax_strategies",
    "bin_spike_times",
    "spike_times",
    "Bounded",
    "default_bounds",
    "parametrize",
    "ParameterMap",
    "fit_model",
    "FitResult",
    "SweepData",
    "Simulation",
    "simulate",
    "recording_loss",
    "evaluate",
    "Evaluation",
]
