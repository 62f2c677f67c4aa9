"""Song, Miller & Abbott (2000): additive STDP splits the input weights into two groups.

One conductance-based LIF neuron receives 1000 independent Poisson inputs at 15 Hz through
plastic excitatory synapses. Pair STDP with slightly stronger depression than potentiation
(A_minus = 1.05 A_plus, tau_plus = tau_minus = 20 ms) and hard bounds [0, g_max] makes the
synapses compete: from a uniform start, after 100 s about a quarter of the weights sit near 0
and a fifth near g_max. Prints the run time, the output rate and the fractions of weights in
the end deciles of [0, g_max], next to those of the Brian2 reference
(`tests/reference/brian2_song_abbott.npz`), and writes a figure: the final weight histogram of
both simulators and the growth of the end deciles over time.

    python examples/song_miller_abbott.py                       # 100 s, writes the figure
    python examples/song_miller_abbott.py --duration 20 --seed 3 --out sma.png

The model: `tau_m dv/dt = (E_L - v) + g (E_e - v)` with tau_m = 10 ms, E_L = -74 mV,
v_th = -54 mV, v_reset = -60 mV, E_e = 0 mV and no refractory period; `tau_e dg/dt = -g` with
tau_e = 5 ms and `g <- g + w` at each input spike. Conductances are in units of the leak
conductance, which is brainsim's `LIF` with `R = 1` (its input current `R g (E_e - v)` is then
in mV). dt = 0.1 ms, as in the Brian2 reference. A presynaptic spike delivers the weight after
the depression it causes, and a pre- and a postsynaptic spike in the same step do not pair
(the conventions of brainsim's plastic `Projection`, which the reference follows too).

Reference: Song, Miller & Abbott (2000), Nat. Neurosci. 3:919.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402
import brainsim_ops as bo  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference" / "brian2_song_abbott.npz"
DT = 0.1  # ms
G_MAX = 0.01  # units of the leak conductance
PROJECTION = "inputs->neuron"


def song_abbott_network(
    key: jax.Array,
    *,
    n_inputs: int = 1000,
    rate: float = 15.0,
    g_max: float = G_MAX,
    A_plus: float = 0.01 * G_MAX,
    depression_ratio: float = 1.05,
) -> bs.Network:
    """The network: `n_inputs` Poisson inputs at `rate` Hz onto one conductance-based LIF.

    Args:
        key: draws the initial weights, uniform in [0, g_max].
        n_inputs: number of inputs.
        rate: input rate (Hz).
        g_max: upper weight bound (units of the leak conductance).
        A_plus: potentiation per pairing (units of the leak conductance).
        depression_ratio: `A_minus tau_minus / (A_plus tau_plus)` (1.05 in the paper).

    Returns:
        A `Network` with populations `"inputs"` and `"neuron"` and the plastic projection
        `"inputs->neuron"`.
    """
    tau_plus = tau_minus = 20.0  # ms
    neuron = bs.neurons.LIF(tau_m=10.0, v_rest=-74.0, v_th=-54.0, v_reset=-60.0, t_ref=0.0,
                            R=1.0)  # fmt: skip
    stdp = bs.plasticity.STDP(
        A_plus=A_plus,
        A_minus=depression_ratio * A_plus * tau_plus / tau_minus,
        tau_plus=tau_plus,
        tau_minus=tau_minus,
        w_min=0.0,
        w_max=g_max,
    )
    weights = jax.random.uniform(key, (n_inputs, 1), maxval=g_max)
    projection = bs.Projection(
        "inputs",
        "neuron",
        bo.all_to_all(n_inputs, 1, weights),
        bs.synapses.Exponential(tau=5.0),
        bs.synapses.Conductance(E=0.0),
        plasticity=stdp,
    )
    sources = bs.neurons.PoissonSource(rate=rate)
    return bs.Network({"inputs": (sources, n_inputs), "neuron": (neuron, 1)}, [projection])


def end_decile_fractions(weights, g_max: float = G_MAX) -> tuple[float, float]:
    """Fractions of the weights below `0.1 g_max` and above `0.9 g_max`."""
    w = np.asarray(weights)
    return float(np.mean(w < 0.1 * g_max)), float(np.mean(w > 0.9 * g_max))


def simulate(key: jax.Array, duration_s: float, *, snapshot_s: float = 1.0, **network_kw):
    """Run the experiment for `duration_s` s.

    Returns:
        `(final weights (n_inputs,), output rate (Hz), snapshot times (s), weights at those
        times (k, n_inputs))`.
    """
    k_weights, k_state = jax.random.split(key)
    network = song_abbott_network(k_weights, **network_kw)
    every = max(1, round(snapshot_s * 1000 / DT))
    result = bs.run(
        network,
        network.init(k_state),
        dt=DT,
        duration=duration_s * 1000,
        record=["neuron.spikes", f"synapses.{PROJECTION}.weights"],
        every=every,
        progress=False,
    )
    final = np.asarray(result.final_state["synapses"][PROJECTION].weights)[:, 0]
    history = np.asarray(result.traces[f"synapses.{PROJECTION}.weights"])[..., 0]
    return final, result.rate("neuron.spikes"), np.asarray(result.t) / 1000, history


def reference_at(ref, duration_s: float):
    """The Brian2 trials at the latest time `<= duration_s` (s) the reference holds (its first
    snapshot after 0, 5 s, for shorter runs).

    Returns:
        `(time (s), output rate over [0, time] (Hz), fractions below 0.1 g_max, fractions above
        0.9 g_max)`, one value per trial.
    """
    if duration_s >= float(ref["duration_s"]):
        low, high = zip(*(end_decile_fractions(w, float(ref["p_g_max"]))
                          for w in ref["final_weights"]), strict=True)  # fmt: skip
        return float(ref["duration_s"]), ref["rate"], np.array(low), np.array(high)
    k = max(1, int(np.searchsorted(ref["snapshot_t"], duration_s, side="right")) - 1)
    rate = ref["snapshot_rate"][:, :k].mean(axis=1)
    return float(ref["snapshot_t"][k]), rate, ref["snapshot_low"][:, k], ref["snapshot_high"][:, k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=100.0, help="biological time (s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--out", default="song_miller_abbott.png", help="figure to write")
    parser.add_argument("--cores", type=int, default=1, help="CPU cores for XLA")
    args = parser.parse_args()
    bs.use_cpu_cores(args.cores)

    began = time.perf_counter()
    final, rate, t, history = simulate(jax.random.key(args.seed), args.duration)
    elapsed = time.perf_counter() - began
    low, high = end_decile_fractions(final)
    print(
        f"brainsim, {args.duration:g} s (dt {DT} ms): {elapsed:.1f} s of run time "
        f"(compilation included)"
    )
    print(
        f"brainsim: output rate {rate:.1f} Hz, weights < 0.1 g_max: {low:.3f}, "
        f"> 0.9 g_max: {high:.3f}"
    )

    ref = np.load(REFERENCE)
    t_ref, rate_ref, low_ref, high_ref = reference_at(ref, args.duration)
    print(
        f"Brian2 reference ({int(ref['n_trials'])} trials) at {t_ref:g} s: "
        f"output rate {rate_ref.mean():.1f} ± {rate_ref.std(ddof=1):.1f} Hz, "
        f"< 0.1 g_max: {low_ref.mean():.3f} ± {low_ref.std(ddof=1):.3f}, "
        f"> 0.9 g_max: {high_ref.mean():.3f} ± {high_ref.std(ddof=1):.3f}"
    )

    fig, (ax_hist, ax_time) = plt.subplots(1, 2, figsize=(10, 4))
    bins = np.linspace(0.0, 1.0, 21)
    ref_density = np.array(
        [np.histogram(w / float(ref["p_g_max"]), bins)[0] / w.size for w in ref["final_weights"]]
    )
    centres = 0.5 * (bins[1:] + bins[:-1])
    ax_hist.bar(
        centres,
        np.histogram(final / G_MAX, bins)[0] / final.size,
        width=0.045,
        color="tab:blue",
        alpha=0.6,
        label=f"brainsim ({args.duration:g} s)",
    )
    ax_hist.errorbar(
        centres,
        ref_density.mean(0),
        yerr=ref_density.std(0, ddof=1),
        fmt="o",
        color="k",
        ms=3,
        label=f"Brian2 ({float(ref['duration_s']):g} s, mean ± sd)",
    )
    ax_hist.set(xlabel="w / g_max", ylabel="fraction of synapses", title="final weights")
    ax_hist.legend(frameon=False)
    fractions = np.array([end_decile_fractions(w) for w in history])
    ax_time.plot(t, fractions[:, 0], color="tab:blue", label="brainsim, w < 0.1 g_max")
    ax_time.plot(t, fractions[:, 1], color="tab:red", label="brainsim, w > 0.9 g_max")
    ax_time.plot(
        ref["snapshot_t"], ref["snapshot_low"].mean(0), "o", color="tab:blue", ms=3, label="Brian2"
    )
    ax_time.plot(ref["snapshot_t"], ref["snapshot_high"].mean(0), "o", color="tab:red", ms=3)
    ax_time.set(xlabel="time (s)", ylabel="fraction of synapses", title="end deciles")
    ax_time.legend(frameon=False)
    fig.suptitle("Song, Miller & Abbott (2000): 1000 Poisson inputs, additive STDP")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
