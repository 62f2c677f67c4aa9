"""Homeostasis: synaptic scaling and an adaptive threshold bring neurons to a target rate.

Poisson inputs (`--n-pre` neurons at 10 Hz) drive `--n-post` LIF neurons through random
excitatory synapses of widely different initial strengths, so that the neurons start at rates
from 0 to ~35 Hz. Two homeostatic mechanisms, run separately, bring every neuron to 8 Hz:

- synaptic scaling (`brainsim.plasticity.SynapticScaling`): all input weights of a neuron are
  multiplied by the same slowly varying factor;
- an adaptive threshold (`brainsim.plasticity.AdaptiveThreshold`): each neuron's threshold
  moves by `eta` per spike and down at `eta * target` per second.

Prints the rate of each neuron in the first and last second of each run and saves a figure of
the population rate over time.

    python examples/synaptic_scaling.py                 # 10 s, 20 neurons (~1 min)
    python examples/synaptic_scaling.py --full          # 60 s, 100 neurons
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

import brainsim as bs
import brainsim_ops as bo
from brainsim.plasticity import AdaptiveThreshold, SynapticScaling
from brainsim.synapses import Current, Exponential

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGET = 8.0  # Hz
DT = 0.5  # ms


def network(mechanism: str, n_pre: int, n_post: int):
    strengths = jnp.linspace(10.0, 120.0, n_post)  # pA per input spike, one per neuron
    conn = bo.fixed_in_degree(jax.random.key(0), n_pre, n_post, n_pre // 2, weight=1.0)
    conn = conn.with_weights(jnp.broadcast_to(strengths[:, None], conn.synapse_shape))
    lif = bs.neurons.LIF(tau_m=20.0, R=0.1)
    if mechanism == "scaling":
        rule = SynapticScaling(target_rate=TARGET, tau_rate=500.0, tau_scaling=2000.0)
        post = lif
    else:
        rule, post = None, AdaptiveThreshold(lif, target_rate=TARGET, eta=0.5)
    proj = bs.Projection("pre", "post", conn, Exponential(tau=5.0), Current(), plasticity=rule)
    return bs.Network({"pre": (bs.neurons.PoissonSource(rate=10.0), n_pre),
                       "post": (post, n_post)}, [proj])  # fmt: skip


def rates_per_second(spikes, n: int, duration: float) -> np.ndarray:
    """`(seconds, n)` spike counts per neuron in each second (Hz)."""
    seconds = int(duration // 1000)
    bins = np.minimum((np.asarray(spikes.times) // 1000).astype(int), seconds - 1)
    counts = np.zeros((seconds, n))
    np.add.at(counts, (bins, np.asarray(spikes.indices)), 1.0)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="60 s, 100 neurons")
    parser.add_argument("--n-pre", type=int, default=None)
    parser.add_argument("--n-post", type=int, default=None)
    parser.add_argument("--duration", type=float, default=None, help="ms")
    parser.add_argument("--out", default="synaptic_scaling.png")
    args = parser.parse_args()
    n_pre = args.n_pre or (400 if args.full else 100)
    n_post = args.n_post or (100 if args.full else 20)
    duration = args.duration or (60_000.0 if args.full else 10_000.0)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for mechanism in ("scaling", "threshold"):
        net = network(mechanism, n_pre, n_post)
        result = bs.run(net, net.init(jax.random.key(1)), duration=duration, dt=DT,
                        record=["post.spikes"], progress=False)  # fmt: skip
        rates = rates_per_second(result.spikes["post.spikes"], n_post, duration)
        first, last = rates[0], rates[-1]
        print(f"{mechanism}: first second {first.min():.0f}-{first.max():.0f} Hz "
              f"(mean {first.mean():.1f}); last second {last.min():.0f}-{last.max():.0f} Hz "
              f"(mean {last.mean():.1f}); target {TARGET:g} Hz")  # fmt: skip
        ax.plot(np.arange(len(rates)) + 1, rates.mean(1), label=mechanism)
    ax.axhline(TARGET, color="k", lw=0.8, ls="--")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mean rate (Hz)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)


if __name__ == "__main__":
    main()
