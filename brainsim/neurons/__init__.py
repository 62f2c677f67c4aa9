"""Point neuron models and spike sources.

Every model is an `equinox.Module` whose array fields are parameters (scalars or one value per
neuron) with `init(n, key=None) -> state` and `step(state, inputs, *, t, dt) -> (state, spikes)`.
Inputs are currents in pA (an array, a scalar, or a `Drive` with conductances).
"""

from brainsim.neurons._base import Drive, Neuron
from brainsim.neurons._exponential import AdEx, AdExState, ExpIF
from brainsim.neurons._gif import GIF, GIFState
from brainsim.neurons._glif import GLIF, GLIFState
from brainsim.neurons._hodgkin_huxley import HH, HHState, TraubHH
from brainsim.neurons._izhikevich import Izhikevich, IzhikevichState
from brainsim.neurons._lif import ALIF, LIF, ALIFState, LIFState
from brainsim.neurons._sources import PoissonSource, PoissonState, SpikeTimes, SpikeTimesState

__all__ = [
    "Drive",
    "Neuron",
    "LIF",
    "LIFState",
    "ALIF",
    "ALIFState",
    "ExpIF",
    "AdEx",
    "AdExState",
    "GLIF",
    "GLIFState",
    "GIF",
    "GIFState",
    "Izhikevich",
    "IzhikevichState",
    "HH",
    "TraubHH",
    "HHState",
    "PoissonSource",
    "PoissonState",
    "SpikeTimes",
    "SpikeTimesState",
]
