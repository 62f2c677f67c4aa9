"""event_scatter_delayed: per-synapse delays into a postsynaptic ring buffer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ops_cases import event_patterns, structures

import brainsim_ops as bo

L = 6
BACKENDS = ["native", "jax"]
SPARSE = [(n, c) for n, c in structures() if not isinstance(c, bo.Dense)]
SPARSE.append(("csr_transposed", SPARSE[0][1].transpose()))
NAMES = [n for n, _ in SPARSE]
TOL = dict(rtol=1e-5, atol=1e-5)


def _synapses(conn):
    """Per position: (pre row, post, storage index) as numpy arrays."""
    lay = conn.layout
    indptr = np.asarray(lay.pre_indptr)
    post = np.asarray(lay.pre_post)
    syn = np.asarray(lay.pre_syn)
    rows = np.repeat(np.arange(lay.n_pre), np.diff(indptr))
    storage = syn if syn.shape[0] else np.arange(post.shape[0])
    return rows, post, storage


def _per_syn_shape(conn):
    if isinstance(conn, bo.ELL):
        return (conn.n_pre if conn.rows == "pre" else conn.n_post, conn.k)
    return (conn.n_syn,)


def _delays(conn, seed=0, n_slots=L):
    return np.random.default_rng(seed).integers(0, n_slots, _per_syn_shape(conn)).astype(np.int32)


def _numpy_ref(events, conn, delays, ring, step):
    rows, post, storage = _synapses(conn)
    w = np.asarray(conn.flat_weights(), np.float64)
    w = np.broadcast_to(w, (conn.n_syn,)) if w.ndim == 0 else w.reshape(-1)
    d = np.broadcast_to(np.asarray(delays).reshape(-1), (max(w.size, 1),))
    out = np.array(ring, np.float64)
    n_slots = out.shape[0]
    ev = np.asarray(events, np.float64)
    for s in range(post.shape[0]):
        i, j, k = rows[s], post[s], storage[s]
        if ev[i] != 0:
            wk = w[k] if np.ndim(conn.flat_weights()) else float(conn.flat_weights())
            dk = d[k] if np.ndim(delays) else int(delays)
            out[(step + dk) % n_slots, j] += ev[i] * wk
    return out


def _dense_jax(w, events, ring, conn, delays, step):
    """Dense-JAX reference, differentiable in (w, events, ring)."""
    rows, post, storage = _synapses(conn)
    wf = jnp.broadcast_to(w.reshape(-1), (conn.n_syn,)) if w.ndim == 0 else w.reshape(-1)
    d = np.broadcast_to(np.asarray(delays).reshape(-1), (conn.n_syn,)) if np.ndim(delays) == 0 \
        else np.asarray(delays).reshape(-1)[storage]
    wk = wf if w.ndim == 0 else wf[storage]
    slots = (step + d) % ring.shape[0]
    return ring.at[slots, post].add(events.astype(ring.dtype)[rows] * wk)


@pytest.mark.parametrize("name, conn", SPARSE, ids=NAMES)
@pytest.mark.parametrize("pattern", ["none", "all", "random", "graded"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_matches_numpy_reference(name, conn, pattern, backend):
    ev = event_patterns(conn.n_pre, key=1)[pattern]
    delays = _delays(conn)
    ring = np.random.default_rng(2).normal(size=(L, conn.n_post)).astype(np.float32)
    for step in (0, 3, L - 1, 1001, -4):
        got = bo.event_scatter_delayed(ev, conn, delays, ring, step, backend=backend)
        want = _numpy_ref(ev, conn, delays, ring, step)
        assert got.shape == (L, conn.n_post) and got.dtype == jnp.float32
        np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_homogeneous_delay_and_extreme_delays(backend):
    conn = SPARSE[0][1]
    ev = event_patterns(conn.n_pre, key=3)["graded"]
    ring = np.zeros((L, conn.n_post), np.float32)
    for delays in (0, L - 1, np.full(_per_syn_shape(conn), L - 1, np.int32)):
        got = bo.event_scatter_delayed(ev, conn, delays, ring, 4, backend=backend)
        np.testing.assert_allclose(got, _numpy_ref(ev, conn, delays, ring, 4), **TOL)
    # L = 1: every delay is 0, the ring is a plain accumulator.
    got = bo.event_scatter_delayed(ev, conn, 0, ring[:1], 9, backend=backend)
    np.testing.assert_allclose(got[0], bo.event_matvec(ev, conn, backend="jax"), **TOL)


@pytest.mark.parametrize("name, conn", SPARSE, ids=NAMES)
def test_backends_agree(name, conn):
    ev = event_patterns(conn.n_pre, key=4)["graded"]
    delays = _delays(conn, 5)
    ring = np.random.default_rng(6).normal(size=(L, conn.n_post)).astype(np.float32)
    f = jax.jit(bo.event_scatter_delayed, static_argnames="backend")
    a = f(ev, conn, delays, ring, jnp.int32(17), backend="native")
    b = f(ev, conn, delays, ring, jnp.int32(17), backend="jax")
    np.testing.assert_allclose(a, b, **TOL)


def _scan_run(conn, delays, spikes, backend):
    n_slots = int(np.max(delays)) + 1

    def step(ring, inp):
        t, s = inp
        ring = bo.event_scatter_delayed(s, conn, delays, ring, t, backend=backend)
        now = t % n_slots
        return ring.at[now].set(0.0), ring[now]

    ring0 = jnp.zeros((n_slots, conn.n_post), conn.weights.dtype)
    ts = jnp.arange(spikes.shape[0], dtype=jnp.int32)
    return jax.jit(lambda sp, c, d: jax.lax.scan(step, ring0, (ts, sp))[1])(spikes, conn, delays)


@pytest.mark.parametrize("backend", BACKENDS)
def test_scan_delivers_after_delay(backend):
    conn = SPARSE[2][1]  # repeated edges, empty rows
    delays = _delays(conn, 7, n_slots=9)
    delays.reshape(-1)[0] = 8  # make the ring length 9
    n_steps = 200
    spikes = np.random.default_rng(8).random((n_steps, conn.n_pre)) < 0.2
    got = np.asarray(_scan_run(conn, delays, jnp.asarray(spikes), backend))
    # Reference: spike of i at step n reaches j at step n + d (read at that step).
    rows, post, storage = _synapses(conn)
    w = np.asarray(conn.weights).reshape(-1)
    want = np.zeros((n_steps, conn.n_post))
    for n in range(n_steps):
        for s in np.nonzero(spikes[n][rows])[0]:
            t = n + delays.reshape(-1)[storage[s]]
            if t < n_steps:
                want[t, post[s]] += w[storage[s]]
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_spike_lands_in_slot(backend):
    conn = bo.CSR(np.array([0, 2, 3]), np.array([1, 2, 0]), np.array([1.0, 2.0, 3.0]), n_post=3)
    delays = np.array([2, 4, 0], np.int32)
    ring = jnp.zeros((5, 3))
    for n in (0, 3, 7, 123):
        out = bo.event_scatter_delayed(np.array([True, False]), conn, delays, ring, n,
                                       backend=backend)
        want = np.zeros((5, 3))
        want[(n + 2) % 5, 1] = 1.0
        want[(n + 4) % 5, 2] = 2.0
        np.testing.assert_array_equal(out, want)


def _loss(out):
    return jnp.sum(jnp.sin(out) * jnp.arange(out.size).reshape(out.shape))


@pytest.mark.parametrize("name, conn", SPARSE, ids=NAMES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_grad_matches_dense(name, conn, backend):
    ev = jnp.asarray(event_patterns(conn.n_pre, key=9)["graded"], jnp.float32)
    delays = _delays(conn, 10)
    ring = jnp.asarray(np.random.default_rng(11).normal(size=(L, conn.n_post)), jnp.float32)
    step = 4

    def sparse(w, e, r):
        return _loss(bo.event_scatter_delayed(e, conn.with_weights(w), delays, r, step,
                                              backend=backend))

    def dense(w, e, r):
        return _loss(_dense_jax(w, e, r, conn, delays, step))

    gs = jax.jit(jax.grad(sparse, argnums=(0, 1, 2)))(conn.weights, ev, ring)
    gd = jax.grad(dense, argnums=(0, 1, 2))(conn.weights, ev, ring)
    for a, b in zip(gs, gd, strict=True):
        np.testing.assert_allclose(a, b, **TOL)
    # JVP in all three directions at once.
    tangents = (jnp.ones_like(conn.weights), jnp.cos(ev), jnp.ones_like(ring) * 0.3)
    _, ts = jax.jvp(sparse, (conn.weights, ev, ring), tangents)
    _, td = jax.jvp(dense, (conn.weights, ev, ring), tangents)
    np.testing.assert_allclose(ts, td, **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_second_order_matches_dense(backend):
    conn = SPARSE[0][1]
    ev = jnp.asarray(event_patterns(conn.n_pre, key=12)["graded"], jnp.float32)
    delays = _delays(conn, 13)
    ring = jnp.zeros((L, conn.n_post))

    def sparse(w, e):
        return _loss(bo.event_scatter_delayed(e, conn.with_weights(w), delays, ring, 2,
                                              backend=backend))

    def dense(w, e):
        return _loss(_dense_jax(w, e, ring, conn, delays, 2))

    v = jnp.linspace(-1, 1, conn.weights.size).reshape(conn.weights.shape)
    for argnum in (0, 1):
        hs = jax.jvp(jax.grad(sparse, argnums=argnum), (conn.weights, ev),
                     (v, jnp.sin(ev)))[1]
        hd = jax.jvp(jax.grad(dense, argnums=argnum), (conn.weights, ev),
                     (v, jnp.sin(ev)))[1]
        np.testing.assert_allclose(hs, hd, rtol=1e-4, atol=1e-4)


def test_weight_cotangent_zero_on_rows_without_events():
    conn = SPARSE[0][1]
    ev = np.zeros(conn.n_pre, bool)
    ev[[1, 4]] = True
    delays = _delays(conn, 14)
    ring = jnp.zeros((L, conn.n_post))
    g = jax.grad(lambda w: _loss(bo.event_scatter_delayed(ev, conn.with_weights(w), delays,
                                                          ring, 0)))(conn.weights)
    rows, _, storage = _synapses(conn)
    g = np.asarray(g)[storage]
    assert np.all(g[~np.isin(rows, [1, 4])] == 0)
    assert np.any(g[np.isin(rows, [1, 4])] != 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_vmap_matches_loop(backend):
    conn = SPARSE[3][1]  # ELL rows=pre, per-synapse
    delays = _delays(conn, 15)
    rng = np.random.default_rng(16)
    B = 4
    evs = jnp.asarray((rng.random((B, conn.n_pre)) < 0.3) * rng.normal(size=(B, conn.n_pre)),
                      jnp.float32)
    rings = jnp.asarray(rng.normal(size=(B, L, conn.n_post)), jnp.float32)
    steps = jnp.array([0, 5, 11, 2], jnp.int32)
    ws = jnp.asarray(rng.normal(size=(B, *conn.weights.shape)), jnp.float32)

    def f(e, r, t, w):
        return bo.event_scatter_delayed(e, conn.with_weights(w), delays, r, t, backend=backend)

    loop = lambda ax: jnp.stack([f(*(a[b] if x == 0 else a for a, x in  # noqa: E731
                                     zip((evs, rings, steps, ws), ax, strict=True)))
                                 for b in range(B)])
    for axes in [(0, 0, 0, None), (0, None, None, None), (None, 0, 0, None),
                 (None, None, None, 0), (0, 0, 0, 0), (None, None, 0, None)]:
        args = tuple(a if x == 0 else (a[0] if x is None else a)
                     for a, x in zip((evs, rings, steps, ws), axes, strict=True))
        got = jax.jit(jax.vmap(f, in_axes=axes))(*args)
        want = jnp.stack([
            f(*(a[b] if x == 0 else a for a, x in zip(args, axes, strict=True)))
            for b in range(B)
        ])
        np.testing.assert_allclose(got, want, **TOL)
    del loop
    # Batched delays (different delay structures): falls back to pure JAX under vmap.
    dels = jnp.asarray(np.stack([_delays(conn, s) for s in range(B)]))
    got = jax.vmap(lambda d, e: bo.event_scatter_delayed(e, conn, d, rings[0], 3,
                                                         backend=backend))(dels, evs)
    want = jnp.stack([bo.event_scatter_delayed(evs[b], conn, dels[b], rings[0], 3)
                      for b in range(B)])
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_grad_through_vmap_and_scan(backend):
    conn = SPARSE[0][1]
    delays = _delays(conn, 17, n_slots=4)
    rng = np.random.default_rng(18)
    spikes = jnp.asarray(rng.random((3, 12, conn.n_pre)) < 0.3, jnp.float32)

    def run(w, sp, op):
        def step(ring, inp):
            t, s = inp
            ring = op(s, w, ring, t)
            return ring.at[t % 4].set(0.0), ring[t % 4]

        ts = jnp.arange(sp.shape[0], dtype=jnp.int32)
        return jax.lax.scan(step, jnp.zeros((4, conn.n_post)), (ts, sp))[1]

    def sparse_op(s, w, ring, t):
        return bo.event_scatter_delayed(s, conn.with_weights(w), delays, ring, t,
                                        backend=backend)

    def dense_op(s, w, ring, t):
        return _dense_jax(w, s, ring, conn, delays, t)

    def loss(w, op):
        return _loss(jax.vmap(lambda sp: run(w, sp, op))(spikes))

    gs = jax.jit(jax.grad(lambda w: loss(w, sparse_op)))(conn.weights)
    gd = jax.grad(lambda w: loss(w, dense_op))(conn.weights)
    np.testing.assert_allclose(gs, gd, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_x64(backend):
    with jax.enable_x64(True):
        conn = bo.fixed_prob(jax.random.key(3), 20, 15, 0.3, per_synapse=True,
                             dtype=jnp.float64)
        conn = conn.with_weights(jax.random.normal(jax.random.key(4), conn.weights.shape,
                                                   jnp.float64))
        delays = _delays(conn, 19)
        ev = event_patterns(20, key=20)["graded"]
        ring = np.random.default_rng(21).normal(size=(L, 15))
        got = bo.event_scatter_delayed(ev, conn, delays, ring, 3, backend=backend)
        assert got.dtype == jnp.float64
        np.testing.assert_allclose(got, _numpy_ref(ev, conn, delays, ring, 3), rtol=1e-12)
        g = jax.grad(lambda w: _loss(bo.event_scatter_delayed(
            ev, conn.with_weights(w), delays, ring, 3, backend=backend)))(conn.weights)
        gd = jax.grad(lambda w: _loss(_dense_jax(w, jnp.asarray(ev), jnp.asarray(ring), conn,
                                                 delays, 3)))(conn.weights)
        assert g.dtype == jnp.float64
        np.testing.assert_allclose(g, gd, rtol=1e-12)


def test_bad_input_names_the_argument():
    conn = SPARSE[0][1]
    ev = np.zeros(conn.n_pre, bool)
    d = _delays(conn)
    ring = jnp.zeros((L, conn.n_post))
    f = bo.event_scatter_delayed
    with pytest.raises(ValueError, match="`ring`"):
        f(ev, conn, d, jnp.zeros((L, conn.n_post + 1)), 0)
    with pytest.raises(ValueError, match="`ring`"):
        f(ev, conn, d, jnp.zeros(conn.n_post), 0)
    with pytest.raises(TypeError, match="`ring`"):
        f(ev, conn, d, jnp.zeros((L, conn.n_post), jnp.int32), 0)
    with pytest.raises(ValueError, match="`delay_steps`"):
        f(ev, conn, d[:-1], ring, 0)
    with pytest.raises(TypeError, match="`delay_steps`"):
        f(ev, conn, d.astype(np.float32), ring, 0)
    with pytest.raises(ValueError, match="`delay_steps`.*\\[0, 5\\]"):
        f(ev, conn, np.where(np.arange(d.size) == 3, -1, d), ring, 0)
    with pytest.raises(ValueError, match="`delay_steps`"):
        f(ev, conn, np.where(np.arange(d.size) == 3, L, d), ring, 0)
    with pytest.raises(ValueError, match="`events`"):
        f(ev[:-1], conn, d, ring, 0)
    with pytest.raises(TypeError, match="`step_index`"):
        f(ev, conn, d, ring, 1.5)
    with pytest.raises(TypeError, match="`step_index`"):
        f(ev, conn, d, ring, jnp.zeros(2, jnp.int32))
    with pytest.raises(TypeError, match="`conn`"):
        f(ev, bo.Dense(jnp.ones((conn.n_pre, conn.n_post))), 0, ring, 0)
    # Delays are not differentiable (integers).
    with pytest.raises(TypeError, match="int"):
        jax.grad(lambda dd: f(ev, conn, dd, ring, 0).sum())(jnp.asarray(d))


def test_native_lowering_is_used_and_updates_scan_carry_in_place():
    if not bo.native_available():
        pytest.skip("native kernels unavailable")
    conn = SPARSE[0][1]
    delays = jnp.asarray(_delays(conn))

    def run(sp, c, d):
        def step(ring, inp):
            t, s = inp
            return bo.event_scatter_delayed(s, c, d, ring, t, backend="native"), None

        ts = jnp.arange(sp.shape[0], dtype=jnp.int32)
        return jax.lax.scan(step, jnp.zeros((L, c.n_post)), (ts, sp))[0]

    sp = jnp.zeros((4, conn.n_pre), bool)
    lowered = jax.jit(run).lower(sp, conn, delays)
    assert "brainsim_ops_delayed" in lowered.as_text()
    hlo = lowered.compile().as_text()
    ring_copies = [ln for ln in hlo.splitlines()
                   if " copy(" in ln and f"{L},{conn.n_post}]" in ln.split("=")[1][:40]]
    assert not ring_copies, ring_copies
    grad_txt = jax.jit(jax.grad(lambda w: run(sp, conn.with_weights(w), delays).sum())).lower(
        conn.weights).as_text()
    assert "brainsim_ops_delayed_outer" in grad_txt


@pytest.mark.parametrize("backend", BACKENDS)
def test_traced_out_of_range_delays_wrap_like_python_modulo(backend):
    conn = SPARSE[0][1]
    ev = event_patterns(conn.n_pre, key=22)["graded"]
    d = np.random.default_rng(23).integers(-3 * L, 3 * L, conn.n_syn).astype(np.int32)
    ring = np.zeros((L, conn.n_post), np.float32)
    got = jax.jit(lambda dd: bo.event_scatter_delayed(ev, conn, dd, ring, 2, backend=backend))(d)
    np.testing.assert_allclose(got, _numpy_ref(ev, conn, d, ring, 2), **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ring_pop_reads_and_clears_the_current_slot(backend):
    ring = jnp.arange(L * 4, dtype=jnp.float32).reshape(L, 4)
    for t in (0, 4, L + 2, -1):
        new, cur = bo.ring_pop(ring, t, backend=backend)
        now = t % L
        np.testing.assert_array_equal(cur, ring[now])
        want = np.array(ring)
        want[now] = 0
        np.testing.assert_array_equal(new, want)
    # Gradient (linear), jit, vmap against a loop.
    w = jnp.linspace(0.5, 2.0, L * 4).reshape(L, 4)

    def f(r, t):
        new, cur = bo.ring_pop(r, t, backend=backend)
        return jnp.sum(new * w) + jnp.sum(jnp.sin(cur))

    g = jax.jit(jax.grad(f))(ring, 3)
    want = np.array(w)
    want[3] = np.cos(np.asarray(ring[3]))
    np.testing.assert_allclose(g, want, **TOL)
    rings = jnp.stack([ring, 2 * ring, -ring])
    ts = jnp.array([0, 1, 7])
    got = jax.vmap(lambda r, t: bo.ring_pop(r, t, backend=backend))(rings, ts)
    for b in range(3):
        want_b = bo.ring_pop(rings[b], ts[b], backend="jax")
        np.testing.assert_array_equal(got[0][b], want_b[0])
        np.testing.assert_array_equal(got[1][b], want_b[1])
    with pytest.raises(ValueError, match="`ring`"):
        bo.ring_pop(jnp.zeros(4), 0)
    with pytest.raises(TypeError, match="`step_index`"):
        bo.ring_pop(ring, 0.5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_scan_with_ring_pop_matches_read_and_clear(backend):
    conn = SPARSE[0][1]
    delays = jnp.asarray(_delays(conn, 24, n_slots=7))
    spikes = jnp.asarray(np.random.default_rng(25).random((60, conn.n_pre)) < 0.2)
    want = _scan_run(conn, delays, spikes, "jax")

    def step(ring, inp):
        t, s = inp
        ring = bo.event_scatter_delayed(s, conn, delays, ring, t, backend=backend)
        return bo.ring_pop(ring, t, backend=backend)

    ring0 = jnp.zeros((int(np.max(delays)) + 1, conn.n_post))
    got = jax.jit(lambda sp: jax.lax.scan(step, ring0, (jnp.arange(60), sp))[1])(spikes)
    np.testing.assert_allclose(got, want, **TOL)
    # Gradient through the scan with ring_pop equals the read-and-clear spelling.
    gs = jax.grad(lambda w: jnp.sum(jnp.sin(jax.lax.scan(
        lambda r, i: bo.ring_pop(bo.event_scatter_delayed(
            i[1], conn.with_weights(w), delays, r, i[0], backend=backend), i[0],
            backend=backend), ring0, (jnp.arange(60), spikes))[1])))(conn.weights)
    gd = jax.grad(lambda w: jnp.sum(jnp.sin(_scan_run(conn.with_weights(w), delays, spikes,
                                                      "jax"))))(conn.weights)
    np.testing.assert_allclose(gs, gd, rtol=1e-4, atol=1e-4)
