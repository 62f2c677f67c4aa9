"""Gap junctions (`brainsim.network.GapJunctions`): currents, the within-step solvers, NEST's
waveform relaxation and Brian2's summed variable as references, transforms and bad input."""

import functools
import pathlib
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.linalg import expm

import brainsim as bs
from brainsim.network import GapJunctions

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
sys.path.insert(0, str(REFERENCE))
from make_nest_gap_refs import chi, crossings, network_protocol  # noqa: E402


@functools.cache
def _reference(peer: str) -> dict:
    with np.load(REFERENCE / f"{peer}_gap_junctions.npz") as data:
        return dict(data)

# The defaults are the COBAHH cell of the references. Brian2 integrates it by exponential Euler
# (brainsim's default); NEST by adaptive RKF45, matched here by RK4 at dt = 0.01 ms.
TRAUB = bs.neurons.TraubHH()
TRAUB_RK4 = bs.neurons.TraubHH(method="rk4")
PASSIVE = bs.neurons.LIF(tau_m=20.0, v_rest=-65.0, v_th=1e6, R=0.1)  # C = 200 pF, never fires


def _pair_run(g, method, *, rectifying=False, pre=0, post=1, dt=0.01, duration=100.0, every=5,
              cell=TRAUB):  # fmt: skip
    gj = GapJunctions("I", [pre], [post], g=g, method=method, rectifying=rectifying, tol=1e-10)
    net = bs.Network({"I": (cell, 2)}, couplings=[gj])
    result = bs.run(net, net.init(), inputs={"I": jnp.array([300.0, 0.0])}, duration=duration,
                    dt=dt, record=["I.v"], every=every, stream=False)  # fmt: skip
    return np.asarray(result.t), np.asarray(result["I.v"])


def _on_grid(t, reference, case):
    """A reference case's potentials (T, 2) at the times `t` (both grids are multiples of the
    recording interval)."""
    ref_t, ref_v = reference[f"{case}_t"], reference[f"{case}_v"]
    return np.stack([np.interp(t, ref_t, ref_v[:, c]) for c in (0, 1)], 1)


def _matched_crossings(t_a, v_a, t_b, v_b, cell):
    """-20-mV crossing times of `cell` in two traces, paired in order (same count required)."""
    a = crossings(t_a, v_a)
    b = crossings(t_b, v_b)
    a, b = a[0][a[1] == cell], b[0][b[1] == cell]
    assert a.size == b.size, (a, b)
    return a, b


# --- the coupling itself ---------------------------------------------------------------------


def test_currents_flow_down_the_potential_difference_and_conserve_charge():
    gj = GapJunctions("I", [0, 1, 0], [1, 2, 3], g=jnp.array([1.0, 2.0, 3.0]))
    v = jnp.array([-60.0, -70.0, -50.0, -65.0])
    current = gj.currents(v)
    expected = np.array([1 * (-70 + 60) + 3 * (-65 + 60), 1 * (-60 + 70) + 2 * (-50 + 70),
                         2 * (-70 + 50), 3 * (-60 + 65)], float)  # fmt: skip
    np.testing.assert_allclose(current, expected, rtol=1e-6)
    assert float(current.sum()) == pytest.approx(0.0, abs=1e-4)
    np.testing.assert_allclose(gj.laplacian(v) @ v, -current, rtol=1e-6)


def test_rectifying_junction_passes_current_only_from_pre_to_post():
    gj = GapJunctions("I", [0], [1], g=10.0, rectifying=True)
    # pre above post: open, current into post
    np.testing.assert_allclose(gj.currents(jnp.array([-50.0, -60.0])), [-100.0, 100.0])
    # pre below post: closed
    np.testing.assert_allclose(gj.currents(jnp.array([-60.0, -50.0])), [0.0, 0.0])


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_exact_splitting_is_exact_for_identical_passive_cells(x64):
    """Membrane and coupling commute for identical passive cells with equal drives (the
    coupling's Laplacian annihilates their common resting potential): the split step is the
    exact solution of the linear system whatever the coupling strength and dt."""
    pre, post, g = [0, 1, 2, 0], [1, 2, 3, 2], jnp.array([5.0, 50.0, 1e5, 20.0])
    gj = GapJunctions("P", pre, post, g=g)
    net = bs.Network({"P": (PASSIVE, 4)}, couplings=[gj])
    state = net.init()
    v0 = jnp.array([-50.0, -65.0, -80.0, -60.0])
    state["P"] = state["P"]._replace(v=v0)
    I = jnp.full(4, 100.0)
    dt, steps = 0.5, 40
    result = bs.run(net, state, inputs={"P": I}, steps=steps, dt=dt, record=["P.v"], stream=False)
    # C dv/dt = -g_L (v - v_rest) + I - L v  =>  v(t) = v* + expm(-A t)(v0 - v*)
    C, g_L = 200.0, 10.0
    A = (g_L * jnp.eye(4) + gj.laplacian(v0)) / C
    v_star = jnp.linalg.solve(A, (g_L * -65.0 + I) / C)
    exact = v_star + expm(-A * dt * steps) @ (v0 - v_star)
    np.testing.assert_allclose(result["P.v"][-1], exact, atol=1e-9)


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_exact_splitting_converges_at_second_order_for_unequal_cells(x64):
    cells = bs.neurons.LIF(tau_m=jnp.array([10.0, 30.0, 20.0]), v_rest=-65.0, v_th=1e6,
                           R=jnp.array([0.05, 0.2, 0.1]))  # fmt: skip
    gj = GapJunctions("P", [0, 1], [1, 2], g=jnp.array([20.0, 8.0]))
    net = bs.Network({"P": (cells, 3)}, couplings=[gj])
    state = net.init()
    v0 = jnp.array([-40.0, -70.0, -55.0])
    state["P"] = state["P"]._replace(v=v0)
    I = jnp.array([200.0, 0.0, 50.0])
    C = np.array([10 / 0.05, 30 / 0.2, 20 / 0.1])
    g_L = C / np.array([10.0, 30.0, 20.0])
    A = (np.diag(g_L) + np.asarray(gj.laplacian(v0))) / C[:, None]
    v_star = np.linalg.solve(A, (g_L * -65.0 + np.asarray(I)) / C)
    T = 8.0
    exact = v_star + np.asarray(expm(-jnp.asarray(A) * T)) @ (np.asarray(v0) - v_star)
    errors = []
    for dt in (0.4, 0.2, 0.1):
        result = bs.run(net, state, inputs={"P": I}, duration=T, dt=dt, record=["P.v"],
                        stream=False)  # fmt: skip
        errors.append(np.abs(np.asarray(result["P.v"][-1]) - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 1.9), (errors, orders)


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_implicit_and_explicit_converge_at_first_order(x64):
    cells = bs.neurons.LIF(tau_m=jnp.array([10.0, 30.0]), v_rest=-65.0, v_th=1e6,
                           R=jnp.array([0.05, 0.2]))  # fmt: skip
    v0 = jnp.array([-40.0, -70.0])
    reference = None
    for method in ("exact", "implicit", "explicit"):
        gj = GapJunctions("P", [0], [1], g=20.0, method=method, tol=1e-12)
        net = bs.Network({"P": (cells, 2)}, couplings=[gj])
        state = net.init()
        state["P"] = state["P"]._replace(v=v0)
        finals = []
        for dt in (0.004, 0.2, 0.1):
            result = bs.run(net, state, duration=4.0, dt=dt, record=["P.v"], stream=False)
            finals.append(np.asarray(result["P.v"][-1]))
        if reference is None:
            reference = finals[0]
        if method != "exact":
            e1, e2 = (np.abs(f - reference).max() for f in finals[1:])
            assert 0.8 < np.log2(e1 / e2) < 1.2, (method, e1, e2)


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_exact_and_implicit_are_stable_where_explicit_blows_up(x64):
    """A pair joined by 1e5 nS (C/g = 2 µs) at dt = 0.05 ms: the explicit scheme's difference
    mode grows by |1 - 2 g dt / C| = 49 per step; the split schemes equalise the cells at once
    and the pair behaves as one cell receiving the mean drive."""
    single = bs.run(TRAUB, TRAUB.init(1), inputs=150.0, duration=50.0, dt=0.05, record=["v"],
                    stream=False)["v"][:, 0]  # fmt: skip
    for method in ("exact", "implicit"):
        _, v = _pair_run(1e5, method, dt=0.05, duration=50.0, every=1)
        assert np.all(np.isfinite(v))
        assert np.abs(v[:, 0] - v[:, 1]).max() < 0.05
        assert np.abs(v.mean(1) - np.asarray(single)).max() < 1.0
    _, v = _pair_run(1e5, "explicit", dt=0.05, duration=1.0, every=1)
    assert not np.all(np.isfinite(v)) or np.abs(v).max() > 1e3


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_kept_propagator_gives_the_per_step_result_and_refuses_stale_use(x64):
    I = jnp.array([300.0, 0.0, 0.0])
    runs = {}
    for dt_given in (None, 0.01):
        gj = GapJunctions("I", [0, 1], [1, 2], g=jnp.array([30.0, 80.0]), dt=dt_given)
        net = bs.Network({"I": (TRAUB, 3)}, couplings=[gj])
        state = net.init()
        assert ("couplings" in state) == (dt_given is not None)
        runs[dt_given] = bs.run(net, state, inputs={"I": I}, duration=20.0, dt=0.01,
                                record=["I.v"], stream=False)["I.v"]  # fmt: skip
    np.testing.assert_allclose(runs[0.01], runs[None], atol=1e-9)
    with pytest.raises(ValueError, match="built for dt = 0.01 ms"):
        bs.run(net, state, inputs={"I": I}, duration=1.0, dt=0.02)
    changed = eqx.tree_at(lambda n: n.couplings[0].g, net, jnp.array([30.0, 81.0]))
    with pytest.raises(Exception, match="call `net.init\\(\\)` again"):
        bs.run(changed, state, inputs={"I": I}, duration=0.1, dt=0.01, record=["I.v"])
    bs.run(changed, changed.init(), inputs={"I": I}, duration=0.1, dt=0.01, record=["I.v"])


# --- references --------------------------------------------------------------------------------


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
@pytest.mark.parametrize("g", [5.0, 50.0])
def test_explicit_pair_matches_brian2_summed_variable(g, x64):
    """Same scheme (exponential Euler, coupling current from the start-of-step potentials):
    the same potentials up to float64 rounding."""
    t, v = _pair_run(g, "explicit")
    ref_v = _on_grid(t, _reference("brian2"), f"pair_g{g:g}")
    for cell in (0, 1):
        a, b = _matched_crossings(t, v, t, ref_v, cell)
        np.testing.assert_allclose(a, b, atol=1e-9)
    keep = t <= _reference("brian2")[f"pair_g{g:g}_t"][-1]
    np.testing.assert_allclose(v[keep], ref_v[keep], atol=1e-7)


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
@pytest.mark.parametrize("name, pre, post", [("rect_forward", 0, 1), ("rect_backward", 1, 0)])
def test_rectifying_pair_matches_brian2(name, pre, post, x64):
    t, v = _pair_run(50.0, "explicit", rectifying=True, pre=pre, post=post)
    ref_v = _on_grid(t, _reference("brian2"), name)
    for cell in (0, 1):
        a, b = _matched_crossings(t, v, t, ref_v, cell)
        np.testing.assert_allclose(a, b, atol=1e-9)
    keep = t <= _reference("brian2")[f"{name}_t"][-1]
    np.testing.assert_allclose(v[keep], ref_v[keep], atol=1e-7)
    _, v_exact = _pair_run(50.0, "exact", rectifying=True, pre=pre, post=post)
    for cell in (0, 1):
        a, b = _matched_crossings(t, v_exact, t, ref_v, cell)
        np.testing.assert_allclose(a, b, atol=0.1)


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
@pytest.mark.parametrize("g", [5.0, 50.0, 20000.0])
def test_exact_pair_matches_nest_waveform_relaxation(g, x64):
    """RK4 cells with exact junctions against NEST's RKF45 with waveform relaxation: the
    -20-mV crossings agree to 0.3 µs (measured at most 0.28 µs)."""
    t, v = _pair_run(g, "exact", cell=TRAUB_RK4)
    ref_v = _on_grid(t, _reference("nest"), f"pair_g{g:g}")
    for cell in (0, 1):
        a, b = _matched_crossings(t, v, t, ref_v, cell)
        np.testing.assert_allclose(a, b, atol=1e-3)


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_network_synchrony_grows_with_coupling_as_in_nest_and_brian2(x64):
    pre, post, drive, v0 = network_protocol()
    gs = _reference("nest")["net_g"]
    nest_ref = _reference("nest")
    dt, T, every, skip = (float(nest_ref[k]) for k in ("net_dt", "net_T", "net_every", "net_skip"))

    def synchrony(g, method):
        cell = bs.neurons.TraubHH(v_init=jnp.asarray(v0))
        net = bs.Network({"I": (cell, v0.size)},
                         couplings=[GapJunctions("I", pre, post, g=g, method=method)])  # fmt: skip
        result = bs.run(net, net.init(), inputs={"I": jnp.asarray(drive)}, duration=T, dt=dt,
                        record=["I.v"], every=int(every), stream=False)  # fmt: skip
        return bs.analysis.chi(result["I.v"][result.t > skip])

    ours = {m: np.asarray(jax.jit(jax.vmap(lambda g, m=m: synchrony(g, m)))(jnp.asarray(gs)))
            for m in ("exact", "explicit")}  # fmt: skip
    nest = np.array([float(_reference("nest")[f"net_g{g:g}_chi"]) for g in gs])
    brian2 = np.array([float(_reference("brian2")[f"net_g{g:g}_chi"]) for g in gs])
    np.testing.assert_allclose(ours["exact"], nest, atol=0.05)
    np.testing.assert_allclose(ours["explicit"], brian2, atol=0.05)
    assert ours["exact"][-1] > 0.8 > 0.2 > ours["exact"][0]
    assert np.all(np.diff(ours["exact"][1:]) > 0)


def test_reference_chi_matches_brainsim_analysis():
    v = np.random.default_rng(0).normal(size=(200, 7))
    assert float(bs.analysis.chi(v)) == pytest.approx(chi(v), rel=1e-5)


# --- transforms --------------------------------------------------------------------------------


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
@pytest.mark.parametrize("method", ["exact", "implicit", "explicit"])
def test_jit_vmap_and_grad_through_the_network(method, x64, finite_differences):
    cells = bs.neurons.TraubHH()

    def final_v(g):
        gj = GapJunctions("I", [0, 1], [1, 2], g=g, method=method, tol=1e-12)
        net = bs.Network({"I": (cells, 3)}, couplings=[gj])
        result = bs.run(net, net.init(), inputs={"I": jnp.array([300.0, 0.0, 0.0])},
                        duration=3.0, dt=0.01, record=["I.v"], stream=False)  # fmt: skip
        return result["I.v"][-1, 2]

    gs = jnp.array([10.0, 40.0, 80.0])
    batched = jax.jit(jax.vmap(final_v))(gs)
    looped = jnp.stack([final_v(g) for g in gs])
    np.testing.assert_allclose(batched, looped, rtol=1e-10)
    grad = jax.grad(final_v)(40.0)
    fd = finite_differences(lambda x: final_v(jnp.asarray(x)), np.array(40.0), eps=1e-4)
    assert float(grad) == pytest.approx(float(fd), rel=1e-4)


def test_grad_with_respect_to_each_junction_conductance(x64, finite_differences):
    def final_v(g):
        gj = GapJunctions("P", [0, 1], [1, 2], g=g)
        net = bs.Network({"P": (PASSIVE, 3)}, couplings=[gj])
        return bs.run(net, net.init(), inputs={"P": jnp.array([400.0, 0.0, 0.0])},
                      duration=5.0, dt=0.1, record=["P.v"], stream=False)["P.v"][-1, 2]  # fmt: skip

    g0 = np.array([30.0, 15.0])
    grad = jax.grad(final_v)(jnp.asarray(g0))
    np.testing.assert_allclose(grad, finite_differences(final_v, g0, eps=1e-4), rtol=1e-5)


def test_filter_grad_of_a_built_network_reaches_g(x64):
    net = bs.Network({"P": (PASSIVE, 2)}, couplings=[GapJunctions("P", [0], [1], g=10.0)])

    def final_v(net):
        return bs.run(net, net.init(), inputs={"P": jnp.array([400.0, 0.0])}, duration=2.0,
                      dt=0.1, record=["P.v"], stream=False)["P.v"][-1, 1]  # fmt: skip

    grads = eqx.filter_grad(final_v)(net)
    assert float(grads.couplings[0].g) > 0.0


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(pre=[0, 1], post=[1, 1]), ValueError, "joins neuron 1 to itself"),
        (dict(pre=[0, 1], post=[1]), ValueError, "same length"),
        (dict(pre=[0.5], post=[1]), ValueError, "neuron indices"),
        (dict(pre=[-1], post=[1]), ValueError, ">= 0"),
        (dict(pre=[0], post=[1], g=-1.0), ValueError, "`g` must be >= 0"),
        (dict(pre=[0, 1], post=[1, 2], g=[1.0, 2.0, 3.0]), ValueError, "one conductance per"),
        (dict(pre=[0], post=[1], method="rk4"), ValueError, "`method` must be one of"),
        (dict(pre=[0], post=[1], tol=0), ValueError, "`tol`"),
        (dict(pre=[0], post=[1], rectifying="yes"), TypeError, "`rectifying`"),
    ],
)
def test_bad_junctions_raise_naming_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        GapJunctions("I", **kwargs)


def test_network_refuses_junctions_that_do_not_fit_the_population():
    with pytest.raises(ValueError, match="index neuron 5, but population 'I' has 3"):
        bs.Network({"I": (TRAUB, 3)}, couplings=[GapJunctions("I", [0], [5])])
    with pytest.raises(ValueError, match="not one of"):
        bs.Network({"I": (TRAUB, 3)}, couplings=[GapJunctions("E", [0], [1])])
    source = bs.neurons.PoissonSource(rate=10.0)
    with pytest.raises(TypeError, match="capacitance"):
        bs.Network({"S": (source, 3)}, couplings=[GapJunctions("S", [0], [1])])
    with pytest.raises(ValueError, match="clock"):
        bs.Network({"I": (TRAUB, 3)}, couplings=[GapJunctions("I", [0], [1])],
                   clocks={"I": 1.0})  # fmt: skip
    with pytest.raises(ValueError, match="method='implicit'"):
        bs.Network({"I": (PASSIVE, 5000)}, couplings=[GapJunctions("I", [0], [1])])


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_gap_junctions_example(run_example):
    out = run_example("gap_junctions", "--n", 20, "--duration", 150)
    assert "rectifying 1 -> 0: cell 0" in out and "synchrony chi" in out
