"""Masks: the region, relative to a neuron, in which its partners may lie.

A mask tests the displacement ``post - pre`` (with periodic boundaries, the shortest one).
Every mask is stored as one shape description that the candidate search reads: an
axis-aligned box ``lower <= x <= upper`` (rectangles, boxes) or a radial shell
``inner <= |x| <= outer`` (circles, balls, annuli); its bounding box limits which cells of the
layer are searched, so a mask makes the build cost proportional to the pairs inside it.
Boundaries are inclusive, as in NEST.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import _finite

BOX, SHELL = 0, 1


def _corner(value, name: str, dim: int) -> tuple[float, ...]:
    message = f"`{name}` must be {dim} finite coordinates, got {value!r}."
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(message) from error
    if arr.shape != (dim,) or not np.all(np.isfinite(arr)):
        raise ValueError(message)
    return tuple(float(x) for x in arr)


class _BoxMask:
    kind = BOX
    dim: int

    def __post_init__(self):
        lower = _corner(self.lower_left, "lower_left", self.dim)
        upper = _corner(self.upper_right, "upper_right", self.dim)
        if any(u <= lo for lo, u in zip(lower, upper, strict=True)):
            raise ValueError(
                f"`upper_right` {upper} must exceed `lower_left` {lower} on every axis."
            )
        object.__setattr__(self, "lower_left", lower)
        object.__setattr__(self, "upper_right", upper)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)`` corners of the bounding box of the mask."""
        return np.array(self.lower_left), np.array(self.upper_right)

    def radii(self) -> tuple[float, float]:
        return 0.0, 0.0


@dataclass(frozen=True)
class Rectangular(_BoxMask):
    """The 2-D rectangle ``lower_left <= post - pre <= upper_right`` (NEST ``rectangular``).

    Args:
        lower_left: ``(x, y)`` of the lower-left corner (length unit of the layer).
        upper_right: ``(x, y)`` of the upper-right corner, above ``lower_left`` on both axes.

    Examples:
        >>> Rectangular((-0.5, -0.25), (0.5, 0.25)).bounds()[1]
        array([0.5 , 0.25])
    """

    lower_left: tuple[float, float]
    upper_right: tuple[float, float]
    dim = 2


@dataclass(frozen=True)
class Box(_BoxMask):
    """The 3-D box ``lower_left <= post - pre <= upper_right`` (NEST ``box``).

    Args:
        lower_left: ``(x, y, z)`` of the lower corner (length unit of the layer).
        upper_right: ``(x, y, z)`` of the upper corner, above ``lower_left`` on every axis.

    Examples:
        >>> Box((-1, -1, -1), (1, 1, 1)).bounds()[0]
        array([-1., -1., -1.])
    """

    lower_left: tuple[float, float, float]
    upper_right: tuple[float, float, float]
    dim = 3


@dataclass(frozen=True)
class Circular:
    """``|post - pre| <= radius``: a disc in 2-D, a ball in 3-D (NEST ``circular``, ``spherical``).

    Args:
        radius: radius (length unit of the layer, > 0).

    Examples:
        >>> Circular(radius=0.2).radii()
        (0.0, 0.2)
    """

    radius: float
    kind = SHELL
    dim = None

    def __post_init__(self):
        object.__setattr__(self, "radius", _finite(self.radius, "radius", positive=True))

    def radii(self) -> tuple[float, float]:
        """``(inner, outer)`` radii of the shell."""
        return 0.0, self.radius


@dataclass(frozen=True)
class Annulus:
    """``inner_radius <= |post - pre| <= outer_radius`` (NEST ``doughnut``; a shell in 3-D).

    Args:
        inner_radius: inner radius (length unit of the layer, >= 0).
        outer_radius: outer radius (> ``inner_radius``).

    Examples:
        >>> Annulus(inner_radius=0.1, outer_radius=0.3).radii()
        (0.1, 0.3)
    """

    inner_radius: float
    outer_radius: float
    kind = SHELL
    dim = None

    def __post_init__(self):
        inner = _finite(self.inner_radius, "inner_radius")
        outer = _finite(self.outer_radius, "outer_radius", positive=True)
        if inner < 0 or outer <= inner:
            raise ValueError(
                f"`inner_radius` must be >= 0 and below `outer_radius`, got {inner!r} and "
                f"{outer!r}."
            )
        object.__setattr__(self, "inner_radius", inner)
        object.__setattr__(self, "outer_radius", outer)

    def radii(self) -> tuple[float, float]:
        """``(inner, outer)`` radii of the shell."""
        return self.inner_radius, self.outer_radius


Mask = Rectangular | Box | Circular | Annulus


def mask_arrays(mask, dim: int):
    """``(kind, lower, upper, inner, outer)`` padded to 3 axes for the candidate search.

    ``lower``/``upper`` bound the mask's displacements; ``kind`` < 0 means no mask.
    """
    if mask is None:
        big = np.full(3, np.inf)
        return -1, -big, big, 0.0, np.inf
    if not isinstance(mask, Rectangular | Box | Circular | Annulus):
        raise TypeError(
            f"`mask` must be a Rectangular, Box, Circular or Annulus mask, got {mask!r}."
        )
    if mask.dim is not None and mask.dim != dim:
        raise ValueError(
            f"a {type(mask).__name__} mask is {mask.dim}-D but the layers are {dim}-D."
        )
    inner, outer = mask.radii()
    if mask.kind == BOX:
        lower, upper = mask.bounds()
    else:
        lower, upper = np.full(dim, -outer), np.full(dim, outer)
    pad = 3 - dim
    lower = np.concatenate([lower, np.zeros(pad)])
    upper = np.concatenate([upper, np.zeros(pad)])
    return mask.kind, lower, upper, inner, outer
