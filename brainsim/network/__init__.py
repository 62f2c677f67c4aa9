"""Networks: populations connected by projections (connectivity, delays, synapses)."""

from brainsim.network._delays import DelayState
from brainsim.network._gap_junctions import (
    GapJunctions,
    GapJunctionState,
    membrane_capacitance,
)
from brainsim.network._network import Network
from brainsim.network._partition import PartitionedNetwork, partition
from brainsim.network._projection import Projection, ProjectionState

__all__ = [
    "Network",
    "PartitionedNetwork",
    "partition",
    "Projection",
    "ProjectionState",
    "DelayState",
    "GapJunctions",
    "GapJunctionState",
    "membrane_capacitance",
]
