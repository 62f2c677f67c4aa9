"""Structural plasticity grows an E/I network from nothing to its target activity (NEST's example).

The protocol of NEST's `structural_plasticity.py` example (Butz & van Ooyen 2013): LIF neurons
with NEST's `iaf_psc_alpha` defaults (C = 250 pF, tau_m = 10 ms, tau_syn = 2 ms, t_ref = 2 ms,
E_L = V_reset = -70 mV, V_th = -55 mV) start without recurrent synapses; each receives its
own 10-kHz Poisson train of 6.2-pA alpha currents. Excitatory neurons grow axonal boutons and
excitatory and inhibitory dendritic spines, inhibitory neurons the same with an inhibitory
axon, on Gaussian growth curves whose targets are a calcium of 0.05 (E, about 5 Hz) and 0.2
(I, about 20 Hz). Every `--interval` ms synapses (585 pA, -585 pA, 1 ms delay) are made between
free elements and removed where elements retract. Every second the mean calcium and the
numbers of excitatory and inhibitory synapses are printed; the figure shows them over time.

    python examples/structural_plasticity.py              # 160 E + 40 I, growth x10, 20 s
    python examples/structural_plasticity.py --full       # NEST's size: 800 + 200, 200 s
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
import brainsim_ops as bo  # noqa: E402
from brainsim.plasticity import GaussianGrowth, StructuralPlasticity  # noqa: E402

DT = 0.1  # ms
PSC_E, PSC_I, PSC_EXT, BG_RATE, DELAY = 585.0, -585.0, 6.2, 10000.0, 1.0  # pA, pA, pA, Hz, ms
EPS_E, EPS_I = 0.05, 0.2  # target calcium of E and I neurons


def build(n_e: int, n_i: int, *, growth_scale: float = 1.0, interval: float = 10000.0,
          capacity: int = 32) -> bs.Network:
    """NEST's structural-plasticity network; growth rates scaled by `growth_scale`."""
    lif = bs.neurons.LIF(tau_m=10.0, v_rest=-70.0, v_th=-55.0, v_reset=-70.0, R=10.0 / 250.0,
                         t_ref=2.0)

    def grow(rate, eps):
        return GaussianGrowth(nu=rate * growth_scale, eta=0.0, eps=eps)

    structural = StructuralPlasticity(
        elements={
            "E": {"axon_ex": grow(1e-4, EPS_E), "den_ex": grow(1e-4, EPS_E),
                  "den_in": grow(1e-4, EPS_E)},
            "I": {"axon_in": grow(1e-4, EPS_I), "den_ex": grow(4e-4, EPS_I),
                  "den_in": grow(1e-4, EPS_I)},
        },
        synapses={"E->E": ("axon_ex", "den_ex"), "E->I": ("axon_ex", "den_ex"),
                  "I->E": ("axon_in", "den_in"), "I->I": ("axon_in", "den_in")},
        update_interval=interval,
        in_step=False,  # `simulate` rewires between scans (no conditional in every step)
    )
    alpha, current = bs.synapses.Alpha(tau=2.0), bs.synapses.Current()
    sizes = {"E": n_e, "I": n_i}

    def projection(pre, post, conn):
        return bs.Projection(pre, post, conn, alpha, current, delay=DELAY, dt=DT)

    projections = [
        projection(pre, post, bo.ELL(np.zeros((sizes[pre], capacity), np.int32), weight,
                                     n_cols=sizes[post]))
        for pre, post, weight in (("E", "E", PSC_E), ("E", "I", PSC_E), ("I", "E", PSC_I),
                                  ("I", "I", PSC_I))
    ]
    for pop in ("E", "I"):  # one Poisson train per neuron, as NEST's generator sends
        one_to_one = bo.ELL(np.arange(sizes[pop])[:, None], PSC_EXT, n_cols=sizes[pop])
        projections.append(projection(f"bg{pop}", pop, one_to_one))
    background = bs.neurons.PoissonSource(rate=BG_RATE, counts=True)
    populations = {"E": (lif, n_e), "I": (lif, n_i), "bgE": (background, n_e),
                   "bgI": (background, n_i)}
    return bs.Network(populations, projections, structural=structural)


def initial_state(net: bs.Network, key) -> dict:
    """NEST's initial state: every neuron at E_L = -70 mV."""
    state = net.init(key)
    for pop in ("E", "I"):
        state[pop] = state[pop]._replace(v=jnp.full_like(state[pop].v, -70.0))
    return state


def summary(state: dict) -> tuple[float, float, int, int]:
    """Mean calcium of E and I, and the numbers of excitatory and inhibitory synapses."""
    calcium, synapses = state["structural"].calcium, state["synapses"]
    n_ex = synapses["E->E"].connected.sum() + synapses["E->I"].connected.sum()
    n_in = synapses["I->E"].connected.sum() + synapses["I->I"].connected.sum()
    return (float(calcium["E"].mean()), float(calcium["I"].mean()), int(n_ex), int(n_in))


def simulate(net: bs.Network, key, duration: float, record_every: float = 1000.0):
    """Run `duration` ms; every `record_every` ms sample the mean calcium of E and I, the
    numbers of synapses and the mean rates (Hz) over the interval, then rewire if an update
    interval ends there (sampling before the rewiring, as NEST does). Returns a dict of these
    arrays (`t` in ms), the compile and run times (s) and the final state."""
    steps = round(record_every / DT)
    interval = net.structural.update_interval
    every = round(interval / record_every)
    if abs(every * record_every - interval) > 1e-6 * interval:
        raise ValueError(f"the update interval {interval} ms must be a multiple of {record_every}.")

    @jax.jit
    def advance(state):
        def body(s, _):
            s, spikes = net.step(s, t=0.0, dt=DT)
            return s, jnp.stack([spikes["E"].mean(), spikes["I"].mean()])
        state, counts = jax.lax.scan(body, state, None, length=steps)
        return state, counts.sum(0) / (record_every * 1e-3)

    state = initial_state(net, key)
    began = time.perf_counter()
    compiled = advance.lower(state).compile()
    rewire = jax.jit(lambda s: net.rewire(s)).lower(state).compile()
    compile_s = time.perf_counter() - began
    rows, began = [], time.perf_counter()
    for sample in range(1, round(duration / record_every) + 1):
        state, rates = compiled(state)
        rows.append(summary(state) + tuple(float(r) for r in rates))
        if sample % every == 0:
            state = rewire(state)
    run_s = time.perf_counter() - began
    names = ("ca_e", "ca_i", "syn_e", "syn_i", "rate_e", "rate_i")
    columns = zip(*rows, strict=True)
    record = {name: np.array(column) for name, column in zip(names, columns, strict=True)}
    record["t"] = np.arange(1, len(rows) + 1) * record_every
    return record, compile_s, run_s, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="NEST's size: 800 E, 200 I, 200 s")
    parser.add_argument("--duration", type=float, default=None, help="ms")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="structural_plasticity.png")
    args = parser.parse_args()
    if args.full:
        n_e, n_i, scale, interval, duration = 800, 200, 1.0, 10000.0, 200000.0
    else:
        n_e, n_i, scale, interval, duration = 160, 40, 10.0, 1000.0, 20000.0
    duration = args.duration or duration
    net = build(n_e, n_i, growth_scale=scale, interval=interval)
    record, compile_s, run_s, state = simulate(net, jax.random.key(args.seed), duration)
    print(f"{n_e} E + {n_i} I neurons, {duration / 1000:g} s, compile {compile_s:.1f} s, "
          f"run {run_s:.1f} s")
    print("  t (s)  Ca E    Ca I    E synapses  I synapses  E rate (Hz)  I rate (Hz)")
    columns = ("t", "ca_e", "ca_i", "syn_e", "syn_i", "rate_e", "rate_i")
    for t, *row in zip(*(record[c] for c in columns), strict=True):
        line = "  {:5.0f}  {:.4f}  {:.4f}  {:10d}  {:10d}  {:11.2f}  {:11.2f}"
        print(line.format(t / 1000, *row))
    print(f"unplaced synapses: {int(state['structural'].unplaced)}, truncated elements: "
          f"{int(state['structural'].truncated)}")
    times = record["t"] / 1000
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(times, record["ca_e"], "b", label="Ca E")
    ax.plot(times, record["ca_i"], "r", label="Ca I")
    ax.axhline(EPS_E, color="b", alpha=0.3, lw=4)
    ax.axhline(EPS_I, color="r", alpha=0.3, lw=4)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mean calcium")
    twin = ax.twinx()
    twin.plot(times, record["syn_e"], "m--", label="E synapses")
    twin.plot(times, record["syn_i"], "k--", label="I synapses")
    twin.set_ylabel("synapses")
    ax.legend(loc="upper left")
    twin.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
