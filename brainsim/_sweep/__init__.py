"""`brainsim.sweep`: a function of parameters over a grid or a list of parameter sets."""

from brainsim._sweep._firing import firing_statistics
from brainsim._sweep._points import Grid, grid
from brainsim._sweep._result import SweepResult
from brainsim._sweep._sweep import sweep

__all__ = ["Grid", "SweepResult", "firing_statistics", "grid", "sweep"]
