"""Real recordings to fit models to, shipped with brainsim (no network access at run time).

`load_idrest` returns the IDRest current-clamp sweeps of three rat somatosensory cortex
neurons (cells `"B6"`, `"B8"`, `"B95"`) from BluePyEfe's test data (BSD-licensed; see
`docs/data.md`) as a `Recording`; `brainsim.nwb.read_current_clamp` returns the same structure
from an NWB file, so that fitting code takes either.
"""

from brainsim.datasets._idrest import load_idrest
from brainsim.datasets._recording import Recording
from brainsim.datasets._spikes import spike_times
from brainsim.datasets._steps import estimate_step

__all__ = ["Recording", "estimate_step", "load_idrest", "spike_times"]
