"""Gradients of the operators against dense JAX (weights, events), JVP, and index errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ops_cases import event_patterns, structures

import brainsim_ops as bo

STRUCTS = structures()
NAMES = [n for n, _ in STRUCTS]
TOL = dict(rtol=1e-5, atol=1e-5)


def _dense_from_weights(conn, w):
    return conn.with_weights(w).todense()


def _loss_sparse(w, ev, conn, transpose, backend):
    y = bo.event_matvec(ev, conn.with_weights(w), transpose=transpose, backend=backend)
    return jnp.sum(jnp.sin(y) * jnp.arange(y.shape[0]))


def _loss_dense(w, ev, conn, transpose):
    d = _dense_from_weights(conn, w)
    y = d @ ev if transpose else ev @ d
    return jnp.sum(jnp.sin(y) * jnp.arange(y.shape[0]))


@pytest.mark.parametrize("name, conn", STRUCTS, ids=NAMES)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("backend", ["native", "jax"])
def test_grad_wrt_weights_and_events_matches_dense(name, conn, transpose, backend):
    n_in = conn.n_post if transpose else conn.n_pre
    ev = jnp.asarray(event_patterns(n_in, key=9)["random"], jnp.float32)
    w = conn.weights
    g_sparse = jax.grad(_loss_sparse, argnums=(0, 1))(w, ev, conn, transpose, backend)
    g_dense = jax.grad(_loss_dense, argnums=(0, 1))(w, ev, conn, transpose)
    np.testing.assert_allclose(g_sparse[0], g_dense[0], **TOL)
    np.testing.assert_allclose(g_sparse[1], g_dense[1], **TOL)


@pytest.mark.parametrize("name, conn", STRUCTS[:5], ids=NAMES[:5])
def test_weight_cotangent_is_zero_on_rows_without_events(name, conn):
    ev = np.zeros(conn.n_pre, bool)
    ev[[1, 4]] = True
    g = jax.grad(lambda w: bo.event_matvec(ev, conn.with_weights(w)).sum())(conn.weights)
    if conn.weights.ndim == 0:
        return
    dense_g = np.asarray(conn.with_weights(g).todense())
    mask = np.ones(conn.n_pre, bool)
    mask[[1, 4]] = False
    assert np.all(dense_g[mask] == 0)


def test_grad_through_scan_and_vmap_matches_dense():
    conn = STRUCTS[0][1]
    evs = jnp.asarray(np.random.default_rng(0).random((3, 6, conn.n_pre)) < 0.3, jnp.float32)

    def run(w, e, sparse):
        def step(v, s):
            y = (bo.event_matvec(s, conn.with_weights(w)) if sparse
                 else s @ _dense_from_weights(conn, w))
            return 0.9 * v + y, None
        v, _ = jax.lax.scan(step, jnp.zeros(conn.n_post), e)
        return jnp.sum(v**2)

    loss = lambda w, sparse: jnp.sum(jax.vmap(lambda e: run(w, e, sparse))(evs))  # noqa: E731
    g1 = jax.jit(jax.grad(loss), static_argnums=1)(conn.weights, True)
    g2 = jax.grad(loss)(conn.weights, False)
    np.testing.assert_allclose(g1, g2, rtol=1e-4, atol=1e-4)


def test_jvp_matches_dense_and_finite_differences_x64():
    with jax.enable_x64(True):
        conn = structures(jnp.float64)[0][1]
        ev = jnp.asarray(event_patterns(conn.n_pre)["graded"])
        w = conn.weights
        dw = jnp.asarray(np.random.default_rng(1).normal(size=w.shape))
        dev = jnp.asarray(np.random.default_rng(2).normal(size=ev.shape))
        f = lambda w, e: bo.event_matvec(e, conn.with_weights(w))  # noqa: E731
        _, t = jax.jvp(f, (w, ev), (dw, dev))
        eps = 1e-6
        fd = (f(w + eps * dw, ev + eps * dev) - f(w - eps * dw, ev - eps * dev)) / (2 * eps)
        np.testing.assert_allclose(t, fd, rtol=1e-7, atol=1e-8)


def test_second_order_grad_matches_dense():
    conn = STRUCTS[0][1]
    ev = jnp.asarray(event_patterns(conn.n_pre)["graded"], jnp.float32)

    def f(w, sparse):
        y = (bo.event_matvec(ev, conn.with_weights(w)) if sparse
             else ev @ _dense_from_weights(conn, w))
        return jnp.sum(y**3)

    h1 = jax.grad(lambda w: jnp.sum(jax.grad(f)(w, True) ** 2))(conn.weights)
    h2 = jax.grad(lambda w: jnp.sum(jax.grad(f)(w, False) ** 2))(conn.weights)
    np.testing.assert_allclose(h1, h2, rtol=1e-3, atol=1e-3)


def test_filter_grad_over_connectivity_touches_only_weights():
    conn = STRUCTS[0][1]
    ev = np.ones(conn.n_pre, bool)
    g = eqx.filter_grad(lambda c: bo.event_matvec(ev, c).sum())(conn)
    assert g.layout.pre_post is None
    assert g.weights.shape == conn.weights.shape


def test_grad_wrt_index_arrays_raises_clear_error():
    conn = STRUCTS[0][1]
    ev = np.ones(conn.n_pre, bool)
    with pytest.raises(TypeError, match="integer|int"):
        jax.grad(lambda c: bo.event_matvec(ev, c).sum())(conn)
    # With allow_int, index arrays get float0 (structurally zero) cotangents.
    g = jax.grad(lambda c: bo.event_matvec(ev, c).sum(), allow_int=True)(conn)
    assert g.layout.pre_post.dtype == jax.dtypes.float0
    np.testing.assert_allclose(g.weights, 1.0)
