"""Saving and loading a simulation's state: `brainsim.save_state` and `brainsim.load_state`.

The file is a NumPy `.npz` archive (a zip of `.npy` arrays, uncompressed): one array per leaf
of the state, named by its path in the state (`jax.tree_util.keystr`, e.g. `['E'].v` or
`['synapses']['E->E'].weights`), and a header `__brainsim__`, a JSON string. Random keys are
stored as their raw key data (`jax.random.key_data`, `uint32`) with the name of their
implementation in the header. Any NumPy reads it without brainsim:
`json.loads(str(np.load(path)["__brainsim__"]))`.

The header holds `format` ("brainsim.state"), `version` (1), `t` (ms), `step`, `dt` (ms), the
brainsim, JAX and NumPy versions, `leaves` (per leaf: `path`, `shape`, `dtype` and `key_impl`,
the random key implementation or null) and `metadata` (anything JSON the caller adds).
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["SavedState", "load_state", "save_state"]

_FORMAT = "brainsim.state"
_VERSION = 1
_HEADER = "__brainsim__"


class SavedState(NamedTuple):
    """What `load_state` returns.

    Attributes:
        state: the state: the pytree of `like` with the saved values, or a dict from leaf
            path to array when no `like` was given.
        t: simulated time when it was saved (ms), or None.
        step: number of steps run when it was saved, or None.
        dt: time step of the run (ms), or None.
        metadata: the caller's metadata (a dict).
    """

    state: Any
    t: float | None
    step: int | None
    dt: float | None
    metadata: dict


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _leaf_paths(state) -> tuple[list[str], list, Any]:
    flat, treedef = jax.tree_util.tree_flatten_with_path(state)
    paths = [jax.tree_util.keystr(path) or "state" for path, _ in flat]
    return paths, [leaf for _, leaf in flat], treedef


def write_atomically(path: pathlib.Path, write) -> None:
    """Call `write(file)` on a temporary file beside `path`, make it durable (fsync), then
    rename it to `path`: a reader (or a crash) sees the old file or the new one, never half."""
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def save_state(
    path: str | os.PathLike,
    state: Any,
    *,
    t: float | None = None,
    step: int | None = None,
    dt: float | None = None,
    metadata: dict | None = None,
) -> pathlib.Path:
    """Save a state (any pytree of arrays: neurons, plastic weights, delay rings, random keys)
    to a `.npz` file, bit for bit.

    The file is written beside `path` and renamed into place once complete, so an interrupted
    save leaves the previous file intact. Format: see the module docs (`docs/run.md`).

    Args:
        path: the file to write (`.npz` is appended if missing); its folder must exist.
        state: the state, e.g. `result.final_state`.
        t: simulated time at this state (ms), to continue with `run(..., t0=t)`.
        step: number of steps run to reach this state.
        dt: the time step (ms); `load_state(..., dt=)` then refuses another one.
        metadata: extra JSON-serialisable information kept in the header.

    Returns:
        The path written.

    Examples:
        >>> import tempfile, pathlib, jax, brainsim as bs
        >>> lif = bs.neurons.LIF()
        >>> result = bs.run(lif, lif.init(3), inputs=300.0, duration=10.0, dt=0.1)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = bs.save_state(pathlib.Path(folder) / "lif", result.final_state, t=10.0,
        ...                          dt=0.1)
        ...     saved = bs.load_state(path, like=lif.init(3), dt=0.1)
        >>> bool((saved.state.v == result.final_state.v).all()), saved.t
        (True, 10.0)
    """
    from brainsim import __version__

    path = pathlib.Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    paths, leaves, _ = _leaf_paths(state)
    arrays, described = {}, []
    for name, leaf in zip(paths, leaves, strict=True):
        if name == _HEADER:
            raise ValueError(f"a state leaf may not be named {_HEADER!r}.")
        key_impl = None
        if _is_key(leaf):
            key_impl = str(jax.random.key_impl(leaf))
            leaf = jax.random.key_data(leaf)
        value = np.asarray(leaf)
        arrays[name] = value
        described.append(
            {"path": name, "shape": list(value.shape), "dtype": value.dtype.str,
             "key_impl": key_impl}
        )  # fmt: skip
    header = {
        "format": _FORMAT,
        "version": _VERSION,
        "t": None if t is None else float(t),
        "step": None if step is None else int(step),
        "dt": None if dt is None else float(dt),
        "brainsim": __version__,
        "jax": jax.__version__,
        "numpy": np.__version__,
        "leaves": described,
        "metadata": metadata or {},
    }
    arrays[_HEADER] = np.array(json.dumps(header))
    write_atomically(path, lambda file: np.savez(file, **arrays))
    return path


def read_header(path: str | os.PathLike) -> dict:
    """The JSON header of a state file written by `save_state`."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved state at {str(path)!r}.")
    with np.load(path, allow_pickle=False) as data:
        if _HEADER not in data.files:
            raise ValueError(f"{str(path)!r} is not a brainsim state file (no {_HEADER!r}).")
        header = json.loads(str(data[_HEADER]))
    if header.get("format") != _FORMAT or header.get("version", 0) > _VERSION:
        raise ValueError(
            f"{str(path)!r} holds format {header.get('format')!r} version "
            f"{header.get('version')!r}; this brainsim reads {_FORMAT!r} up to version {_VERSION}."
        )
    return header


def _check_structure(path, header, like) -> None:
    """Raise if the saved leaves are not those of `like` (same paths, shapes and dtypes)."""
    paths, leaves, _ = _leaf_paths(like)
    saved = {leaf["path"]: leaf for leaf in header["leaves"]}
    missing = [p for p in paths if p not in saved]
    extra = [p for p in saved if p not in set(paths)]
    if missing or extra:
        raise ValueError(
            f"the state saved in {str(path)!r} does not have the structure of `like`: "
            f"missing from the file {missing}, not in `like` {extra}. Build `like` from the same "
            f"model (e.g. `network.init(key)`) as the saved run."
        )
    for name, leaf in zip(paths, leaves, strict=True):
        entry = saved[name]
        is_key = _is_key(leaf)
        if is_key != (entry["key_impl"] is not None):
            raise ValueError(f"state leaf {name}: random key in one state, not in the other.")
        value = jax.random.key_data(leaf) if is_key else leaf
        dtype = np.dtype(value.dtype) if hasattr(value, "dtype") else np.asarray(value).dtype
        shape = tuple(np.shape(value))
        if shape != tuple(entry["shape"]) or dtype != np.dtype(entry["dtype"]):
            raise ValueError(
                f"state leaf {name}: saved with shape {tuple(entry['shape'])} and dtype "
                f"{np.dtype(entry['dtype'])}, but `like` has shape {shape} and dtype {dtype}."
            )
        if is_key and str(jax.random.key_impl(leaf)) != entry["key_impl"]:
            raise ValueError(
                f"state leaf {name}: saved {entry['key_impl']} keys, but `like` has "
                f"{jax.random.key_impl(leaf)} keys."
            )


def load_state(path: str | os.PathLike, like: Any = None, *, dt: float | None = None) -> SavedState:
    """Load a state saved by `save_state`, bit for bit.

    Args:
        path: the `.npz` file.
        like: a state of the same model (e.g. `network.init(key)`, any values): the saved
            values are put into its structure, after checking that every leaf's path, shape and
            dtype match. Without it, `state` is a dict from leaf path to array.
        dt: the time step (ms) the state will be run with; raises if the file was saved with
            another one.

    Returns:
        A `SavedState`: `state`, `t` (ms), `step`, `dt` (ms) and `metadata`.

    Examples:
        >>> import tempfile, pathlib, jax, brainsim as bs
        >>> source = bs.neurons.PoissonSource(rate=50.0)
        >>> state = source.init(4, key=jax.random.key(0))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = bs.save_state(pathlib.Path(folder) / "poisson.npz", state, step=0)
        ...     flat = bs.load_state(path).state
        >>> sorted(flat)
        ['.key', '.spikes']
    """
    path = pathlib.Path(path)
    header = read_header(path)
    saved_dt = header["dt"]
    if dt is not None and saved_dt is not None and float(dt) != saved_dt:
        raise ValueError(
            f"the state in {str(path)!r} was saved from a run with dt = {saved_dt} ms; running "
            f"it with dt = {dt} ms would change delays counted in steps and the random streams. "
            f"Continue it with dt = {saved_dt} ms."
        )
    if like is not None:
        _check_structure(path, header, like)
    with np.load(path, allow_pickle=False) as data:
        values = {}
        for entry in header["leaves"]:
            value = jnp.asarray(data[entry["path"]])
            if entry["key_impl"] is not None:
                value = jax.random.wrap_key_data(value, impl=entry["key_impl"])
            values[entry["path"]] = value
    if like is None:
        state = values
    else:
        paths, _, treedef = _leaf_paths(like)
        state = jax.tree.unflatten(treedef, [values[p] for p in paths])
    return SavedState(state, header["t"], header["step"], saved_dt, header["metadata"])
