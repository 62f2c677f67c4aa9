"""A G-ChI astrocyte driven by a synapse (Stimberg et al. 2019, example 2; De Pittà et al.
2009).

A presynaptic neuron fires regularly at 0.5 Hz; each spike releases neurotransmitter
(`Y_S += ρ_c Y_T`, cleared at Ω_c = 40/s) onto two astrocytes. Neurotransmitter activates the
astrocytes' receptors (`Γ_A`), which make IP3 through PLCβ; IP3 opens the IP3 receptors of the
endoplasmic reticulum and Ca²⁺ fires large events, about one per two input spikes. The first
astrocyte is deterministic; the second has multiplicative noise on the IP3-receptor gating
`h` (`dh = (h∞ − h)/τ_h dt + (h∞ − h)/√τ_h dW`), integrated with Brian2's derivative-free
Milstein scheme (which is Euler for the deterministic cell), dt = 1 ms, 30 s.

Built from library parts: a `SpikeTimes` source (the script's regular neuron `dx/dt = f_0`,
threshold `x > 1`, fires every 2001 steps), a `Projection` whose `stp` is a
`TripartiteRelease` that listens (the astrocytes receive their synapse's `Y_S`), and a
`GChI(method="milstein")` population. The script's synapse has no short-term plasticity; the
tripartite release reproduces it with `U_0* = 1` (a spike releases all resources) and
resources that recover within one step (Ω_d = 10⁶/s), so that `r_S = 1` at every spike, and
without presynaptic receptors (`O_G = 0`). One synapse feeds each astrocyte (the script
sums one synapse into both: the same values).

Prints the Ca²⁺ events (upward crossings of 0.5 µM) of both cells; with
`--stochastic N`, N independent noisy cells (one population, one key) and their event
counts. Draws the paper's figure 2 (Γ_A, I, C, h).

    python examples/astro_gchi.py                          # writes astro_gchi.png
    python examples/astro_gchi.py --stochastic 20 --seed 3 --out gchi.png

References: Stimberg, Goodman, Brette & De Pittà (2019), in Computational Glioscience,
Springer, pp. 471–505 (Brian2 script `example_2_gchi_astrocyte.py`); De Pittà et al. (2009)
J. Biol. Phys. 35:383.
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

DT = 1.0  # ms
DURATION = 30_000.0  # ms
F_0 = 0.5  # Hz, rate of the regular presynaptic neuron

#: The astrocyte of example 2 (µM, 1/s, µM/s, 1/(µM·s)).
ASTROCYTE = dict(
    O_P=0.9, K_P=0.1, C_T=2.0, rho_A=0.18, Omega_C=6.0, Omega_L=0.1,
    d_1=0.13, d_2=1.05, O_2=0.2, d_3=0.9434, d_5=0.08,
    O_beta=5.0, O_N=0.3, Omega_N=0.5, K_KC=0.5, zeta=10.0,
    O_delta=0.2, kappa_delta=1.5, K_delta=0.3,
    Omega_5P=0.1, K_D=0.5, K_3K=1.0, O_3K=4.5,
    F_ex=0.09, I_bias=0.0, I_Theta=0.3, omega_I=0.05,
    C_Theta=0.5,
)  # fmt: skip
#: The synapse: neurotransmitter only (ρ_c = 0.001, Y_T = 500 mM, Ω_c = 40/s), no STP.
SYNAPSE = dict(U_0_star=1.0, alpha=0.0, Omega_d=1e6, Omega_f=0.0, O_G=0.0, rho_c=0.001,
               Y_T=500_000.0, Omega_c=40.0)  # fmt: skip


def regular_spike_times(duration: float = DURATION, dt: float = DT, f_0: float = F_0):
    """Spike times (ms) of the script's regular neuron: `x += dt·f_0` each step (Euler of
    `dx/dt = f_0`), a spike in the step after which `x > 1`, then `x = 0` (every 2001 steps
    at dt = 1 ms and 0.5 Hz: the threshold is strict)."""
    times, x = [], 0.0
    for k in range(int(round(duration / dt))):
        x += dt / 1000.0 * f_0
        if x > 1.0:
            times.append(k * dt)
            x = 0.0
    return np.asarray(times)


def build(n_stochastic: int = 1, *, key=None, spike_times_ms=None) -> tuple[bs.Network, dict]:
    """The network of example 2 and its initial state.

    Args:
        n_stochastic: number of noisy astrocytes after the deterministic one (each an
            independent realisation).
        key: `jax.random` key of the noise (default `key(0)`).
        spike_times_ms: presynaptic spike times (default: `regular_spike_times()`).

    Returns:
        `(network, state)`: populations `"pre"`, `"post"` (a silent target) and `"A"`
        (astrocyte 0 deterministic, then the stochastic ones); projection `"syn"` (synapse k
        feeds astrocyte k). Initial state: h = 0.9, everything else 0.
    """
    times = regular_spike_times() if spike_times_ms is None else np.asarray(spike_times_ms)
    key = jax.random.key(0) if key is None else key
    n = 1 + n_stochastic
    source = bs.neurons.SpikeTimes(times=times, indices=np.zeros(times.size, int))
    silent = bs.neurons.SpikeTimes(times=[], indices=[])
    conn = bo.from_edges(np.zeros(n, int), np.zeros(n, int), 0.0, n_pre=1, n_post=1)
    release = bs.astro.TripartiteRelease("A", np.arange(n), listen=True, signal="sum",
                                         **SYNAPSE)  # fmt: skip
    noise = jnp.asarray(np.r_[0.0, np.ones(n_stochastic)])
    astro = bs.astro.GChI(**ASTROCYTE, noise=noise, method="milstein")
    net = bs.Network(
        {"pre": (source, 1), "post": (silent, 1), "A": (astro, n)},
        [bs.Projection("pre", "post", conn, output=bs.synapses.Current(), stp=release,
                       name="syn")],
    )  # fmt: skip
    state = net.init(key)
    state["A"] = astro.init(n, key, C=0.0, h=0.9, I=0.0, Gamma_A=0.0)
    return net, state


def simulate(
    n_stochastic: int = 1, *, key=None, duration: float = DURATION, dt: float = DT,
    every: int = 10,
) -> dict:  # fmt: skip
    """Run example 2.

    Returns a dict: `t` (ms, sample times every `every` steps, the state after the step),
    `Gamma_A`, `I`, `C`, `h` (`(samples, 1 + n_stochastic)`), `Y_S` (`(samples,)`, the
    neurotransmitter of synapse 0), `spike_times` (ms), and `events`: one array of Ca²⁺ event
    times (ms, the start of the step in which C crossed 0.5 µM upward) per astrocyte.
    """
    net, state = build(n_stochastic, key=key)
    record = {"A.Gamma_A": None, "A.I": None, "A.C": None, "A.h": None, "A.spikes": None,
              "synapses.syn.stp.Y_S": None}  # fmt: skip
    result = bs.run(net, state, duration=duration, dt=dt, record=record, every=every,
                    progress=False)  # fmt: skip
    tr = result.traces
    ev = result.spikes["A.spikes"]
    idx, times = np.asarray(ev.indices), np.asarray(ev.times)
    return {
        "t": np.asarray(result.t),
        **{name: np.asarray(tr[f"A.{name}"]) for name in ("Gamma_A", "I", "C", "h")},
        "Y_S": np.asarray(tr["synapses.syn.stp.Y_S"])[:, 0],
        "spike_times": np.asarray(net.models["pre"].times),
        "events": [times[idx == k] for k in range(1 + n_stochastic)],
    }


def plot(out: dict, path: str) -> None:
    """The paper's figure 2: Γ_A, I, C and h of the deterministic and one stochastic cell."""
    t = out["t"] / 1000.0
    fig, ax = plt.subplots(4, 1, figsize=(6.5, 6.0), sharex=True)
    cells = (0, 1) if out["C"].shape[1] > 1 else (0,)
    for name, a, label in (("Gamma_A", ax[0], "$\\Gamma_A$"), ("I", ax[1], "I (µM)"),
                           ("C", ax[2], "C (µM)"), ("h", ax[3], "h")):  # fmt: skip
        for k in cells:
            a.plot(t, out[name][:, k], label=("deterministic", "stochastic")[k])
        a.set(ylabel=label)
    for s in out["spike_times"] / 1000.0:
        ax[0].axvline(s, color="0.85", lw=0.6, zorder=0)
    ax[1].legend(loc="upper left", fontsize="small")
    ax[2].axhline(ASTROCYTE["C_Theta"], ls=":", color="gray")
    ax[3].set(xlabel="time (s)", xlim=(0, t[-1]))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="astro_gchi.png", help="figure file (PNG)")
    parser.add_argument("--stochastic", type=int, default=1, help="number of noisy cells")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise")
    parser.add_argument("--x64", action="store_true", help="simulate in float64")
    args = parser.parse_args()
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    out = simulate(args.stochastic, key=jax.random.key(args.seed))
    wall = time.perf_counter() - start
    n_spikes = out["spike_times"].size
    print(f"example 2: {DURATION / 1000:g} s at dt = {DT} ms, {n_spikes} input spikes, "
          f"{1 + args.stochastic} astrocytes in {wall:.1f} s (wall)")  # fmt: skip
    det = out["events"][0]
    print(f"deterministic cell: {det.size} Ca2+ events at "
          f"{', '.join(f'{t / 1000:.3f}' for t in det)} s")  # fmt: skip
    counts = np.array([e.size for e in out["events"][1:]])
    if counts.size:
        first = out["events"][1]
        print(f"stochastic cell 1: {first.size} Ca2+ events at "
              f"{', '.join(f'{t / 1000:.3f}' for t in first)} s")  # fmt: skip
        print(f"stochastic cells: events per cell mean {counts.mean():.2f}, sd "
              f"{counts.std():.2f}, range {counts.min()}-{counts.max()} (n = {counts.size})")
    print(f"peak Gamma_A {out['Gamma_A'][:, 0].max():.3f}, peak I {out['I'][:, 0].max():.3f} "
          f"µM, peak C {out['C'][:, 0].max():.3f} µM (deterministic cell)")  # fmt: skip
    plot(out, args.out)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
