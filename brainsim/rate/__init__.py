"""Rate and neural-mass models, and bridges to spiking populations.

Rate populations (`InputNoiseRate`, `OutputNoiseRate`, `WilsonCowan`, `JansenRit`) have
`init(n, key=None)` and `step(state, inputs, *, t, dt) -> (state, output)`; in a `Network`
they are populations, coupled by `RateCoupling`s (instantaneous or delayed, in `couplings=`).
`RateToSpikes` drives a `PoissonSource` with a rate population, and `spike_to_rate` builds a
projection that feeds the filtered spike rate of a spiking population into a rate population.
Gain functions (`Linear`, `ThresholdLinear`, `Tanh`, `Sigmoid`) are the models' `φ`.
"""

from brainsim.rate._base import RatePopulation
from brainsim.rate._bridge import RateToSpikes, spike_to_rate
from brainsim.rate._coupling import RateCoupling
from brainsim.rate._gain import Gain, Linear, Sigmoid, Tanh, ThresholdLinear
from brainsim.rate._jansen_rit import JansenRit, JansenRitState
from brainsim.rate._neurons import InputNoiseRate, OutputNoiseRate, RateState
from brainsim.rate._wilson_cowan import WilsonCowan, WilsonCowanState

__all__ = [
    "RatePopulation",
    "RateState",
    "InputNoiseRate",
    "OutputNoiseRate",
    "Gain",
    "Linear",
    "ThresholdLinear",
    "Tanh",
    "Sigmoid",
    "RateCoupling",
    "WilsonCowan",
    "WilsonCowanState",
    "JansenRit",
    "JansenRitState",
    "RateToSpikes",
    "spike_to_rate",
]
