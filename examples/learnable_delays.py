"""Learnable delays (DCLS) on a task where only the relative spike timing carries the class.

Two networks with the same number of parameters learn `relative_timing_task`: input -> LIF
hidden layer -> leaky readout, trained with surrogate-gradient BPTT and a max-over-time
cross-entropy. One has learnable per-synapse delays in its first layer (`DCLSDense`: weight
and delay per synapse, σ annealed from D/2 to 0.5, delays rounded to whole steps for the test);
the other has plain weights (`SpikingDense`) and more hidden neurons. Run:

    python examples/learnable_delays.py                 # writes learnable_delays.png
    python examples/learnable_delays.py --full --out delays.png
"""

from __future__ import annotations

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import brainsim as bs
import brainsim.train as bt

DT = 1.0  # ms


def networks(key, *, n_channels, n_classes, hidden, n_taps, tau_hidden=1.5, tau_readout=2.0):
    """The delay network (DCLSDense, `hidden` LIF) and the plain one with as many parameters:
    `2 n_channels hidden + hidden n_classes = (n_channels + n_classes) hidden_plain`."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    lif = bs.neurons.LIF(tau_m=tau_hidden, t_ref=0.0, detach_reset=True)
    readout = bt.LeakyReadout(tau_m=tau_readout)
    delayed = bt.Sequential([
        bt.DCLSDense(n_channels, hidden, lif, n_taps=n_taps, key=k1, weight_scale=4000.0),
        bt.SpikingDense(hidden, n_classes, readout, key=k2, weight_scale=100.0),
    ])  # fmt: skip
    plain_hidden = round((2 * n_channels + n_classes) * hidden / (n_channels + n_classes))
    plain = bt.Sequential([
        bt.SpikingDense(n_channels, plain_hidden, lif, key=k3, weight_scale=4000.0),
        bt.SpikingDense(plain_hidden, n_classes, readout, key=k4, weight_scale=100.0),
    ])  # fmt: skip
    return delayed, plain


def n_parameters(net) -> int:
    """Weights and delays of the network (σ and neuron constants are not trained)."""
    layers = net.layers
    count = sum(layer.weight.size for layer in layers)
    return count + sum(layer.delay.size for layer in layers if isinstance(layer, bt.DCLSDense))


def _trainable(net):
    """Filter spec: weights, and delays where there are some."""
    spec = jax.tree.map(lambda _: False, net)
    for i, layer in enumerate(net.layers):
        spec = eqx.tree_at(lambda m, i=i: m.layers[i].weight, spec, True)
        if isinstance(layer, bt.DCLSDense):
            spec = eqx.tree_at(lambda m, i=i: m.layers[i].delay, spec, True)
    return spec


def _map_delay_layers(net, fn):
    """`net` with `fn` applied to each of its `DCLSDense` layers."""
    layers = tuple(fn(x) if isinstance(x, bt.DCLSDense) else x for x in net.layers)
    return eqx.tree_at(lambda m: m.layers, net, layers)


def accuracy(net, inputs, labels) -> float:
    """Fraction of samples whose readout peaks (max over time) on the right class."""
    out = jax.vmap(lambda x: net.run(x, dt=DT, layers=[-1])[0])(inputs)
    return float(jnp.mean(jnp.argmax(out.max(axis=1), axis=-1) == labels))


def train(net, task, *, steps, batch, key, lr_weight=50.0, lr_delay=0.1, sigma_end=0.25):
    """Adam on weights (pA) and delays (steps), delays clamped to `[0, D - 1]` after each
    update. σ follows `sigma_schedule` from D/2 to `sigma_end` over the first 70 % of the
    steps; the rest trains the weights with the delays rounded (σ = 0, delays frozen), so the
    network that is tested is the one that was trained. Returns the trained network (delays
    rounded) and the loss history."""
    spec = _trainable(net)
    params, static = eqx.partition(net, spec)
    labels_tree = jax.tree.map(lambda _: "weight", params)
    for i, layer in enumerate(net.layers):
        if isinstance(layer, bt.DCLSDense):
            labels_tree = eqx.tree_at(lambda m, i=i: m.layers[i].delay, labels_tree, "delay")
    anneal = max(1, int(0.7 * steps))
    frozen_after = optax.scale_by_schedule(lambda count: (count < anneal).astype(float))
    optimizer = optax.multi_transform(
        {"weight": optax.adam(lr_weight), "delay": optax.chain(optax.adam(lr_delay), frozen_after)},
        labels_tree,
    )
    opt_state = optimizer.init(params)
    delay_layers = [i for i, layer in enumerate(net.layers) if isinstance(layer, bt.DCLSDense)]

    def with_sigma(model, sigma):
        return _map_delay_layers(model, lambda layer: layer.with_sigma(sigma))

    def loss_fn(p, sigma, x, y):
        model = with_sigma(eqx.combine(p, static), sigma)
        out = jax.vmap(lambda s: model.run(s, dt=DT, layers=[-1])[0])(x)
        return bt.max_over_time_cross_entropy(jnp.swapaxes(out, 0, 1), y)

    @jax.jit
    def update(p, opt_state, sigma, key):
        x, y = task(key, batch)
        value, grads = jax.value_and_grad(loss_fn)(p, sigma, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        p = optax.apply_updates(p, updates)
        model = _map_delay_layers(eqx.combine(p, static), bt.DCLSDense.clamp_delays)
        return eqx.partition(model, spec)[0], opt_state, value

    n_taps = max((net.layers[i].n_taps for i in delay_layers), default=1)
    losses = []
    for s, k in enumerate(jax.random.split(key, steps)):
        sigma = bt.sigma_schedule(s, anneal, n_taps / 2, sigma_end) if s < anneal else 0.0
        params, opt_state, value = update(params, opt_state, sigma, k)
        losses.append(float(value))
    return _map_delay_layers(eqx.combine(params, static), bt.DCLSDense.round_delays), losses


def experiment(*, n_channels=8, n_classes=4, max_offset=21, n_steps=36, hidden=12, steps=150,
               batch=64, n_test=512, seed=0, tau_hidden=1.5, tau_readout=2.0):  # fmt: skip
    """Train both networks on the same task; returns a dict of accuracies, parameter counts,
    loss histories and the trained networks.

    The pattern's spikes are 3 steps apart (`max_offset / (n_channels - 1)`), twice the hidden
    membrane time constant (1.5 ms) and more than the readout's (2 ms): a neuron cannot bridge
    that gap by leaky integration, so timing is visible only where delays align the spikes."""
    task_key, k_net, k_train, k_test = jax.random.split(jax.random.key(seed), 4)

    def task(key, n):
        return bt.relative_timing_task(
            key, n, task_key=task_key, n_classes=n_classes, n_channels=n_channels,
            n_steps=n_steps, max_offset=max_offset,
        )  # fmt: skip

    delayed, plain = networks(
        k_net, n_channels=n_channels, n_classes=n_classes, hidden=hidden, n_taps=max_offset + 1,
        tau_hidden=tau_hidden, tau_readout=tau_readout,
    )  # fmt: skip
    x_test, y_test = task(k_test, n_test)
    results = {}
    for name, net in (("delays", delayed), ("no delays", plain)):
        trained, losses = train(net, task, steps=steps, batch=batch, key=k_train)
        results[name] = {
            "accuracy": accuracy(trained, x_test, y_test),
            "parameters": n_parameters(net),
            "losses": losses,
            "net": trained,
        }
    results["inputs"], results["labels"] = x_test, y_test
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="16 channels, 8 classes, longer")
    parser.add_argument("--out", default="learnable_delays.png", help="figure file to write")
    args = parser.parse_args()
    size = (
        dict(n_channels=16, n_classes=8, max_offset=45, n_steps=70, hidden=32, steps=600)
        if args.full
        else {}
    )
    began = time.perf_counter()
    results = experiment(**size)
    for name in ("delays", "no delays"):
        r = results[name]
        print(f"{name:>10}: test accuracy {r['accuracy']:.3f} with {r['parameters']} parameters")
    print(f"took {time.perf_counter() - began:.1f} s")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    delays = results["delays"]["net"].layers[0].delay
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for name in ("delays", "no delays"):
        r = results[name]
        axes[0].plot(r["losses"], label=f"{name} (test acc. {r['accuracy']:.2f})")
    axes[0].set(xlabel="training step", ylabel="cross-entropy", title="training")
    axes[0].legend()
    x, y = results["inputs"], results["labels"]
    for c in range(int(y.max()) + 1):
        t, ch = jnp.nonzero(x[int(jnp.argmax(y == c))])
        axes[1].scatter(t, ch + 0.2 * c, s=12, label=f"class {c}")
    axes[1].set(xlabel="step (1 ms)", ylabel="channel", title="one sample per class")
    image = axes[2].imshow(delays, aspect="auto", cmap="viridis")
    axes[2].set(xlabel="hidden neuron", ylabel="input channel", title="learned delays (steps)")
    fig.colorbar(image, ax=axes[2])
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
