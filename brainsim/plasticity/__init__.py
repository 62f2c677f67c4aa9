"""Plasticity: spike-timing-dependent, three-factor, Hebbian and inhibitory learning rules.

Spike-driven rules are `(init, update)` pairs in the spirit of optax (contract 7):
`traces = rule.init(conn)` makes the traces (a NamedTuple of arrays) for a `brainsim_ops`
connectivity, and `weights, traces = rule.update(traces, weights, pre_spikes, post_spikes, *,
dt, conn=None, modulator=None)` advances them by `dt` ms and applies the spikes event-driven
(`conn=None`: the weights are a dense `(n_pre, n_post)` matrix). Their constants are array
fields: differentiable and `vmap`-able. Rules compose with `chain` and `clip`. The Hebbian
rate rules `Oja` and `Subspace` act on dense weights and activity vectors: `update(W, x) -> W`;
`LateralSubspace` builds HLOP's lateral subspace neurons (grown and frozen task by task) on
`Subspace`. Homeostasis: `SynapticScaling` and `WeightNormalization` are rules of the same
form; `AdaptiveThreshold` wraps a neuron model (intrinsic plasticity of its threshold).
Structural plasticity (`StructuralPlasticity`, with `GaussianGrowth`, `LinearGrowth`,
`SigmoidGrowth` curves) creates and deletes synapses of a `Network` at run time.
"""

from brainsim.plasticity._astro_stdp import AstroSTDP, AstroSTDPState
from brainsim.plasticity._compose import Chain, Clip, chain, clip
from brainsim.plasticity._distal_reward import DistalReward, DistalRewardState
from brainsim.plasticity._error_modulated import ErrorModulated, ErrorModulatedTraces
from brainsim.plasticity._growth import GaussianGrowth, GrowthCurve, LinearGrowth, SigmoidGrowth
from brainsim.plasticity._hebbian import Oja, Subspace
from brainsim.plasticity._homeostatic import ScalingTraces, SynapticScaling, WeightNormalization
from brainsim.plasticity._inhibitory import InhibitorySTDP
from brainsim.plasticity._intrinsic import AdaptiveThreshold, AdaptiveThresholdState
from brainsim.plasticity._lateral import LateralSubspace, LateralSubspaceState, signed_rate_code
from brainsim.plasticity._stdp import STDP, STDPTraces
from brainsim.plasticity._structural import StructuralPlasticity, StructuralState
from brainsim.plasticity._three_factor import EligibilitySTDP, EligibilityTraces
from brainsim.plasticity._triplet import TripletSTDP, TripletTraces

__all__ = [
    "STDP",
    "STDPTraces",
    "TripletSTDP",
    "TripletTraces",
    "EligibilitySTDP",
    "EligibilityTraces",
    "DistalReward",
    "DistalRewardState",
    "ErrorModulated",
    "ErrorModulatedTraces",
    "InhibitorySTDP",
    "AstroSTDP",
    "AstroSTDPState",
    "Oja",
    "Subspace",
    "LateralSubspace",
    "LateralSubspaceState",
    "signed_rate_code",
    "SynapticScaling",
    "ScalingTraces",
    "WeightNormalization",
    "AdaptiveThreshold",
    "AdaptiveThresholdState",
    "StructuralPlasticity",
    "StructuralState",
    "GrowthCurve",
    "GaussianGrowth",
    "LinearGrowth",
    "SigmoidGrowth",
    "Chain",
    "Clip",
    "chain",
    "clip",
]
