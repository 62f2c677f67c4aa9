"""Gradient training of spiking networks built from brainsim's models.

Surrogate-gradient backpropagation through time runs through `brainsim.run` (with
`checkpoint_every` for bounded memory); `online_value_and_grad` gives OTTT / SLTT gradients whose
memory does not depend on the number of steps, and `eprop_value_and_grad` e-prop's
eligibility-trace gradients of recurrent networks (`RecurrentSNN`); `rate_value_and_grad`
differentiates through the layers' rates (DSR). `project_updates` / `orthogonal_projection`
protect old tasks (HLOP, GPM).
Layers (`SpikingDense`, `Sequential`) are equinox modules built around the same neuron models
that simulate; `LeakyReadout` and the losses turn their outputs into training signals;
`Positive` keeps learnable time constants positive.
"""

from brainsim.train._delays import DCLSDense, DCLSState, sigma_schedule, tap_weights
from brainsim.train._eprop import (
    EpropLIF,
    RecurrentSNN,
    RecurrentState,
    eprop_value_and_grad,
    random_feedback,
)
from brainsim.train._layers import Sequential, SpikingDense
from brainsim.train._losses import (
    max_over_time_cross_entropy,
    rate_regularizer,
    spike_count_loss,
    sum_over_time_cross_entropy,
    van_rossum_loss,
)
from brainsim.train._motion import DelayTapLogistic, moving_dots
from brainsim.train._online import online_value_and_grad
from brainsim.train._parameters import Positive, unwrap
from brainsim.train._projection import orthogonal_current, orthogonal_projection, project_updates
from brainsim.train._rate import rate_value_and_grad
from brainsim.train._readout import LeakyReadout, ReadoutState
from brainsim.train._tasks import relative_timing_task, two_timescale_task

__all__ = [
    "DCLSDense",
    "DCLSState",
    "tap_weights",
    "sigma_schedule",
    "LeakyReadout",
    "ReadoutState",
    "Positive",
    "unwrap",
    "SpikingDense",
    "Sequential",
    "online_value_and_grad",
    "eprop_value_and_grad",
    "EpropLIF",
    "RecurrentSNN",
    "RecurrentState",
    "random_feedback",
    "rate_value_and_grad",
    "project_updates",
    "orthogonal_projection",
    "orthogonal_current",
    "max_over_time_cross_entropy",
    "sum_over_time_cross_entropy",
    "spike_count_loss",
    "van_rossum_loss",
    "rate_regularizer",
    "relative_timing_task",
    "two_timescale_task",
    "DelayTapLogistic",
    "moving_dots",
]
