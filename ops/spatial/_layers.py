"""Layers: neuron positions in a rectangular region, optionally with periodic boundaries.

A :class:`Layer` holds one row of coordinates per neuron, the region's ``center`` and
``extent`` (the side lengths), and whether the region wraps around (a torus). Layers are made
on a grid (:func:`grid`), uniformly at random (:func:`random`) or from given coordinates
(:func:`free`). Coordinates are float64 in any length unit (µm by the brainsim convention, or
the unit of the reference model), shared with masks and kernel widths.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Float

from .._builders import _seed


def _vector(value, name: str, dim: int, *, positive: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be {dim} real numbers, got {value!r}.") from error
    if arr.shape != (dim,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be {dim} finite numbers, got {value!r}.")
    if positive and np.any(arr <= 0):
        raise ValueError(f"`{name}` must be > 0 on every axis, got {value!r}.")
    return arr


def _dim(dim) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or not 1 <= dim <= 3:
        raise ValueError(f"layers are 1-, 2- or 3-D; got {dim!r} dimensions.")
    return int(dim)


@dataclass(frozen=True, eq=False)
class Layer:
    """Neurons with positions in the box ``center ± extent / 2`` (a torus if ``periodic``).

    Args:
        positions: coordinates, shape ``(n, d)`` with ``d`` in {1, 2, 3} (length unit).
        extent: side lengths of the region, ``d`` numbers > 0 (length unit).
        center: center of the region, ``d`` numbers (length unit).
        periodic: if True, the region wraps around on every axis and distances are the
            shortest ones on the torus (NEST ``edge_wrap=True``).

    Raises:
        ValueError: if a position lies outside the region (naming the neuron).

    Examples:
        >>> layer = Layer(np.array([[0.1, 0.2], [0.9, 0.5]]), extent=(1.0, 1.0),
        ...               center=(0.5, 0.5), periodic=True)
        >>> layer.n, layer.dim
        (2, 2)
    """

    positions: Float[np.ndarray, "n d"]
    extent: Float[np.ndarray, " d"]
    center: Float[np.ndarray, " d"]
    periodic: bool = False

    def __post_init__(self):
        try:
            pos = np.array(self.positions, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError("`positions` must be a real (n, d) array of coordinates.") from error
        if pos.ndim != 2:
            raise ValueError(f"`positions` must have shape (n, d), got {pos.shape}.")
        dim = _dim(pos.shape[1])
        if not np.all(np.isfinite(pos)):
            raise ValueError("`positions` must hold finite coordinates.")
        extent = _vector(self.extent, "extent", dim, positive=True)
        center = _vector(self.center, "center", dim)
        lower, upper = center - extent / 2, center + extent / 2
        slack = 1e-12 * np.maximum(extent, np.abs(center))
        outside = np.any((pos < lower - slack) | (pos > upper + slack), axis=1)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"position {i} {tuple(pos[i].tolist())} lies outside the layer "
                f"{tuple(lower.tolist())} .. {tuple(upper.tolist())} ({int(outside.sum())} "
                "positions outside); enlarge `extent` or "
                "move `center`."
            )
        pos.setflags(write=False)
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "extent", extent)
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "periodic", bool(self.periodic))

    @property
    def n(self) -> int:
        """Number of neurons."""
        return int(self.positions.shape[0])

    @property
    def dim(self) -> int:
        """Number of coordinates per neuron."""
        return int(self.positions.shape[1])

    @property
    def lower(self) -> np.ndarray:
        """Lower corner of the region."""
        return self.center - self.extent / 2

    def displacement(self, source, target) -> np.ndarray:
        """``target - source`` for rows of coordinates (the shortest one if periodic).

        Examples:
            >>> torus = grid((4,), extent=(1.0,), periodic=True)
            >>> torus.displacement(torus.positions[:1], torus.positions[3:])   # wraps around
            array([[-0.25]])
        """
        d = np.asarray(target, np.float64) - np.asarray(source, np.float64)
        if self.periodic:
            d = d - self.extent * np.round(d / self.extent)
        return d


def grid(shape, *, extent=None, center=None, periodic: bool = False) -> Layer:
    """Neurons at the centers of the cells of a regular grid (NEST ``spatial.grid``).

    Neuron ``k`` sits in cell ``np.unravel_index(k, shape)``: along axis ``a`` at
    ``lower_a + (i_a + 1/2) extent_a / shape_a``. Without ``extent`` the cells have side 1 and
    the grid starts at 0, so coordinates are ``i_a + 1/2``.

    Args:
        shape (tuple[int, ...]): cells per axis, 1 to 3 positive ints.
        extent (Sequence[float] | None): side lengths of the region (default: ``shape``).
        center (Sequence[float] | None): center of the region (default: ``extent / 2``).
        periodic: wrap around on every axis.

    Examples:
        >>> grid((2, 2), extent=(1.0, 1.0), center=(0.0, 0.0)).positions
        array([[-0.25, -0.25],
               [-0.25,  0.25],
               [ 0.25, -0.25],
               [ 0.25,  0.25]])
    """
    dims = tuple(shape) if isinstance(shape, tuple | list) else None
    if not dims or any(isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1
                       for n in dims):
        raise ValueError(f"`shape` must be a tuple of 1 to 3 positive ints, got {shape!r}.")
    dim = _dim(len(dims))
    extent = np.asarray(dims, np.float64) if extent is None else _vector(
        extent, "extent", dim, positive=True)
    center = extent / 2 if center is None else _vector(center, "center", dim)
    axes = [center[a] - extent[a] / 2 + (np.arange(n) + 0.5) * extent[a] / n
            for a, n in enumerate(dims)]
    mesh = np.meshgrid(*axes, indexing="ij")
    positions = np.stack([m.reshape(-1) for m in mesh], axis=1)
    return Layer(positions, extent, center, periodic)


def random(key, n: int, *, extent, center=None, periodic: bool = False) -> Layer:
    """``n`` neurons placed independently and uniformly in the region (NEST ``spatial.free``
    with ``nest.random.uniform`` positions).

    The uniform numbers are drawn in float32 by ``jax.random.uniform``, so the positions are
    the same with and without ``jax_enable_x64``.

    Args:
        key (PRNGKeyArray): ``jax.random`` key (same key, same positions).
        n: number of neurons.
        extent (Sequence[float]): side lengths, 1 to 3 numbers > 0 (the number sets the
            dimension).
        center (Sequence[float] | None): center of the region (default: ``extent / 2``, so
            the region starts at 0).
        periodic: wrap around on every axis.

    Examples:
        >>> layer = random(jax.random.key(0), 500, extent=(1.0, 1.0, 1.0), periodic=True)
        >>> layer.positions.shape
        (500, 3)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"`n` must be a non-negative int, got {n!r}.")
    dim = _dim(np.size(extent))
    extent = _vector(extent, "extent", dim, positive=True)
    center = extent / 2 if center is None else _vector(center, "center", dim)
    _seed(key)
    u = np.asarray(jax.random.uniform(key, (int(n), dim), jnp.float32), np.float64)
    return Layer(center - extent / 2 + u * extent, extent, center, periodic)


def free(positions, *, extent=None, center=None, periodic: bool = False) -> Layer:
    """A layer from given coordinates (NEST ``spatial.free``).

    Without ``extent`` the region is the bounding box of the positions (grown by 1 % so that
    no neuron sits on its edge; 1 length unit wide on a flat axis), as NEST does.

    Args:
        positions (Float[Array, 'n d']): coordinates (length unit).
        extent (Sequence[float] | None): side lengths of the region (default: see above).
        center (Sequence[float] | None): center of the region (default: the bounding box's
            center).
        periodic: wrap around on every axis (needs ``extent``).

    Examples:
        >>> free([[0.0, 0.0], [2.0, 1.0]]).extent
        array([2.02, 1.01])
    """
    try:
        pos = np.asarray(positions, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError("`positions` must be a real (n, d) array of coordinates.") from error
    if pos.ndim != 2:
        raise ValueError(f"`positions` must have shape (n, d), got {pos.shape}.")
    if not np.all(np.isfinite(pos)):
        raise ValueError("`positions` must hold finite coordinates.")
    lo, hi = (pos.min(0), pos.max(0)) if pos.shape[0] else (np.zeros(pos.shape[1]),) * 2
    if extent is None:
        if periodic:
            raise ValueError("a periodic layer needs its `extent` (the period on each axis).")
        width = hi - lo
        extent = np.where(width > 0, 1.01 * width, 1.0)
    if center is None:
        center = (lo + hi) / 2
    return Layer(pos, extent, center, periodic)
