"""Registration of the numba FFI handlers with XLA, with a checked fallback to pure JAX."""

from __future__ import annotations

import functools
import warnings

import jax
import numpy as np

from . import _abi

SCATTER = "brainsim_ops_scatter"
SCATTER_ADD = "brainsim_ops_scatter_add"
OUTER = "brainsim_ops_outer"
UPDATE = "brainsim_ops_update"
DELAYED = "brainsim_ops_delayed"
DELAYED_OUTER = "brainsim_ops_delayed_outer"
RING_POP = "brainsim_ops_ring_pop"
MATERIALIZE = "brainsim_ops_materialize"
MATERIALIZE_AFTER = "brainsim_ops_materialize_after"


def _register() -> None:
    version = _abi.header_version()
    if version is None:
        raise RuntimeError(f"cannot read the XLA FFI version from {_abi.header_path()}")
    if version[0] != _abi.ABI_MAJOR or version[1] < _abi.ABI_MINOR:
        raise RuntimeError(
            f"jaxlib's XLA FFI API is {version[0]}.{version[1]}; the kernels implement "
            f"{_abi.ABI_MAJOR}.{_abi.ABI_MINOR}"
        )
    if np.dtype(np.intp).itemsize != 8:
        raise RuntimeError("the native kernels need a 64-bit platform")
    from ._ffi_handlers import HANDLERS

    for name, handler in HANDLERS.items():
        jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(handler.address), platform="cpu")


def _self_test(indptr, idx, syn, w, x):
    """Each kernel once on a tiny problem (one program, so one compilation or cache load)."""
    import jax.numpy as jnp

    y = jax.ffi.ffi_call(SCATTER, jax.ShapeDtypeStruct((1, 3), jnp.float32))(
        indptr, idx, syn, w, x)
    g = jax.ffi.ffi_call(OUTER, jax.ShapeDtypeStruct((1, 3), jnp.float32))(
        indptr, idx, syn, x, jnp.array([[1.0, 10.0, 100.0]], jnp.float32))
    u = jax.ffi.ffi_call(UPDATE, jax.ShapeDtypeStruct((1, 3), jnp.float32))(
        indptr, idx, syn, w, x, jnp.array([[1.0, 1.0, 1.0]], jnp.float32),
        jnp.zeros((1, 0), jnp.float32), jnp.array([[0.0, 2.5]], jnp.float32))
    # Delayed delivery: ring (L=2, C=3) starting at ones, step 3, delays per synapse.
    delay = jnp.array([1, 0, 1], jnp.int32)
    step = jnp.array([[3]], jnp.int32)
    ring = jax.ffi.ffi_call(DELAYED, jax.ShapeDtypeStruct((1, 2, 3), jnp.float32))(
        indptr, idx, syn, delay, w, x, jnp.ones((1, 2, 3), jnp.float32), step)
    dw = jax.ffi.ffi_call(DELAYED_OUTER, jax.ShapeDtypeStruct((1, 3), jnp.float32))(
        indptr, idx, syn, delay, x, jnp.arange(6, dtype=jnp.float32).reshape(1, 2, 3), step)
    popped, cur = jax.ffi.ffi_call(
        RING_POP, (jax.ShapeDtypeStruct((2, 3), jnp.float32),
                   jax.ShapeDtypeStruct((1, 3), jnp.float32)))(
        jnp.arange(6, dtype=jnp.float32).reshape(2, 3), step)
    kept = jax.ffi.ffi_call(MATERIALIZE, jax.ShapeDtypeStruct((1, 3), jnp.float32))(w)
    kept = jax.ffi.ffi_call(MATERIALIZE_AFTER, jax.ShapeDtypeStruct((1, 3), jnp.float32))(
        kept, jnp.zeros((1, 2), jnp.float32))
    added = jax.ffi.ffi_call(SCATTER_ADD, jax.ShapeDtypeStruct((1, 3), jnp.float32))(
        indptr, idx, syn, w, x, jnp.array([[10.0, 20.0, 30.0]], jnp.float32),
        jnp.array([[0.5]], jnp.float32))
    return y, g, u, ring, dw, popped, cur, kept, added


def _probe() -> None:
    """Run each kernel once on a tiny problem and compare with a hand-computed answer."""
    cpu = jax.devices("cpu")[0]
    arguments = (np.array([0, 2, 2, 3], np.int32), np.array([0, 2, 1], np.int32),
                 np.zeros(0, np.int32), np.array([[1.0, 2.0, 3.0]], np.float32),
                 np.array([[True, False, True]]))
    # The first use may come while a caller's function is being traced: evaluate eagerly.
    with jax.ensure_compile_time_eval(), jax.default_device(cpu):
        y, g, u, ring, dw, popped, cur, kept, added = jax.jit(_self_test)(*arguments)
    if not (np.array_equal(np.asarray(popped), [[0, 1, 2], [0, 0, 0]])
            and np.array_equal(np.asarray(cur), [[3, 4, 5]])):
        raise RuntimeError(f"native ring_pop self-test failed: {popped}, {cur}")
    expected = ([[1.0, 3.0, 2.0]], [[1.0, 100.0, 10.0]], [[2.0, 2.5, 2.5]],
                [[[2.0, 4.0, 1.0], [1.0, 1.0, 3.0]]], [[0.0, 5.0, 1.0]], [[1.0, 2.0, 3.0]],
                [[6.0, 13.0, 17.0]])
    for got, want in zip((y, g, u, ring, dw, kept, added), expected, strict=True):
        if not np.array_equal(np.asarray(got), np.asarray(want, np.float32)):
            raise RuntimeError(f"native kernel self-test failed: {got} != {want}")


@functools.cache
def native_available() -> bool:
    """Whether the native CPU kernels are registered and passed their self-test.

    On the first call this loads the numba-compiled FFI handlers (from the on-disk cache when
    present), registers them with XLA, and runs each once. On any mismatch (FFI version,
    struct sizes, platform, numba failure) it warns once and returns False: every operator
    then uses its pure-JAX implementation.

    Examples:
        >>> brainsim_ops.native_available()
        True
    """
    try:
        _register()
        _probe()
    except Exception as error:  # noqa: BLE001 - any failure means: use pure JAX
        warnings.warn(
            f"brainsim_ops: native CPU kernels unavailable ({error}); using pure JAX.",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True
