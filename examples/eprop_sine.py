"""e-prop learns a superposition of sine waves (the task of NEST's e-prop sine-wave example).

A recurrent network of LIF neurons receives frozen Poisson input noise (each of `n_in` inputs
spikes with probability 0.05 per 1-ms step) and its leaky readout must reproduce a
1000-step target: four sines of periods 1000, 500, 333 and 200 steps with random amplitudes
and phases, shifted to start at 0 and scaled to peak at 1. Training is online e-prop
(`brainsim.train.eprop_value_and_grad`, symmetric or random feedback) with Adam, one sequence
per iteration. Run:

    python examples/eprop_sine.py                    # 50 neurons, 60 iterations
    python examples/eprop_sine.py --full             # NEST's size: 100 inputs, 100 neurons, 200 it.
    python examples/eprop_sine.py --feedback random --out eprop_random.png
"""

from __future__ import annotations

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402
from brainsim.train import RecurrentSNN, eprop_value_and_grad, random_feedback  # noqa: E402

DT = 1.0
STEPS = 1000


def sine_task(seed: int, n_in: int):
    """Frozen input spikes `(STEPS, n_in)` and the target `(STEPS, 1)` of the sine task."""
    rng = np.random.default_rng(seed)
    spikes = (rng.random((STEPS, n_in)) < 0.05).astype(np.float32)
    target = np.zeros(STEPS)
    for period in (1000, 500, 333, 200):
        amplitude, phase = rng.uniform(0.5, 2.0), rng.uniform(0.0, 2 * np.pi)
        target += amplitude * np.sin(
            np.linspace(phase, phase + 2 * np.pi * (STEPS // period), STEPS)
        )
    target -= target[0]
    target /= np.abs(target).max()
    return jnp.asarray(spikes), jnp.asarray(target[:, None], jnp.float32)


def make_network(n_in: int, n_rec: int, key) -> RecurrentSNN:
    neuron = bs.neurons.LIF(tau_m=30.0, v_rest=-70.0, v_reset=-70.0, v_th=-60.0, t_ref=2.0,
                            R=0.1, detach_reset=True)  # fmt: skip
    return RecurrentSNN.create(n_in, n_rec, 1, key=key, neuron=neuron,
                               readout=bs.train.LeakyReadout(tau_m=30.0, R=1.0),
                               input_scale=600.0, recurrent_scale=200.0,
                               output_scale=100.0)  # fmt: skip


def weights(net):
    """The trained parameters: input, recurrent and readout weights (the neuron constants and
    the readout's time constant stay fixed)."""
    return net.w_in, net.w_rec, net.w_out


def train(net, spikes, target, iterations: int, learning_rate: float, feedback=None):
    """Adam on e-prop gradients; returns the trained network and the loss of each iteration."""
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(weights(net))

    @eqx.filter_jit
    def update(net, opt_state):
        loss, grads, _ = eprop_value_and_grad(net, spikes, target, dt=DT, feedback=feedback)
        updates, opt_state = optimizer.update(weights(grads), opt_state)
        new = optax.apply_updates(weights(net), updates)
        return eqx.tree_at(weights, net, new), opt_state, loss

    losses = []
    for _ in range(iterations):
        net, opt_state, loss = update(net, opt_state)
        losses.append(float(loss))
    return net, np.array(losses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="NEST's size and 200 iterations")
    parser.add_argument("--feedback", choices=["symmetric", "random"], default="symmetric")
    parser.add_argument("--learning-rate", type=float, default=2.0)
    parser.add_argument("--out", default="eprop_sine.png", help="figure file to write")
    args = parser.parse_args()
    n_in, n_rec, iterations = (100, 100, 200) if args.full else (50, 50, 60)
    began = time.perf_counter()
    spikes, target = sine_task(1, n_in)
    key, feedback_key = jax.random.split(jax.random.key(1))
    net = make_network(n_in, n_rec, key)
    feedback = random_feedback(feedback_key, net) if args.feedback == "random" else None
    net, losses = train(net, spikes, target, iterations, args.learning_rate, feedback)
    result = bs.run(net, net.init(), input_series=spikes, steps=STEPS, dt=DT, stream=False,
                    record={"y": lambda s, y: y, "z": lambda s, _: s.spikes})  # fmt: skip
    rate = float(np.asarray(result.traces["z"]).mean() * 1e3 / DT)
    print(f"e-prop ({args.feedback}), {n_rec} neurons: loss {losses[0]:.2f} -> "
          f"{losses[-1]:.2f} in {iterations} iterations; rate {rate:.1f} Hz; "
          f"{time.perf_counter() - began:.1f} s")  # fmt: skip

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 5))
    ax1.plot(losses)
    ax1.set_yscale("log")
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("loss ½Σ(y - y*)²")
    t = np.arange(STEPS) * DT
    ax2.plot(t, np.asarray(target)[:, 0], label="target")
    ax2.plot(t, np.asarray(result.traces["y"])[:, 0], label="readout")
    ax2.set_xlabel("time (ms)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
