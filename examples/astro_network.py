"""A recurrent neuron–glia network: examples 1 and 6 of Stimberg et al. (2019).

4000 conductance-based LIF neurons (3200 E, 800 I) with Tsodyks–Markram synapses; with
astrocytes (example 6, the default), 3200 G-ChI astrocytes on a lattice, coupled by gap
junctions and updated every 10 ms, cover the excitatory synapses, listen to their
neurotransmitter and lower their release through gliotransmission. The external current steps
from 100 to 120 pA between 2 and 4 s. Prints the E and I rates and astrocyte releases per 2-s
epoch and the timing, and draws the raster and the population rate.

    python examples/astro_network.py                       # example 6, 8 s (about 30 s)
    python examples/astro_network.py --no-astrocytes       # example 1: 150 pA, 1 s
    python examples/astro_network.py --mapping nearest     # each synapse to its nearest astrocyte
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

N_E, N_I = 3200, 800


def simulate(astrocytes: bool = True, duration: float = 8000.0, mapping: str = "published",
             seed: int = 0, n_a: int = 3200) -> dict:  # fmt: skip
    """Build and run the network; returns spike times (ms) and indices per group and timings."""
    began = time.perf_counter()
    if astrocytes:
        net, inputs = bs.benchmarks.neuron_glia(jax.random.key(seed), mapping=mapping, n_a=n_a)
    else:
        net, inputs = bs.benchmarks.neuron_glia(
            jax.random.key(seed), astrocytes=False, I_ex=150.0, stimulus=(1.0,)
        )
    state = bs.benchmarks.neuron_glia_init(net, jax.random.key(seed + 1))
    record = ["N.spikes", "A.spikes"] if astrocytes else ["N.spikes"]
    result = bs.run(net, state, inputs=inputs, duration=duration, dt=0.1, record=record)
    jax.block_until_ready(result.final_state)
    spikes = result.spikes["N.spikes"]
    out = {
        "duration": duration,
        "t_N": np.asarray(spikes.times),
        "i_N": np.asarray(spikes.indices),
        "wall_s": time.perf_counter() - began,
    }
    if astrocytes:
        releases = result.spikes["A.spikes"]
        out["t_A"], out["i_A"] = np.asarray(releases.times), np.asarray(releases.indices)
    return out


def rates_in_bins(run: dict, bin_ms: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E and I population rates (Hz) and astrocyte release counts in bins of `bin_ms` (the
    last bin ends with the run)."""
    edges = np.append(np.arange(0.0, run["duration"] - 1e-9, bin_ms), run["duration"])
    width = np.diff(edges) / 1000
    e = run["i_N"] < N_E
    rate_e = np.histogram(run["t_N"][e], edges)[0] / N_E / width
    rate_i = np.histogram(run["t_N"][~e], edges)[0] / N_I / width
    releases = np.histogram(run.get("t_A", np.zeros(0)), edges)[0]
    return rate_e, rate_i, releases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-astrocytes", action="store_true", help="example 1 instead of 6")
    parser.add_argument("--duration", type=float, default=None, help="ms (8000; 1000 for ex. 1)")
    parser.add_argument("--mapping", choices=["published", "nearest"], default="published")
    parser.add_argument("--out", default="astro_network.png", help="figure to write")
    args = parser.parse_args()
    astrocytes = not args.no_astrocytes
    duration = args.duration or (8000.0 if astrocytes else 1000.0)
    run = simulate(astrocytes, duration, args.mapping)
    epoch = 2000.0 if astrocytes else duration
    rate_e, rate_i, releases = rates_in_bins(run, epoch)
    for k in range(len(rate_e)):
        end = min((k + 1) * epoch, duration) / 1000
        line = f"{k * epoch / 1000:4.0f}-{end:g} s: E {rate_e[k]:6.2f} Hz, "
        line += f"I {rate_i[k]:6.2f} Hz"
        if astrocytes:
            line += f", astrocyte releases {releases[k]}"
        print(line)
    print(f"{duration / 1000:g} s of biological time in {run['wall_s']:.1f} s (with compilation)")

    fig, ax = plt.subplots(2, 1, figsize=(8, 5), sharex=True, height_ratios=[3, 1])
    keep = run["i_N"] % 4 == 0
    ax[0].scatter(run["t_N"][keep] / 1000, run["i_N"][keep], s=0.5, c=np.where(
        run["i_N"][keep] < N_E, "C0", "C1"), marker=".")  # fmt: skip
    if astrocytes:
        keep = run["i_A"] % 4 == 0
        ax[0].scatter(run["t_A"][keep] / 1000, N_E + N_I + run["i_A"][keep], s=2, c="C2",
                      marker="|")  # fmt: skip
    ax[0].set(ylabel="cell (E, I, astrocytes)")
    fine_e, fine_i, _ = rates_in_bins(run, 10.0)
    t = np.arange(len(fine_e)) * 0.01
    ax[1].semilogy(t, np.maximum((fine_e * N_E + fine_i * N_I) / (N_E + N_I), 0.1), "k", lw=0.7)
    ax[1].set(xlabel="time (s)", ylabel="rate (Hz)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
