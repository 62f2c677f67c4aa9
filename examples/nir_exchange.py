"""Model exchange through NIR: train in brainsim, export, import back, and run a convolutional
network that snnTorch exported.

1. A LIF hidden layer and a leaky readout learn which of two input groups fires more (Adam,
   max-over-time cross-entropy, dt = 1 ms).
2. `brainsim.nir.to_nir` writes the trained network to a `.nir` file beside the figure;
   `from_nir` reads it back: the hidden spikes are identical and the readout equal to float32
   rounding.
3. A convolutional network written by snnTorch 1.0's `export_to_nir` (Conv2d -> Leaky ->
   AvgPool2d -> Conv2d -> Leaky -> Flatten -> Linear -> Leaky on 1x8x8 spike frames;
   `tests/reference/snntorch_conv.nir`, with snnTorch's own spikes in the `.npz` beside it)
   runs with forward Euler (snnTorch's β·v + x: spike for spike) and with the exact step
   (`method="exp_euler"`), which differs by O(dt/tau).

    python examples/nir_exchange.py                 # writes nir_exchange.png and .nir
    python examples/nir_exchange.py --full --out nir_exchange.png
"""

from __future__ import annotations

import argparse
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nir  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import brainsim as bs  # noqa: E402
import brainsim.train as bt  # noqa: E402
from brainsim.nir import from_nir, to_nir  # noqa: E402

DT, STEPS, N_IN = 1.0, 50, 20
REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "reference"


def task(key, batch):
    """Poisson inputs: group 0 (inputs 0-9) or group 1 (10-19) fires at 80 Hz, the other
    at 20 Hz; the label is the faster group."""
    k_label, k_spikes = jax.random.split(key)
    labels = jax.random.bernoulli(k_label, 0.5, (batch,)).astype(jnp.int32)
    fast = jnp.arange(N_IN)[None, :] // 10 == labels[:, None]
    rate = jnp.where(fast, 0.08, 0.02)[:, None, :]  # spikes per 1 ms step
    return (jax.random.uniform(k_spikes, (batch, STEPS, N_IN)) < rate).astype(jnp.float32), labels


def network(key, hidden):
    k1, k2 = jax.random.split(key)
    lif = bs.neurons.LIF(tau_m=10.0, v_rest=0.0, v_th=1.0, v_reset=0.0, t_ref=0.0, R=1.0,
                         detach_reset=True)  # fmt: skip
    return bt.Sequential([
        bt.SpikingDense(N_IN, hidden, lif, key=k1, weight_scale=40.0),
        bt.SpikingDense(hidden, 2, bt.LeakyReadout(tau_m=10.0, R=1.0), key=k2,
                        weight_scale=5.0),
    ])  # fmt: skip


def train(net, *, steps, key):
    """Adam on the weights (pA); max-over-time cross-entropy of the readout."""
    optimizer = optax.adam(0.05)
    weights = tuple(layer.weight for layer in net.layers)
    opt_state = optimizer.init(weights)

    def with_weights(weights):
        return eqx.tree_at(lambda m: tuple(layer.weight for layer in m.layers), net, weights)

    def loss(weights, x, y):
        model = with_weights(weights)
        out = jax.vmap(lambda s: model.run(s, dt=DT, layers=[-1])[0])(x)
        return bt.max_over_time_cross_entropy(jnp.swapaxes(out, 0, 1), y)

    @jax.jit
    def update(weights, opt_state, x, y):
        value, grads = jax.value_and_grad(loss)(weights, x, y)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(weights, updates), opt_state, value

    for k in jax.random.split(key, steps):
        x, y = task(k, 16)
        weights, opt_state, value = update(weights, opt_state, x, y)
    return with_weights(weights), float(value)


def accuracy(outputs, labels) -> float:
    return float(jnp.mean(jnp.argmax(outputs.max(axis=1), axis=-1) == labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="train longer, a wider layer")
    parser.add_argument("--out", default="nir_exchange.png", help="figure path")
    args = parser.parse_args()
    hidden, steps = (64, 400) if args.full else (24, 40)

    net, final_loss = train(network(jax.random.key(0), hidden), steps=steps,
                            key=jax.random.key(1))  # fmt: skip
    x, labels = task(jax.random.key(2), 32)
    hidden_spikes, readout = jax.vmap(lambda s: net.run(s, dt=DT))(x)

    path = pathlib.Path(args.out).with_suffix(".nir")
    nir.write(path, to_nir(net))
    model = from_nir(path, dt=DT)
    imported = jax.vmap(model.run)(x)
    hidden_model = from_nir(to_nir(bt.Sequential(net.layers[:1])), dt=DT)
    imported_hidden = jax.vmap(hidden_model.run)(x)
    same_spikes = bool(jnp.array_equal(imported_hidden, hidden_spikes))
    readout_error = float(jnp.abs(imported - readout).max())
    print(f"trained {steps} steps: loss {final_loss:.3f}, accuracy {accuracy(readout, labels):.2f}")
    print(f"wrote {path} ({path.stat().st_size} bytes): nodes {sorted(model.nodes)}")
    print(f"re-imported: hidden spikes identical: {same_spikes}; readout max |difference| "
          f"{readout_error:.2e} mV; accuracy {accuracy(imported, labels):.2f}")

    graph = nir.read(REFERENCE / "snntorch_conv.nir")  # snnTorch's dt = 1e-4 s: 0.1 ms
    reference = np.load(REFERENCE / "snntorch_conv.npz")
    frames = reference["input"].reshape(len(reference["input"]), -1)  # (T, 1*8*8), row-major
    conv_model = from_nir(graph, dt=0.1)
    euler = np.asarray(eqx.filter_jit(lambda m, x: m.run(x))(conv_model, frames))
    exact = np.asarray(from_nir(graph, dt=0.1, method="exp_euler").run(frames))
    expected = reference["spikes"]
    kinds = " -> ".join(type(graph.nodes[name]).__name__ for name in conv_model.order)
    print(f"snnTorch conv net ({kinds}): {int(expected.sum())} output spikes in snnTorch; "
          f"euler differs in {int(np.sum(euler != expected))} (step, neuron) entries, "
          f"exp_euler in {int(np.sum(exact != expected))}")

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    t = DT * np.arange(STEPS)
    for c, color in enumerate(("tab:blue", "tab:orange")):
        axes[0].plot(t, readout[0, :, c], color=color, label=f"brainsim, class {c}")
        axes[0].plot(t, imported[0, :, c], "k:", lw=1.5)
    axes[0].set(xlabel="t (ms)", ylabel="readout v (mV)",
                title="trained readout (dotted: after NIR round trip)")  # fmt: skip
    axes[0].legend(fontsize=8)
    s, n = np.nonzero(np.asarray(hidden_spikes[0]))
    s2, n2 = np.nonzero(np.asarray(imported_hidden[0]))
    axes[1].plot(t[s], n, "|", color="tab:blue", ms=8, label="brainsim")
    axes[1].plot(t[s2], n2, ".", color="k", ms=2, label="imported")
    axes[1].set(xlabel="t (ms)", ylabel="hidden neuron", title="hidden spikes")
    axes[1].legend(fontsize=8)
    counts = [expected.sum(), euler.sum(), exact.sum()]
    axes[2].bar(["snnTorch", "euler", "exp_euler"], counts,
                color=["0.5", "tab:green", "tab:red"])  # fmt: skip
    axes[2].set(ylabel="output spikes", title="snnTorch conv net in brainsim (dt = 0.1 ms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
