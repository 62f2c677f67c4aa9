"""Closed-loop versus open-loop gliotransmission (Stimberg et al. 2019, example 4; De Pittà
et al. 2011, 2016).

Three blocks of N synapses receive the same N Poisson trains (synapse k of every block is
driven by train k):

- closed loop: astrocyte k listens to synapse k (its neurotransmitter `Y_S` activates the
  astrocyte's receptors, PLCβ makes IP3) and feeds its gliotransmitter `G_A` back to it;
- open loop: astrocyte k receives no synaptic input, but an IP3 clamp (`I_bias` = 1 µM)
  makes it release periodically (a limit cycle); it feeds `G_A` to synapse k;
- none: no astrocyte.

Gliotransmission is release-decreasing (α = 0): activated presynaptic receptors `Γ_S` lower
the resting release probability `U_0 = (1 − Γ_S) U_0*`.

(a) `--part a`: N = 500, input rate 0.011, 0.11, 1.1 and 11 Hz in 5-s epochs (20 s). Prints
and draws the mean `Y_S` of each block against time: open-loop modulation depresses at every
rate; the closed loop engages only once the rate drives the astrocytes (≳ 1 Hz) and then cuts
the mean neurotransmitter.
(b) `--part b`: N = 100, rates log-spaced from 0.1 to 100 Hz; the time average of the
released fraction `r_S` (held between spikes, 0 before the first) of every synapse against its
rate. The paper runs 195 s (`--full`); the default runs 30 s.

Built from library parts: a `SpikeTimes` source, three `Projection`s whose `stp` is a
`TripartiteRelease` (listening for the closed loop, with astrocyte index -1 for the block
without astrocyte) and two `GChI` populations (RK4) in a `Network`; dt = 1 ms; `u_S`, `x_S`
are updated event-driven. Each part is one `brainsim.run` of a source holding all the trains
(`SpikeTimes` finds each step's events by binary search: O(log k + events in the step), even
with the ~300 000 input spikes of `--part b --full`). Part a decimates its traces
(`every=`); part b, whose averages need every step, records `r_S` at every step (195 000 ×
300 values with `--full`: 0.23 GB in float32) and sums it on the host `BLOCK` steps at a time.

    python examples/astro_closed_loop.py                       # part a, astro_closed_loop.png
    python examples/astro_closed_loop.py --part b --full --out rsmean.png

References: Stimberg, Goodman, Brette & De Pittà (2019), in Computational Glioscience,
Springer, pp. 471–505 (Brian2 scripts `example_4_synrel.py`, `example_4_rsmean.py`);
De Pittà et al. (2011) Front. Comput. Neurosci. 5:5; De Pittà et al. (2016) J. Neurosci.
36:7479.
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
RATES_A = (0.011, 0.11, 1.1, 11.0)  # Hz, part a, one per epoch
EPOCH_A = 5_000.0  # ms
SEED_A, SEED_B = 16283, 1929  # seeds of the Poisson trains (the scripts' seeds)
DURATION_B, TRANSIENT_B = 195_000.0, 15_000.0  # ms, part b
OPEN_LOOP_I_BIAS = 1.0  # µM
BLOCKS = ("closed", "open", "none")
BLOCK = 1_000  # steps of part b's trace reduced at a time on the host (bounded temporaries)

#: The astrocytes of example 4 (µM, 1/s, µM/s, 1/(µM·s)).
ASTROCYTE = dict(
    O_P=0.9, K_P=0.05, C_T=2.0, rho_A=0.18, Omega_C=6.0, Omega_L=0.1,
    d_1=0.13, d_2=1.05, O_2=0.2, d_3=0.9434, d_5=0.08,
    O_beta=3.2, O_N=0.3, Omega_N=0.5, K_KC=0.5, zeta=10.0,
    O_delta=0.6, kappa_delta=1.5, K_delta=0.1,
    Omega_5P=0.05, K_D=0.7, K_3K=1.0, O_3K=4.5,
    F_ex=2.0, I_Theta=0.3, omega_I=0.05,
    C_Theta=0.5, Omega_A=0.6, U_A=0.6, G_T=200_000.0, rho_e=6.5e-4, Omega_e=60.0,
)  # fmt: skip
#: The synapses (release-decreasing gliotransmission, α = 0).
SYNAPSE = dict(
    U_0_star=0.6, alpha=0.0, Omega_f=3.33, Omega_d=2.0, O_G=1.5, Omega_G=0.5 / 60,
    rho_c=0.005, Y_T=500_000.0, Omega_c=40.0,
)  # fmt: skip


def poisson_trains(rates_hz, duration: float, seed: int, *, dt: float = DT,
                   epoch: float | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Poisson trains on the step grid, as Brian2's `PoissonGroup` (`rand() < rate·dt`).

    Neuron j fires in step k if `U[k, j] < rate_j(k)·dt`, `U` drawn step by step from
    `numpy.random.default_rng(seed)` (the same numbers as `tests/reference/astro_protocols`).

    Args:
        rates_hz: `(n,)` rates, or `(n_epochs, n)` rates constant over epochs of `epoch` ms.
        duration: ms. seed: generator seed. dt: step (ms). epoch: epoch length (ms).

    Returns:
        `(indices, times)`: neuron of each spike and its time (ms, a multiple of `dt`),
        sorted by time.
    """
    rates = np.atleast_2d(np.asarray(rates_hz, float))
    n_steps = int(round(duration / dt))
    epoch_steps = n_steps if epoch is None else int(round(epoch / dt))
    rng = np.random.default_rng(seed)
    idx, steps = [], []
    for start in range(0, n_steps, 1000):  # rows in chunks: bounded memory, same numbers
        stop = min(start + 1000, n_steps)
        rows = np.arange(start, stop)
        p = rates[np.minimum(rows // epoch_steps, len(rates) - 1)] * dt / 1000.0
        k, j = np.nonzero(rng.random((stop - start, rates.shape[1])) < p)
        steps.append(k + start)
        idx.append(j)
    return np.concatenate(idx).astype(np.int32), np.concatenate(steps) * dt


def build(n: int, indices, times) -> tuple[bs.Network, dict]:
    """The three blocks of `n` synapses and `2n` astrocytes, and the initial state.

    Populations: `"pre"` (the `n` spike trains `indices`, `times` (ms)), `"post"` (silent
    targets), `"closed"` and `"open"` (`n` astrocytes each; the open-loop ones clamped at
    `I_bias` = 1 µM). Projections `"closed"`, `"open"`, `"none"` (one-to-one). Initial
    state: h = 0.9, x_A = 1, everything else 0; synapses `u_S` = 0, `x_S` = 1.
    """
    source = bs.neurons.SpikeTimes(times=np.asarray(times, float),
                                   indices=np.asarray(indices, int))  # fmt: skip
    silent = bs.neurons.SpikeTimes(times=[], indices=[])
    conn = bo.one_to_one(n, weight=0.0)
    releases = {
        "closed": bs.astro.TripartiteRelease("closed", np.arange(n), listen=True,
                                             signal="sum", **SYNAPSE),
        "open": bs.astro.TripartiteRelease("open", np.arange(n), listen=False, **SYNAPSE),
        "none": bs.astro.TripartiteRelease("open", -1, listen=False, n_astrocytes=n,
                                           **SYNAPSE),
    }  # fmt: skip
    projections = [
        bs.Projection("pre", "post", conn, output=bs.synapses.Current(), stp=releases[b],
                      name=b)
        for b in BLOCKS
    ]  # fmt: skip
    closed = bs.astro.GChI(**ASTROCYTE, I_bias=0.0, method="rk4")
    opened = bs.astro.GChI(**ASTROCYTE, I_bias=OPEN_LOOP_I_BIAS, method="rk4")
    net = bs.Network({"pre": (source, n), "post": (silent, n), "closed": (closed, n),
                      "open": (opened, n)}, projections)  # fmt: skip
    state = net.init()
    for name in ("closed", "open"):
        state[name] = net.models[name].init(n, h=0.9, x_A=1.0)
    return net, state


def simulate_a(n: int = 500, *, trains=None, duration: float = 4 * EPOCH_A,
               every: int = 10) -> dict:  # fmt: skip
    """Part a: mean `Y_S` (µM) of each block against time.

    Args:
        n: synapses per block.
        trains: `(indices, times)` of the n input trains (default: `poisson_trains` at
            `RATES_A` in epochs of `EPOCH_A`, seed `SEED_A`).
        duration: ms. every: steps between samples.

    Returns a dict: `t` (ms; each sample is the state after the step that ends at `t`),
    `Y_S` (`(3, samples)`, blocks closed, open, none), `closed_releases` and
    `open_releases` (`(indices, times)` of the astrocyte releases; times in ms, the start
    of the step), `n_input_spikes`.
    """
    if trains is None:
        rates = np.repeat(np.asarray(RATES_A)[:, None], n, axis=1)
        trains = poisson_trains(rates, duration, SEED_A, epoch=EPOCH_A)
    net, state = build(n, *trains)
    # Y_S is kept per astrocyte (summed over its synapses; the block without astrocyte has
    # one shared slot), so a block's mean is the sum over its slots divided by n
    record = {f"Y_{b}": (lambda s, _o, b=b: jnp.sum(s["synapses"][b].stp.Y_S) / n)
              for b in BLOCKS}  # fmt: skip
    record.update({"closed.spikes": None, "open.spikes": None})
    result = bs.run(net, state, duration=duration, dt=DT, record=record, every=every,
                    progress=False)  # fmt: skip
    releases = {name: (np.asarray(result.spikes[f"{name}.spikes"].indices),
                       np.asarray(result.spikes[f"{name}.spikes"].times))
                for name in ("closed", "open")}  # fmt: skip
    return {
        "t": np.asarray(result.t),
        "Y_S": np.stack([np.asarray(result.traces[f"Y_{b}"]) for b in BLOCKS]),
        "closed_releases": releases["closed"],
        "open_releases": releases["open"],
        "n_input_spikes": len(trains[0]),
    }


def rates_b(n: int = 100) -> np.ndarray:
    """Part b's input rates (Hz): `n` values log-spaced from 0.1 to 100 Hz."""
    return np.logspace(-1, 2, n)


def simulate_b(n: int = 100, *, trains=None, duration: float = 30_000.0,
               transient: float = TRANSIENT_B) -> dict:  # fmt: skip
    """Part b: time average of the held `r_S` of every synapse against its input rate.

    The average runs over the steps, reading `r_S` at the start of each step (the release of
    the synapse's last spike, 0 before its first), as Brian2's `StateMonitor` does: the value
    before step k is the state after step k - 1.

    Args:
        n: synapses per block (rates `rates_b(n)`).
        trains: `(indices, times)` (default: `poisson_trains(rates_b(n))`, seed `SEED_B`).
        duration: ms (the paper: 195 000). transient: ms left out of `r_S_mean_after`.

    Returns a dict: `rates` (Hz), `r_S_mean`, `r_S_std`, `r_S_mean_after` (`(3, n)`, blocks
    closed, open, none), `release_counts` (`(2, n)`: closed-, open-loop astrocytes),
    `n_input_spikes`.
    """
    rates = rates_b(n)
    if trains is None:
        trains = poisson_trains(rates, duration, SEED_B)
    net, state = build(n, *trains)
    record = {"r": lambda s, _o: jnp.stack([s["synapses"][b].stp.r for b in BLOCKS]),
              "closed.spikes": None, "open.spikes": None}  # fmt: skip
    steps = int(round(duration / DT))
    n_trans = int(round(transient / DT))
    result = bs.run(net, state, duration=duration, dt=DT, record=record, progress=False)
    trace = result.traces["r"]  # (steps, 3, n): r_S after each step
    total, squares, early = np.zeros((3, n)), np.zeros((3, n)), np.zeros((3, n))
    for done in range(0, steps, BLOCK):  # float64 sums, BLOCK steps at a time
        r = np.asarray(trace[done : done + BLOCK], float)
        total += r.sum(0)
        squares += (r**2).sum(0)
        early += r[: max(0, min(len(r), n_trans - 1 - done))].sum(0)
    last = np.asarray(trace[-1], float)
    counts = np.stack([np.bincount(result.spikes[f"{name}.spikes"].indices, minlength=n)
                       for name in ("closed", "open")])  # fmt: skip
    before = total - last  # sum of r_S before steps 0 .. steps-1 (0 before step 0)
    mean = before / steps
    return {
        "rates": rates,
        "r_S_mean": mean,
        "r_S_std": np.sqrt(np.maximum((squares - last**2) / steps - mean**2, 0.0)),
        "r_S_mean_after": (before - early) / max(steps - n_trans, 1),
        "release_counts": counts,
        "n_input_spikes": len(trains[0]),
    }


def plot_a(out: dict, path: str) -> None:
    """Figure 4B of the paper: input rate, then the mean Y_S of each block against time."""
    t = out["t"] / 1000.0
    fig, ax = plt.subplots(4, 1, figsize=(4.5, 6.0), sharex=True, height_ratios=[1, 3, 3, 3])
    epoch = np.minimum((out["t"] // EPOCH_A).astype(int), len(RATES_A) - 1)
    ax[0].semilogy(t, np.asarray(RATES_A)[epoch], color="k")
    ax[0].set(ylabel="rate (Hz)")
    for a, y, color, label in zip(ax[1:], out["Y_S"][::-1], ("k", "C2", "C3"),
                                  ("no gliotransmission", "open loop", "closed loop"),
                                  strict=True):  # fmt: skip
        a.plot(t, y, color=color, label=label)
        a.set(ylabel="<$Y_S$> (µM)")
        a.legend(loc="upper left", fontsize="small")
    ax[3].set(xlabel="time (s)", xlim=(0, t[-1]))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_b(out: dict, path: str) -> None:
    """Figure 4C of the paper: time-averaged r_S (± sd) against the input rate, per block."""
    fig, ax = plt.subplots(3, 1, figsize=(4.5, 6.0), sharex=True)
    for a, row, color, label in zip(ax, (2, 1, 0), ("k", "C2", "C3"),
                                     ("no gliotransmission", "open loop", "closed loop"),
                                     strict=True):  # fmt: skip
        a.errorbar(out["rates"], out["r_S_mean"][row], out["r_S_std"][row], fmt="o",
                   color=color, ms=3, lw=0.5, label=label)
        a.set(xscale="log", ylabel="<$r_S$>")
        a.legend(loc="upper right", fontsize="small")
    ax[2].set(xlabel="input rate (Hz)", xlim=(0.08, 120))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("a", "b"), default="a", help="figure 4B or 4C")
    parser.add_argument("--out", default="astro_closed_loop.png", help="figure file (PNG)")
    parser.add_argument("--full", action="store_true", help="part b: the paper's 195 s")
    parser.add_argument("--duration", type=float, default=None, help="run length (s)")
    parser.add_argument("--n", type=int, default=None, help="synapses per block")
    parser.add_argument("--x64", action="store_true", help="simulate in float64")
    args = parser.parse_args()
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    if args.part == "a":
        n = args.n or 500
        duration = 1000.0 * (args.duration or 20.0)
        out = simulate_a(n, duration=duration)
        wall = time.perf_counter() - start
        print(f"example 4a: {n} synapses per block, {duration / 1000:g} s, "
              f"{out['n_input_spikes']} input spikes, in {wall:.1f} s (wall)")  # fmt: skip
        epoch = np.minimum((out["t"] - DT) // EPOCH_A, len(RATES_A) - 1).astype(int)
        print("rate (Hz)   mean Y_S over the epoch (µM): closed   open    none   "
              "closed/none")
        for e, rate in enumerate(RATES_A[: epoch.max() + 1]):
            y = out["Y_S"][:, epoch == e].mean(1)
            print(f"{rate:9.3f}   {y[0]:34.3f} {y[1]:7.3f} {y[2]:7.3f}   {y[0] / y[2]:6.3f}")
        for name in ("closed", "open"):
            i, t = out[f"{name}_releases"]
            per_epoch = np.bincount((t // EPOCH_A).astype(int), minlength=len(RATES_A))
            print(f"{name}-loop astrocyte releases per epoch: {per_epoch.tolist()}")
        plot_a(out, args.out)
    else:
        n = args.n or 100
        full = 195.0 if args.full else 30.0
        duration = 1000.0 * (args.duration or full)
        out = simulate_b(n, duration=duration, transient=min(TRANSIENT_B, duration / 2))
        wall = time.perf_counter() - start
        print(f"example 4b: {n} synapses per block, {duration / 1000:g} s, "
              f"{out['n_input_spikes']} input spikes, in {wall:.1f} s (wall)")  # fmt: skip
        print("rate (Hz)   <r_S>: closed    open    none   releases: closed  open")
        for k in np.linspace(0, n - 1, 10).astype(int):
            r, c = out["r_S_mean"][:, k], out["release_counts"][:, k]
            print(f"{out['rates'][k]:9.3f}   {r[0]:13.4f} {r[1]:7.4f} {r[2]:7.4f}   "
                  f"{c[0]:15d} {c[1]:5d}")  # fmt: skip
        plot_b(out, args.out)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
