"""A phase diagram of the COBA network: firing rate and irregularity over an 8 x 8 grid of
excitatory and inhibitory weights, as one `brainsim.sweep`.

Every point is the COBA network of Vogels & Abbott (2005) (`bs.benchmarks.coba`) with its
excitatory and inhibitory conductance jumps set to `w_e` and `w_i` (units of the leak
conductance; the benchmark's values are 0.6 and 6.7). The sweep vmaps the points in chunks and
spreads them over all CPU cores (one JAX device per core); each point reports the mean rate
and the mean CV of the inter-spike intervals of both populations, computed during the run.
Weak inhibition gives fast regular firing; strong inhibition against weak excitation
silences the network; in between lies the asynchronous irregular regime (CV near 1), as in
Brunel's (2000) phase diagram. Writes two heatmaps (rate, CV of the excitatory population).

    python examples/sweep_coba.py                        # 1000 neurons, 200 ms, 8 x 8
    python examples/sweep_coba.py --n 4000 --duration 1000 --cores 2

Reference: Vogels & Abbott (2005), J. Neurosci. 25:10786; Brunel (2000), J. Comput.
Neurosci. 8:183.
"""

from __future__ import annotations

import argparse

import equinox as eqx
import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402


def with_weights(network: bs.Network, w_e, w_i) -> bs.Network:
    """The network with every excitatory projection's weight `w_e` and inhibitory one `w_i`."""
    return eqx.tree_at(
        lambda net: [p.conn.weights for p in net.projections],
        network,
        [w_e if p.pre == "E" else w_i for p in network.projections],
    )


def coba_point(network, state, inputs, *, w_e, w_i, duration):
    """Rates (Hz) and ISI CVs of both populations of COBA at the weights `w_e`, `w_i`."""
    return bs.firing_statistics(
        with_weights(network, w_e, w_i), state, inputs=inputs, dt=0.1, duration=duration,
        spikes=["E.spikes", "I.spikes"],
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of neurons")
    parser.add_argument("--duration", type=float, default=200.0, help="biological time (ms)")
    parser.add_argument("--points", type=int, default=8, help="grid points per axis")
    parser.add_argument("--cores", type=int, default=2, help="CPU cores (one device each)")
    parser.add_argument("--out", default="sweep_coba.png", help="heatmaps to write")
    args = parser.parse_args()
    bs.use_cpu_cores(args.cores)

    network, inputs = bs.benchmarks.coba(jax.random.key(0), n=args.n)
    state = network.init(jax.random.key(1))
    points = bs.grid(
        w_e=np.linspace(0.1, 1.5, args.points), w_i=np.linspace(1.0, 15.0, args.points)
    )

    def point(network, state, inputs, *, w_e, w_i):
        return coba_point(network, state, inputs, w_e=w_e, w_i=w_i, duration=args.duration)

    result = bs.sweep(point, points, network, state, inputs)
    print(
        f"{len(result)} points of {args.n} neurons x {args.duration:g} ms on {result.devices} "
        f"device(s), {result.chunk_size} per device per call: compile {result.compile_s:.1f} s, "
        f"run {result.run_s:.1f} s"
    )
    table = result.to_pandas()
    print(table.astype(float).round(2).to_string(index=False))

    grid = result.reshape_grid()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    extent = [points.axes["w_i"][0], points.axes["w_i"][-1],
              points.axes["w_e"][0], points.axes["w_e"][-1]]  # fmt: skip
    for ax, (key, label, cmap) in zip(
        axes, [("rate_E", "E rate (Hz)", "viridis"), ("cv_E", "E CV(ISI)", "magma")], strict=True
    ):
        image = ax.imshow(grid[key], origin="lower", aspect="auto", extent=extent, cmap=cmap)
        ax.plot(6.7, 0.6, "w+", markersize=10)  # the benchmark's weights
        ax.set(xlabel="w_i (leak units)", ylabel="w_e (leak units)", title=label)
        fig.colorbar(image, ax=ax)
    fig.suptitle(f"COBA, {args.n} neurons, {args.duration:g} ms per point")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
