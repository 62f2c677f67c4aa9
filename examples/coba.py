"""The COBA network of Vogels & Abbott (2005), as benchmarked by Brette et al. (2007).

4000 LIF neurons (80 % excitatory) with conductance-based exponential synapses, 2 % connection
probability, constant drive. Prints firing rates, the irregularity (CV of inter-spike
intervals) and timings, and writes a raster plot. Also runs the CUBA and COBAHH variants.
This is `make demo`.

    python examples/coba.py                          # COBA, 4000 neurons, 1 s, one core
    python examples/coba.py --model cobahh --n 4000 --duration 500
    python examples/coba.py --n 400000 --cores 2

Timing: the first run compiles the simulation and runs it; a second run of the same length
(continuing from where the first stopped) reuses the compiled program, so compile time is the
difference of the two.
"""

from __future__ import annotations

import argparse
import time

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["coba", "cuba", "cobahh"], default="coba")
    parser.add_argument("--n", type=int, default=4000, help="number of neurons")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    parser.add_argument("--dt", type=float, default=0.1, help="time step (ms)")
    parser.add_argument("--out", default="coba_raster.png", help="raster plot to write")
    parser.add_argument("--cores", type=int, default=1, help="CPU cores for XLA")
    args = parser.parse_args()
    bs.use_cpu_cores(args.cores)

    began = time.perf_counter()
    network, inputs = getattr(bs.benchmarks, args.model)(jax.random.key(0), n=args.n)
    state = jax.block_until_ready(network.init(jax.random.key(1)))
    built = time.perf_counter()
    timings, results = [], []
    for repeat in range(2):
        began_run = time.perf_counter()
        result = bs.run(
            network,
            state,
            inputs=inputs,
            duration=args.duration,
            dt=args.dt,
            t0=repeat * args.duration,
            record=["E.spikes", "I.spikes"],
        )
        state = jax.block_until_ready(result.final_state)
        timings.append(time.perf_counter() - began_run)
        results.append(result)
    result = results[0]
    for name in ("E", "I"):
        cv = np.nanmean(bs.analysis.cv(result, name=f"{name}.spikes"))   # neurons with >= 3 spikes
        print(f"{name}: {result.rate(f'{name}.spikes'):6.2f} Hz, CV(ISI) = {cv:.2f}")
    bio_s = args.duration / 1000
    print(
        f"{args.n} neurons on {args.cores} core(s): build {built - began:.2f} s, "
        f"compile {timings[0] - timings[1]:.2f} s, run {timings[1]:.2f} s "
        f"for {bio_s:g} s of biological time ({timings[1] / bio_s:.3f} s per biological second)"
    )

    fig, ax = plt.subplots(figsize=(8, 4))
    n_e = network.sizes["E"]
    shown = min(n_e, 400)
    e = result.spikes["E.spikes"]
    keep = e.indices < shown
    ax.scatter(e.times[keep], e.indices[keep], s=1, c="k", marker=".")
    i = result.spikes["I.spikes"]
    keep = i.indices < shown // 4
    ax.scatter(i.times[keep], shown + i.indices[keep], s=1, c="r", marker=".")
    ax.set(xlabel="time (ms)", ylabel="neuron", title=f"{args.model.upper()}, {args.n} neurons")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
