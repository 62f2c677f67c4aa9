"""What `brainsim.sweep` returns: parameters and outputs per point, with ways to plot them."""

from __future__ import annotations

import importlib

import numpy as np
from jaxtyping import Num

__all__ = ["SweepResult"]


class SweepResult:
    """The outputs of a function at every point of a sweep (see `brainsim.sweep`).

    Attributes:
        params: per parameter, its value at each point, `(points, ...)`.
        outputs: per output of the function, its value at each point, `(points, ...)`
            (NumPy; a point whose evaluation failed shows it in its own values, e.g. NaN).
        axes: the grid's axes when the points came from `brainsim.grid`, else `None`.
        compile_s: seconds spent tracing and compiling (0 when a compiled program was reused).
        run_s: seconds spent evaluating the points (all chunks, on all devices).
        chunk_size: points per device in each compiled call.
        devices: number of devices the points were spread over.

    Examples:
        >>> import brainsim as bs
        >>> result = bs.sweep(lambda a, b: {"sum": a + b}, bs.grid(a=[0.0, 1.0], b=[10.0, 20.0]),
        ...                   progress=False)
        >>> result.reshape_grid()["sum"].tolist()
        [[10.0, 20.0], [11.0, 21.0]]
    """

    def __init__(self, params, outputs, axes, *, compile_s, run_s, chunk_size, devices):
        self.params: dict[str, Num[np.ndarray, "points ..."]] = params
        self.outputs: dict[str, Num[np.ndarray, "points ..."]] = outputs
        self.axes: dict[str, np.ndarray] | None = axes
        self.compile_s = compile_s
        self.run_s = run_s
        self.chunk_size = chunk_size
        self.devices = devices

    def __len__(self) -> int:
        return len(next(iter(self.params.values())))

    def __getitem__(self, name: str) -> np.ndarray:
        """`result[name]`: an output, else a parameter, at every point."""
        if name in self.outputs:
            return self.outputs[name]
        if name in self.params:
            return self.params[name]
        raise KeyError(
            f"{name!r} is neither an output ({sorted(self.outputs)}) nor a parameter "
            f"({sorted(self.params)}) of this sweep."
        )

    def __repr__(self) -> str:
        return (
            f"SweepResult({len(self)} points, params={list(self.params)}, "
            f"outputs={list(self.outputs)})"
        )

    def reshape_grid(self) -> dict[str, np.ndarray]:
        """The outputs on the grid: per output, an array of shape `grid shape + output shape`
        (axis `k` is the `k`-th parameter of `brainsim.grid`).

        Raises:
            ValueError: if the points were not given as a `brainsim.grid`.
        """
        if self.axes is None:
            raise ValueError(
                "reshape_grid needs a sweep over `brainsim.grid(...)`; these points were a list "
                "of parameter sets."
            )
        shape = tuple(len(values) for values in self.axes.values())
        return {
            name: value.reshape(shape + value.shape[1:]) for name, value in self.outputs.items()
        }

    def to_pandas(self):
        """A `pandas.DataFrame` with one row per point: the parameters, then the outputs that
        have one value per point (outputs with more are left out: see `outputs`).

        Raises:
            ImportError: if pandas is not installed.
        """
        pandas = _optional("pandas")
        columns = {name: value for name, value in self.params.items() if value.ndim == 1}
        columns.update({name: value for name, value in self.outputs.items() if value.ndim == 1})
        return pandas.DataFrame(columns)

    def to_xarray(self):
        """An `xarray.Dataset` of the outputs: over the grid's axes (dimensions named after the
        parameters, with their values as coordinates) for a `brainsim.grid`, else over a
        dimension `point` with the parameters as coordinates. An output's own axes are named
        `<output>_0`, `<output>_1`, ….

        Raises:
            ImportError: if xarray is not installed (`pip install xarray`).
        """
        xarray = _optional("xarray")
        if self.axes is not None:
            dims = tuple(self.axes)
            coords = dict(self.axes)
            values = self.reshape_grid()
        else:
            dims = ("point",)
            coords = {name: (dims, value) for name, value in self.params.items() if value.ndim == 1}
            values = self.outputs
        data = {
            name: (dims + tuple(f"{name}_{k}" for k in range(value.ndim - len(dims))), value)
            for name, value in values.items()
        }
        return xarray.Dataset(data, coords=coords)


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"this conversion needs {module}, which is not installed (`pip install {module}`)."
        ) from error
