"""Motion direction from event streams with heterogeneous delays (Grimaldi & Perrinet 2023).

Dots move on a periodic retina in one of four directions and emit events (`moving_dots`). A
`DelayTapLogistic` layer, one detector per direction, computes at every pixel and step
`p_k(t) = sigmoid(Σ_{c,τ,δ} K[k,c,τ,δ] s_c(t - τ, x + δ) + b_k)` and is trained as logistic
regression (binary cross-entropy, one-vs-rest, at the sites where events arrive). A sample's
direction is the detector with the highest mean probability at those sites. The same layer
with a single tap (no delays) is the control. Run:

    python examples/motion_detection.py                 # writes motion_detection.png
    python examples/motion_detection.py --full --out motion.png
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import optax

import brainsim.train as bt


def _at_events(events):
    """Where an event arrives now, `(batch, T, 1, H, W)`: the sites the detectors answer at."""
    return (events.sum(axis=2, keepdims=True) > 0).astype(events.dtype)


def loss_fn(model, events, labels):
    """Binary cross-entropy of every detector at every site where an event arrives (target:
    1 for the detector of the sample's direction, 0 for the others), as the event-driven
    layer of the paper answers at each incoming event."""
    logits = jax.vmap(model.logits)(events)  # (batch, T, 4, H, W)
    target = jnp.broadcast_to(jax.nn.one_hot(labels, 4)[:, None, :, None, None], logits.shape)
    mask = _at_events(events)
    bce = optax.sigmoid_binary_cross_entropy(logits, target)
    return jnp.sum(mask * bce) / (4 * jnp.sum(mask))


def accuracy(model, events, labels) -> float:
    """Fraction of samples whose most active detector (mean probability over the sites with
    an event) is the direction of motion."""
    mask = _at_events(events)
    p = jnp.sum(jax.vmap(model)(events) * mask, axis=(1, 3, 4)) / jnp.sum(mask, axis=(1, 3, 4))
    return float(jnp.mean(jnp.argmax(p, axis=-1) == labels))


def train(model, task, *, steps, batch, key, lr=0.05):
    """Adam on the kernel and biases with fresh samples at every step."""
    optimizer = optax.adam(lr)
    opt_state = optimizer.init(model)

    @jax.jit
    def update(model, opt_state, key):
        events, labels = task(key, batch)
        value, grads = jax.value_and_grad(loss_fn)(model, events, labels)
        updates, opt_state = optimizer.update(grads, opt_state, model)
        return optax.apply_updates(model, updates), opt_state, value

    losses = []
    for k in jax.random.split(key, steps):
        model, opt_state, value = update(model, opt_state, k)
        losses.append(float(value))
    return model, losses


def experiment(*, size=12, n_steps=12, n_dots=2, n_taps=4, radius=2, steps=60, batch=16,
               n_test=256, noise_prob=0.02, seed=0):  # fmt: skip
    """Train the delay-tap detector and the single-tap control; returns accuracies (chance is
    0.25), loss histories and the trained layers."""
    k_init, k_train, k_test = jax.random.split(jax.random.key(seed), 3)

    def task(key, n):
        return bt.moving_dots(
            key, n, size=size, n_steps=n_steps, n_dots=n_dots, noise_prob=noise_prob
        )

    events, labels = task(k_test, n_test)
    results = {}
    for name, taps in (("delays", n_taps), ("no delays", 1)):
        model = bt.DelayTapLogistic(4, 1, n_taps=taps, radius=radius, key=k_init)
        model, losses = train(model, task, steps=steps, batch=batch, key=k_train)
        results[name] = {"accuracy": accuracy(model, events, labels), "losses": losses,
                         "model": model}  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="larger retina, more taps and steps")
    parser.add_argument("--out", default="motion_detection.png", help="figure file to write")
    args = parser.parse_args()
    size = (
        dict(size=32, n_steps=24, n_dots=6, n_taps=8, radius=3, steps=300, batch=32)
        if args.full
        else {}
    )
    began = time.perf_counter()
    results = experiment(**size)
    for name in ("delays", "no delays"):
        print(f"{name:>10}: direction accuracy {results[name]['accuracy']:.3f} (chance 0.25)")
    print(f"took {time.perf_counter() - began:.1f} s")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kernel = results["delays"]["model"].kernel[:, 0]  # (direction, tap, dy, dx)
    n_taps = kernel.shape[1]
    fig, axes = plt.subplots(4, n_taps + 1, figsize=(1.6 * (n_taps + 1), 6.4))
    limit = float(jnp.max(jnp.abs(kernel)))
    for k, name in enumerate(("right", "up", "left", "down")):
        for tau in range(n_taps):
            axes[k, tau].imshow(kernel[k, tau], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes[k, tau].set_xticks([])
            axes[k, tau].set_yticks([])
            if k == 0:
                axes[k, tau].set_title(f"τ = {tau}")
        axes[k, 0].set_ylabel(name)
        axes[k, n_taps].axis("off")
    for name in ("delays", "no delays"):
        r = results[name]
        axes[0, n_taps].plot(r["losses"], label=f"{name}: {r['accuracy']:.2f}")
    axes[0, n_taps].axis("on")
    axes[0, n_taps].set_title("loss")
    axes[0, n_taps].legend(fontsize=6)
    fig.suptitle("learned kernels K[direction, τ, δy, δx]")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
