"""e-prop learns a superposition of sine waves (the task of NEST's e-prop sine-wave example).

A recurrent network of LIF neurons receives frozen Poisson input noise (each of `n_in` inputs
spikes with probability 0.05 per 1-ms step) and its leaky readout must reproduce a
1000-step target: four sines of periods 1000, 500, 333 and 200 steps with random amplitudes
and phases, shifted to start at 0 and scaled to peak at 1. Training is online e-prop
(`brainsim.train.eprop_value_and_grad`, symmetric or random feedback) with Adam, one sequence
per iteration.

`--nest` instead repeats NEST 3.10's own example (`eprop_supervised_regression_sine-waves.py`,
whose run is kept in `tests/reference/nest_eprop_sine.npz`) in its configuration: its frozen
input spikes and target, 100 inputs, 100 `EpropLIF` neurons with `eprop_iaf`'s parameters
(τ_m = 30 ms, E_L = 0, V_th = 0.03 mV, no refractoriness, reset by subtraction, NEST's
piecewise-linear surrogate of height 10/mV and width 1/33.3 mV), a readout with τ = 30 ms,
weights drawn as NEST draws them (`numpy.random.seed(seed)`, N(0, 1/fan_in) scaled by
1 - 0.97, random feedback), plain gradient descent with NEST's learning rate, the firing-rate
regulariser with NEST's c_reg = 0.3 and f_target = 10 Hz, one sequence per iteration and the
state carried from one sequence to the next as in NEST's continuous run. `R = 1 / (1 - α)`
makes brainsim's weights NEST's (mV per spike). Seed 1 gives NEST's own initial weights.
Run:

    python examples/eprop_sine.py                    # 50 neurons, 60 iterations
    python examples/eprop_sine.py --full             # NEST's size: 100 inputs, 100 neurons, 200 it.
    python examples/eprop_sine.py --feedback random --out eprop_random.png
    python examples/eprop_sine.py --nest --seeds 1 2 3 4 --out eprop_nest.png
"""

from __future__ import annotations

import argparse
import pathlib
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
from brainsim.train import (  # noqa: E402
    EpropLIF,
    RecurrentSNN,
    eprop_value_and_grad,
    random_feedback,
)

DT = 1.0
STEPS = 1000
NEST_REFERENCE = (
    pathlib.Path(__file__).resolve().parents[1] / "tests" / "reference" / "nest_eprop_sine.npz"
)
KAPPA = 0.97  # NEST's kappa and kappa_reg; 1 - KAPPA is its weight and learning-rate scale


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


def nest_task(path=NEST_REFERENCE):
    """NEST's run: input spikes `(STEPS, n_in)` delayed by NEST's one step from generator to
    network, the same with the previous sequence's last step carried in (later iterations),
    the target `(STEPS, 1)`, NEST's loss per iteration and its learning rate."""
    ref = np.load(path)
    n_in = int(ref["n_in"])
    spikes = np.unpackbits(ref["input_spikes"], axis=1, count=n_in).astype(np.float32)
    first = np.concatenate([np.zeros((1, n_in), np.float32), spikes[:-1]])
    return (jnp.asarray(first), jnp.asarray(np.roll(spikes, 1, axis=0)),
            jnp.asarray(ref["target"][:, None]), ref["loss"], float(ref["eta"]))  # fmt: skip


def nest_network(seed: int, n_in: int = 100, n_rec: int = 100):
    """NEST's network and random feedback, weights drawn in NEST's order and float32 rounding
    (seed 1: NEST's own initial weights)."""
    rng = np.random.RandomState(seed)
    scale = np.float32(1.0 - KAPPA)

    def draw(rows, cols):
        return np.asarray(rng.randn(rows, cols).T / np.sqrt(rows), np.float32).T * scale

    w_in, w_rec, w_out = draw(n_in, n_rec), draw(n_rec, n_rec), draw(n_rec, 1)
    feedback = np.asarray(rng.randn(n_rec, 1) / np.sqrt(n_rec), np.float32) * scale
    r = 1.0 / (1.0 - float(np.exp(-DT / 30.0)))  # GΩ: a weight is the jump it causes (mV)
    neuron = EpropLIF(
        tau_m=30.0,
        E_L=0.0,
        V_th=0.03,
        t_ref=0.0,
        R=r,
        spike_fn=bs.surrogate.Triangle(gamma=10.0 * 0.03, width=1 / 33.3 / 0.03),
    )
    net = RecurrentSNN(w_in=w_in, w_rec=w_rec * (1.0 - np.eye(n_rec, dtype=np.float32)),
                       w_out=w_out, neuron=neuron,
                       readout=bs.train.LeakyReadout(tau_m=30.0, R=r))  # fmt: skip
    return net, jnp.asarray(feedback)


def train_nest(net, feedback, first, spikes, target, iterations: int, eta: float,
               c_reg: float = 300.0 / STEPS):  # fmt: skip
    """Gradient descent on e-prop gradients with NEST's regulariser (c_reg in ms, NEST's
    300 / 1000 by default; f_target 10 Hz, NEST's kappa_reg); returns the task loss
    `½ Σ_t (y - y*)²` of each iteration (NEST's loss) and the mean recurrent rate (Hz)."""
    reg = dict(c_reg=c_reg, f_target=10.0, tau_reg=-DT / float(np.log(KAPPA)))

    def task_loss(net, state, x):
        def step(state, inputs):
            x_t, k = inputs
            state, y = net.step(state, x_t, t=k * DT, dt=DT)
            return state, (y, state.spikes)

        _, (y, z) = jax.lax.scan(step, state, (x, jnp.arange(STEPS)))
        return 0.5 * jnp.sum((y - target) ** 2), jnp.mean(z) * 1e3 / DT

    @eqx.filter_jit
    def update(net, state, x):
        loss, rate = task_loss(net, state, x)
        _, grads, state = eprop_value_and_grad(net, x, target, dt=DT, feedback=feedback,
                                               state=state, **reg)  # fmt: skip
        new = jax.tree.map(lambda w, g: w - eta * g, weights(net), weights(grads))
        return eqx.tree_at(weights, net, new), state, loss, rate

    state, losses, rates = net.init(), [], []
    for k in range(iterations):
        net, state, loss, rate = update(net, state, first if k == 0 else spikes)
        losses.append(float(loss))
        rates.append(float(rate))
    return np.array(losses), float(np.mean(rates))


def compare_with_nest(seeds, iterations: int, out: str) -> None:
    """Train NEST's configuration from each seed and set the curves beside NEST's."""
    began = time.perf_counter()
    first, spikes, target, nest_loss, eta = nest_task()
    curves = []
    for seed in seeds:
        net, feedback = nest_network(seed, spikes.shape[1])
        losses, rate = train_nest(net, feedback, first, spikes, target, iterations, eta)
        curves.append(losses)
        deviation = np.abs(losses / nest_loss[:iterations] - 1.0)
        print(f"seed {seed}: loss {losses[0]:.2f} -> {losses[-1]:.2f} in {iterations} "
              f"iterations; rate {rate:.1f} Hz; |loss / NEST's - 1| mean "
              f"{deviation.mean():.3f}, max {deviation.max():.3f}")  # fmt: skip
    curves = np.array(curves)
    nest = nest_loss[:iterations]
    final = curves[:, -1]
    print(f"NEST 3.10: loss {nest[0]:.2f} -> {nest[-1]:.2f}; brainsim over seeds {list(seeds)}: "
          f"{curves[:, 0].mean():.2f} ± {curves[:, 0].std():.2f} -> {final.mean():.2f} ± "
          f"{final.std():.2f}; final ratio brainsim / NEST {final.mean() / nest[-1]:.3f}; "
          f"{time.perf_counter() - began:.1f} s")  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(np.arange(1, iterations + 1), nest, "k", lw=2, label="NEST 3.10")
    for seed, losses in zip(seeds, curves, strict=True):
        ax.plot(np.arange(1, iterations + 1), losses, lw=1, label=f"brainsim, seed {seed}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss ½Σ(y - y*)²")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="NEST's size and 200 iterations")
    parser.add_argument("--feedback", choices=["symmetric", "random"], default="symmetric")
    parser.add_argument("--learning-rate", type=float, default=2.0)
    parser.add_argument("--out", default="eprop_sine.png", help="figure file to write")
    parser.add_argument("--nest", action="store_true", help="NEST's example, compared")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4],
                        help="weight seeds of --nest (1: NEST's own weights)")  # fmt: skip
    parser.add_argument("--iterations", type=int, default=200, help="iterations of --nest")
    args = parser.parse_args()
    if args.nest:
        compare_with_nest(args.seeds, args.iterations, args.out)
        return
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
