"""What `brainsim.run` records: parsing `record=` and reading variables from a step's results."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Probe(NamedTuple):
    """One recorded variable: its name, neuron subset (or None: all) and optional selector."""

    name: str
    indices: np.ndarray | None
    selector: Callable[[Any, Any], jax.Array] | None

    @property
    def is_spikes(self) -> bool:
        """Spike variables are recorded every step and returned as events."""
        return self.name.split(".")[-1] == "spikes"


def parse_record(record) -> tuple[Probe, ...]:
    """Turn `record=` (a name, a sequence of names or a dict) into probes.

    A dict maps a name to `None` (all neurons), a sequence of neuron indices, or a function
    `(state, outputs) -> array` that computes the variable.
    """
    if record is None:
        return ()
    if isinstance(record, str):
        record = [record]
    if isinstance(record, Mapping):
        items = list(record.items())
    elif isinstance(record, Sequence):
        items = [(name, None) for name in record]
    else:
        raise TypeError(
            f"`record` must be a name, a list of names or a dict, got {type(record).__name__}."
        )
    probes = []
    for name, spec in items:
        if not isinstance(name, str) or not name:
            raise TypeError(f"`record` names must be non-empty strings, got {name!r}.")
        if callable(spec):
            probes.append(Probe(name, None, spec))
            continue
        indices = None
        if spec is not None:
            indices = np.asarray(spec)
            if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
                raise ValueError(f"`record[{name!r}]` must be a 1-D array of neuron indices.")
        probes.append(Probe(name, indices, None))
    return tuple(probes)


_MISSING = object()


def _get(obj, key):
    if isinstance(obj, Mapping):
        return obj.get(key, _MISSING)
    if key == "spikes" and isinstance(obj, jax.Array | np.ndarray):
        return obj
    return getattr(obj, key, _MISSING)


def _resolve(root, path: list[str]):
    obj = root
    for key in path:
        obj = _get(obj, key)
        if obj is _MISSING:
            return _MISSING
    return obj


def read_probe(probe: Probe, state, outputs) -> jax.Array:
    """The value of `probe` after a step: looked up in the outputs first, then in the state.

    The name `"spikes"` refers to the outputs themselves when a step returns one array. A dotted
    name (`"E.v"`) walks into nested states or outputs.
    """
    if probe.selector is not None:
        value = probe.selector(state, outputs)
    else:
        path = probe.name.split(".")
        value = _resolve(outputs, path)
        if value is _MISSING:
            value = _resolve(state, path)
        if value is _MISSING:
            raise KeyError(
                f"cannot record {probe.name!r}: it is neither an output of the step nor a field "
                f"of the state ({type(state).__name__})."
            )
    value = jnp.asarray(value)
    if probe.indices is not None:
        value = value[..., probe.indices]
    return value
