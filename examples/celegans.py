"""The C. elegans nervous system from its connectome: 302 neurons, chemical synapses and gap
junctions, touched at the head and at the tail.

Loads a connectome of OpenWorm's C. elegans Connectome Toolbox (cect: the installed package's
data files, or brainsim's bundled copy of three datasets), prints its connectivity statistics
beside cect's own summary, builds a `Network` of graded neurons (or spiking ones with
`--neurons spiking`) with every chemical synapse and gap junction, and injects a current into
the anterior (ALML, ALMR, AVM) or posterior (PLML, PLMR, PVM) touch receptor neurons. Prints the
response of the command interneurons (AVA, AVD: backward; AVB, PVC: forward) and of each cell
class, and writes a figure.

    python examples/celegans.py                                  # Cook et al. 2019, graded
    python examples/celegans.py --dataset Witvliet8 --neurons spiking
    python examples/celegans.py --dataset White_whole --source cect   # any cect dataset
"""

from __future__ import annotations

import argparse

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402

TOUCH = {"anterior": ["ALML", "ALMR", "AVM"], "posterior": ["PLML", "PLMR", "PVM"]}
COMMAND = ["AVAL", "AVAR", "AVDL", "AVDR", "AVBL", "AVBR", "PVCL", "PVCR"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="Cook2019Herm")
    parser.add_argument("--source", default="auto", choices=["auto", "cect", "bundled"])
    parser.add_argument("--neurons", default="graded", choices=["graded", "spiking"])
    parser.add_argument("--current", type=float, default=None,
                        help="pA into each touch neuron (default 2 graded, 400 spiking)")
    parser.add_argument("--duration", type=float, default=300.0, help="ms of stimulus")
    parser.add_argument("--out", default="celegans.png")
    args = parser.parse_args()

    worm = bs.connectome.load_connectome(args.dataset, source=args.source)
    stats = worm.statistics()
    print(f"{worm.name} ({worm.source}): {len(worm)} cells, {len(worm.neurons())} neurons; "
          f"ours vs cect summary:")
    for cls in worm.connections:
        ours, theirs = stats[cls], worm.summary.get(cls)
        print(f"  {cls:>14}: {ours[0]} nonzero entries, sum {ours[1]:.0f}   "
              f"(cect summary: {theirs[0]}, {theirs[1]:.0f})")  # fmt: skip
    print(f"  chemical: {stats['chemical_connections']} connections, reciprocity "
          f"{stats['chemical_reciprocity']:.2f}; gap junctions: {stats['gap_pairs']} pairs, "
          f"mean degree {stats['gap_mean_degree']:.1f}")  # fmt: skip

    graded = args.neurons == "graded"
    dt = 0.5 if graded else 0.1
    current = args.current if args.current is not None else (2.0 if graded else 400.0)
    net = (bs.connectome.build_network(worm, dt=dt) if graded else
           bs.connectome.build_network(worm, neurons="spiking", g_gap=0.5, g_syn=0.5, dt=dt,
                                       delay=1.0))  # fmt: skip
    neurons = worm.neurons()
    print(f"{len(neurons)} neurons, {args.neurons}; {len(neurons.gap)} gap-junction pairs, "
          f"{len(neurons.chemical)} chemical connections; dt = {dt} ms")
    rest = bs.run(net, net.init(), duration=300.0, dt=dt, record=None).final_state
    classes = np.asarray(neurons.classes)
    command = [c for c in COMMAND if c in neurons.nodes]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for k, (side, cells) in enumerate(TOUCH.items()):
        cells = [c for c in cells if c in neurons.nodes]
        if not cells:
            print(f"{side} touch: none of {TOUCH[side]} in this dataset")
            continue
        drive = bs.connectome.sensory_input(worm, cells, current)
        record = ["neurons.v"] if graded else ["neurons.spikes"]
        result = bs.run(net, rest, inputs={"neurons": drive}, duration=args.duration, dt=dt,
                        record=record, every=int(round(5.0 / dt)) if graded else 1)  # fmt: skip
        if graded:
            v = np.asarray(result["neurons.v"])
            response = v[-1] - np.asarray(rest["neurons"].v)
            unit = "mV"
            axes[k].plot(result.t, v[:, neurons.index(command)], lw=1)
            axes[k].legend(command, fontsize=7, ncol=2)
            axes[k].set(xlabel="t (ms)", ylabel="v (mV)", title=f"{side} touch: command cells")
        else:
            response = result.spikes["neurons.spikes"].count().astype(float)
            response = np.pad(response, (0, len(neurons) - response.size)) / args.duration * 1e3
            unit = "Hz"
            events = result.spikes["neurons.spikes"]
            axes[k].plot(events.times, events.indices, "|", ms=2)
            axes[k].set(xlabel="t (ms)", ylabel="neuron", title=f"{side} touch: raster")
        print(f"{side} touch ({', '.join(cells)}, {current:g} pA):")
        print("  command cells: " + ", ".join(
            f"{c} {response[i]:+.2f}" for c, i in zip(command, neurons.index(command),
                                                       strict=True)) + f" {unit}")  # fmt: skip
        means = [f"{c} {response[classes == c].mean():+.2f}"
                 for c in ("sensory", "interneuron", "motor")]  # fmt: skip
        print("  mean by class: " + ", ".join(means) + f" {unit}")
        axes[2].hist(response, bins=40, alpha=0.6, label=side)
    axes[2].set(xlabel=f"response ({'mV' if graded else 'Hz'})", ylabel="neurons",
                title="all neurons")  # fmt: skip
    axes[2].legend()
    fig.suptitle(f"C. elegans, {worm.name} ({len(neurons)} neurons, {args.neurons})")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
