"""brainsim.nir: round trips through NIR files; graphs written by snnTorch, Norse and Spyx
themselves, run against those frameworks' own spikes, and a brainsim graph run by snnTorch and
Norse; convolution and pooling against their definitions; the NIR equations, transforms and
bad input."""

import dataclasses
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


def _with_output(graph, node, size):
    """`graph` with one more `Output` node, `hidden`, fed by `node` (to read its spikes)."""
    graph.nodes["hidden"] = nir.Output(output_type=np.array([size]))
    graph.edges.append((node, "hidden"))
    return graph


def _flat(x):
    return x.reshape(len(x), -1)


# The references below were written by snnTorch 1.0.0 and Norse 1.1.0 themselves
# (tests/reference/make_nir_torch_refs.py): each framework's NIR exporter wrote the graph, and
# its own simulation the spikes. All comparisons are exact: brainsim's forward-Euler step
# `v + dt/tau (-v + r I)` with snnTorch's `tau = dt/(1-beta)`, `r = tau/dt` is snnTorch's
# `beta v + I` up to float32 rounding, and no potential in these runs lands within that
# rounding of its threshold (a tie could flip one spike; none occurs in 50 steps).


def test_snntorch_leaky_graph_reproduces_snntorch_spikes():
    """`Linear(bias) -> Leaky -> Linear -> Leaky` (reset to zero), per-neuron beta."""
    ref = np.load(REFERENCE / "snntorch_leaky.npz")
    graph = _with_output(nir.read(REFERENCE / "snntorch_leaky.nir"), "1", 16)
    out = from_nir(graph, dt=0.1).run(ref["input"])  # dt = 0.1 ms: snnTorch's dt = 1e-4 s
    assert ref["spikes"].sum() > 30 and ref["hidden"].sum() > 50
    np.testing.assert_array_equal(np.asarray(out["output"]), ref["spikes"])
    np.testing.assert_array_equal(np.asarray(out["hidden"]), ref["hidden"])


def test_snntorch_synaptic_graph_reproduces_snntorch_spikes():
    """`Linear -> Synaptic` (a CubaLIF with `w_in = tau_syn/dt`, `r = tau_mem/dt`)."""
    ref = np.load(REFERENCE / "snntorch_synaptic.npz")
    model = from_nir(REFERENCE / "snntorch_synaptic.nir", dt=0.1)
    assert ref["spikes"].sum() > 100
    np.testing.assert_array_equal(np.asarray(model.run(ref["input"])), ref["spikes"])


def test_snntorch_rleaky_graph_reproduces_snntorch_spikes():
    """`Linear -> RLeaky`: snnTorch writes the recurrence `lif -> w_rec -> lif` (an Affine with
    bias); the cycle closes on the previous step, and before the first step carries the bias,
    as snnTorch's `recurrent(spk = 0)` does."""
    ref = np.load(REFERENCE / "snntorch_rleaky.npz")
    model = from_nir(REFERENCE / "snntorch_rleaky.nir", dt=0.1)
    assert model.previous == ("1.w_rec",)
    assert ref["spikes"].sum() > 40
    np.testing.assert_array_equal(np.asarray(model.run(ref["input"])), ref["spikes"])
    again = from_nir(to_nir(model), dt=0.1)  # exports and imports again
    np.testing.assert_array_equal(np.asarray(again.run(ref["input"])), ref["spikes"])


def test_snntorch_conv_graph_reproduces_snntorch_spikes():
    """`Conv2d -> Leaky -> AvgPool2d -> Conv2d (stride 2) -> Leaky -> Flatten -> Linear ->
    Leaky` on 1x8x8 spike frames; the hidden spikes are those of the first conv layer."""
    ref = np.load(REFERENCE / "snntorch_conv.npz")
    graph = _with_output(nir.read(REFERENCE / "snntorch_conv.nir"), "1", 4 * 8 * 8)
    model = from_nir(graph, dt=0.1)
    assert model.nodes["2"].out_shape == (4, 4, 4) and model.nodes["3"].out_shape == (6, 2, 2)
    out = model.run(_flat(ref["input"]))
    assert ref["spikes"].sum() > 50 and ref["hidden"].sum() > 200
    np.testing.assert_array_equal(np.asarray(out["hidden"]), ref["hidden"])
    np.testing.assert_array_equal(np.asarray(out["output"]), ref["spikes"])


def test_norse_graph_reproduces_norse_spikes_and_potentials():
    """`SequentialState(Linear, LIFBoxCell, Linear, LIBoxCell)`, dt = 1 ms. Norse 1.1 writes
    `tau = dt/tau_mem_inv` (dt times the time constant, in s²), so the graph is read with
    `time_unit = 1000/dt = 1e6`."""
    ref = np.load(REFERENCE / "norse_lif.npz")
    graph = _with_output(nir.read(REFERENCE / "norse_lif.nir"), "1", 16)
    out = from_nir(graph, dt=1.0, time_unit=1e6).run(ref["input"])
    assert ref["hidden"].sum() > 50
    np.testing.assert_array_equal(np.asarray(out["hidden"]), ref["hidden"])
    # The readout potential (|v| < 0.1) after 50 float32 steps: rounding of ~1e-8.
    np.testing.assert_allclose(np.asarray(out["output"]), ref["output"], rtol=0, atol=1e-6)
    assert float(np.abs(ref["output"]).max()) > 0.05


def _brainsim_net_of(graph):
    """The brainsim `Sequential` whose `to_nir` is `graph` (brainsim_lif.nir)."""
    layers = []
    for i in range(2):
        weight, lif = graph.nodes[f"layer{i}.weight"].weight, graph.nodes[f"layer{i}.neuron"]
        neuron = bs.neurons.LIF(tau_m=float(lif.tau[0]) * 1e3, v_rest=0.0, v_th=1.0,
                                v_reset=0.0, R=1.0, t_ref=0.0, method="euler")  # fmt: skip
        layer = bs.train.SpikingDense(weight.shape[1], weight.shape[0], neuron,
                                      key=jax.random.key(0))  # fmt: skip
        layers.append(eqx.tree_at(lambda m: m.weight, layer, jnp.asarray(weight.T)))
    return bs.train.Sequential(layers)


@pytest.mark.parametrize(("peer", "dt"), [("snntorch", 0.1), ("norse", 1.0)])
def test_brainsim_graph_run_by_snntorch_and_norse_gives_brainsim_spikes(peer, dt):
    """brainsim -> NIR -> snnTorch (`import_from_nir`, which steps at 0.1 ms) and -> Norse
    (`from_nir`, 1 ms): the frameworks' spikes for brainsim_lif.nir are brainsim's own."""
    graph = nir.read(REFERENCE / "brainsim_lif.nir")
    net = _brainsim_net_of(graph)
    exported = to_nir(net)
    for name, node in graph.nodes.items():  # the committed graph is this network's export
        for field in ("weight", "tau", "r", "v_threshold", "v_reset", "v_leak"):
            if hasattr(node, field):
                np.testing.assert_array_equal(getattr(exported.nodes[name], field),
                                              getattr(node, field))  # fmt: skip
    ref = np.load(REFERENCE / f"brainsim_lif_{peer}.npz")
    spikes = np.asarray(net.run(ref["input"], dt=dt)[-1])
    assert ref["spikes"].sum() > 30
    np.testing.assert_array_equal(spikes, ref["spikes"])


def test_brainsim_conv_graph_run_by_norse_gives_brainsim_spikes():
    """brainsim_conv.nir (`to_nir` of a NIRModel: Conv2d -> LIF -> SumPool2d -> Flatten ->
    Affine -> LIF) read by Norse 1.1's `from_nir` (SumPool2d as `LPPool2d(1)`) at dt = 1 ms."""
    ref = np.load(REFERENCE / "brainsim_conv_norse.npz")
    model = from_nir(REFERENCE / "brainsim_conv.nir", dt=1.0)
    assert model.nodes["sumpool2d"].kind == "SumPool2d"
    assert ref["spikes"].sum() > 50
    np.testing.assert_array_equal(np.asarray(model.run(_flat(ref["input"]))), ref["spikes"])


def _numpy_conv(x, w, b, stride, pads, dilation, groups):
    """Convolution by its definition, in float64: `y[o, p] = b[o] + sum over the input
    channels of o's group and the kernel offsets k of w[o, c, k] x[c, s p + d k]` (x padded)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    ndim = x.ndim - 1
    xp = np.pad(x, [(0, 0), *pads])
    per_group_in, per_group_out = w.shape[1], w.shape[0] // groups
    sizes = [(xp.shape[1 + i] - dilation[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1
             for i in range(ndim)]  # fmt: skip
    y = np.zeros((w.shape[0], *sizes))
    for o in range(w.shape[0]):
        channels = slice(o // per_group_out * per_group_in, (o // per_group_out + 1) * per_group_in)
        for pos in np.ndindex(*sizes):
            for k in np.ndindex(*w.shape[2:]):
                at = tuple(pos[i] * stride[i] + k[i] * dilation[i] for i in range(ndim))
                y[(o, *pos)] += w[(o, slice(None), *k)] @ xp[(channels, *at)]
        y[o] += b[o]
    return y


def _graph(in_shape, *nodes):
    """Input(in_shape) -> nodes -> Output, without NIR's type check (which takes C_in to be
    weight.shape[1], wrong for groups > 1)."""
    inner = {f"n{i}": node for i, node in enumerate(nodes)}
    chain = ["input", *inner, "output"]
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array(in_shape)), **inner,
               "output": nir.Output(output_type=None)},
        edges=list(zip(chain[:-1], chain[1:], strict=True)), type_check=False,
    )  # fmt: skip


CONVS = [  # (input shape, weight shape, stride, padding, dilation, groups)
    ((4, 9, 7), (6, 2, 3, 2), (2, 3), (1, 2), (2, 1), 2),
    ((3, 8, 8), (5, 3, 3, 3), (3, 1), (0, 1), (1, 2), 1),
    ((2, 6, 5), (3, 2, 4, 3), (1, 1), "same", (1, 1), 1),  # PyTorch pads (1, 2) and (1, 1)
    ((3, 11), (4, 3, 3), 2, 1, 2, 1),
    ((4, 10), (4, 1, 4), 3, 2, 1, 4),  # depthwise
]


@pytest.mark.parametrize(("in_shape", "w_shape", "stride", "padding", "dilation", "groups"), CONVS)
def test_conv_matches_its_definition(in_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(len(in_shape) + sum(w_shape))
    w = rng.normal(size=w_shape).astype(np.float32)
    b = rng.normal(size=w_shape[0]).astype(np.float32)
    x = rng.normal(size=in_shape).astype(np.float32)
    ndim = len(in_shape) - 1
    cls = nir.Conv1d if ndim == 1 else nir.Conv2d
    node = cls(input_shape=in_shape[1] if ndim == 1 else in_shape[1:], weight=w, stride=stride,
               padding=padding, dilation=dilation, groups=groups, bias=b)  # fmt: skip
    model = from_nir(_graph(in_shape, node), dt=1.0)
    each = lambda v: np.broadcast_to(v, (ndim,))  # noqa: E731
    if padding == "same":
        pads = [(1, 2), (1, 1)]
    else:
        pads = [(p, p) for p in each(padding)]
    expected = _numpy_conv(x, w, b, each(stride), pads, each(dilation), groups)
    assert model.nodes["n0"].out_shape == expected.shape
    got = np.asarray(model.run(x.reshape(1, -1)))[0]
    # float32 sums of up to 24 products of N(0, 1) values: rounding below 1e-5.
    np.testing.assert_allclose(got, expected.reshape(-1), rtol=1e-5, atol=1e-5)
    again = from_nir(to_nir(model), dt=1.0)  # the node exports and imports again
    np.testing.assert_array_equal(np.asarray(again.run(x.reshape(1, -1))), got[None])


@pytest.mark.parametrize("kind", ["SumPool2d", "AvgPool2d"])
def test_pooling_matches_its_definition(kind):
    x = np.random.default_rng(0).normal(size=(3, 7, 6)).astype(np.float32)
    kernel, stride, pad = (3, 2), (2, 3), (1, 1)
    node = getattr(nir, kind)(kernel_size=np.array(kernel), stride=np.array(stride),
                              padding=np.array(pad))  # fmt: skip
    model = from_nir(_graph(x.shape, node), dt=1.0)
    xp = np.pad(np.asarray(x, np.float64), [(0, 0), (1, 1), (1, 1)])
    rows, cols = (7 + 2 - 3) // 2 + 1, (6 + 2 - 2) // 3 + 1
    expected = np.array([[[xp[c, 2 * i:2 * i + 3, 3 * j:3 * j + 2].sum() for j in range(cols)]
                          for i in range(rows)] for c in range(3)])  # fmt: skip
    if kind == "AvgPool2d":
        expected /= 6  # PyTorch's count_include_pad=True: the padded zeros count
    assert model.nodes["n0"].out_shape == (3, rows, cols)
    got = np.asarray(model.run(x.reshape(1, -1)))[0]
    np.testing.assert_allclose(got, expected.reshape(-1), rtol=1e-6, atol=1e-6)


def _conv_model():
    return from_nir(REFERENCE / "snntorch_conv.nir", dt=0.1)


def test_conv_model_exports_through_a_file_with_its_shapes(tmp_path):
    ref = np.load(REFERENCE / "snntorch_conv.npz")
    nir.write(tmp_path / "conv.nir", to_nir(_conv_model()))
    graph = nir.read(tmp_path / "conv.nir")  # NIR's type check passes on read
    assert graph.nodes["1"].tau.shape == (4, 8, 8)  # neurons keep the (C, H, W) layout
    assert isinstance(graph.nodes["2"], nir.AvgPool2d)
    assert np.asarray(graph.nodes["3"].stride).tolist() == [2, 2]
    np.testing.assert_array_equal(np.asarray(from_nir(graph, dt=0.1).run(_flat(ref["input"]))),
                                  ref["spikes"])  # fmt: skip


def test_conv_model_jit_equals_eager():
    model = _conv_model()
    x = _flat(np.load(REFERENCE / "snntorch_conv.npz")["input"][:20])
    jitted = eqx.filter_jit(lambda m, x: m.run(x))(model, x)
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(model.run(x)))


def test_conv_model_vmap_over_a_batch_equals_a_loop():
    model = _conv_model()
    xs = _spikes(jax.random.key(9), 3 * 20, 64, 0.3).reshape(3, 20, 64)
    batched = jax.vmap(model.run)(xs)
    assert float(batched.sum()) > 10
    for i in range(3):
        np.testing.assert_array_equal(np.asarray(batched[i]), np.asarray(model.run(xs[i])))


def test_conv_model_vmap_over_conv_weights_equals_a_loop():
    model = _conv_model()
    x = _spikes(jax.random.key(10), 20, 64, 0.3)
    weights = jnp.stack([s * model.nodes["0"].weight for s in (0.8, 1.0, 1.3)])

    def run(weight):
        return eqx.tree_at(lambda m: m.nodes["0"].weight, model, weight).run(x)

    batched = jax.vmap(run)(weights)
    assert len({float(b.sum()) for b in batched}) > 1  # the weights matter
    for i in range(3):
        np.testing.assert_array_equal(np.asarray(batched[i]), np.asarray(run(weights[i])))


def test_conv_weight_grad_matches_finite_differences(x64, finite_differences):
    """Conv2d -> AvgPool2d -> Flatten -> Affine -> LI: smooth in the conv weights."""
    rng = np.random.default_rng(5)
    graph = _graph(
        (1, 6, 6),
        nir.Conv2d(input_shape=(6, 6), weight=rng.normal(size=(2, 1, 3, 3)), stride=1,
                   padding=1, dilation=1, groups=1, bias=rng.normal(size=2)),
        nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                      padding=np.array([0, 0])),
        nir.Flatten(input_type=None, start_dim=0),
        nir.Affine(weight=rng.normal(size=(3, 18)), bias=rng.normal(size=3)),
        nir.LI(tau=np.full(3, 0.005), r=np.ones(3), v_leak=np.zeros(3)),
    )  # fmt: skip
    model = from_nir(graph, dt=1.0, method="exp_euler")
    x = _spikes(jax.random.key(4), 10, 36, 0.4).astype(jnp.float64)

    @jax.jit
    def loss(weight):
        return jnp.sum(eqx.tree_at(lambda m: m.nodes["n0"].weight, model, weight).run(x) ** 2)

    weight = model.nodes["n0"].weight
    np.testing.assert_allclose(jax.grad(loss)(weight), finite_differences(loss, weight),
                               rtol=1e-6, atol=1e-9)  # fmt: skip


def test_bad_conv_and_pool_nodes_raise_naming_them():
    w = np.ones((2, 1, 3, 3), np.float32)
    conv = nir.Conv2d(input_shape=(8, 8), weight=w, stride=1, padding=1, dilation=1, groups=1,
                      bias=np.zeros(2))  # fmt: skip
    conv.padding = "circular"  # nir checks its own constructor's argument, not a read file
    with pytest.raises(ValueError, match="'n0'.*padding 'circular' is not supported"):
        from_nir(_graph((1, 8, 8), conv), dt=1.0)
    conv = nir.Conv2d(input_shape=(8, 8), weight=w, stride=1, padding=1, dilation=1, groups=1,
                      bias=np.zeros(2))  # fmt: skip
    with pytest.raises(ValueError, match=r"takes an input of shape \(1, 8, 8\).*\(1, 6, 6\)"):
        from_nir(_graph((1, 6, 6), conv), dt=1.0)
    strided = nir.Conv2d(input_shape=(8, 8), weight=w, stride=2, padding="same", dilation=1,
                         groups=1, bias=np.zeros(2))  # fmt: skip
    with pytest.raises(ValueError, match="padding 'same' needs stride 1"):
        from_nir(_graph((1, 8, 8), strided), dt=1.0)
    grouped = nir.Conv2d(input_shape=(8, 8), weight=np.ones((3, 1, 3, 3)), stride=1, padding=0,
                         dilation=1, groups=2, bias=np.zeros(3))  # fmt: skip
    with pytest.raises(ValueError, match="groups = 2 must be >= 1 and divide"):
        from_nir(_graph((2, 8, 8), grouped), dt=1.0)
    big = nir.Conv2d(input_shape=(2, 2), weight=w, stride=1, padding=0, dilation=1, groups=1,
                     bias=np.zeros(2))  # fmt: skip
    with pytest.raises(ValueError, match="larger than the padded input"):
        from_nir(_graph((1, 2, 2), big), dt=1.0)
    unshaped = nir.Conv2d(input_shape=None, weight=w, stride=1, padding=1, dilation=1,
                          groups=1, bias=np.zeros(2))  # fmt: skip
    with pytest.raises(ValueError, match="cannot tell its input shape.*set input_shape"):
        from_nir(_graph((64,), unshaped), dt=1.0)  # a flat source: no (C, H, W) to read
    flat_weight = nir.Conv1d(input_shape=8, weight=np.ones((2, 1, 3, 3)), stride=1, padding=0,
                             dilation=1, groups=1, bias=np.zeros(2))  # fmt: skip
    with pytest.raises(ValueError, match=r"Conv1d\): weight of shape \(2, 1, 3, 3\)"):
        from_nir(_graph((1, 8), flat_weight), dt=1.0)
    pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                         padding=np.array([0, 0]))  # fmt: skip
    with pytest.raises(ValueError, match=r"needs an input of shape \(C, H, W\)"):
        from_nir(_graph((16,), pool), dt=1.0)


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


@dataclasses.dataclass(eq=False)
class _Spiral(nir.NIRNode):
    """A node type NIR does not define (brainsim imports every one that NIR 1.0 defines)."""

    turns: np.ndarray

    def __post_init__(self):
        self.input_type = {"input": np.array([2])}
        self.output_type = {"output": np.array([2])}


def test_unsupported_nodes_and_models_raise_naming_them():
    with pytest.raises(NotImplementedError, match="'_spiral' is a _Spiral"):
        from_nir(nir.NIRGraph.from_list(_Spiral(turns=np.ones(2))), dt=1.0)
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
