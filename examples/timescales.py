"""Learnable membrane time constants on a task that needs a slow and a fast memory.

`two_timescale_task`: a rate cue in the first 30 steps (which of two channel groups fires
more) and a brief burst in the last 5 steps (which of two other groups bursts); the class is
the pair. Input -> LIF hidden layer -> leaky readout (τ = 2 ms), read out over the last 5
steps. Both networks start with every hidden `tau_m` at 5 ms; one keeps it fixed, the other
learns one `tau_m` per neuron (`Positive`, above 1 ms) with the weights. Run:

    python examples/timescales.py                 # writes timescales.png
    python examples/timescales.py --full --out timescales.png
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


def network(key, *, n_in, hidden, tau_m=5.0, learn_tau=False):
    """Input -> `hidden` LIF (`tau_m` ms, learnable per neuron if `learn_tau`) -> 4 readouts."""
    k1, k2 = jax.random.split(key)
    lif = bs.neurons.LIF(tau_m=jnp.full(hidden, tau_m), t_ref=0.0, detach_reset=True)
    if learn_tau:
        lif = eqx.tree_at(lambda m: m.tau_m, lif, bt.Positive(lif.tau_m, minimum=1.0))
    return bt.Sequential([
        bt.SpikingDense(n_in, hidden, lif, key=k1, weight_scale=3000.0),
        bt.SpikingDense(hidden, 4, bt.LeakyReadout(tau_m=2.0), key=k2, weight_scale=300.0),
    ])  # fmt: skip


def hidden_tau(net):
    """The hidden layer's membrane time constants (ms)."""
    return bt.unwrap(net.layers[0].neuron).tau_m


def _logits(net, inputs, readout_steps):
    out = jax.vmap(lambda x: net.run(x, dt=DT, layers=[-1])[0])(inputs)
    return jnp.swapaxes(out[:, -readout_steps:], 0, 1)  # (readout_steps, batch, 4)


def accuracy(net, inputs, labels, readout_steps) -> float:
    """Fraction of samples whose summed readout over the last steps peaks on the class."""
    logits = _logits(net, inputs, readout_steps).sum(axis=0)
    return float(jnp.mean(jnp.argmax(logits, axis=-1) == labels))


def train(net, task, *, steps, batch, key, readout_steps, lr_weight=30.0, lr_tau=1.0):
    """Adam on the weights (pA) and, if `tau_m` is `Positive`, on its `theta` (≈ ms once
    `tau_m` is a few ms above its minimum); sum-over-time cross-entropy of the readout over the
    last `readout_steps` steps."""
    spec = jax.tree.map(lambda _: False, net)

    def weights(m):
        return m.layers[0].weight, m.layers[1].weight

    spec = eqx.tree_at(weights, spec, (True, True))
    labels_tree = eqx.tree_at(weights, jax.tree.map(lambda _: "fixed", net), ("weight", "weight"))
    if isinstance(net.layers[0].neuron.tau_m, bt.Positive):
        spec = eqx.tree_at(lambda m: m.layers[0].neuron.tau_m.theta, spec, True)
        labels_tree = eqx.tree_at(lambda m: m.layers[0].neuron.tau_m.theta, labels_tree, "tau")
    params, static = eqx.partition(net, spec)
    labels_tree = eqx.filter(labels_tree, spec)
    optimizer = optax.multi_transform(
        {"weight": optax.adam(lr_weight), "tau": optax.adam(lr_tau)}, labels_tree
    )
    opt_state = optimizer.init(params)

    def loss_fn(p, x, y):
        return bt.sum_over_time_cross_entropy(_logits(eqx.combine(p, static), x, readout_steps), y)

    @jax.jit
    def update(p, opt_state, key):
        x, y = task(key, batch)
        value, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, value

    losses = []
    for k in jax.random.split(key, steps):
        params, opt_state, value = update(params, opt_state, k)
        losses.append(float(value))
    return eqx.combine(params, static), losses


def experiment(*, n_channels=8, n_steps=60, cue_steps=30, burst_steps=5, hidden=16, steps=150,
               batch=64, n_test=512, seed=0):  # fmt: skip
    """Train the fixed-τ and the learnable-τ network from the same initial weights; returns
    accuracies (chance 0.25), loss histories, the trained networks and their `tau_m`."""
    k_net, k_train, k_test = jax.random.split(jax.random.key(seed), 3)

    def task(key, n):
        return bt.two_timescale_task(key, n, n_channels=n_channels, n_steps=n_steps,
                                     cue_steps=cue_steps, burst_steps=burst_steps)  # fmt: skip

    x_test, y_test = task(k_test, n_test)
    results = {}
    for name, learn in (("learned tau_m", True), ("fixed tau_m", False)):
        net = network(k_net, n_in=4 * n_channels, hidden=hidden, learn_tau=learn)
        net, losses = train(net, task, steps=steps, batch=batch, key=k_train,
                            readout_steps=burst_steps)  # fmt: skip
        results[name] = {
            "accuracy": accuracy(net, x_test, y_test, burst_steps),
            "losses": losses,
            "tau_m": hidden_tau(net),
            "net": net,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="a longer gap, more neurons and steps")
    parser.add_argument("--out", default="timescales.png", help="figure file to write")
    args = parser.parse_args()
    size = dict(n_steps=100, cue_steps=50, hidden=32, steps=400) if args.full else {}
    began = time.perf_counter()
    results = experiment(**size)
    for name, r in results.items():
        tau = r["tau_m"]
        print(f"{name:>14}: test accuracy {r['accuracy']:.3f} (chance 0.25), tau_m "
              f"{float(tau.min()):.1f}-{float(tau.max()):.1f} ms")  # fmt: skip
    print(f"took {time.perf_counter() - began:.1f} s")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, r in results.items():
        axes[0].plot(r["losses"], label=f"{name} (test acc. {r['accuracy']:.2f})")
    axes[0].set(xlabel="training step", ylabel="cross-entropy", title="training")
    axes[0].legend()
    axes[1].hist(results["learned tau_m"]["tau_m"], bins=20)
    axes[1].axvline(5.0, color="k", ls="--", label="initial (and fixed) 5 ms")
    axes[1].set(xlabel="tau_m (ms)", ylabel="hidden neurons", title="learned time constants")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
