"""Astrocytes: neuron–glia models as pure state transitions.

- `GChI`: the G-ChI astrocyte (Ca²⁺, IP3R de-inactivation, IP3 with PLCβ/PLCδ production and
  IP3-3K/IP-5P degradation, receptors, gliotransmitter release), RK4, Euler or stochastic
  Milstein.
- `TripartiteRelease`: Tsodyks–Markram release whose resting probability is lowered (or
  raised) by presynaptic gliotransmitter receptors; the `stp` of a `Projection`.
- `GapJunctions`: IP3 exchange between astrocytes, with `ring_edges` and `lattice_edges`.
- NEST's neuron–astrocyte family: `AstrocyteLR1994` (`astrocyte_lr_1994`), `AEIFCondAlphaAstro`
  (`aeif_cond_alpha_astro`) and `SlowInwardCurrent` (`sic_connection`), with `Instantaneous`
  kinetics and the `IP3Input` / `AlphaSpikeInput` outputs for their spike inputs.

Astrocyte populations live in a `Network` like neurons (`{"A": (GChI(...), 3200)}`), on their
own clock if wanted (`Network(..., clocks={"A": 10.0})`).
"""

from brainsim.astro._base import Astrocyte
from brainsim.astro._gap_junctions import GapJunctions, lattice_edges, ring_edges
from brainsim.astro._gchi import AstrocyteDrive, GChI, GChIState
from brainsim.astro._lr1994 import AstrocyteLR1994, IP3Input, LR1994Drive, LR1994State
from brainsim.astro._sic import SlowInwardCurrent
from brainsim.astro._tripartite import TripartiteRelease, TripartiteState
from brainsim.neurons._aeif_astro import (
    AEIFAstroInput,
    AEIFAstroState,
    AEIFCondAlphaAstro,
    AlphaSpikeInput,
    Instantaneous,
)

__all__ = [
    "AEIFAstroInput",
    "AEIFAstroState",
    "AEIFCondAlphaAstro",
    "AlphaSpikeInput",
    "Astrocyte",
    "AstrocyteDrive",
    "AstrocyteLR1994",
    "GChI",
    "GChIState",
    "GapJunctions",
    "IP3Input",
    "Instantaneous",
    "LR1994Drive",
    "LR1994State",
    "SlowInwardCurrent",
    "TripartiteRelease",
    "TripartiteState",
    "lattice_edges",
    "ring_edges",
]
