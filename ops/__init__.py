"""brainsim_ops: event-driven sparse linear algebra for JAX.

Connectivity pytrees (:class:`CSR`, :class:`ELL`, :class:`Dense`) with reproducible builders,
event-driven products (:func:`event_matvec`, :func:`matvec`, :func:`event_matmat`) and
plasticity primitives (:func:`update_rows_on_events`, :func:`update_cols_on_events`).
On CPU the operators run native numba kernels called by XLA through its typed FFI (no Python
per call); elsewhere, or with ``backend="jax"``, a pure-JAX implementation. All operators
work under ``jit``, ``vmap`` and ``grad``.
"""

from ._backend import get_backend, set_backend, use_backend
from ._connectivity import CSR, ELL, Dense
from ._native import native_available
from ._operators import event_matmat, event_matvec, matvec

__all__ = [
    "CSR",
    "ELL",
    "Dense",
    "event_matmat",
    "event_matvec",
    "get_backend",
    "matvec",
    "native_available",
    "set_backend",
    "use_backend",
]
