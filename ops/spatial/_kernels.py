"""Distance kernels: connection probability, weight or delay as a function of distance.

A kernel is any callable that maps a float64 array of distances (the layer's length unit,
e.g. µm or mm) to an array of the same shape. The built-in kernels are small frozen
dataclasses, so they print, compare and check their parameters; a user kernel is a plain
function such as ``lambda d: 0.3 * (d < 50.0)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _finite(value, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or np.ndim(value) != 0:
        raise ValueError(f"`{name}` must be a real number, got {value!r}.")
    try:
        x = float(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be a real number, got {value!r}.") from error
    if not np.isfinite(x) or (positive and x <= 0):
        kind = "a finite number > 0" if positive else "a finite number"
        raise ValueError(f"`{name}` must be {kind}, got {value!r}.")
    return x


@dataclass(frozen=True)
class Gaussian:
    """``amplitude * exp(-(d - mean)^2 / (2 sigma^2))`` (NEST ``spatial_distributions.gaussian``).

    Args:
        sigma: width σ (length unit of the layer, > 0).
        amplitude: value at ``d = mean`` (a probability in [0, 1] when used as one).
        mean: distance of the peak (length unit, default 0).

    Examples:
        >>> float(Gaussian(sigma=2.0, amplitude=0.5)(np.array([2.0]))[0])   # 0.5 / sqrt(e)
        0.3032653298563167
    """

    sigma: float
    amplitude: float = 1.0
    mean: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "sigma", _finite(self.sigma, "sigma", positive=True))
        object.__setattr__(self, "amplitude", _finite(self.amplitude, "amplitude"))
        object.__setattr__(self, "mean", _finite(self.mean, "mean"))

    def __call__(self, d: np.ndarray) -> np.ndarray:
        z = (d - self.mean) / self.sigma
        return self.amplitude * np.exp(-0.5 * z * z)


@dataclass(frozen=True)
class Exponential:
    """``amplitude * exp(-d / scale)`` (NEST ``spatial_distributions.exponential``, β = scale).

    Args:
        scale: length constant (length unit of the layer, > 0).
        amplitude: value at ``d = 0``.

    Examples:
        >>> float(Exponential(scale=10.0, amplitude=0.2)(np.array([0.0]))[0])
        0.2
    """

    scale: float
    amplitude: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "scale", _finite(self.scale, "scale", positive=True))
        object.__setattr__(self, "amplitude", _finite(self.amplitude, "amplitude"))

    def __call__(self, d: np.ndarray) -> np.ndarray:
        return self.amplitude * np.exp(-d / self.scale)


@dataclass(frozen=True)
class Linear:
    """``max(intercept + slope * d, 0)``: a probability falling (or a delay rising) with distance.

    As a probability it is NEST's ``p = intercept + slope * nest.spatial.distance`` (a negative
    probability never connects, hence the clip at 0); as a delay in ms it is a conduction delay,
    ``intercept`` ms plus ``slope`` ms per length unit (1 / conduction velocity).

    Args:
        intercept: value at ``d = 0``.
        slope: change per length unit (negative for a probability that falls off).

    Examples:
        >>> Linear(intercept=1.0, slope=-0.25)(np.array([0.0, 2.0, 8.0]))
        array([1. , 0.5, 0. ])
    """

    intercept: float
    slope: float

    def __post_init__(self):
        object.__setattr__(self, "intercept", _finite(self.intercept, "intercept"))
        object.__setattr__(self, "slope", _finite(self.slope, "slope"))

    def __call__(self, d: np.ndarray) -> np.ndarray:
        return np.maximum(self.intercept + self.slope * d, 0.0)


def evaluate(kernel, d: np.ndarray, name: str) -> np.ndarray:
    """``kernel(d)`` as float64 of ``d``'s shape; a number is a constant kernel."""
    if not callable(kernel):
        return np.full(d.shape, _finite(kernel, name))
    value = np.asarray(kernel(d), dtype=np.float64)
    if value.ndim == 0:
        value = np.full(d.shape, value)
    if value.shape != d.shape:
        raise ValueError(
            f"`{name}` must map an array of distances to an array of the same shape; given "
            f"shape {d.shape} it returned {value.shape}."
        )
    bad = ~np.isfinite(value)
    if bad.any():
        raise ValueError(f"`{name}` returned {value[bad][0]} at distance {d[bad][0]:g}.")
    return value


def check_probability(p: np.ndarray, d: np.ndarray, name: str, upper: bool) -> None:
    """Raise, naming the kernel and the distance, if ``p`` is < 0 (or > 1 when ``upper``)."""
    bad = (p < 0) | (p > 1) if upper else p < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        accepted = "[0, 1]" if upper else ">= 0"
        raise ValueError(
            f"`{name}` gives {p[i]:.6g} at distance {d[i]:.6g}; a connection probability must "
            f"be in {accepted}. Lower the kernel's amplitude."
        )


Kernel = Callable[[np.ndarray], np.ndarray] | float
