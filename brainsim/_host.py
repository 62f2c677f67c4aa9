"""Moving arrays to the host, also those spread over the devices of several processes."""

from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils


def to_host(x):
    """`x` as a numpy array on this host; an array spread over several processes' devices
    (`jax.distributed`) is first gathered from all of them (every process must call this)."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        x = multihost_utils.process_allgather(x, tiled=True)
    return np.asarray(x)
