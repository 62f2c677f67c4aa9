"""update_rows_on_events / update_cols_on_events against a dense numpy reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ops_cases import event_patterns, structures

import brainsim_ops as bo

STRUCTS = structures()
NAMES = [n for n, _ in STRUCTS]


def _reference(conn, events, values, scale, lo, hi, on_cols):
    """Per-synapse reference on (row, col) lists in storage order."""
    w = np.asarray(conn.weights, np.float64).reshape(-1).copy()
    if isinstance(conn, bo.Dense):
        pre, post = np.divmod(np.arange(w.size), conn.n_post)
    else:
        lay = conn.layout
        indptr = np.asarray(lay.pre_indptr)
        post_pos = np.asarray(lay.pre_post)
        syn = np.asarray(lay.pre_syn)
        storage = syn if syn.size else np.arange(post_pos.size)
        pre = np.empty(w.size, int)
        post = np.empty(w.size, int)
        pre[storage] = np.repeat(np.arange(conn.n_pre), np.diff(indptr))
        post[storage] = post_pos
    ev_idx, val_idx = (post, pre) if on_cols else (pre, post)
    x = np.asarray(events, np.float64)[ev_idx]
    d = x * np.asarray(values, np.float64)[val_idx]
    if scale is not None:
        d = d * np.asarray(scale, np.float64).reshape(-1)
    new = np.clip(w + d, lo, hi)
    return np.where(x != 0, new, w).reshape(conn.weights.shape)


@pytest.mark.parametrize("name, conn", STRUCTS, ids=NAMES)
@pytest.mark.parametrize("on_cols", [False, True])
@pytest.mark.parametrize("pattern", ["none", "all", "random", "graded"])
def test_update_matches_dense_reference(name, conn, on_cols, pattern):
    if conn.weights.ndim == 0:
        conn = conn.with_weights(jnp.full(conn.n_syn, 0.7))
    n_ev, n_val = (conn.n_post, conn.n_pre) if on_cols else (conn.n_pre, conn.n_post)
    ev = event_patterns(n_ev, key=11)[pattern]
    vals = np.random.default_rng(12).normal(size=n_val).astype(np.float32)
    scale = np.random.default_rng(13).random(conn.weights.shape).astype(np.float32)
    fn = bo.update_cols_on_events if on_cols else bo.update_rows_on_events
    want = _reference(conn, ev, vals, scale, -0.5, 0.8, on_cols)
    for backend in ("native", "jax"):
        got = fn(conn, ev, vals, scale=scale, w_min=-0.5, w_max=0.8, backend=backend)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    unbounded = fn(conn, ev, vals)
    np.testing.assert_allclose(
        unbounded, _reference(conn, ev, vals, None, -np.inf, np.inf, on_cols), rtol=1e-5,
        atol=1e-6)


def test_scalar_weights_become_per_synapse():
    conn = STRUCTS[1][1]
    w = bo.update_rows_on_events(conn, np.ones(conn.n_pre, bool), 0.1)
    assert w.shape == (conn.n_syn,)
    np.testing.assert_allclose(w, 0.8, rtol=1e-6)


def test_update_inside_jit_scan_and_vmap_matches_loop():
    conn = STRUCTS[0][1]
    evs = np.random.default_rng(0).random((5, conn.n_pre)) < 0.3
    vals = jnp.linspace(-0.1, 0.1, conn.n_post)

    def run(w):
        def step(w, e):
            return bo.update_rows_on_events(conn, e, vals, weights=w, w_min=-1.0, w_max=1.0), None
        return jax.lax.scan(step, w, evs)[0]

    ws = jnp.stack([conn.weights, 0.5 * conn.weights])
    got = jax.jit(jax.vmap(run))(ws)
    with bo.use_backend("jax"):
        want = np.stack([run(w) for w in ws])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_grad_of_update_matches_pure_jax():
    conn = STRUCTS[0][1]
    ev = event_patterns(conn.n_pre)["random"]

    def loss(w, vals, backend):
        new = bo.update_rows_on_events(conn, ev, vals, weights=w, w_max=0.5, backend=backend)
        return jnp.sum(jnp.sin(new))

    vals = jnp.linspace(-1, 1, conn.n_post)
    g_native = jax.grad(loss, argnums=(0, 1))(conn.weights, vals, "native")
    g_pure = jax.grad(loss, argnums=(0, 1))(conn.weights, vals, "jax")
    for a, b in zip(g_native, g_pure, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bad_plasticity_input_raises_naming_argument():
    conn = STRUCTS[0][1]
    with pytest.raises(ValueError, match="`pre_events`"):
        bo.update_rows_on_events(conn, np.ones(3, bool), 0.1)
    with pytest.raises(ValueError, match="`pre_values`"):
        bo.update_cols_on_events(conn, np.ones(conn.n_post, bool), np.ones(2))
    with pytest.raises(ValueError, match="`scale`"):
        bo.update_rows_on_events(conn, np.ones(conn.n_pre, bool), 0.1, scale=np.ones(2))
