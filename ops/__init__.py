"""brainsim_ops: event-driven sparse linear algebra for JAX.

Connectivity pytrees (:class:`CSR`, :class:`ELL`, :class:`Dense`) with reproducible builders,
event-driven products (:func:`event_matvec`, :func:`matvec`, :func:`event_matmat`),
delayed delivery into a ring buffer (:func:`event_scatter_delayed`, :func:`ring_pop`) and
plasticity primitives (:func:`update_rows_on_events`, :func:`update_cols_on_events`) and
:func:`materialize` (an identity XLA cannot fuse through: a value computed once for many readers);
:mod:`brainsim_ops.spatial` builds distance-dependent connectivity between positioned neurons.
On CPU the operators run native numba kernels called by XLA through its typed FFI (no Python
per call); elsewhere, or with ``backend="jax"``, a pure-JAX implementation. All operators
work under ``jit``, ``vmap`` and ``grad``.
"""

from . import _numba_cache  # noqa: F401  (first: registers the cache locator of the kernels)
from . import spatial as spatial
from ._backend import get_backend, set_backend, use_backend
from ._builders import (
    all_to_all,
    fixed_in_degree,
    fixed_out_degree,
    fixed_prob,
    from_edges,
    one_to_one,
)
from ._connectivity import CSR, ELL, Dense
from ._delayed import event_scatter_delayed, ring_pop
from ._materialize import materialize
from ._native import native_available
from ._operators import event_matmat, event_matvec, matvec
from ._plasticity import update_cols_on_events, update_rows_on_events
from ._spatial import distance_prob, grid_positions
from ._synapse_index import synapse_neurons
from ._tripartite import Tripartite, tripartite_bernoulli_with_pool

__all__ = [
    "CSR",
    "ELL",
    "Dense",
    "Tripartite",
    "all_to_all",
    "distance_prob",
    "event_matmat",
    "event_matvec",
    "event_scatter_delayed",
    "fixed_in_degree",
    "fixed_out_degree",
    "fixed_prob",
    "from_edges",
    "get_backend",
    "grid_positions",
    "materialize",
    "matvec",
    "native_available",
    "one_to_one",
    "ring_pop",
    "set_backend",
    "synapse_neurons",
    "tripartite_bernoulli_with_pool",
    "update_cols_on_events",
    "update_rows_on_events",
    "use_backend",
]
