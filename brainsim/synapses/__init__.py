"""Synapses: linear kinetics (exact propagators), outputs, and short-term plasticity.

A synapse in a projection is a kinetics object (`Exponential`, `Alpha`, `DualExponential`) whose
variable acts on the postsynaptic neuron through an output (`Conductance`, `Current`, `NMDA`),
optionally scaled per spike by short-term plasticity (`TsodyksMarkram`) or a stochastic release
per synapse (`BernoulliRelease`, `QuantalRelease`).
"""

from brainsim.synapses._kinetics import (
    Alpha,
    AlphaState,
    DualExponential,
    DualExponentialState,
    Exponential,
    ExponentialState,
)
from brainsim.synapses._outputs import NMDA, Conductance, Current
from brainsim.synapses._short_term import TsodyksMarkram, TsodyksMarkramState
from brainsim.synapses._stochastic_release import (
    BernoulliRelease,
    BernoulliState,
    QuantalRelease,
    QuantalState,
)

__all__ = [
    "Exponential",
    "ExponentialState",
    "Alpha",
    "AlphaState",
    "DualExponential",
    "DualExponentialState",
    "Conductance",
    "Current",
    "NMDA",
    "TsodyksMarkram",
    "TsodyksMarkramState",
    "BernoulliRelease",
    "BernoulliState",
    "QuantalRelease",
    "QuantalState",
]
