"""A LIF population driven by a current step, OU noise and inhomogeneous Poisson input.

Three sources of `brainsim.stimulation` as populations of one `Network`: a step current
(`Waveform`, 0 → 150 pA at 200 ms, back to 0 at 600 ms) and an Ornstein–Uhlenbeck noise current
(std 60 pA, τ = 5 ms), both injected with `Inject`, and 200 inhomogeneous Poisson trains whose
rate ramps from 5 to 40 Hz between 400 and 800 ms, projected through excitatory conductances.
Prints the population rate in each epoch and writes a figure (raster, input current, rates).

    python examples/stimulation.py                    # 200 neurons, 1 s
    python examples/stimulation.py --n 1000 --duration 2000
"""

from __future__ import annotations

import argparse

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402
import brainsim_ops as bo  # noqa: E402
from brainsim.stimulation import InhomogeneousPoisson, Inject, OUNoise, Waveform  # noqa: E402

EPOCHS = ((0.0, 200.0), (200.0, 400.0), (400.0, 600.0), (600.0, 800.0), (800.0, 1000.0))


def build(n: int, key) -> bs.Network:
    lif = bs.neurons.LIF(tau_m=20.0, v_rest=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=2.0, R=0.1)
    step = Waveform([200.0, 600.0], [150.0, 0.0])  # pA; "previous": a step sequence
    noise = OUNoise(mean=0.0, std=60.0, tau=5.0)  # pA, ms
    rate = Waveform([0.0, 400.0, 800.0], [5.0, 5.0, 40.0], interpolation="linear")  # Hz
    conn = bo.fixed_prob(key, 200, n, 0.1, weight=0.5)  # nS
    return bs.Network(
        {
            "current": (step, 1),
            "noise": (noise, n),
            "poisson": (InhomogeneousPoisson(rate), 200),
            "E": (lif, n),
        },
        [bs.Projection("poisson", "E", conn)],
        couplings=[Inject("current", "E"), Inject("noise", "E")],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of LIF neurons")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    parser.add_argument("--out", default="stimulation.png", help="figure to write")
    args = parser.parse_args()

    key_conn, key_init = jax.random.split(jax.random.key(0))
    network = build(args.n, key_conn)
    result = bs.run(
        network,
        network.init(key_init),
        duration=args.duration,
        dt=0.1,
        record=["E.spikes", "poisson.spikes", "noise.I", "current.I"],
        every=10,
    )
    spikes, inputs = result.spikes["E.spikes"], result.spikes["poisson.spikes"]
    for start, stop in EPOCHS:
        if stop > args.duration:
            break
        width = (stop - start) * 1e-3
        rate = np.sum((spikes.times >= start) & (spikes.times < stop)) / args.n / width
        rate_in = np.sum((inputs.times >= start) & (inputs.times < stop)) / 200 / width
        print(
            f"{start:6.0f}-{stop:6.0f} ms: LIF rate {rate:6.2f} Hz, Poisson input {rate_in:5.2f} Hz"
        )

    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    axes[0].plot(spikes.times, spikes.indices, ",k")
    axes[0].set_ylabel("LIF neuron")
    current = result.traces["current.I"][:, 0] + result.traces["noise.I"][:, 0]
    axes[1].plot(result.t, current, lw=0.6, label="step + OU noise (neuron 0)")
    axes[1].plot(result.t, result.traces["current.I"][:, 0], lw=1.5, label="step")
    axes[1].set_ylabel("current (pA)")
    axes[1].legend(loc="upper right", fontsize=8)
    bins = np.arange(0.0, args.duration + 1e-9, 20.0)
    for events, n, label in ((spikes, args.n, "LIF"), (inputs, 200, "Poisson input")):
        counts = np.histogram(events.times, bins)[0] / n / 0.02
        axes[2].step(bins[:-1], counts, where="post", label=label)
    axes[2].set_ylabel("rate (Hz)")
    axes[2].set_xlabel("time (ms)")
    axes[2].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
