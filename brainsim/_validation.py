"""Construction-time checks that name the offending argument (contract 10).

Checks run only on concrete values: a model built inside `jax.vmap` or `jax.jit` (a sweep over a
parameter) holds tracers, whose values cannot be inspected and are skipped.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def as_param(value) -> jax.Array:
    """Convert a model parameter (scalar, sequence or array) to a floating JAX array."""
    array = jnp.asarray(value)
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = array.astype(jnp.result_type(float))
    return array


def _concrete(value) -> np.ndarray | None:
    if isinstance(value, jax.core.Tracer):
        return None
    return np.asarray(value)


def check_finite(name: str, value) -> None:
    """Raise `ValueError` if `value` holds NaN or infinity."""
    array = _concrete(value)
    if array is not None and not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite, got {array}.")


def check_positive(name: str, value, *, allow_zero: bool = False) -> None:
    """Raise `ValueError` unless every entry of `value` is finite and > 0 (>= 0 if allowed)."""
    check_finite(name, value)
    array = _concrete(value)
    if array is None:
        return
    bad = array < 0 if allow_zero else array <= 0
    if np.any(bad):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be {bound}, got {array}.")


def check_less(name_low: str, low, name_high: str, high) -> None:
    """Raise `ValueError` unless `low < high` everywhere."""
    low_a, high_a = _concrete(low), _concrete(high)
    if low_a is None or high_a is None:
        return
    if np.any(np.broadcast_to(low_a >= high_a, np.broadcast_shapes(low_a.shape, high_a.shape))):
        raise ValueError(f"`{name_low}` ({low_a}) must be below `{name_high}` ({high_a}).")


def check_dt(dt) -> None:
    """Raise `ValueError` unless the time step `dt` (ms) is a finite positive number."""
    array = _concrete(dt)
    if array is None:
        return
    if array.shape != () or not np.isfinite(array) or array <= 0:
        raise ValueError(f"`dt` must be a finite positive scalar in ms, got {dt!r}.")


def check_broadcasts(name: str, value, n: int) -> None:
    """Raise `ValueError` unless a per-neuron parameter is a scalar or has shape `(n,)`."""
    shape = jnp.shape(value)
    if shape not in ((), (1,), (n,)):
        raise ValueError(
            f"`{name}` has shape {shape}, but the population has {n} neurons: "
            f"give a scalar or an array of shape ({n},)."
        )


def check_at_most(name: str, value, bound: float) -> None:
    """Raise `ValueError` unless every entry of `value` is <= `bound`."""
    array = _concrete(value)
    if array is not None and np.any(array > bound):
        raise ValueError(f"`{name}` must be <= {bound}, got {array}.")
