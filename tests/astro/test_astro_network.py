"""Astrocytes inside a Network: gap junctions, slower clocks, tripartite wiring, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim.astro import GapJunctions, GChI, TripartiteRelease, lattice_edges, ring_edges

RING = dict(O_delta=0.6, K_delta=0.1, Omega_5P=0.05, K_D=0.7, F_ex=0.09, O_beta=0.0)


def test_ring_and_lattice_edges():
    pre, post = ring_edges(5)
    assert sorted(zip(pre.tolist(), post.tolist(), strict=True)) == sorted(
        [(i, (i + 1) % 5) for i in range(5)] + [(i, (i - 1) % 5) for i in range(5)]
    )
    grid = np.stack(np.meshgrid(np.arange(4.0), np.arange(3.0)), -1).reshape(-1, 2) * 10.0
    pre, post = lattice_edges(grid, 11.0)  # 4-neighbourhood
    degree = np.bincount(post, minlength=12)
    assert degree.sum() == 2 * (3 * 3 + 4 * 2) and degree.max() == 4 and degree.min() == 2


def test_gap_junction_flux_is_the_published_formula_and_conserves_ip3(x64):
    pre, post = ring_edges(6)
    gj = GapJunctions("A", pre, post, F=0.09)
    I = jnp.array([0.1, 0.9, 0.5, 0.52, 2.0, 0.0])
    flux = np.asarray(gj.flux(I))
    want = np.zeros(6)
    for j, i in zip(pre, post, strict=True):
        d = float(I[i] - I[j])
        want[i] += -0.045 * (1 + np.tanh((abs(d) - 0.3) / 0.05)) * np.sign(d)
    np.testing.assert_allclose(flux, want, rtol=1e-12)
    assert abs(flux.sum()) < 1e-15  # symmetric edges: what one cell loses another gains


def test_gap_junctions_bad_input():
    with pytest.raises(ValueError, match="itself"):
        GapJunctions("A", np.array([0, 1]), np.array([0, 2]))
    with pytest.raises(ValueError, match="same length"):
        GapJunctions("A", np.array([0, 1]), np.array([1]))
    with pytest.raises(ValueError, match="F"):
        GapJunctions("A", *ring_edges(4), F=-1.0)
    lif = bs.neurons.LIF()
    with pytest.raises(ValueError, match="not an astrocyte"):
        bs.Network({"A": (lif, 4)}, couplings=[GapJunctions("A", *ring_edges(4))])
    with pytest.raises(ValueError, match="has 5"):
        bs.Network({"A": (GChI(), 5)}, couplings=[GapJunctions("A", *ring_edges(4))])
    with pytest.raises(ValueError, match="not one of"):
        bs.Network({"B": (GChI(), 4)}, couplings=[GapJunctions("A", *ring_edges(4))])


def test_network_ring_equals_hand_coupled_astrocytes(x64):
    model = GChI(**RING, I_bias=jnp.zeros(8).at[3].set(1.0))
    pre, post = ring_edges(8)
    gj = GapJunctions("A", pre, post, F=0.09)
    net = bs.Network({"A": (model, 8)}, couplings=[gj])
    state = net.init()
    direct = model.init(8)
    for _ in range(200):
        state, _ = net.step(state, t=0.0, dt=50.0)
        drive = bs.astro.AstrocyteDrive(J_coupling=gj.flux(direct.I))
        direct, _ = model.step(direct, drive, t=0.0, dt=50.0)
    np.testing.assert_allclose(state["A"].I, direct.I, rtol=1e-12)
    assert float(jnp.std(state["A"].I)) > 0.01  # the coupling carried IP3 around the ring


def test_slow_clock_advances_every_period_with_its_whole_step(x64):
    model = GChI(O_beta=3.2, O_delta=0.6, K_delta=0.1, Omega_5P=0.05, K_D=0.7, F_ex=2.0,
                 I_bias=1.0)  # fmt: skip
    net = bs.Network({"A": (model, 2)}, clocks={"A": 10.0})
    result = bs.run(net, net.init(), duration=3000.0, dt=0.5, record=["A.C", "A.spikes"])
    direct = model.init(2)
    Cs = []
    for _ in range(300):
        direct, _ = model.step(direct, None, t=0.0, dt=10.0)
        Cs.extend([direct.C] * 20)
    np.testing.assert_allclose(np.asarray(result.traces["A.C"]), np.array(Cs), rtol=1e-12)
    with pytest.raises(ValueError, match="multiple"):
        net.step(net.init(), t=0.0, dt=0.3)


def test_tripartite_projection_closes_the_loop():
    n_e = 40
    conn = bo.fixed_prob(jax.random.key(0), n_e, n_e, 0.2, weight=0.5)
    astro_index = np.asarray(conn.indices) % 4  # postsynaptic neuron's astrocyte
    release = TripartiteRelease("A", astro_index, signal="mean")
    lif = bs.neurons.LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, R=1.0)
    astro = GChI(O_beta=3.2, O_delta=0.6, K_delta=0.1, Omega_5P=0.05, K_D=0.7)
    net = bs.Network(
        {"E": (lif, n_e), "A": (astro, 4)},
        [bs.Projection("E", "E", conn, stp=release)],
        clocks={"A": 1.0},
    )
    result = bs.run(net, net.init(jax.random.key(1)), inputs={"E": 12.0}, duration=3000.0,
                    dt=0.1, record=["A.Gamma_A", "A.I", "synapses.E->E.stp.Y_S"])  # fmt: skip
    assert np.asarray(result.traces["synapses.E->E.stp.Y_S"])[:, :4].max() > 1.0
    assert np.asarray(result.traces["A.Gamma_A"]).max() > 0.01  # receptors heard the synapses
    with pytest.raises(ValueError, match="not an astrocyte"):
        bs.Network({"E": (lif, n_e), "A": (lif, 4)}, [bs.Projection("E", "E", conn, stp=release)])
    with pytest.raises(ValueError, match="has 3 astrocytes"):
        bs.Network({"E": (lif, n_e), "A": (astro, 3)}, [bs.Projection("E", "E", conn, stp=release)])
    with pytest.raises(ValueError, match="delay"):
        bs.Projection("E", "E", conn, stp=release, delay_steps=3)
