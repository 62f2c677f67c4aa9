"""Write the snnTorch and Norse references for tests/test_nir.py: NIR graphs written by those
frameworks' own exporters, with the spikes the frameworks compute for a fixed input, and the
spikes snnTorch and Norse compute for a graph that brainsim wrote.

Two interpreters take part. The framework side needs torch, snnTorch, Norse and nir:

    python3.11 -m venv /tmp/nirpeers
    /tmp/nirpeers/bin/pip install torch snntorch norse nir numpy
    .venv/bin/python tests/reference/make_nir_torch_refs.py brainsim     # brainsim_*.nir
    /tmp/nirpeers/bin/python tests/reference/make_nir_torch_refs.py      # everything else

(The committed files were written with torch 2.14.1 on the CPU, snnTorch 1.0.0, Norse 1.1.0,
nir 1.0.8 and nirtorch 2.6. The `.nir` files differ in bytes from run to run, HDF5's
bookkeeping; the graphs and the `.npz` files do not.)

The first command (brainsim's own environment) writes `brainsim_lif.nir`: `to_nir` of a
`Sequential` of two `SpikingDense` layers of LIF neurons (6 -> 10 -> 4; `tau_m` 10 and 8 ms,
`v_rest = v_reset = 0`, `v_th = 1`, `R = 1`, forward Euler), the form both frameworks'
importers accept; and `brainsim_conv.nir`: `to_nir` of a `NIRModel` (brainsim has no conv
layer of its own) of `Conv2d(1 -> 3, 3x3, padding 1) -> LIF -> SumPool2d(2) -> Flatten ->
Affine(48 -> 4) -> LIF` on 1x8x8 inputs. The second command writes, for each network,
`NAME.nir` (the framework's export, written uncompressed with
`nir.write(..., compression=None)` to keep it small) and
`NAME.npz` (`input` (T, ...), `spikes` (T, n_out) and, where named, `hidden` spikes, plus the
framework's version):

- `snntorch_leaky`: `Linear(10 -> 16, bias) -> Leaky -> Linear(16 -> 4) -> Leaky`.
- `snntorch_synaptic`: `Linear(8 -> 12) -> Synaptic`.
- `snntorch_rleaky`: `Linear(8 -> 12) -> RLeaky` (all-to-all recurrent `Linear` with bias,
  exported as a nested graph `lif -> w_rec (Affine) -> lif`).
- `snntorch_conv`: `Conv2d(1 -> 4, 3x3, padding 1) -> Leaky -> AvgPool2d(2) -> Conv2d(4 -> 6,
  3x3, stride 2, padding 1) -> Leaky -> Flatten -> Linear(24 -> 5) -> Leaky` on 1x8x8 inputs.
- `norse_lif`: `SequentialState(Linear(8 -> 16, bias), LIFBoxCell, Linear(16 -> 4), LIBoxCell)`
  exported with `norse.torch.to_nir(..., dt=1e-3)`; `output` holds the readout's potentials.
- `brainsim_lif_snntorch`: `brainsim_lif.nir` read by `snntorch.import_from_nir`;
  `brainsim_lif_norse`: the same graph read by `norse.torch.from_nir` (dt = 1 ms);
  `brainsim_conv_norse`: `brainsim_conv.nir` read by `norse.torch.from_nir` (snnTorch's
  importer has no `SumPool2d`).

snnTorch neurons use `reset_mechanism="zero"` and `reset_delay=False` (how snnTorch's importer
builds them from a NIR `LIF`; for `Leaky` the spikes are the same with `reset_delay=True`).
Inputs: Bernoulli spikes, p = 0.3 (0.2 for the conv network), 50 steps, from
`numpy.random.default_rng` with a fixed seed per network. snnTorch and Norse parameters are
per neuron (snnTorch 1.0's exporter fails type inference on a scalar `beta`).
"""

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).parent
STEPS = 50


def _input(seed, shape, p):
    rng = np.random.default_rng(seed)
    return (rng.random((STEPS, *shape)) < p).astype(np.float32)


def write_brainsim_graph():
    """`brainsim_lif.nir` and `brainsim_conv.nir`: brainsim's exports of a small LIF
    `Sequential` and of a conv `NIRModel`."""
    import jax
    import nir

    import brainsim as bs

    k1, k2 = jax.random.split(jax.random.key(11))

    def lif(tau):
        return bs.neurons.LIF(tau_m=tau, v_rest=0.0, v_th=1.0, v_reset=0.0, R=1.0, t_ref=0.0,
                              method="euler")  # fmt: skip

    net = bs.train.Sequential([
        bs.train.SpikingDense(6, 10, lif(10.0), key=k1, weight_scale=150.0),
        bs.train.SpikingDense(10, 4, lif(8.0), key=k2, weight_scale=150.0),
    ])  # fmt: skip
    nir.write(HERE / "brainsim_lif.nir", bs.nir.to_nir(net), compression=None)
    print("wrote brainsim_lif.nir")

    rng = np.random.default_rng(12)
    lif = dict(r=1.0, v_leak=0.0, v_threshold=1.0, v_reset=0.0)
    graph = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([1, 8, 8])),
        nir.Conv2d(input_shape=(8, 8), weight=rng.normal(0.0, 4.0, (3, 1, 3, 3)), stride=1,
                   padding=1, dilation=1, groups=1, bias=np.full(3, 0.5)),
        nir.LIF(tau=np.full((3, 8, 8), 0.01), **{k: np.full((3, 8, 8), v) for k, v in lif.items()}),
        nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                      padding=np.array([0, 0])),
        nir.Flatten(input_type={"input": np.array([3, 4, 4])}, start_dim=0),
        nir.Affine(weight=np.abs(rng.normal(0.0, 0.4, (4, 48))), bias=np.zeros(4)),
        nir.LIF(tau=np.full(4, 0.008), **{k: np.full(4, v) for k, v in lif.items()}),
    )  # fmt: skip
    model = bs.nir.from_nir(graph, dt=1.0)
    nir.write(HERE / "brainsim_conv.nir", bs.nir.to_nir(model), compression=None)
    print("wrote brainsim_conv.nir")


def _save(name, graph, **arrays):
    import nir

    nir.write(HERE / f"{name}.nir", graph, compression=None)
    np.savez_compressed(HERE / f"{name}.npz", **arrays)
    counts = {k: int(v.sum()) for k, v in arrays.items() if k in ("spikes", "hidden")}
    print(f"{name}: {counts} in {STEPS} steps; nodes {sorted(graph.nodes)}")


def _snntorch_run(net, x, hidden_module=None):
    """Run an snnTorch `Sequential` with `init_hidden=True` neurons over `x` (one step per
    row, batch 1); the output spikes and those of `hidden_module`."""
    import torch
    from snntorch import utils

    hidden = []
    if hidden_module is not None:
        hidden_module.register_forward_hook(lambda m, i, o: hidden.append(o[0].detach().numpy()))
    utils.reset(net)
    with torch.no_grad():
        out = [net(torch.from_numpy(xt)[None])[0].numpy() for xt in x]
    return np.array(out), (np.array(hidden) if hidden else None)


def write_snntorch_refs():
    import snntorch as snn
    import torch
    from snntorch.export_nir import export_to_nir

    version = np.array(snn.__version__)

    def leaky(n, beta):
        shape = (n,) if isinstance(n, int) else n
        return snn.Leaky(beta=torch.as_tensor(np.broadcast_to(beta, shape).copy()),
                         threshold=torch.ones(shape), init_hidden=True,
                         reset_mechanism="zero", reset_delay=False)  # fmt: skip

    torch.manual_seed(0)
    hidden = leaky(16, np.linspace(0.8, 0.95, 16, dtype=np.float32))
    net = torch.nn.Sequential(
        torch.nn.Linear(10, 16), hidden, torch.nn.Linear(16, 4, bias=False),
        leaky(4, np.array([0.85, 0.9, 0.9, 0.95], np.float32)),
    )  # fmt: skip
    with torch.no_grad():
        net[0].weight.mul_(3.0)
        net[2].weight.mul_(6.0)
    x = _input(1, (10,), 0.3)
    graph = export_to_nir(net, torch.zeros(10))
    spikes, hidden_spikes = _snntorch_run(net, x, hidden)
    _save("snntorch_leaky", graph, input=x, spikes=spikes, hidden=hidden_spikes,
          snntorch_version=version)  # fmt: skip

    torch.manual_seed(1)
    n = 12
    net = torch.nn.Sequential(
        torch.nn.Linear(8, n, bias=False),
        snn.Synaptic(alpha=torch.linspace(0.5, 0.8, n), beta=torch.linspace(0.8, 0.9, n),
                     threshold=torch.ones(n), init_hidden=True, reset_mechanism="zero",
                     reset_delay=False),
    )  # fmt: skip
    with torch.no_grad():
        net[0].weight.mul_(2.0)
    x = _input(2, (8,), 0.3)
    graph = export_to_nir(net, torch.zeros(8))
    spikes, _ = _snntorch_run(net, x)
    _save("snntorch_synaptic", graph, input=x, spikes=spikes, snntorch_version=version)

    torch.manual_seed(2)
    rleaky = snn.RLeaky(beta=torch.linspace(0.8, 0.9, n), threshold=torch.ones(n),
                        linear_features=n, init_hidden=True, reset_mechanism="zero",
                        reset_delay=False)  # fmt: skip
    with torch.no_grad():
        rleaky.recurrent.weight.mul_(2.0)
    net = torch.nn.Sequential(torch.nn.Linear(8, n, bias=False), rleaky)
    with torch.no_grad():
        net[0].weight.mul_(3.0)
    x = _input(3, (8,), 0.3)
    graph = export_to_nir(net, torch.zeros(8))
    spikes, _ = _snntorch_run(net, x)
    _save("snntorch_rleaky", graph, input=x, spikes=spikes, snntorch_version=version)

    torch.manual_seed(3)
    conv_hidden = leaky((4, 8, 8), 0.9)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), conv_hidden, torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(4, 6, 3, stride=2, padding=1), leaky((6, 2, 2), 0.85),
        torch.nn.Flatten(), torch.nn.Linear(24, 5), leaky(5, 0.9),
    )  # fmt: skip
    with torch.no_grad():
        net[0].weight.mul_(6.0)
        net[3].weight.mul_(30.0)
        net[6].weight.abs_().mul_(3.0)
    x = _input(4, (1, 8, 8), 0.2)
    graph = export_to_nir(net, torch.zeros(1, 1, 8, 8), ignore_dims=[0])
    spikes, hidden_spikes = _snntorch_run(net, x, conv_hidden)
    _save("snntorch_conv", graph, input=x, spikes=spikes,
          hidden=hidden_spikes.reshape(STEPS, -1), snntorch_version=version)  # fmt: skip


def write_norse_refs():
    import norse
    import norse.torch as nt
    import torch

    version = np.array(norse.__version__)
    torch.manual_seed(4)
    lif = nt.LIFBoxCell(nt.LIFBoxParameters(
        tau_mem_inv=1.0 / torch.linspace(0.005, 0.02, 16), v_leak=torch.full((16,), 0.1),
        v_th=torch.full((16,), 0.6), v_reset=torch.zeros(16)))  # fmt: skip
    li = nt.LIBoxCell(nt.LIBoxParameters(tau_mem_inv=1.0 / torch.linspace(0.01, 0.03, 4),
                                         v_leak=torch.zeros(4)))  # fmt: skip
    net = nt.SequentialState(torch.nn.Linear(8, 16), lif, torch.nn.Linear(16, 4, bias=False), li)
    with torch.no_grad():
        net[0].weight.mul_(6.0)
    x = _input(5, (8,), 0.3)
    graph = nt.to_nir(net, torch.zeros(8), dt=1e-3)
    hidden = []
    lif.register_forward_hook(lambda m, i, o: hidden.append(o[0][0].detach().numpy()))
    state, out = None, []
    with torch.no_grad():
        for xt in x:
            y, state = net(torch.from_numpy(xt)[None], state)
            out.append(y[0].numpy())
    _save("norse_lif", graph, input=x, output=np.array(out), hidden=np.array(hidden),
          norse_version=version)  # fmt: skip


def write_brainsim_peer_refs():
    """Run `brainsim_lif.nir` in snnTorch (dt = 0.1 ms, its importer's) and Norse (1 ms), and
    `brainsim_conv.nir` in Norse."""
    import nir
    import norse
    import norse.torch as nt
    import snntorch as snn
    import torch
    from snntorch.import_nir import import_from_nir

    x = _input(6, (6,), 0.3)
    net = import_from_nir(nir.read(HERE / "brainsim_lif.nir"))
    with torch.no_grad():
        spikes = []
        for xt in x:
            y = net(torch.from_numpy(xt)[None])
            spikes.append((y[0] if isinstance(y, tuple) else y)[0].numpy())
    np.savez_compressed(HERE / "brainsim_lif_snntorch.npz", input=x, spikes=np.array(spikes),
                        snntorch_version=np.array(snn.__version__))  # fmt: skip
    print(f"brainsim_lif_snntorch: {int(np.sum(spikes))} spikes")

    net = nt.from_nir(nir.read(HERE / "brainsim_lif.nir"), dt=1e-3)
    state, spikes = None, []
    with torch.no_grad():
        for xt in x:
            y, state = net(torch.from_numpy(xt)[None], state)
            spikes.append(y[0].numpy())
    np.savez_compressed(HERE / "brainsim_lif_norse.npz", input=x, spikes=np.array(spikes),
                        norse_version=np.array(norse.__version__))  # fmt: skip
    print(f"brainsim_lif_norse: {int(np.sum(spikes))} spikes")

    x = _input(7, (1, 8, 8), 0.2)
    net = nt.from_nir(nir.read(HERE / "brainsim_conv.nir"), dt=1e-3)
    state, spikes = None, []
    with torch.no_grad():
        for xt in x:  # unbatched (1, 8, 8) frames: Flatten(0, -1) then gives the 48 values
            y, state = net(torch.from_numpy(xt), state)
            spikes.append(y.numpy())
    np.savez_compressed(HERE / "brainsim_conv_norse.npz", input=x, spikes=np.array(spikes),
                        norse_version=np.array(norse.__version__))  # fmt: skip
    print(f"brainsim_conv_norse: {int(np.sum(spikes))} spikes")


if __name__ == "__main__":
    if sys.argv[1:] == ["brainsim"]:
        write_brainsim_graph()
    else:
        write_snntorch_refs()
        write_norse_refs()
        write_brainsim_peer_refs()
