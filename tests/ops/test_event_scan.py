"""The native kernels' pass over the events: silent events are skipped a 64-bit word at a time,
so events near word boundaries, in vectors whose length is not a multiple of 8 and in batch
entries that do not start on a word must all be found; and a base scaled in place."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim_ops as bo

SIZES = [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 130]


def _ring(n):
    """Neuron i excites i and i + 1 (mod n) with weights i + 1 and 0.5: every event shows."""
    indptr = np.arange(0, 2 * n + 1, 2)
    indices = np.stack([np.arange(n), (np.arange(n) + 1) % n], axis=1).ravel()
    weights = np.stack([np.arange(n) + 1.0, np.full(n, 0.5)], axis=1).ravel()
    return bo.CSR(indptr, indices, jnp.asarray(weights, jnp.float32), n_post=n)


def _patterns(n):
    """One event at each position that matters for the word scan, then pairs and random sets."""
    marks = sorted({p for p in (0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 63, 64, n - 2, n - 1)
                    if 0 <= p < n})
    rng = np.random.default_rng(n)
    patterns = []
    for p in marks:
        single = np.zeros(n, bool)
        single[p] = True
        patterns.append(single)
    for p, q in zip(marks, marks[1:], strict=False):
        pair = np.zeros(n, bool)
        pair[[p, q]] = True
        patterns.append(pair)
    patterns += [rng.random(n) < 0.05, rng.random(n) < 0.5, np.ones(n, bool), np.zeros(n, bool)]
    return np.stack(patterns)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [jnp.bool_, jnp.float32])
def test_every_event_is_found(n, dtype):
    conn = _ring(n)
    events = jnp.asarray(_patterns(n), dtype)

    def product(backend):
        return jax.vmap(lambda e: bo.event_matvec(e, conn, backend=backend))(events)

    # Batched: entry b starts at element b * n, mostly not on a word.
    np.testing.assert_allclose(product("native"), product("jax"), rtol=1e-6)
    for e in events[:3]:
        np.testing.assert_allclose(
            bo.event_matvec(e, conn, backend="native"), bo.event_matvec(e, conn, backend="jax"),
            rtol=1e-6,
        )


@pytest.mark.parametrize("n", [9, 64, 65])
def test_float64_events_and_negative_zero(n):
    conn = _ring(n)
    events = np.zeros(n, np.float32)
    events[[0, n // 2, n - 1]] = [2.0, -0.0, -1.5]
    events = jnp.asarray(events)
    want = bo.matvec(events, conn, backend="jax")
    np.testing.assert_allclose(bo.matvec(events, conn, backend="native"), want, rtol=1e-6)
    np.testing.assert_array_equal(bo.event_matvec(-0.0 * jnp.ones(n), conn, backend="native"),
                                  np.zeros(n))
    with jax.enable_x64(True):
        e64 = jnp.asarray(np.asarray(events), jnp.float64)
        conn64 = conn.with_weights(jnp.asarray(conn.weights, jnp.float64))
        np.testing.assert_allclose(
            bo.matvec(e64, conn64, backend="native"), bo.matvec(e64, conn64, backend="jax"),
            rtol=1e-12,
        )


@pytest.mark.parametrize("per_column", [False, True])
def test_base_scaled_in_place_in_a_batched_scan(per_column):
    """A conductance carried by a scan and vmapped over a batch is decayed in its own buffer
    (scalar or per-neuron decay) and receives the events, as the pure-JAX reference does."""
    n = 37
    conn = _ring(n)
    rng = np.random.default_rng(1)
    spikes = jnp.asarray(rng.random((3, 6, n)) < 0.2)
    scale = jnp.linspace(0.5, 0.9, n) if per_column else 0.8

    def run(g0, spikes):
        def step(g, s):
            return bo.event_matvec(s, conn, add_to=g, add_scale=scale), None

        return jax.lax.scan(step, g0, spikes)[0]

    g0 = jnp.asarray(rng.normal(size=(3, n)), jnp.float32)
    got = jax.jit(jax.vmap(run))(g0, spikes)
    with bo.use_backend("jax"):
        want = jax.vmap(run)(g0, spikes)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
