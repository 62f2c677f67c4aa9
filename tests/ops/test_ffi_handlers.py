"""The generated FFI handlers: registration, ABI checks by buffer role, results vs references."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim_ops as bo
from brainsim_ops import _ffi_handlers, _native

HANDLERS = _ffi_handlers.HANDLERS
BUFFERS = _ffi_handlers.BUFFERS
TARGETS = sorted(BUFFERS)
# A buffer of each role that passes the dtype and rank checks.
_SHAPES = {"i": (5,), "v": (1, 1), "r": (1, 1, 1), "e": (1, 1)}
_DTYPES = {"i": jnp.int32, "v": jnp.float32, "r": jnp.float32, "e": jnp.bool_}


@pytest.fixture(scope="module", autouse=True)
def _native_kernels():
    assert bo.native_available()


def _call(target, change=None, drop_operand=False):
    """Call ``target`` on zero buffers made by role, ``change``: buffer number -> (shape, dtype)."""
    operands, results = BUFFERS[target]
    change = change or {}
    specs = [change.get(i, (_SHAPES[role], _DTYPES[role]))
             for i, (_, _, role) in enumerate(operands + results)]
    n = len(operands)
    with jax.enable_x64(True):
        args = [jnp.zeros(shape, dtype) for shape, dtype in specs[:n]]
        rets = [jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in specs[n:]]
        if drop_operand:
            args = args[:-1]
        return jax.block_until_ready(jax.ffi.ffi_call(target, rets)(*args))


def _raises(message):
    return pytest.raises(Exception, match=re.escape(message))


def test_every_target_name_has_a_generated_registered_handler():
    names = {v for k, v in vars(_native).items() if k.isupper() and isinstance(v, str)}
    assert names == set(HANDLERS) == set(BUFFERS)
    for name, handler in HANDLERS.items():
        assert handler.address != 0
        assert handler.__name__ == name.removeprefix("brainsim_ops_") + "_handler"
        assert getattr(_ffi_handlers, handler.__name__) is handler


@pytest.mark.parametrize("target", TARGETS)
def test_wrong_buffer_count_is_reported(target):
    operands, results = BUFFERS[target]
    results_word = "result" if len(results) == 1 else "results"
    with _raises(f"{target}: expected {len(operands)} operands and {len(results)} "
                 f"{results_word}"):
        _call(target, drop_operand=True)


@pytest.mark.parametrize("target", TARGETS)
def test_wrong_dtypes_are_reported_naming_the_buffer(target):
    operands, results = BUFFERS[target]
    buffers = operands + results
    kinds = [role for _, _, role in buffers]
    if "i" in kinds:  # materialize has no index array
        i = kinds.index("i")
        with _raises(f"{target}: operand {i} ({buffers[i][0]}): index arrays must be int32"):
            _call(target, {i: (_SHAPES["i"], jnp.uint32)})
    values = [j for j, role in enumerate(kinds) if role in "vr"]
    first, last = values[0], values[-1]
    with _raises(f"({buffers[first][0]}): values must be float32 or float64"):
        _call(target, {j: (_SHAPES[kinds[j]], jnp.int32) for j in values})
    with _raises(f"({buffers[last][0]}): values must share the dtype of {buffers[first][0]}"):
        _call(target, {last: (_SHAPES[kinds[last]], jnp.float64)})
    if "e" in kinds:
        e = kinds.index("e")
        with _raises(f"{target}: operand {e} ({buffers[e][0]}): events must be bool or float32"):
            _call(target, {e: (_SHAPES["e"], jnp.int32)})
        with _raises("events must be bool or float64"):
            _call(target, {j: (_SHAPES[kinds[j]], jnp.float64) for j in values}
                  | {e: (_SHAPES["e"], jnp.float32)})


@pytest.mark.parametrize("target", TARGETS)
def test_wrong_rank_and_inconsistent_shapes_are_reported(target):
    operands, results = BUFFERS[target]
    roles = [role for _, _, role in operands]
    i = roles.index("i") if "i" in roles else 0
    with _raises(f"{target}: operand {i} ({operands[i][0]}): buffer layout or rank mismatch "
                 "(rank at most 2)"):
        _call(target, {i: ((1, 1, 5), _DTYPES[roles[i]])})
    # Index arrays of length 5 fit no target's one-row buffers (and a (1, 2) result does not
    # fit materialize's (1, 1) operand): the message lists the shapes.
    shapes = ", ".join(f"{name}[{shape}]" for name, shape, _ in operands)
    change = {} if "i" in roles else {len(operands): ((1, 2), jnp.float32)}
    with _raises(f"{target}: inconsistent operand shapes, expected ({shapes}) -> ("):
        _call(target, change)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("events", ["bool", "float"])
def test_scatter_and_outer_handlers_equal_dense_references(dtype, events):
    """Each dtype specialisation of two generated handlers, called through ``ffi_call``."""
    rng = np.random.default_rng(5)
    n_pre, n_post, batch = 40, 7, 2
    mask = rng.random((n_pre, n_post)) < 0.3
    rows, cols = np.nonzero(mask)
    indptr = np.concatenate([[0], np.cumsum(mask.sum(1))]).astype(np.int32)
    w = rng.normal(size=(batch, rows.size)).astype(dtype)
    x = rng.random((batch, n_pre)) < 0.5
    x = x if events == "bool" else (x * rng.normal(size=x.shape)).astype(dtype)
    g = rng.normal(size=(batch, n_post)).astype(dtype)
    layout = (indptr, cols.astype(np.int32), np.zeros(0, np.int32))
    with jax.enable_x64(True):
        y = jax.ffi.ffi_call(_native.SCATTER, jax.ShapeDtypeStruct((batch, n_post), dtype))(
            *layout, w, x)
        dw = jax.ffi.ffi_call(_native.OUTER, jax.ShapeDtypeStruct((batch, rows.size), dtype))(
            *layout, x, g)
    xf = x.astype(np.float64)
    dense = np.zeros((batch, n_pre, n_post))
    dense[:, rows, cols] = w
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, np.einsum("br,brc->bc", xf, dense), **tol)
    np.testing.assert_allclose(dw, xf[:, rows] * g[:, cols], **tol)
    assert np.asarray(y).dtype == dtype


def test_generated_handler_equals_pure_jax_operator():
    conn = bo.fixed_prob(jax.random.key(3), 30, 20, 0.3, per_synapse=True)
    ev = np.random.default_rng(0).random(30) < 0.4
    native = bo.event_matvec(ev, conn, backend="native")
    pure = bo.event_matvec(ev, conn, backend="jax")
    np.testing.assert_allclose(native, pure, rtol=1e-6, atol=1e-6)
