"""Gliotransmission turns a depressing synapse into a facilitating one (Stimberg et al. 2019,
example 3; De Pittà et al. 2011).

Three Tsodyks–Markram synapses receive the same 16 presynaptic spikes at 16.5 s + {0, 50, 100,
150, 200, 300, 310, ..., 400} ms. Synapse 0 has no astrocyte. Synapses 1 and 2 carry
presynaptic gliotransmitter receptors (`Γ_S`) activated by the gliotransmitter `G_A` of one
astrocyte each. The astrocytes receive no synaptic input: an exogenous IP3 clamp
(`I_bias` = 0.8 and 1.25 µM) makes them oscillate, and each Ca²⁺ crossing of 0.5 µM releases
gliotransmitter. Receptor activation decays slowly (1/Ω_G = 2 min), so the releases of the
first 16 s leave the synapses with a lowered resting release probability
`U_0 = (1 − Γ_S) U_0*` (α = 0): the synapse without gliotransmission depresses (paired-pulse
ratio r_S(2)/r_S(1) < 1), the modulated ones facilitate (> 1).

Built from library parts: a `SpikeTimes` source, a `Projection` whose `stp` is a
`TripartiteRelease` (synapse 0 with astrocyte index -1), and a `GChI` astrocyte population
(RK4) in a `Network`; dt = 1 ms, 17.1 s. Prints the astrocyte releases, the released
fraction r_S at each spike and the paired-pulse ratios, and draws the paper's figure 3.

    python examples/astro_synapse.py                     # writes astro_synapse.png
    python examples/astro_synapse.py --x64 --out synapse.png

References: Stimberg, Goodman, Brette & De Pittà (2019), in Computational Glioscience,
Springer, pp. 471–505 (Brian2 script `example_3_io_synapse.py`); De Pittà et al. (2011)
Front. Comput. Neurosci. 5:5.
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
TRANSIENT = 16_500.0  # ms before the first presynaptic spike
DURATION = TRANSIENT + 600.0  # ms
OFFSETS = (0, 50, 100, 150, 200, 300, 310, 320, 330, 340, 350, 360, 370, 380, 390, 400)  # ms
I_BIAS = (0.8, 1.25)  # µM, IP3 clamp of the two astrocytes

#: The astrocytes of example 3 (µM, 1/s, µM/s): no PLCβ (no synaptic input), an IP3 clamp.
ASTROCYTE = dict(
    O_P=0.9, K_P=0.05, C_T=2.0, rho_A=0.18, Omega_C=6.0, Omega_L=0.1,
    d_1=0.13, d_2=1.05, O_2=0.2, d_3=0.9434, d_5=0.08,
    O_beta=0.0,
    O_delta=0.6, kappa_delta=1.5, K_delta=0.1,
    Omega_5P=0.05, K_D=0.7, K_3K=1.0, O_3K=4.5,
    F_ex=2.0, I_Theta=0.3, omega_I=0.05,
    C_Theta=0.5, Omega_A=0.6, U_A=0.6, G_T=200_000.0, rho_e=6.5e-4, Omega_e=60.0,
)  # fmt: skip
#: The synapses of examples 3 and 4 (release-decreasing gliotransmission, α = 0).
SYNAPSE = dict(
    U_0_star=0.6, alpha=0.0, Omega_f=3.33, Omega_d=2.0, O_G=1.5, Omega_G=0.5 / 60,
    rho_c=0.005, Y_T=500_000.0, Omega_c=40.0,
)  # fmt: skip
LABELS = ("no gliotransmission", "weak gliotransmission", "stronger gliotransmission")


def build(
    spike_times_ms=None, i_bias=I_BIAS, *, init_I: float = 0.4, init_x_S: float = 0.0
) -> tuple[bs.Network, dict]:
    """The network of example 3 and its initial state.

    Args:
        spike_times_ms: presynaptic spike times (ms; default: `TRANSIENT + OFFSETS`).
        i_bias: IP3 clamp of each astrocyte (µM); astrocyte k modulates synapse k + 1.
        init_I: initial IP3 of the astrocytes (µM); the other astrocyte variables start at
            C = 0, h = 0.9, x_A = 1 (no Γ_A: the astrocytes have no synaptic input).
        init_x_S: initial resources of the synapses (the script leaves x_S at 0: they recover
            during the 16.5-s transient), `u_S` starts at 0.

    Returns:
        `(network, state)`: populations `"pre"` (the spike source), `"post"` (a silent
        target: the synapses act on nothing) and `"A"` (the astrocytes); projection `"syn"`.
    """
    if spike_times_ms is None:
        spike_times_ms = TRANSIENT + np.asarray(OFFSETS, float)
    times = np.asarray(spike_times_ms, float)
    i_bias = np.asarray(i_bias, float)
    n_astro = i_bias.size
    source = bs.neurons.SpikeTimes(times=times, indices=np.zeros(times.size, int))
    silent = bs.neurons.SpikeTimes(times=[], indices=[])
    # one synapse without astrocyte, then one per astrocyte, all from neuron 0 onto neuron 0
    conn = bo.from_edges(np.zeros(n_astro + 1, int), np.zeros(n_astro + 1, int), 0.0,
                         n_pre=1, n_post=1)  # fmt: skip
    release = bs.astro.TripartiteRelease("A", np.arange(-1, n_astro), listen=False, **SYNAPSE)
    projection = bs.Projection("pre", "post", conn, output=bs.synapses.Current(), stp=release,
                               name="syn")  # fmt: skip
    astro = bs.astro.GChI(**ASTROCYTE, I_bias=jnp.asarray(i_bias), method="rk4")
    net = bs.Network({"pre": (source, 1), "post": (silent, 1), "A": (astro, n_astro)},
                     [projection])  # fmt: skip
    state = net.init()
    state["A"] = astro.init(n_astro, C=0.0, h=0.9, I=init_I, x_A=1.0)
    bound = net.projections[0]
    syn = state["synapses"]["syn"]
    state["synapses"]["syn"] = syn._replace(stp=bound.stp.init(bound.conn, u=0.0, x=init_x_S))
    return net, state


def simulate(
    spike_times_ms=None, i_bias=I_BIAS, *, duration: float = DURATION, dt: float = DT
) -> dict:
    """Run example 3 and return its traces (numpy arrays).

    Returns a dict with `t` (ms, the time of each trace sample: the state after each step),
    astrocyte traces `C`, `G_A`, `x_A` (`(steps, n_astro)`), synapse traces `u_S`, `x_S`,
    `r_S` (`(steps, n_syn)`), `Gamma_S` and `Y_S` (per synapse, `(steps, n_syn)`; synapse k
    has the `Γ_S` of its astrocyte), `release_i`, `release_t` (astrocyte releases: index,
    step start time in ms), `spike_times` (ms) and `r_at_spikes` (`(n_syn, n_spikes)`: r_S
    released by each presynaptic spike).
    """
    net, state = build(spike_times_ms, i_bias)
    proj = net.projections[0]
    n_astro = net.sizes["A"]
    slots = np.r_[n_astro, np.arange(n_astro)]  # synapse k's slot in the per-astrocyte arrays

    def u_and_x(s, _outputs):
        u, x = proj.stp.synapse_values(s["synapses"]["syn"].stp, proj.conn, s["step"], dt=dt)
        return jnp.stack([u, x])

    record = {
        "A.C": None, "A.G_A": None, "A.x_A": None, "A.spikes": None,
        "synapses.syn.stp.r": None, "synapses.syn.stp.Gamma_S": None,
        "synapses.syn.stp.Y_S": None, "u_and_x": u_and_x,
    }  # fmt: skip
    result = bs.run(net, state, duration=duration, dt=dt, record=record, progress=False)
    tr = result.traces
    ux = np.asarray(tr["u_and_x"])
    spikes = np.asarray(net.models["pre"].times)
    spike_steps = np.rint(spikes / dt).astype(int)
    r = np.asarray(tr["synapses.syn.stp.r"])
    events = result.spikes["A.spikes"]
    return {
        "t": np.asarray(result.t),
        "C": np.asarray(tr["A.C"]),
        "G_A": np.asarray(tr["A.G_A"]),
        "x_A": np.asarray(tr["A.x_A"]),
        "u_S": ux[:, 0],
        "x_S": ux[:, 1],
        "r_S": r,
        "Gamma_S": np.asarray(tr["synapses.syn.stp.Gamma_S"])[:, slots],
        "Y_S": np.asarray(tr["synapses.syn.stp.Y_S"])[:, slots],
        "release_i": np.asarray(events.indices),
        "release_t": np.asarray(events.times),
        "spike_times": spikes,
        "r_at_spikes": r[spike_steps].T,  # the state after the spike's step
    }


def paired_pulse_ratios(r_at_spikes) -> np.ndarray:
    """r_S(2nd spike) / r_S(1st spike) of each synapse."""
    r = np.asarray(r_at_spikes)
    return r[:, 1] / r[:, 0]


def plot(out: dict, path: str) -> None:
    """The paper's figure 3: astrocyte Ca²⁺ and G_A, then u_S, x_S, Y_S around the spikes."""
    t_s = (out["t"] - TRANSIENT) / 1000.0
    fig, ax = plt.subplots(6, 1, figsize=(6.5, 8.5), height_ratios=[3, 2, 1, 3, 3, 3])
    colors = ("k", "C2", "C3")
    for k in range(out["C"].shape[1]):
        ax[0].plot(t_s, out["C"][:, k], color=colors[k + 1])
        ax[1].plot(t_s, out["G_A"][:, k], color=colors[k + 1])
    ax[0].axhline(ASTROCYTE["C_Theta"], ls=":", color="gray")
    ax[0].set(xlim=(-TRANSIENT / 1000, 0), ylabel="C (µM)")
    ax[1].set(xlim=(-TRANSIENT / 1000, 0), ylabel="$G_A$ (µM)", xlabel="time (s)")
    t_ms = out["t"] - TRANSIENT
    window = (t_ms >= 0) & (t_ms <= 600)
    ax[2].vlines(out["spike_times"] - TRANSIENT, 0, 1, color="k")
    ax[2].set(xlim=(0, 600))
    ax[2].axis("off")
    for row, (name, label) in enumerate((("u_S", "$u_S$"), ("x_S", "$x_S$"),
                                         ("Y_S", "$Y_S$ (µM)"))):  # fmt: skip
        a = ax[3 + row]
        for k in range(out[name].shape[1]):
            a.plot(t_ms[window], out[name][window, k], color=colors[k], label=LABELS[k])
        a.set(xlim=(0, 600), ylabel=label)
    ax[5].set(xlabel="time after the first spike (ms)")
    ax[5].legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="astro_synapse.png", help="figure file (PNG)")
    parser.add_argument("--x64", action="store_true", help="simulate in float64")
    args = parser.parse_args()
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    out = simulate()
    wall = time.perf_counter() - start
    print(f"example 3: {DURATION / 1000:g} s at dt = {DT} ms in {wall:.1f} s (wall)")
    for k in range(out["C"].shape[1]):
        times = out["release_t"][out["release_i"] == k] / 1000
        print(f"astrocyte {k} (I_bias = {I_BIAS[k]} µM): releases at "
              f"{', '.join(f'{t:.3f}' for t in times)} s")  # fmt: skip
    gamma = out["Gamma_S"][np.rint(TRANSIENT / DT).astype(int) - 1]
    ppr = paired_pulse_ratios(out["r_at_spikes"])
    for k, label in enumerate(LABELS):
        r = out["r_at_spikes"][k]
        print(f"synapse {k} ({label}): Gamma_S = {gamma[k]:.4f} at the first spike, "
              f"r_S = {' '.join(f'{v:.4f}' for v in r)}")  # fmt: skip
        print(f"  paired-pulse ratio r_S(2)/r_S(1) = {ppr[k]:.3f}")
    plot(out, args.out)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
