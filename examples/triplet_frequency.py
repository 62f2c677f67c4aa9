"""Triplet STDP on the pairing protocol of Sjöström, Turrigiano & Nelson (2001).

60 pairs of a presynaptic and a postsynaptic spike, `Δt = t_post - t_pre = +10 ms` (pre before
post) or `-10 ms` (post before pre), repeated at 0.1 to 50 Hz, drive `TripletSTDP.visual_cortex()`
(Pfister & Gerstner 2006). The rule is called once per spike time through its public
`init` / `update`, with `dt` the interval since the previous call. Overlaid: the model's weight
change in closed form, a sum over spikes of the traces

    Δw = Σ_post r1 (A2_plus + A3_plus o2) - Σ_pre o1 (A2_minus + A3_minus r2),

each trace the sum of `exp(-(t - t_k) / tau)` over the earlier spikes `t_k < t` (all-to-all) or
only the last of them (nearest). At low frequency only the pair term acts (depression for
post-before-pre, almost nothing for pre-before-post since A2_plus ~ 0); at high frequency the
triplet term potentiates both orders, as in the slices. The nearest panel keeps the all-to-all
constants and only sets `pairing="nearest"`: with traces capped at 1 the triplet term stays
small and high frequencies depress instead, so a nearest-spike model needs constants fitted for
it (Pfister & Gerstner fitted each pairing scheme separately). Run:

    python examples/triplet_frequency.py              # writes triplet_frequency.png
    python examples/triplet_frequency.py --pairs 30 --out triplet.png
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
from brainsim.plasticity import TripletSTDP  # noqa: E402

FREQUENCIES = (0.1, 1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0)    # Hz
LAGS = (10.0, -10.0)                                              # ms, t_post - t_pre
PAIRINGS = ("all_to_all", "nearest")


def protocol(frequency: float, delta_t: float, n_pairs: int):
    """Spike times (ms): pair k starts at k / frequency; post follows pre by `delta_t`."""
    starts = np.arange(n_pairs) * 1000.0 / frequency
    pre = starts if delta_t > 0 else starts + abs(delta_t)
    post = starts + delta_t if delta_t > 0 else starts
    return pre, post


def events(pre_times, post_times):
    """The intervals between successive spike times and the spikes at each (one call each)."""
    times = np.union1d(pre_times, post_times)
    dt = np.diff(times, prepend=0.0)
    pre = np.isin(times, pre_times)[:, None].astype(np.float32)
    post = np.isin(times, post_times)[:, None].astype(np.float32)
    return dt.astype(np.float32), pre, post


def rule_change(rule: TripletSTDP, dt, pre, post):
    """Weight change of one synapse (starting at 0) after calling `rule.update` per event."""
    conn = bo.Dense(jnp.zeros((1, 1)))

    def call(carry, inputs):
        w, traces = carry
        dt, s_pre, s_post = inputs
        return rule.update(traces, w, s_pre, s_post, dt=dt, conn=conn), None

    (w, _), _ = jax.lax.scan(call, (conn.weights, rule.init(conn)), (dt, pre, post))
    return w[0, 0]


def model_change(rule: TripletSTDP, pre_times, post_times) -> float:
    """The closed-form weight change: the sum over spikes of the traces (numpy, float64)."""
    c = {name: float(getattr(rule, name)) for name in (
        "A2_plus", "A3_plus", "A2_minus", "A3_minus", "tau_plus", "tau_minus", "tau_x", "tau_y")}

    def trace(t, times, tau):
        earlier = times[times < t]
        if rule.pairing == "nearest":
            earlier = earlier[-1:]
        return np.exp(-(t - earlier) / tau).sum()

    potentiation = sum(trace(t, pre_times, c["tau_plus"])
                       * (c["A2_plus"] + c["A3_plus"] * trace(t, post_times, c["tau_y"]))
                       for t in post_times)
    depression = sum(trace(t, post_times, c["tau_minus"])
                     * (c["A2_minus"] + c["A3_minus"] * trace(t, pre_times, c["tau_x"]))
                     for t in pre_times)
    return potentiation - depression


def measure(n_pairs: int):
    """Per (pairing, Δt): the rule's weight changes at `FREQUENCIES` (float32, via `update`)."""
    measured = {}
    for pairing in PAIRINGS:
        rule = TripletSTDP.visual_cortex(w_min=-jnp.inf, pairing=pairing)
        run = jax.jit(jax.vmap(lambda dt, pre, post, r=rule: rule_change(r, dt, pre, post)))
        for delta_t in LAGS:
            inputs = [events(*protocol(f, delta_t, n_pairs)) for f in FREQUENCIES]
            stacked = [jnp.asarray(np.stack(arrays)) for arrays in zip(*inputs, strict=True)]
            measured[pairing, delta_t] = np.asarray(run(*stacked))
    return measured


def closed_form(n_pairs: int, frequencies):
    """Per (pairing, Δt): the closed-form weight changes at `frequencies`."""
    return {
        (pairing, delta_t): np.array([
            model_change(TripletSTDP.visual_cortex(pairing=pairing),
                         *protocol(f, delta_t, n_pairs))
            for f in frequencies])
        for pairing in PAIRINGS for delta_t in LAGS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=60, help="number of pairings")
    parser.add_argument("--out", default="triplet_frequency.png", help="figure file to write")
    args = parser.parse_args()

    dense = np.geomspace(FREQUENCIES[0], FREQUENCIES[-1], 60)
    measured = measure(args.pairs)
    formula, curves = closed_form(args.pairs, FREQUENCIES), closed_form(args.pairs, dense)
    print(f"weight change after {args.pairs} pairs, TripletSTDP.visual_cortex() "
          "(update / closed form)")
    for pairing in PAIRINGS:
        print(f"{pairing}:")
        print("  f (Hz)" + "".join(f"   Δt = {d:+g} ms (update / formula)" for d in LAGS))
        for i, f in enumerate(FREQUENCIES):
            row = "".join(f"  {measured[pairing, d][i]:+13.6f} / {formula[pairing, d][i]:+10.6f}"
                          for d in LAGS)
            print(f"  {f:6g}{row}")
        error = max(np.max(np.abs(measured[pairing, d] - formula[pairing, d])) for d in LAGS)
        print(f"  max |update - formula| = {error:.2e}")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, pairing in zip(axes, PAIRINGS, strict=True):
        ax.axhline(0.0, color="0.8", lw=0.8)
        for delta_t, colour in zip(LAGS, ("C0", "C3"), strict=True):
            order = "pre → post" if delta_t > 0 else "post → pre"
            ax.plot(dense, curves[pairing, delta_t], "-", color=colour, lw=1,
                    label=f"closed form, Δt = {delta_t:+g} ms")
            ax.plot(FREQUENCIES, measured[pairing, delta_t], "o", color=colour, mfc="none",
                    label=f"TripletSTDP.update, {order}")
        title = pairing if pairing == "all_to_all" else "nearest (all-to-all constants)"
        ax.set(xscale="log", xlabel="pairing frequency (Hz)", title=title)
    axes[0].set(ylabel=f"weight change after {args.pairs} pairs")
    axes[0].legend(fontsize=8)
    fig.suptitle("Sjöström et al. (2001) protocol, triplet STDP (visual cortex constants)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
