"""Analysis of recorded activity: rates, spike-train irregularity and variability, count
correlations, spectra, spike-triggered averages, an LFP proxy and synchrony.

Functions take spikes as `SpikeEvents`, a `RunResult` (with `name=` the spike variable), a
tuple `(times, indices, n)` (ms, neuron index, number of neurons) or the 1-d spike times (ms)
of one neuron. Those a loss would use (`spike_counts`, `firing_rates`, `population_rate`,
`fano_factor`, `correlation_matrix`, `cross_correlogram`, `power_spectrum`,
`spike_triggered_average`, `lfp_proxy`, `chi`) are JAX and differentiable through a traced
run's spikes or traces; interval statistics (`cv`, `cv2`, `lv`), the STTC and the branching
factor are numpy on the host. Times are in ms, rates in Hz, frequencies in Hz.
"""

from brainsim.analysis._branching import branching_factor
from brainsim.analysis._correlations import correlation_matrix, cross_correlogram, fano_factor
from brainsim.analysis._isi import cv, cv2, inter_spike_intervals, lv
from brainsim.analysis._lfp import lfp_proxy
from brainsim.analysis._rates import firing_rates, population_rate, spike_counts
from brainsim.analysis._spectra import power_spectrum
from brainsim.analysis._sta import spike_triggered_average
from brainsim.analysis._synchrony import chi, spike_time_tiling

__all__ = [
    "branching_factor",
    "chi",
    "correlation_matrix",
    "cross_correlogram",
    "cv",
    "cv2",
    "fano_factor",
    "firing_rates",
    "inter_spike_intervals",
    "lfp_proxy",
    "lv",
    "population_rate",
    "power_spectrum",
    "spike_counts",
    "spike_time_tiling",
    "spike_triggered_average",
]
