"""Gap junctions: a coupled pair, a rectifying junction, and synchrony of coupled interneurons.

1. Two Traub-Miles cells (the COBAHH cell), cell 0 driven by 300 pA, cell 1 undriven, joined by
   a gap junction of 0, 5, 50 or 20000 nS, and by a 50-nS rectifying junction in either
   direction (it passes current from `pre` to `post` only). Prints the spikes of each cell.
2. `--n` such cells with drives spread over 250-350 pA and random initial potentials, joined
   by `2 n` random gap junctions; the Golomb-Rinzel synchrony χ of their potentials for each
   coupling strength (all strengths in one `vmap`ped run). This is the protocol that
   tests/network/test_gap_junctions.py compares with NEST's `gap_junction` (waveform
   relaxation) and Brian2's summed variable.

Writes a figure (pair traces, χ against g, potentials of the weakest and strongest coupling).

    python examples/gap_junctions.py                   # 60 cells, 400 ms
    python examples/gap_junctions.py --n 200 --duration 1000
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402
from brainsim.network import GapJunctions  # noqa: E402

CELL = bs.neurons.TraubHH()  # C = 200 pF, g_L = 10 nS
NET_G = (0.0, 1.0, 3.0, 10.0, 30.0)  # nS


def pair(g: float, *, rectifying=False, pre=0, post=1, duration=100.0, dt=0.01):
    """Potentials (mV) of the pair, every 0.05 ms, and the spikes of each cell."""
    gj = GapJunctions("I", [pre], [post], g=g, rectifying=rectifying)
    net = bs.Network({"I": (CELL, 2)}, couplings=[gj])
    result = bs.run(net, net.init(), inputs={"I": jnp.array([300.0, 0.0])}, duration=duration,
                    dt=dt, record=["I.v", "I.spikes"], every=5)  # fmt: skip
    return result.t, np.asarray(result["I.v"]), result.spikes["I.spikes"].count()


def interneurons(n: int, seed: int = 0):
    """Random junctions (distinct pairs), drives (pA) and initial potentials (mV)."""
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < 2 * n:
        i, j = rng.choice(n, 2, replace=False)
        pairs.add((min(i, j), max(i, j)))
    pre, post = np.array(sorted(pairs)).T
    return pre, post, rng.uniform(250.0, 350.0, n), rng.uniform(-70.0, -55.0, n)


def synchrony(n: int, duration: float, dt: float = 0.025):
    pre, post, drive, v0 = interneurons(n)

    def one(g):
        cell = bs.neurons.TraubHH(v_init=jnp.asarray(v0))
        net = bs.Network({"I": (cell, n)}, couplings=[GapJunctions("I", pre, post, g=g)])
        result = bs.run(net, net.init(), inputs={"I": jnp.asarray(drive)}, duration=duration,
                        dt=dt, record=["I.v"], every=10, stream=False)  # fmt: skip
        v = result["I.v"]
        return bs.analysis.chi(v[result.t > 100.0]), v

    chis, traces = jax.jit(jax.vmap(one))(jnp.asarray(NET_G))
    t = dt * 10 * np.arange(1, traces.shape[1] + 1)
    return np.asarray(chis), t, np.asarray(traces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="interneurons (default 60)")
    parser.add_argument("--duration", type=float, default=400.0, help="ms (default 400)")
    parser.add_argument("--out", default="gap_junctions.png")
    args = parser.parse_args()

    fig, axes = plt.subplots(2, 3, figsize=(14, 7))
    for ax, (label, kwargs) in zip(
        axes[0],
        [("g = 5 nS", dict(g=5.0)), ("g = 50 nS", dict(g=50.0)),
         ("rectifying 0 → 1, 50 nS", dict(g=50.0, rectifying=True))],
        strict=True,
    ):  # fmt: skip
        t, v, count = pair(**kwargs)
        ax.plot(t, v[:, 0], lw=0.8, label="cell 0 (300 pA)")
        ax.plot(t, v[:, 1], lw=0.8, label="cell 1")
        ax.set(title=label, xlabel="t (ms)", ylabel="v (mV)")
        ax.legend(loc="upper right", fontsize=8)
    for label, kwargs in [("uncoupled", dict(g=0.0)), ("g = 5 nS", dict(g=5.0)),
                          ("g = 50 nS", dict(g=50.0)), ("g = 20000 nS", dict(g=20000.0)),
                          ("rectifying 0 -> 1", dict(g=50.0, rectifying=True)),
                          ("rectifying 1 -> 0", dict(g=50.0, rectifying=True, pre=1, post=0))]:
        count = pair(**kwargs)[2]
        print(f"pair, {label:>18}: cell 0 {count[0]} spikes, cell 1 {count[1]} spikes")

    chis, t, traces = synchrony(args.n, args.duration)
    for g, c in zip(NET_G, chis, strict=True):
        print(f"{args.n} interneurons, g = {g:4.1f} nS: synchrony chi = {c:.3f}")
    axes[1, 0].plot(NET_G, chis, "o-")
    axes[1, 0].set(xscale="symlog", xlabel="g (nS)", ylabel="χ", ylim=(0, 1),
                   title="synchrony against coupling")  # fmt: skip
    for ax, k in zip(axes[1, 1:], (0, len(NET_G) - 1), strict=True):
        ax.plot(t, traces[k][:, :8], lw=0.5)
        ax.set(xlim=(t[-1] - 100, t[-1]), xlabel="t (ms)", ylabel="v (mV)",
               title=f"g = {NET_G[k]:g} nS, χ = {chis[k]:.2f} (8 cells)")  # fmt: skip
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
