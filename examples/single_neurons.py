"""Firing patterns of every brainsim point-neuron model, drawn into one figure.

Each model gets a constant current step (pA; dimensionless for Izhikevich) and its membrane
potential is plotted. Run:

    python examples/single_neurons.py                 # writes single_neurons.png
    python examples/single_neurons.py --full --out patterns.png
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402
from brainsim.neurons import ALIF, HH, LIF, AdEx, ExpIF, Izhikevich, TraubHH  # noqa: E402


def panels():
    """(title, model, input, dt in ms) of each panel."""
    rows = [
        ("LIF, 300 pA", LIF(R=0.1), 300.0, 0.1),
        ("ALIF, 300 pA", ALIF(R=0.1, tau_a=200.0, beta=3.0), 300.0, 0.1),
        ("ExpIF, 200 pA", ExpIF(R=0.1), 200.0, 0.05),
        ("HH squid axon, 10 pA", HH(), 10.0, 0.01),
        ("Traub-Miles HH, 500 pA", TraubHH(), 500.0, 0.01),
    ]
    for name in AdEx.PATTERNS:
        current = AdEx.PATTERNS[name][1]
        rows.append((f"AdEx {name}, {current:g} pA", AdEx.pattern(name), current, 0.02))
    for name in Izhikevich.REGIMES:
        rows.append((f"Izhikevich {name}, I = 10", Izhikevich.regime(name), 10.0, 0.1))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="simulate 1 s instead of 300 ms")
    parser.add_argument("--out", default="single_neurons.png", help="figure file to write")
    args = parser.parse_args()
    duration = 1000.0 if args.full else 300.0

    rows = panels()
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.3 * len(rows)), sharex=True)
    began = time.perf_counter()
    for ax, (title, model, current, dt) in zip(axes, rows, strict=True):
        every = max(1, int(round(0.1 / dt)))
        result = bs.run(
            model,
            model.init(1),
            inputs=current,
            duration=duration,
            dt=dt,
            record=["spikes", "v"],
            every=every,
        )
        ax.plot(result.t, result.traces["v"][:, 0], lw=0.7)
        ax.set_ylabel("v (mV)", fontsize=7)
        rate = result.rate()
        ax.set_title(
            f"{title}: {len(result.spikes['spikes'])} spikes ({rate:.0f} Hz)",
            fontsize=8,
            loc="left",
        )
        print(f"{title:32s} {len(result.spikes['spikes']):4d} spikes  {rate:6.1f} Hz")
    axes[-1].set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out} ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
