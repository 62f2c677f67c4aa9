"""brainsim.nir: round trips through NIR files, graphs written by snnTorch's and Spyx's
exporters, the NIR equations, transforms and bad input."""

import functools
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import nir
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim.nir import NIRModel, from_nir, to_nir

REFERENCE = pathlib.Path(__file__).parent / "reference"


def _spikes(key, steps, n, p):
    return (jax.random.uniform(key, (steps, n)) < p).astype(jnp.float32)


def _sequential(readout: bool):
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    lif = dict(tau_m=10.0, v_rest=0.0, v_th=1.0, v_reset=0.0, t_ref=0.0, R=1.0)
    layers = [
        bs.train.SpikingDense(6, 12, bs.neurons.LIF(**lif), key=k1, weight_scale=60.0),
        bs.train.SpikingDense(12, 5, bs.neurons.LIF(**lif, method="euler"), key=k2,
                              weight_scale=100.0),
    ]  # fmt: skip
    if readout:
        layers.append(bs.train.SpikingDense(5, 3, bs.train.LeakyReadout(), key=k3))
    return bs.train.Sequential(layers)


def test_sequential_round_trip_through_a_file_gives_identical_spikes(tmp_path):
    net = _sequential(readout=False)
    x = _spikes(jax.random.key(1), 300, 6, 0.3)
    expected = net.run(x, dt=0.5)[-1]
    nir.write(tmp_path / "net.nir", to_nir(net))
    model = from_nir(tmp_path / "net.nir", dt=0.5)
    got = model.run(x)
    assert float(expected.sum()) > 30  # the comparison sees spikes
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def test_sequential_with_readout_round_trip_gives_the_same_potentials(tmp_path):
    net = _sequential(readout=True)
    x = _spikes(jax.random.key(2), 200, 6, 0.3)
    expected = net.run(x, dt=0.5)[-1]
    nir.write(tmp_path / "net.nir", to_nir(net))
    got = from_nir(tmp_path / "net.nir", dt=0.5).run(x)
    # Same spikes upstream; the readout's exact step is grouped differently (v e + v_inf (1-e)
    # instead of v_inf + (v - v_inf) e): float32 rounding, relative 1e-6 per step.
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-5, atol=1e-5)
    assert float(jnp.abs(expected).max()) > 1.0


def test_sequential_export_writes_the_documented_parameters():
    net = _sequential(readout=True)
    graph = to_nir(net)
    lif = graph.nodes["layer0.neuron"]
    assert isinstance(lif, nir.LIF) and isinstance(graph.nodes["layer2.neuron"], nir.LI)
    np.testing.assert_allclose(lif.tau, 0.010)  # 10 ms in seconds
    np.testing.assert_array_equal(lif.r, 1.0)
    np.testing.assert_array_equal(lif.v_threshold, 1.0)
    np.testing.assert_array_equal(graph.nodes["layer0.weight"].weight, net.layers[0].weight.T)
    assert graph.nodes["layer1.neuron"].metadata["brainsim_method"] == "euler"


@functools.lru_cache  # a Network is immutable; building its connectivity takes seconds
def _network(dt):
    lif = bs.neurons.LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, R=1.0, t_ref=0.0)
    cur = bs.synapses.Current()
    projections = [
        bs.Projection("E", "E", bo.fixed_prob(jax.random.key(0), 40, 40, 0.2, weight=2.0),
                      bs.synapses.Exponential(5.0), cur),
        bs.Projection("E", "I", bo.fixed_prob(jax.random.key(1), 40, 10, 0.3, weight=15.0),
                      bs.synapses.Exponential(3.0), cur, delay=0.2, dt=dt),
        bs.Projection("I", "E", bo.fixed_prob(jax.random.key(2), 10, 40, 0.5, weight=-6.0),
                      bs.synapses.Exponential(8.0), cur, delay_steps=np.arange(10) % 3,
                      delay_per="pre"),
    ]  # fmt: skip
    return bs.Network({"E": (lif, 40), "I": (lif, 10)}, projections)


def test_network_round_trip_gives_identical_spikes(tmp_path):
    dt, steps = 0.1, 2000
    net = _network(dt)
    drive = 10.5 + 2.0 * jax.random.normal(jax.random.key(5), (steps, 40))
    record = {"E": lambda s, o: o["E"], "I": lambda s, o: o["I"]}
    expected = bs.run(net, net.init(), dt=dt, steps=steps, input_series={"E": drive},
                      record=record, stream=False).traces  # fmt: skip
    nir.write(tmp_path / "net.nir", to_nir(net, dt=dt))
    graph = nir.read(tmp_path / "net.nir")
    # E->I: 2 steps of delay plus the Network's one step from delivery to the neuron.
    np.testing.assert_allclose(graph.nodes["E->I.delay"].delay, 3 * dt / 1e3)
    np.testing.assert_allclose(graph.nodes["I->E.delay"].delay, (np.arange(10) % 3 + 1) * dt / 1e3)
    got = from_nir(graph, dt=dt).run({"E.input": drive})
    assert float(expected["E"].sum()) > 50 and float(expected["I"].sum()) > 10
    for name in ("E", "I"):
        np.testing.assert_array_equal(np.asarray(got[f"{name}.output"]), expected[name])


def _snntorch_lif(beta, threshold, dt):
    """A `Leaky` layer as snnTorch's exporter writes it (snntorch/export_nir.py, v1.0)."""
    tau = dt / (1 - beta)
    return nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros_like(beta), v_threshold=threshold,
                   v_reset=np.zeros_like(beta))  # fmt: skip


def _leaky_reference(w, beta, threshold, x, w_rec=None):
    """snnTorch's `Leaky` / `RLeaky` with reset_mechanism="zero", in float64:
    `mem = beta·mem + W x (+ W_rec spk_prev)`, `spk = 1[mem > threshold]`, zeroed on a spike."""
    mem = np.zeros(w.shape[0])
    spk = np.zeros(w.shape[0])
    out = []
    for xt in np.asarray(x, np.float64):
        mem = beta * mem + w @ xt + (0.0 if w_rec is None else w_rec @ spk)
        spk = (mem > threshold).astype(float)
        mem = np.where(spk > 0, 0.0, mem)
        out.append(spk)
    return np.array(out)


def test_snntorch_layout_graph_reproduces_leaky_spikes(tmp_path):
    rng = np.random.default_rng(3)
    dt = 1e-4  # snnTorch writes its graphs for dt = 0.1 ms, in seconds
    beta = np.linspace(0.8, 0.95, 8).astype(np.float32)
    threshold = np.full(8, 1.0, np.float32)
    w = (0.5 * rng.standard_normal((8, 10))).astype(np.float32)
    w_rec = (0.3 * rng.standard_normal((8, 8))).astype(np.float32)
    recurrent = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=[8]), "lif": _snntorch_lif(beta, threshold, dt),
               "w_rec": nir.Linear(weight=w_rec), "output": nir.Output(output_type=[8])},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
    )  # fmt: skip
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([10])), "fc": nir.Linear(weight=w),
               "rlif": recurrent, "output": nir.Output(output_type=np.array([8]))},
        edges=[("input", "fc"), ("fc", "rlif"), ("rlif", "output")],
    )  # fmt: skip
    nir.write(tmp_path / "snntorch.nir", graph)
    x = np.asarray(_spikes(jax.random.key(4), 400, 10, 0.3))
    model = from_nir(tmp_path / "snntorch.nir", dt=0.1)  # method "euler": snnTorch's
    assert model.previous == ("rlif.w_rec",)  # the recurrence closes on the previous step
    expected = _leaky_reference(w, beta, threshold, x, w_rec)
    assert expected.sum() > 200
    np.testing.assert_array_equal(np.asarray(model.run(x)), expected)
    again = from_nir(to_nir(model), dt=0.1)  # the inlined graph exports and imports again
    np.testing.assert_array_equal(np.asarray(again.run(x)), expected)


def test_snntorch_layout_cuba_lif_reproduces_synaptic_spikes():
    """snnTorch's `Synaptic` (syn = alpha syn + x, mem = beta mem + syn, zero reset) as its
    exporter writes it: tau_syn = dt/(1-alpha), w_in = tau_syn/dt, r = tau_mem/dt."""
    dt, n = 1e-4, 6
    alpha, beta = np.full(n, 0.7, np.float32), np.linspace(0.8, 0.9, n).astype(np.float32)
    tau_syn, tau_mem = dt / (1 - alpha), dt / (1 - beta)
    node = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=np.zeros(n),
                       v_threshold=np.ones(n), v_reset=np.zeros(n), w_in=tau_syn / dt)
    w = (0.4 * np.random.default_rng(1).standard_normal((n, 5))).astype(np.float32)
    model = from_nir(nir.NIRGraph.from_list(nir.Linear(weight=w), node), dt=0.1)
    x = np.asarray(_spikes(jax.random.key(6), 300, 5, 0.4))
    syn, mem, expected = np.zeros(n), np.zeros(n), []
    for xt in x:
        syn = alpha * syn + w @ xt
        mem = beta * mem + syn
        spk = (mem > 1.0).astype(float)
        mem = np.where(spk > 0, 0.0, mem)
        expected.append(spk)
    assert np.sum(expected) > 50
    np.testing.assert_array_equal(np.asarray(model.run(x)), np.array(expected))


def test_norse_layout_graph_reproduces_lif_box_spikes():
    """Norse 1.1's `LIFBoxCell` as its importer reads a LIF node (tau_mem_inv = 1/tau, r = 1):
    `v += dt·tau_mem_inv·(x + v_leak - v)`, spike when `v > v_th`, `v ← v_reset` in the same
    step, dt = 1 ms."""
    n, dt = 5, 1e-3
    tau = np.linspace(0.005, 0.02, n).astype(np.float32)
    v_leak, v_th, v_reset = np.full(n, 0.1), np.full(n, 0.6), np.full(n, -0.2)
    w = (4.0 * np.random.default_rng(2).standard_normal((n, 7))).astype(np.float32)
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=w),
        nir.LIF(tau=tau, r=np.ones(n), v_leak=v_leak, v_threshold=v_th, v_reset=v_reset),
    )  # fmt: skip
    x = np.asarray(_spikes(jax.random.key(8), 300, 7, 0.3))
    v, expected = v_leak.astype(np.float64), []
    for xt in x:
        v = v + dt / tau * (w @ xt + v_leak - v)
        expected.append((v > v_th).astype(float))
        v = np.where(expected[-1] > 0, v_reset, v)
    assert np.sum(expected) > 50
    np.testing.assert_array_equal(np.asarray(from_nir(graph, dt=1.0).run(x)), np.array(expected))


def test_spyx_graph_reproduces_spyx_spikes():
    """tests/reference/make_nir_refs.py: Linear -> LIF -> Linear -> LIF in Spyx, exported by
    spyx.nir.to_nir with dt = 1 (time constants in steps)."""
    ref = np.load(REFERENCE / "spyx_lif.npz")
    graph = nir.read(REFERENCE / "spyx_lif.nir")
    model = from_nir(graph, dt=1.0, time_unit=1.0, convention="spyx")
    # beta = 1 - dt/tau recovers Spyx's decay factors (float32 rounding of tau = 1/(1-beta)).
    np.testing.assert_allclose(model.nodes["layer_1"].beta, ref["beta1"], rtol=1e-6)
    np.testing.assert_allclose(model.nodes["layer_3"].beta, ref["beta2"], rtol=1e-6)
    assert ref["spikes"].sum() > 50
    np.testing.assert_array_equal(np.asarray(model.run(ref["input"])), ref["spikes"])
    # Read as NIR's equations, Spyx's r = beta scales the input by (1 - beta)·beta per step:
    # the network falls silent, which is why `convention="spyx"` exists.
    plain = from_nir(graph, dt=1.0, time_unit=1.0)
    assert float(plain.run(ref["input"]).sum()) < 0.1 * ref["spikes"].sum()


def test_exact_and_euler_leaky_integrator_match_their_closed_forms():
    tau, r, x, dt, steps = 0.02, 2.0, 3.0, 1.0, 50  # tau in s = 20 ms
    graph = nir.NIRGraph.from_list(nir.LI(tau=np.array([tau]), r=np.array([r]),
                                          v_leak=np.array([-1.0])))  # fmt: skip
    t = dt * np.arange(1, steps + 1)
    exact = from_nir(graph, dt=dt, method="exp_euler").run(np.full((steps, 1), x, np.float32))
    np.testing.assert_allclose(exact[:, 0], -1 + (r * x) * (1 - np.exp(-t / 20.0)), rtol=1e-5)
    euler = from_nir(graph, dt=dt, method="euler").run(np.full((steps, 1), x, np.float32))
    np.testing.assert_allclose(euler[:, 0], -1 + (r * x) * (1 - (1 - dt / 20.0) ** np.arange(
        1, steps + 1)), rtol=1e-5)  # fmt: skip


def test_integrate_and_fire_counts_charge_exactly():
    # dv/dt = r I with r = 0.5 per s = 5e-4 per ms: 4 steps of 1 ms at I = 500 reach 1.0.
    graph = nir.NIRGraph.from_list(nir.IF(r=np.array([0.5]), v_threshold=np.array([0.99])))
    out = from_nir(graph, dt=1.0).run(np.full((12, 1), 500.0, np.float32))
    np.testing.assert_array_equal(out[:, 0], [0, 0, 0, 1] * 3)


def _small_model():
    rng = np.random.default_rng(0)
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=rng.normal(size=(6, 4)).astype(np.float32)),
        nir.LIF(tau=np.full(6, 0.01), r=np.full(6, 5.0), v_leak=np.zeros(6),
                v_threshold=np.ones(6), v_reset=np.zeros(6)),
        nir.Affine(weight=rng.normal(size=(2, 6)).astype(np.float32), bias=np.ones(2)),
        nir.LI(tau=np.full(2, 0.02), r=np.ones(2), v_leak=np.zeros(2)),
    )  # fmt: skip
    return from_nir(graph, dt=1.0, method="exp_euler")


def test_jit_equals_eager():
    model = _small_model()
    x = _spikes(jax.random.key(0), 30, 4, 0.5)
    eager = model.run(x)
    jitted = eqx.filter_jit(lambda m, x: m.run(x))(model, x)
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(eager))


def test_vmap_over_inputs_equals_a_loop():
    model = _small_model()
    xs = _spikes(jax.random.key(1), 3 * 30, 4, 0.5).reshape(3, 30, 4)
    batched = jax.vmap(model.run)(xs)
    for i in range(3):
        # A batched matrix product may sum in another order: 1 ulp (float32, 1.2e-7) per step.
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(model.run(xs[i])),
                                   rtol=1e-6, atol=1e-6)


def test_vmap_over_parameters_equals_a_loop():
    model = _small_model()
    x = _spikes(jax.random.key(3), 30, 4, 0.5)
    taus = jnp.array([[10.0, 20.0], [5.0, 40.0], [30.0, 30.0]])  # readout tau (ms)

    def run(tau):
        return eqx.tree_at(lambda m: m.nodes["li"].tau, model, tau).run(x)

    batched = jax.vmap(run)(taus)
    for i in range(3):
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(run(taus[i])),
                                   rtol=1e-6, atol=1e-6)  # fmt: skip


def test_grad_matches_finite_differences(x64, finite_differences):
    model = _small_model()
    x = _spikes(jax.random.key(2), 30, 4, 0.5)

    @jax.jit
    def loss(scale, tau):
        m = eqx.tree_at(lambda m: (m.nodes["affine"].weight, m.nodes["li"].tau), model,
                        (scale * model.nodes["affine"].weight, tau))  # fmt: skip
        return jnp.sum(m.run(x) ** 2)

    tau = model.nodes["li"].tau
    grad_scale, grad_tau = jax.grad(loss, argnums=(0, 1))(1.0, tau)
    # The readout is smooth in these parameters (the spikes upstream do not move).
    np.testing.assert_allclose(grad_scale, finite_differences(lambda s: loss(s, tau), 1.0),
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(grad_tau, finite_differences(lambda t: loss(1.0, t), tau),
                               rtol=1e-6)  # fmt: skip
    grad_w = jax.grad(lambda m: jnp.sum(m.run(x)))(model).nodes["linear"].weight
    assert float(jnp.abs(grad_w).sum()) > 0  # the surrogate reaches the first layer


def test_step_takes_named_inputs_and_returns_named_outputs():
    model = from_nir(to_nir(_network(0.1), dt=0.1), dt=0.1)
    assert isinstance(model, NIRModel) and set(model.inputs) == {"E.input", "I.input"}
    step = eqx.filter_jit(lambda m, s, x: m.step(s, x, t=0.0, dt=0.1))
    state, out = step(model, model.init(), {"E.input": jnp.full(40, 30.0)})
    assert set(out) == {"E.output", "I.output"} and out["E.output"].shape == (40,)


def test_unsupported_nodes_and_models_raise_naming_them():
    conv = nir.Conv2d(input_shape=(4, 4), weight=np.ones((1, 1, 2, 2)), stride=1, padding=0,
                      dilation=1, groups=1, bias=np.zeros(1))  # fmt: skip
    with pytest.raises(NotImplementedError, match="'conv2d' is a Conv2d"):
        from_nir(nir.NIRGraph.from_list(conv, type_check=False), dt=1.0)
    key = jax.random.key(0)
    alif = bs.train.SpikingDense(3, 2, bs.neurons.ALIF(t_ref=0.0), key=key)
    with pytest.raises(NotImplementedError, match="layer 0: a ALIF"):
        to_nir(alif)
    with pytest.raises(ValueError, match="t_ref"):
        to_nir(bs.train.SpikingDense(3, 2, bs.neurons.LIF(t_ref=2.0), key=key))
    with pytest.raises(ValueError, match="needs `dt`"):
        to_nir(_network(0.1))
    lif = bs.neurons.LIF(t_ref=0.0)
    cond = bs.Network({"E": (lif, 5)}, [bs.Projection("E", "E", bo.fixed_prob(key, 5, 5, 0.5))])
    with pytest.raises(NotImplementedError, match="projection 'E->E'.*Conductance"):
        to_nir(cond, dt=0.1)
    with pytest.raises(TypeError, match="`model` must be"):
        to_nir(lif)
    spyx = from_nir(REFERENCE / "spyx_lif.nir", dt=1.0, time_unit=1.0, convention="spyx")
    with pytest.raises(NotImplementedError, match="convention='spyx'"):
        to_nir(spyx)


def test_bad_arguments_raise_naming_them():
    graph = to_nir(_sequential(readout=False))
    with pytest.raises(ValueError, match="`method`"):
        from_nir(graph, dt=0.5, method="rk45")
    with pytest.raises(ValueError, match="`dt`"):
        from_nir(graph, dt=0.0)
    with pytest.raises(ValueError, match="`time_unit`"):
        from_nir(graph, dt=0.5, time_unit=-1.0)
    with pytest.raises(ValueError, match="`convention`"):
        from_nir(graph, dt=0.5, convention="norse")
    with pytest.raises(TypeError, match="`graph`"):
        from_nir({"nodes": {}}, dt=0.5)
    model = from_nir(graph, dt=0.5)
    with pytest.raises(ValueError, match="imported for dt = 0.5 ms"):
        model.step(model.init(), jnp.zeros(6), t=0.0, dt=0.1)
    with pytest.raises(ValueError, match="input 'input' has shape"):
        model.step(model.init(), jnp.zeros(5), t=0.0, dt=0.5)
    delay = nir.NIRGraph.from_list(nir.Delay(delay=np.array([0.00015])))
    with pytest.raises(ValueError, match="not whole numbers"):
        from_nir(delay, dt=0.1)
    bad_lif = nir.NIRGraph.from_list(nir.LIF(tau=np.ones(1), r=np.ones(1), v_leak=np.zeros(1),
                                             v_threshold=np.zeros(1), v_reset=np.ones(1)))
    with pytest.raises(ValueError, match="v_reset must be below v_threshold"):
        from_nir(bad_lif, dt=0.1)


@pytest.mark.slow
def test_example_round_trip_is_exact_and_euler_reproduces_snntorch(run_example):
    out = run_example("nir_exchange")
    assert "hidden spikes identical: True" in out
    assert "euler differs in 0 (step, neuron) entries" in out
