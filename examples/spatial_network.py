"""A 2-D sheet of excitatory and inhibitory LIF neurons with Gaussian, distance-delayed synapses.

1600 excitatory neurons (a 40 x 40 grid) and 400 inhibitory ones (20 x 20) tile the same
1 mm x 1 mm periodic sheet. Every pair is connected with probability `a exp(-d²/(2σ²))` inside
a disc of radius 3σ (σ = 150 µm from excitatory, 100 µm from inhibitory neurons), so each
neuron receives about 56 excitatory and 15 inhibitory synapses, as in the COBA network of
Vogels & Abbott (2005) whose neurons and synapses it uses; axons conduct at 0.3 m/s, so a
synapse at distance d has a delay of 0.5 ms + d / (300 µm/ms). Prints the connection
statistics (empirical connection probability against the kernel) and the firing rates, and
writes a figure (one neuron's partners, probability against distance, raster ordered by x).

    python examples/spatial_network.py                  # 500 ms, about 20 s on one core
    python examples/spatial_network.py --duration 2000 --out sheet.png
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
from brainsim_ops import spatial  # noqa: E402

SIGMA = {"E": 150.0, "I": 100.0}   # µm
AMPLITUDE = {"E": 0.25, "I": 0.6}  # connection probability at distance 0
WEIGHT = {"E": 0.6, "I": 6.7}      # conductance jumps, in units of the leak
TAU = {"E": 5.0, "I": 10.0}        # ms
E_REV = {"E": 0.0, "I": -80.0}     # mV
CONDUCTION = spatial.Linear(intercept=0.5, slope=1 / 300.0)   # ms + ms/µm


def build(key, dt: float):
    """The network and, per projection, its `SpatialConnection`."""
    sheet = {"extent": (1000.0, 1000.0), "center": (0.0, 0.0), "periodic": True}
    layers = {"E": spatial.grid((40, 40), **sheet), "I": spatial.grid((20, 20), **sheet)}
    lif = bs.neurons.LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, R=1.0)
    projections, connections = [], {}
    for k, (pre, post) in zip(jax.random.split(key, 4),
                              [("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")], strict=True):
        rule = spatial.PairwiseBernoulli(spatial.Gaussian(SIGMA[pre], AMPLITUDE[pre]))
        c = spatial.connect(k, layers[pre], layers[post], rule,
                            mask=spatial.Circular(3 * SIGMA[pre]),
                            allow_autapses=pre != post, weights=WEIGHT[pre],
                            delays=CONDUCTION)
        connections[pre, post] = c
        projections.append(bs.network.Projection(
            pre, post, c.conn, bs.synapses.Exponential(tau=TAU[pre]),
            bs.synapses.Conductance(E=E_REV[pre]), delay_steps=c.delay_steps(dt),
            delay_per="synapse"))
    network = bs.network.Network({"E": (lif, 1600), "I": (lif, 400)}, projections)
    return network, layers, connections


def probability_by_distance(c, pre: spatial.Layer, post: spatial.Layer, kernel, edges):
    """Measured and expected connection probability per distance bin, over all pairs (on a
    periodic grid every presynaptic neuron sees its partners at the same distances; the
    neuron itself, at distance 0, is no partner: no autapses)."""
    d = np.linalg.norm(pre.displacement(pre.positions[:1], post.positions), axis=1)
    d = d[d > 0]
    pairs = np.histogram(d, edges)[0]
    measured = np.histogram(c.distance, edges)[0] / np.maximum(pairs * pre.n, 1)
    expected = np.histogram(d, edges, weights=kernel(d))[0] / np.maximum(pairs, 1)
    return measured, expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=500.0, help="biological time (ms)")
    parser.add_argument("--dt", type=float, default=0.1, help="time step (ms)")
    parser.add_argument("--out", default="spatial_network.png", help="figure to write")
    args = parser.parse_args()

    began = time.perf_counter()
    network, layers, connections = build(jax.random.key(0), args.dt)
    print(f"built in {time.perf_counter() - began:.2f} s")
    for (pre, post), c in connections.items():
        in_degree = c.conn.n_syn / layers[post].n
        steps = c.delay_steps(args.dt)
        print(f"{pre} -> {post}: {c.conn.n_syn:6d} synapses, mean in-degree {in_degree:5.1f}, "
              f"mean distance {c.distance.mean():5.1f} µm, delays {steps.min() * args.dt:.1f}-"
              f"{steps.max() * args.dt:.1f} ms")
    edges = np.linspace(0.0, 3 * SIGMA["E"], 10)
    kernel = spatial.Gaussian(SIGMA["E"], AMPLITUDE["E"])
    measured, expected = probability_by_distance(connections["E", "E"], layers["E"],
                                                 layers["E"], kernel, edges)
    print(f"E -> E connection probability, measured - kernel, per 50 µm bin: largest "
          f"{np.max(np.abs(measured - expected)):.4f}")

    state = network.init(jax.random.key(1))
    began = time.perf_counter()
    result = bs.run(network, state, inputs={"E": 20.0, "I": 20.0}, duration=args.duration,
                    dt=args.dt, record=["E.spikes", "I.spikes"])
    jax.block_until_ready(result.final_state)
    print(f"simulated {args.duration:g} ms in {time.perf_counter() - began:.2f} s")
    for name in ("E", "I"):
        print(f"{name}: {result.rate(f'{name}.spikes'):6.2f} Hz")

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    e = layers["E"].positions
    ee = connections["E", "E"].conn
    centre = 820   # a neuron near the middle of the sheet
    targets = np.asarray(ee.indices)[int(ee.indptr[centre]):int(ee.indptr[centre + 1])]
    axes[0].scatter(e[:, 0], e[:, 1], s=2, c="0.85")
    axes[0].scatter(e[targets, 0], e[targets, 1], s=6, c="tab:blue", label="targets")
    axes[0].scatter(*e[centre], s=40, c="tab:red", marker="*", label="source")
    axes[0].set(xlabel="x (µm)", ylabel="y (µm)", title="E -> E partners of one neuron",
                aspect="equal")
    axes[0].legend(loc="upper right", fontsize=8)
    fine = np.linspace(0, 3 * SIGMA["E"], 200)
    axes[1].plot(fine, kernel(fine), "k-", label="kernel")
    middle = (edges[1:] + edges[:-1]) / 2
    axes[1].plot(middle, expected, "s", mfc="none", c="k", label="kernel, bin mean")
    axes[1].plot(middle, measured, "o", c="tab:blue", label="measured")
    axes[1].set(xlabel="distance (µm)", ylabel="connection probability", title="E -> E")
    axes[1].legend()
    order = np.argsort(np.argsort(e[:, 0], kind="stable"))
    spikes = result.spikes["E.spikes"]
    axes[2].scatter(spikes.times, order[spikes.indices], s=0.5, c="k", marker=".")
    axes[2].set(xlabel="time (ms)", ylabel="E neuron (ordered by x)", title="raster")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
