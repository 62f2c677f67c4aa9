"""The tripartite synapse: the per-astrocyte, event-driven form equals the per-synapse form."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim_ops as bo
from brainsim.astro import TripartiteRelease

P = dict(U_0_star=0.6, alpha=0.0, Omega_f=3.33, Omega_d=2.0, O_G=1.5, Omega_G=0.5 / 60,
         rho_c=0.005, Y_T=500_000.0, Omega_c=40.0)  # fmt: skip


def per_synapse_reference(conn, astro, spikes, G_A, dt, x0=1.0):
    """Every synapse with its own Γ_S, Y_S, u_S, x_S, integrated exactly every step (numpy)."""
    indptr, post = np.asarray(conn.indptr), np.asarray(conn.indices)
    w = np.broadcast_to(np.asarray(conn.weights, float), (conn.n_syn,))
    pre = np.repeat(np.arange(conn.n_pre), np.diff(indptr))
    n_astro = G_A.shape[1]
    Gamma, Y = np.zeros(conn.n_syn), np.zeros(conn.n_syn)
    u, x = np.zeros(conn.n_syn), np.full(conn.n_syn, x0)
    d = dt * 1e-3
    arriving, Y_mean = [], []
    for n in range(spikes.shape[0]):
        G = np.where(astro >= 0, G_A[n][np.maximum(astro, 0)], 0.0)
        rate = P["O_G"] * G + P["Omega_G"]
        inf = P["O_G"] * G / rate
        Gamma = inf + (Gamma - inf) * np.exp(-rate * d)
        Y = Y * math.exp(-P["Omega_c"] * d)
        u = u * math.exp(-P["Omega_f"] * d)
        x = 1 + (x - 1) * math.exp(-P["Omega_d"] * d)
        s = spikes[n][pre] > 0
        U_0 = (1 - Gamma) * P["U_0_star"] + P["alpha"] * Gamma
        u = np.where(s, u + U_0 * (1 - u), u)
        r = np.where(s, u * x, 0.0)
        x = x - r
        Y = Y + P["rho_c"] * P["Y_T"] * r
        arriving.append(np.bincount(post, w * r, minlength=conn.n_post))
        sums = np.bincount(astro[astro >= 0], Y[astro >= 0], minlength=n_astro)
        counts = np.maximum(np.bincount(astro[astro >= 0], minlength=n_astro), 1)
        Y_mean.append(sums / counts)
    return np.array(arriving), np.array(Y_mean), u, x, Gamma


def _network(seed=0, n_pre=30, n_post=20, n_astro=4):
    rng = np.random.default_rng(seed)
    conn = bo.fixed_prob(jax.random.key(seed), n_pre, n_post, 0.3, weight=1.0)
    conn = conn.with_weights(jnp.asarray(rng.uniform(0.5, 1.5, conn.n_syn)))
    astro = rng.integers(-1, n_astro, conn.n_syn)
    return conn, astro


def _run_event_driven(release, conn, spikes, G_A, dt, x0=1.0):
    state = release.init(conn, x=x0)

    def body(state, inputs):
        n, s, G = inputs
        state, arriving = release.deliver(state, s, conn, G_A=G, step_index=n, dt=dt)
        return state, (arriving, release.astrocyte_drive(state).Y_S)

    steps = jnp.arange(spikes.shape[0])
    return jax.lax.scan(body, state, (steps, jnp.asarray(spikes), jnp.asarray(G_A)))


@pytest.mark.parametrize("max_events", [64, 3])  # one pass, and chunks of 3 spiking neurons
def test_event_driven_per_astrocyte_form_equals_per_synapse_form(x64, max_events):
    conn, astro = _network()
    rng = np.random.default_rng(1)
    n_steps, dt = 400, 1.0
    spikes = (rng.random((n_steps, conn.n_pre)) < 0.08).astype(float)
    G_A = np.repeat(rng.uniform(0, 80, (n_steps // 50, 4)), 50, axis=0)
    release = TripartiteRelease("A", astro, max_events=max_events, n_astrocytes=4, **P)
    release = release.bind(conn)
    state, (arriving, Y_mean) = _run_event_driven(release, conn, spikes, G_A, dt, x0=0.7)
    want_arr, want_Y, want_u, want_x, want_Gamma = per_synapse_reference(
        conn, astro, spikes, G_A, dt, x0=0.7
    )
    if max_events == 3:  # some steps need several chunks, some one
        assert (spikes.sum(1) > 3).any() and (spikes.sum(1) <= 3).any()
    np.testing.assert_allclose(arriving, want_arr, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(Y_mean, want_Y, rtol=1e-10, atol=1e-9)
    u, x = release.synapse_values(state, conn, n_steps, dt=dt)
    np.testing.assert_allclose(u, want_u, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(x, want_x, rtol=1e-10, atol=1e-13)
    slots = np.where(astro < 0, 4, astro)
    np.testing.assert_allclose(np.asarray(state.Gamma_S)[slots], want_Gamma, rtol=1e-10)


def test_first_release_of_a_rested_synapse_is_the_resting_probability(x64):
    conn = bo.one_to_one(2, weight=2.0)
    release = TripartiteRelease("A", np.array([0, -1]), **P).bind(conn)
    state = release.init(conn)
    G_A = jnp.array([50.0])
    state, arriving = release.deliver(state, jnp.ones(2), conn, G_A=G_A, step_index=0, dt=1.0)
    rate = P["O_G"] * 50.0 + P["Omega_G"]
    Gamma = P["O_G"] * 50.0 / rate * (1 - math.exp(-rate * 1e-3))
    assert float(arriving[1]) == pytest.approx(2.0 * 0.6, rel=1e-12)  # no astrocyte: U_0*
    assert float(arriving[0]) == pytest.approx(2.0 * 0.6 * (1 - Gamma), rel=1e-12)
    assert float(state.Y_S[0]) == pytest.approx(0.005 * 500_000 * 0.6 * (1 - Gamma), rel=1e-12)


def _total_release(U_0_star, weights, conn, astro, spikes, G_A):
    release = TripartiteRelease("A", astro, n_astrocytes=4, **{**P, "U_0_star": U_0_star})
    release = release.bind(conn)
    _, (arriving, Y_mean) = _run_event_driven(
        release, conn.with_weights(weights), spikes, G_A, 1.0
    )
    return jnp.sum(arriving) + 1e-4 * jnp.sum(Y_mean)


def test_gradients_match_finite_differences(x64):
    conn, astro = _network(seed=2)
    rng = np.random.default_rng(3)
    spikes = jnp.asarray((rng.random((150, conn.n_pre)) < 0.1).astype(float))
    G_A = jnp.asarray(rng.uniform(0, 80, (150, 4)))
    w = jnp.asarray(conn.weights)
    g_U, g_w = jax.grad(_total_release, argnums=(0, 1))(0.6, w, conn, astro, spikes, G_A)
    eps = 1e-6
    fd = (
        _total_release(0.6 + eps, w, conn, astro, spikes, G_A)
        - _total_release(0.6 - eps, w, conn, astro, spikes, G_A)
    ) / (2 * eps)
    assert float(g_U) == pytest.approx(float(fd), rel=1e-6)
    k = int(np.argmax(np.asarray(g_w)))
    e = jnp.zeros_like(w).at[k].set(eps)
    fd_w = (
        _total_release(0.6, w + e, conn, astro, spikes, G_A)
        - _total_release(0.6, w - e, conn, astro, spikes, G_A)
    ) / (2 * eps)
    assert float(g_w[k]) == pytest.approx(float(fd_w), rel=1e-6)


def test_vmap_over_parameters_equals_loop():
    conn, astro = _network(seed=4)
    rng = np.random.default_rng(5)
    spikes = jnp.asarray((rng.random((100, conn.n_pre)) < 0.1).astype(np.float32))
    G_A = jnp.asarray(rng.uniform(0, 80, (100, 4)).astype(np.float32))
    w = jnp.asarray(conn.weights, jnp.float32)
    values = jnp.array([0.3, 0.6, 0.9])
    fn = jax.jit(jax.vmap(lambda U: _total_release(U, w, conn, astro, spikes, G_A)))
    batched = fn(values)
    looped = [float(_total_release(float(U), w, conn, astro, spikes, G_A)) for U in values]
    np.testing.assert_allclose(batched, looped, rtol=1e-5)


def test_bad_input_is_named():
    conn, astro = _network()
    with pytest.raises(ValueError, match="astrocyte_index"):
        TripartiteRelease("A", astro[:-1]).bind(conn)
    with pytest.raises(ValueError, match="astrocyte_index"):
        TripartiteRelease("A", np.array([-2, 0]))
    with pytest.raises(ValueError, match="U_0_star"):
        TripartiteRelease("A", 0, U_0_star=1.5)
    with pytest.raises(ValueError, match="Omega_c"):
        TripartiteRelease("A", 0, Omega_c=-1.0)
    with pytest.raises(ValueError, match="signal"):
        TripartiteRelease("A", 0, signal="max")
    with pytest.raises(TypeError, match="CSR"):
        TripartiteRelease("A", 0).bind(bo.Dense(jnp.ones((3, 3))))
    with pytest.raises(ValueError, match="not bound"):
        release = TripartiteRelease("A", astro)
        release.deliver(release.init(conn), jnp.zeros(conn.n_pre), conn, G_A=None,
                        step_index=0, dt=1.0)  # fmt: skip
