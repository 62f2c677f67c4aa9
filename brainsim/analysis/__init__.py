"""Analysis of recorded activity: measures computed from spike rasters (numpy, host side).

`branching_factor` is the criticality measure of Ivanov & Michmizos (2021): how many spikes
a spike is followed by among its postsynaptic neurons, per spike that preceded it among its
presynaptic neurons.
"""

from brainsim.analysis._branching import branching_factor

__all__ = ["branching_factor"]
