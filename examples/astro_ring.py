"""Ca²⁺ waves in a ring of astrocytes coupled by gap junctions (Stimberg et al. 2019,
example 5; Goldberg et al. 2010).

Fifty G-ChI astrocytes form a ring; each exchanges IP3 with its two neighbours through gap
junctions, `J = −(F/2)[1 + tanh((|ΔI| − I_Θ)/ω_I)] sign(ΔI)` per direction (F = 0.09 µM/s).
Only cell 25 is stimulated: an IP3 clamp towards `I_bias` = 1 µM, switched on for the first
20 s of every 50 s (`J_ex` uses `I − I_bias·stimulus(t)`). IP3 spreads from cell 25, Ca²⁺
fires, and a Ca²⁺ wave travels around the ring in both directions at constant speed (cells
per unit time) until the two fronts meet at the antipode (cell 0). Later the pattern turns
irregular: the system is deterministic but chaotic, so only the first few hundred seconds
are reproducible across implementations.

Built from library parts: a `GChI` population (RK4, dt = 50 ms; the stimulus is the model's
`bias_gate`, evaluated at the RK4 stage times as Brian2 evaluates it) and `GapJunctions` on
`ring_edges(50)`, in a `Network`. Prints the wave front (the first Ca²⁺ event, an upward
crossing of 0.5 µM, of every cell) and its speed on each side, and draws the paper's
figure 5 (C/C_max of every cell against time). The paper runs 4000 s (`--full`); the default
runs 1000 s.

    python examples/astro_ring.py                      # writes astro_ring.png
    python examples/astro_ring.py --full --out ring.png

References: Stimberg, Goodman, Brette & De Pittà (2019), in Computational Glioscience,
Springer, pp. 471–505 (Brian2 script `example_5_astro_ring.py`); Goldberg, De Pittà,
Volman, Berry & Ben-Jacob (2010) PLoS Comput. Biol. 6:e1000909.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402

DT = 50.0  # ms
N_CELLS = 50
STIMULATED = 25
I_BIAS = 1.0  # µM
PERIOD, ON = 50_000.0, 20_000.0  # ms: the clamp is on for the first 20 s of every 50 s
F = 0.09  # µM/s, gap-junction permeability

#: The astrocytes of example 5 (µM, 1/s, µM/s): no PLCβ, no gliotransmitter release
#: (C_Θ only marks the Ca²⁺ events).
ASTROCYTE = dict(
    O_P=0.9, K_P=0.05, C_T=2.0, rho_A=0.18, Omega_C=6.0, Omega_L=0.1,
    d_1=0.13, d_2=1.05, O_2=0.2, d_3=0.9434, d_5=0.08,
    O_beta=0.0,
    O_delta=0.6, kappa_delta=1.5, K_delta=0.1,
    Omega_5P=0.05, K_D=0.7, K_3K=1.0, O_3K=4.5,
    F_ex=0.09, I_Theta=0.3, omega_I=0.05,
    C_Theta=0.5,
)  # fmt: skip


def stimulus(t):
    """The gate of the IP3 clamp: 1 during the first 20 s of every 50 s, else 0 (t in ms)."""
    return jnp.where(jnp.mod(t, PERIOD) < ON, 1.0, 0.0)


def build(n: int = N_CELLS, stimulated: int = STIMULATED) -> tuple[bs.Network, dict]:
    """The ring and its initial state (h = 0.9, C = I = 0).

    Returns `(network, state)` with one population `"A"` and the gap junctions.
    """
    i_bias = np.zeros(n)
    i_bias[stimulated] = I_BIAS
    astro = bs.astro.GChI(**ASTROCYTE, I_bias=jnp.asarray(i_bias), bias_gate=stimulus,
                          method="rk4")  # fmt: skip
    pre, post = bs.astro.ring_edges(n)
    gap = bs.astro.GapJunctions("A", pre, post, F=F, I_Theta=ASTROCYTE["I_Theta"],
                                omega_I=ASTROCYTE["omega_I"])  # fmt: skip
    net = bs.Network({"A": (astro, n)}, couplings=[gap])
    state = net.init()
    state["A"] = astro.init(n, C=0.0, h=0.9, I=0.0)
    return net, state


def simulate(duration: float = 1_000_000.0, *, n: int = N_CELLS, dt: float = DT,
             every: int = 20) -> dict:  # fmt: skip
    """Run the ring for `duration` ms.

    Returns a dict: `t` (ms, samples every `every` steps: the state after the step), `C`
    (`(samples, n)`, µM), `event_i`, `event_t` (Ca²⁺ events: cell, step start time in ms),
    `first_event` (`(n,)`, ms; NaN for a cell without event).
    """
    net, state = build(n)
    result = bs.run(net, state, duration=duration, dt=dt, record=["A.C", "A.spikes"],
                    every=every, progress=False)  # fmt: skip
    ev = result.spikes["A.spikes"]
    idx, times = np.asarray(ev.indices), np.asarray(ev.times)
    return {
        "t": np.asarray(result.t),
        "C": np.asarray(result.traces["A.C"]),
        "event_i": idx,
        "event_t": times,
        "first_event": first_events(idx, times, n),
    }


def first_events(indices, times, n: int) -> np.ndarray:
    """Time of the first event of each of `n` cells (NaN without one)."""
    first = np.full(n, np.nan)
    for k in range(n):
        mine = times[indices == k]
        if mine.size:
            first[k] = mine.min()
    return first


def front_speeds(first_event, stimulated: int = STIMULATED):
    """Wave-front speed (cells/s) on each side of the stimulated cell, from a straight-line fit
    of the first-event time against the distance along the ring, and the largest deviation
    from the line (s). Each side is fitted from the second neighbour of the stimulated cell to
    the last cell before the antipode (the first neighbour is reached while the wave forms, the
    antipode from both sides at once).

    Returns `{"clockwise": (speed, max deviation), "counterclockwise": (...)}`: clockwise
    means increasing cell index.
    """
    n = len(first_event)
    half = n // 2
    out = {}
    for name, sign in (("clockwise", 1), ("counterclockwise", -1)):
        dist = np.arange(2, half)
        cells = (stimulated + sign * dist) % n
        t = np.asarray(first_event)[cells] / 1000.0
        ok = np.isfinite(t)
        slope, intercept = np.polyfit(dist[ok], t[ok], 1)
        out[name] = (1.0 / slope, float(np.max(np.abs(t[ok] - (slope * dist[ok] + intercept)))))
    return out


def plot(out: dict, path: str) -> None:
    """The paper's figure 5: C/C_max of every cell (stacked), the stimulated cell in colour."""
    t = out["t"] / 1000.0
    C = out["C"] / out["C"].max()
    n = C.shape[1]
    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    scaling = 1.2
    for k in range(n):
        ax.plot(t, C[:, k] + k * scaling, color="C0" if k == STIMULATED else "k", lw=0.6)
    ax.plot(out["first_event"] / 1000.0, np.arange(n) * scaling + 0.5, ".", color="C3", ms=3,
            label="first Ca²⁺ event")  # fmt: skip
    ax.set(xlim=(0, t[-1]), ylim=(0, (n + 1.5) * scaling), xlabel="time (s)",
           ylabel="$C/C_{max}$ (cell index)",
           yticks=np.arange(0.5 * scaling, (n + 1.5) * scaling, 10 * scaling),
           yticklabels=[str(k) for k in range(0, n + 1, 10)])  # fmt: skip
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="astro_ring.png", help="figure file (PNG)")
    parser.add_argument("--full", action="store_true", help="the paper's 4000 s")
    parser.add_argument("--duration", type=float, default=None, help="run length (s)")
    parser.add_argument("--x64", action="store_true", help="simulate in float64")
    args = parser.parse_args()
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    duration = 1000.0 * (args.duration or (4000.0 if args.full else 1000.0))
    start = time.perf_counter()
    out = simulate(duration)
    wall = time.perf_counter() - start
    print(f"example 5: {N_CELLS} astrocytes, {duration / 1000:g} s at dt = {DT} ms, "
          f"{out['event_t'].size} Ca2+ events, in {wall:.1f} s (wall)")  # fmt: skip
    first = out["first_event"] / 1000.0
    print("first Ca2+ event (s) by cell:")
    for row in range(0, N_CELLS, 10):
        print("  " + " ".join(f"{k:2d}:{first[k]:7.1f}" for k in range(row, row + 10)))
    for side, (speed, dev) in front_speeds(out["first_event"]).items():
        print(f"front {side}: {speed:.4f} cells/s, largest deviation from a straight line "
              f"{dev:.2f} s")  # fmt: skip
    latest = int(np.nanargmax(out["first_event"]))
    print(f"the fronts meet at cell {latest} (antipode of cell {STIMULATED}: "
          f"{(STIMULATED + N_CELLS // 2) % N_CELLS}) at {first[latest]:.1f} s")  # fmt: skip
    plot(out, args.out)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
