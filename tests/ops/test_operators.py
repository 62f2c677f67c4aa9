"""event_matvec / matvec / event_matmat against the pure-JAX kernels and dense numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ops_cases import event_patterns, structures

import brainsim_ops as bo

STRUCTS = structures()
NAMES = [name for name, _ in STRUCTS]
# float32 products of <= 20 terms of magnitude ~1: a few ulps of ~10.
TOL = dict(rtol=1e-5, atol=1e-5)


def _dense(conn):
    return np.asarray(conn.todense(), np.float64)


@pytest.mark.parametrize("name, conn", STRUCTS, ids=NAMES)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("pattern", ["none", "all", "random", "graded"])
def test_event_matvec_matches_dense_and_pure(name, conn, transpose, pattern):
    n_in = conn.n_post if transpose else conn.n_pre
    ev = event_patterns(n_in)[pattern]
    dense = _dense(conn)
    want = (dense @ ev.astype(float)) if transpose else (ev.astype(float) @ dense)
    native = bo.event_matvec(ev, conn, transpose=transpose, backend="native")
    pure = bo.event_matvec(ev, conn, transpose=transpose, backend="jax")
    np.testing.assert_allclose(native, want, **TOL)
    np.testing.assert_allclose(pure, want, **TOL)
    if pattern == "none":
        assert np.all(np.asarray(native) == 0)


@pytest.mark.parametrize("name, conn", STRUCTS, ids=NAMES)
def test_matvec_graded_input_matches_dense(name, conn):
    x = np.random.default_rng(1).normal(size=conn.n_pre).astype(np.float32)
    want = x.astype(float) @ _dense(conn)
    for backend in ("native", "jax"):
        np.testing.assert_allclose(bo.matvec(x, conn, backend=backend), want, **TOL)
        y_t = bo.matvec(np.ones(conn.n_post, np.float32), conn, transpose=True, backend=backend)
        np.testing.assert_allclose(y_t, _dense(conn).sum(1), **TOL)


@pytest.mark.parametrize("name, conn", STRUCTS, ids=NAMES)
def test_event_matmat_equals_rows_of_event_matvec(name, conn):
    ev = np.random.default_rng(2).random((5, conn.n_pre)) < 0.4
    got = bo.event_matmat(ev, conn)
    want = np.stack([bo.event_matvec(e, conn, backend="jax") for e in ev])
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("name, conn", STRUCTS, ids=NAMES)
def test_vmap_over_events_equals_python_loop(name, conn):
    ev = np.random.default_rng(4).random((4, conn.n_pre)) < 0.4
    got = jax.jit(jax.vmap(lambda e: bo.event_matvec(e, conn)))(ev)
    want = np.stack([bo.event_matvec(e, conn) for e in ev])
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("name, conn", STRUCTS[:5], ids=NAMES[:5])
def test_vmap_over_weights_equals_python_loop(name, conn):
    ws = jnp.stack([conn.weights * s for s in (0.5, 1.0, -2.0)])
    ev = event_patterns(conn.n_pre)["random"]
    for backend in ("native", "jax"):
        got = jax.vmap(lambda w, b=backend: bo.event_matvec(ev, conn.with_weights(w),
                                                            backend=b))(ws)
        want = np.stack([bo.event_matvec(ev, conn.with_weights(w), backend="jax") for w in ws])
        np.testing.assert_allclose(got, want, **TOL)


def test_nested_vmap_over_weights_and_events_equals_loop():
    conn = STRUCTS[0][1]
    ws = jnp.stack([conn.weights * s for s in (0.5, 1.0, -2.0)])
    ev = np.random.default_rng(5).random((4, conn.n_pre)) < 0.4
    f = jax.vmap(jax.vmap(lambda w, e: bo.event_matvec(e, conn.with_weights(w)),
                          in_axes=(None, 0)), in_axes=(0, None))
    got = jax.jit(f)(ws, ev)
    want = np.stack([[bo.event_matvec(e, conn.with_weights(w), backend="jax") for e in ev]
                     for w in ws])
    np.testing.assert_allclose(got, want, **TOL)


def test_vmap_lowers_to_one_batched_kernel_call():
    conn = STRUCTS[0][1]
    ev = np.zeros((8, conn.n_pre), bool)
    text = jax.jit(jax.vmap(lambda e: bo.event_matvec(e, conn))).lower(ev).as_text()
    assert text.count("custom_call @brainsim_ops_scatter") == 1
    assert "while" not in text


def test_jit_and_scan_match_eager():
    conn = STRUCTS[0][1]
    ev = np.random.default_rng(6).random((10, conn.n_pre)) < 0.3

    def step(acc, e):
        return acc + bo.event_matvec(e, conn), None

    got, _ = jax.jit(lambda evs: jax.lax.scan(step, jnp.zeros(conn.n_post), evs))(ev)
    want = sum(bo.event_matvec(e, conn, backend="jax") for e in ev)
    np.testing.assert_allclose(got, want, **TOL)


def test_x64_products_match_dense_to_double_precision():
    with jax.enable_x64(True):
        for name, conn in structures(jnp.float64):
            assert conn.weights.dtype == jnp.float64, name
            ev = event_patterns(conn.n_pre)["graded"]
            want = ev @ _dense(conn)
            for backend in ("native", "jax"):
                got = bo.event_matvec(ev, conn, backend=backend)
                assert got.dtype == jnp.float64
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_backend_override_context_selects_pure_jax():
    conn = STRUCTS[0][1]
    ev = np.ones(conn.n_pre, bool)
    with bo.use_backend("jax"):
        text = jax.jit(lambda e: bo.event_matvec(e, conn)).lower(ev).as_text()
    assert "brainsim_ops_scatter" not in text
    text = jax.jit(lambda e: bo.event_matvec(e, conn)).lower(ev).as_text()
    assert ("brainsim_ops_scatter" in text) == bo.native_available()
    assert bo.get_backend() == "auto"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c: bo.event_matvec(np.ones(3, bool), c), "`events` must have shape"),
        (lambda c: bo.event_matvec(np.ones(c.n_pre, complex), c), "`events` must be bool"),
        (lambda c: bo.matvec(np.ones(c.n_pre, int), c), "`x` must be floating"),
        (lambda c: bo.event_matmat(np.ones(c.n_pre, bool), c), "`events` must be 2-D"),
        (lambda c: bo.event_matvec(np.ones(c.n_pre, bool), c, backend="gpu"), "`backend`"),
        (lambda c: bo.event_matvec(np.ones(c.n_pre, bool), "conn"), "`conn` must be"),
    ],
)
def test_bad_operator_input_raises_naming_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(STRUCTS[0][1])
