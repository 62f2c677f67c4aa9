"""The points of a sweep: a grid of parameter axes, or a list of parameter sets, checked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
from jaxtyping import Num

__all__ = ["Grid", "grid", "check_points"]


class Grid(Mapping):
    """The cartesian product of parameter axes, flattened into points (made by `grid`).

    As a mapping it gives, per parameter, its value at each point (`len(axis_0) · len(axis_1)
    · …` points; the last axis varies fastest, as `np.meshgrid(..., indexing="ij")`
    flattened). `axes` keeps the axes, so that a sweep's outputs can be put back on the grid
    (`SweepResult.reshape_grid`).

    Attributes:
        axes: per parameter, its 1-d array of values, in the order given.
    """

    axes: dict[str, np.ndarray]

    def __init__(self, axes: Mapping[str, np.ndarray]):
        self.axes = dict(axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """The grid's shape: one entry per axis."""
        return tuple(len(values) for values in self.axes.values())

    def __getitem__(self, name: str) -> np.ndarray:
        index = list(self.axes).index(name) if name in self.axes else None
        if index is None:
            raise KeyError(name)
        mesh = np.meshgrid(*self.axes.values(), indexing="ij")
        return mesh[index].reshape(-1)

    def __iter__(self) -> Iterator[str]:
        return iter(self.axes)

    def __len__(self) -> int:
        return len(self.axes)

    def __repr__(self) -> str:
        axes = ", ".join(f"{name}={len(values)}" for name, values in self.axes.items())
        return f"Grid({axes})"


def grid(**axes) -> Grid:
    """The cartesian product of parameter axes, as the points of a `brainsim.sweep`.

    Args:
        **axes (Sequence[float]): per parameter, a 1-d sequence of values (in the parameter's own
            unit); every combination becomes one point, the last axis varying fastest.

    Returns:
        A `Grid`: a mapping from each name to its value at every point, that remembers its
        axes.

    Raises:
        ValueError: for no axes, an axis that is not 1-d or empty, or a NaN or infinite value
            (naming the parameter).

    Examples:
        >>> import brainsim as bs
        >>> points = bs.grid(w_e=[0.3, 0.6], w_i=[5.0, 6.7, 8.0])
        >>> points.shape, points["w_e"].tolist(), points["w_i"].tolist()
        ((2, 3), [0.3, 0.3, 0.3, 0.6, 0.6, 0.6], [5.0, 6.7, 8.0, 5.0, 6.7, 8.0])
    """
    if not axes:
        raise ValueError("`grid` needs at least one parameter axis, e.g. grid(w_e=[0.3, 0.6]).")
    checked = {}
    for name, values in axes.items():
        array = _numeric(name, values)
        if array.ndim != 1 or array.size == 0:
            raise ValueError(
                f"grid axis {name!r} must be a non-empty 1-d sequence of values, got shape "
                f"{array.shape}."
            )
        checked[name] = array
    return Grid(checked)


def _numeric(name: str, values) -> np.ndarray:
    """`values` as a numeric array whose entries are all finite (errors name the parameter)."""
    array = np.asarray(values)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"parameter {name!r} must hold numbers, got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.inexact):
        bad = ~np.isfinite(array)
        if bad.any():
            where = np.argwhere(bad)[0]
            at = f" at point {int(where[0])}" if array.ndim else ""
            raise ValueError(
                f"parameter {name!r} holds {array[tuple(where)]}{at}; sweep values must be finite."
            )
    return array


def check_points(params: Mapping) -> tuple[dict[str, Num[np.ndarray, "points ..."]], int]:
    """The parameter sets of a sweep as `{name: array with a leading axis of points}` and the
    number of points; raises naming the parameter for bad names, values or lengths."""
    if not isinstance(params, Mapping):
        raise TypeError(
            "`params` must be a mapping {name: values per point} or a `brainsim.grid`, got "
            f"{type(params).__name__}."
        )
    if not params:
        raise ValueError("`params` is empty: give at least one parameter to sweep.")
    points = {}
    for name, values in params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"parameter names must be Python identifiers (they are passed as keywords), "
                f"got {name!r}."
            )
        array = _numeric(name, values)
        if array.ndim == 0:
            raise ValueError(
                f"parameter {name!r} is a scalar; give one value per point (a sequence), or "
                "pass it to the function directly."
            )
        points[name] = array
    lengths = {name: len(array) for name, array in points.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(
            f"every parameter needs one value per point, but the lengths differ ({listed}); "
            "use `brainsim.grid(...)` for all combinations."
        )
    n_points = next(iter(lengths.values()))
    if n_points == 0:
        raise ValueError("the sweep has no points (every parameter has 0 values).")
    return points, n_points
