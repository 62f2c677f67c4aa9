"""Backend choice: ``"auto"`` (native on CPU when available), ``"native"`` or ``"jax"``.

The choice is read when an operator is traced (not per call), so it is baked into a jitted
function. ``"native"`` still uses pure JAX on GPU/TPU, where no native kernel exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

BACKENDS = ("auto", "native", "jax")
_default = ["auto"]


def _check(backend: str, name: str = "backend") -> str:
    if backend not in BACKENDS:
        raise ValueError(f"`{name}` must be one of {BACKENDS}, got {backend!r}.")
    return backend


def set_backend(backend: str) -> None:
    """Set the default backend of all operators: ``"auto"``, ``"native"`` or ``"jax"``.

    Examples:
        >>> brainsim_ops.set_backend("jax")   # pure JAX everywhere (e.g. to compare)
    """
    _default[0] = _check(backend)


def get_backend() -> str:
    """The default backend (see :func:`set_backend`)."""
    return _default[0]


@contextlib.contextmanager
def use_backend(backend: str) -> Iterator[None]:
    """Context manager: operators traced inside use ``backend``.

    Examples:
        >>> with brainsim_ops.use_backend("jax"):
        ...     y = jax.jit(lambda s: brainsim_ops.event_matvec(s, conn))(spikes)
    """
    previous = _default[0]
    _default[0] = _check(backend)
    try:
        yield
    finally:
        _default[0] = previous


def resolve(backend: str | None) -> str:
    """``"native"`` or ``"jax"`` for an operator call's ``backend`` keyword."""
    chosen = _default[0] if backend is None else _check(backend)
    if chosen == "jax":
        return "jax"
    from ._native import native_available

    if chosen == "native" and not native_available():
        raise RuntimeError(
            "backend='native' was requested but the native kernels are unavailable "
            "(see the warning from brainsim_ops.native_available())."
        )
    return "native" if native_available() else "jax"
