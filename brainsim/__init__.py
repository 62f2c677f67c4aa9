"""brainsim: a differentiable brain simulator on JAX.

One model definition serves biophysical simulation and gradient training: neurons are pure
state transitions (`init`, `step`), `brainsim.run` advances them with `lax.scan`, and spikes use
surrogate gradients.
"""

from brainsim import (
    analysis,
    astro,
    benchmarks,
    connectome,
    continual,
    datasets,
    fit,
    integrators,
    nalsm,
    neurons,
    nir,
    nwb,
    plasticity,
    plot,
    rate,
    stimulation,
    surrogate,
    synapses,
    testing,
    train,
)
from brainsim._checkpoint import SavedState, load_state, save_state
from brainsim._compilation_cache import compilation_cache, enable_by_default
from brainsim._cores import use_cpu_cores
from brainsim._result import RunResult, SpikeEvents
from brainsim._run import run
from brainsim._run_to_disk import read_run, run_to_disk
from brainsim._sweep import Grid, SweepResult, firing_statistics, grid, sweep
from brainsim.network import Network, Projection

__version__ = "0.1.0"

enable_by_default()
del enable_by_default

__all__ = [
    "analysis",
    "astro",
    "benchmarks",
    "connectome",
    "continual",
    "datasets",
    "fit",
    "integrators",
    "nalsm",
    "neurons",
    "nir",
    "nwb",
    "plasticity",
    "plot",
    "rate",
    "stimulation",
    "surrogate",
    "synapses",
    "testing",
    "train",
    "run",
    "RunResult",
    "SpikeEvents",
    "Network",
    "Projection",
    "use_cpu_cores",
    "compilation_cache",
    "run_to_disk",
    "read_run",
    "save_state",
    "load_state",
    "SavedState",
    "sweep",
    "grid",
    "Grid",
    "SweepResult",
    "firing_statistics",
]
