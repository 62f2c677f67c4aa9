"""Stimulation: current generators, noise currents and spike sources.

Current sources (`DC`, `Waveform`, `Sinusoid`, `PulseTrain`, `GaussianNoise`, `OUNoise`) have
`init(n, key=None) -> state` and `step(state, inputs, *, t, dt) -> (state, I)`; the
deterministic ones are also functions of time, `generator(t) -> I` (pA), for `run(inputs=...)`.
In a `Network` they are populations whose current reaches another population through an
`Inject` coupling. Spike sources (`InhomogeneousPoisson`, `SinusoidalPoisson`, `GammaProcess`,
`MIP`, `PulsePacket`) are populations like `brainsim.neurons.PoissonSource`.
"""

from brainsim.stimulation._correlated import MIP, PulsePacket, PulsePacketState
from brainsim.stimulation._currents import (
    DC,
    CurrentGenerator,
    CurrentSource,
    CurrentState,
    PulseTrain,
    Sinusoid,
    Waveform,
)
from brainsim.stimulation._gamma import GammaProcess, GammaState
from brainsim.stimulation._inject import Inject
from brainsim.stimulation._noise import GaussianNoise, GaussianNoiseState, OUNoise, OUState
from brainsim.stimulation._poisson import InhomogeneousPoisson, SinusoidalPoisson

__all__ = [
    "CurrentSource",
    "CurrentGenerator",
    "CurrentState",
    "DC",
    "Waveform",
    "Sinusoid",
    "PulseTrain",
    "GaussianNoise",
    "GaussianNoiseState",
    "OUNoise",
    "OUState",
    "Inject",
    "InhomogeneousPoisson",
    "SinusoidalPoisson",
    "GammaProcess",
    "GammaState",
    "MIP",
    "PulsePacket",
    "PulsePacketState",
]
