"""Whole nervous systems from real data: C. elegans connectomes as brainsim networks.

`load_connectome` reads any dataset of OpenWorm's C. elegans Connectome Toolbox (`cect`, MIT
licence: Varshney et al. 2011, Cook et al. 2019 and 2020, Witvliet et al. 2021, White et al.
1986, ...) from the installed package's data files (`pip install --no-deps cect` suffices), or
brainsim's bundled copy of three of them; `build_network` turns it into a `Network` of graded
or spiking neurons with chemical synapses and gap junctions.
"""

from brainsim.connectome._data import (
    BUNDLED,
    CHEMICAL_CLASSES,
    GABAERGIC,
    Connectome,
    Synapses,
    available_connectomes,
    cell_class,
    load_connectome,
    parse_summary,
)
from brainsim.connectome._network import (
    GradedSynapses,
    build_network,
    sensory_input,
    synapse_signs,
)

__all__ = [
    "BUNDLED",
    "CHEMICAL_CLASSES",
    "GABAERGIC",
    "Connectome",
    "Synapses",
    "available_connectomes",
    "cell_class",
    "load_connectome",
    "parse_summary",
    "GradedSynapses",
    "build_network",
    "sensory_input",
    "synapse_signs",
]
