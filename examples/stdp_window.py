"""The STDP window of Bi & Poo (1998), measured by running pair STDP on spike pairs.

For each lag `Δt = t_post - t_pre` one presynaptic and one postsynaptic spike are fed to
`STDP.update` (additive weights, all-to-all and nearest pairing), one call per spike with `dt` the
time since the previous call, and the weight change is compared with the analytic window

    Δw = A_plus exp(-Δt / tau_plus)      (Δt > 0)
    Δw = -A_minus exp(Δt / tau_minus)    (Δt < 0).

With one spike each, both pairings give the window. The second panel shows where they differ:
the first neuron fires twice, 10 ms apart, and the other neuron once, `|Δt|` after the second
spike. All-to-all pairing adds the contributions of both spikes; nearest pairing (traces reset
to 1) counts only the later one. Run:

    python examples/stdp_window.py                    # writes stdp_window.png
    python examples/stdp_window.py --max-lag 50 --out window.png
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim_ops as bo  # noqa: E402
from brainsim.plasticity import STDP  # noqa: E402

A_PLUS, A_MINUS = 0.01, 0.012       # Bi & Poo: depression a little stronger than potentiation
TAU_PLUS, TAU_MINUS = 16.8, 33.7    # ms (Bi & Poo 1998 as fitted by van Rossum et al. 2000)
W0 = 0.5                            # initial weight, inside the bounds [0, 1]
BURST_ISI = 10.0                    # ms between the two spikes of the first neuron (panel 2)


def pairing_change(rule: STDP, delta_t, n_first: int = 1, isi: float = BURST_ISI):
    """Weight change of one synapse when one neuron fires `n_first` spikes `isi` ms apart and the
    other fires once, `|delta_t|` ms after the last of them.

    `delta_t > 0`: the presynaptic neuron fires first (`t_post - t_pre = delta_t`); `delta_t < 0`:
    the postsynaptic one does. The rule is called once per spike time through its public
    `init` / `update`, with `dt` the interval since the previous call.
    """
    conn = bo.Dense(jnp.full((1, 1), W0))
    pre_first = (delta_t > 0).astype(conn.weights.dtype)
    first = (pre_first[None], 1.0 - pre_first[None])         # (pre, post) spikes of call 1
    second = (first[1], first[0])
    w, traces = conn.weights, rule.init(conn)
    for k in range(n_first):
        w, traces = rule.update(traces, w, *first, dt=0.0 if k == 0 else isi, conn=conn)
    w, traces = rule.update(traces, w, *second, dt=jnp.abs(delta_t), conn=conn)
    return w[0, 0] - W0


def analytic_window(delta_t, n_first: int = 1, pairing: str = "all_to_all",
                    isi: float = BURST_ISI):
    """The trace model's weight change in closed form (numpy): each earlier spike of the first
    neuron contributes one exponential (all-to-all), or only the last one does (nearest)."""
    delta_t = np.asarray(delta_t, dtype=float)
    lags = np.abs(delta_t)[:, None] + isi * np.arange(n_first)[None, :]   # to each first spike
    if pairing == "nearest":
        lags = lags[:, :1]
    potentiation = A_PLUS * np.exp(-lags / TAU_PLUS).sum(axis=1)
    depression = -A_MINUS * np.exp(-lags / TAU_MINUS).sum(axis=1)
    return np.where(delta_t > 0, potentiation, depression)


def measure(max_lag: float, step: float):
    """Lags (ms) and, per pairing, the measured changes for one pair and for two-then-one."""
    positive = np.arange(step, max_lag + step / 2, step)
    lags = np.concatenate([-positive[::-1], positive])
    changes = {}
    for pairing in ("all_to_all", "nearest"):
        rule = STDP(A_plus=A_PLUS, A_minus=A_MINUS, tau_plus=TAU_PLUS, tau_minus=TAU_MINUS,
                    w_min=0.0, w_max=1.0, pairing=pairing)
        for n_first in (1, 2):
            run = jax.jit(jax.vmap(lambda d, r=rule, n=n_first: pairing_change(r, d, n)))
            changes[pairing, n_first] = np.asarray(run(jnp.asarray(lags)))
    return lags, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lag", type=float, default=100.0, help="largest |Δt| (ms)")
    parser.add_argument("--step", type=float, default=0.5, help="spacing of the lags (ms)")
    parser.add_argument("--out", default="stdp_window.png", help="figure file to write")
    args = parser.parse_args()

    lags, changes = measure(args.max_lag, args.step)
    print(f"{lags.size} lags from {lags[0]:g} to {lags[-1]:g} ms, A_plus = {A_PLUS}, "
          f"A_minus = {A_MINUS}, tau_plus = {TAU_PLUS} ms, tau_minus = {TAU_MINUS} ms")
    for pairing in ("all_to_all", "nearest"):
        for n_first in (1, 2):
            expected = analytic_window(lags, n_first, pairing)
            error = np.max(np.abs(changes[pairing, n_first] - expected))
            what = "one pair" if n_first == 1 else "two spikes, then one"
            print(f"{pairing:>10}, {what:<20}: max |Δw - analytic| = {error:.2e}")
    for d in (10.0, -10.0):
        got = changes["all_to_all", 1][np.argmin(np.abs(lags - d))]
        print(f"Δt = {d:+g} ms: Δw = {got:+.6f}")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    dense = np.linspace(lags[0], lags[-1], 2001)
    dense = dense[dense != 0]
    for ax, n_first in zip(axes, (1, 2), strict=True):
        ax.axhline(0.0, color="0.8", lw=0.8)
        ax.axvline(0.0, color="0.8", lw=0.8)
        for pairing, colour, marker in (("all_to_all", "C0", "o"), ("nearest", "C3", "x")):
            every = max(1, lags.size // 60)
            ax.plot(lags[::every], changes[pairing, n_first][::every], marker, color=colour,
                    ms=4, mfc="none", label=f"STDP.update, {pairing}")
            for sign in (-1, 1):
                part = dense[np.sign(dense) == sign]
                label = "analytic (lines)" if (sign, pairing) == (1, "all_to_all") else None
                ax.plot(part, analytic_window(part, n_first, pairing), "-", color=colour, lw=1,
                        label=label)
    axes[0].set(xlabel="Δt = t_post - t_pre (ms)")
    axes[1].set(xlabel="Δt = t_post - t_pre of the closest pair (ms)")
    axes[0].set(ylabel="weight change Δw", title="one pair (Bi & Poo window)")
    axes[1].set(title=f"first neuron fires twice ({BURST_ISI:g} ms apart), then the other")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
