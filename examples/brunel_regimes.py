"""The four regimes of Brunel (2000)'s sparse network of excitatory and inhibitory LIF neurons.

N_E excitatory and N_I = N_E / 4 inhibitory LIF neurons (tau = 20 ms, threshold 20 mV, reset
10 mV, refractory 2 ms), each receiving C_E = N_E / 10 excitatory and C_I = C_E / 4 inhibitory
synapses that raise (E) or lower (I, g times stronger) the membrane potential by J after a
delay of 1.5 ms, plus C_E external Poisson inputs at nu_ext each. Depending on the relative
inhibition g and the drive nu_ext / nu_thr (nu_thr: the external rate that brings the mean
input to threshold), the network fires

    SR  synchronous regular      g = 3,   nu_ext / nu_thr = 2
    SI  synchronous irregular    g = 6,   nu_ext / nu_thr = 4    (fast oscillation)
    AI  asynchronous irregular   g = 5,   nu_ext / nu_thr = 2
    SI  synchronous irregular    g = 4.5, nu_ext / nu_thr = 0.9  (slow oscillation)

which the script tells apart with `brainsim.analysis`: the mean rate, the irregularity (CV of
inter-spike intervals) and the spectrum of the population rate: the strongest peak below and
above 60 Hz, each with its height over the median of its band (a tall peak for the
synchronous regimes, a flat spectrum for AI). It writes a figure like Brunel's Fig. 8:
raster, population rate and spectrum of each regime.

    python examples/brunel_regimes.py                       # N_E = 1000, 0.5 s each
    python examples/brunel_regimes.py --n-e 10000 --duration 1200   # the paper's size

The paper's network has C_E = 1000 and J = 0.1 mV; smaller networks keep J C_E = 100 mV
(J = 100 mV / C_E), so the mean input is the paper's and its fluctuations somewhat larger.

Reference: Brunel (2000), J. Comput. Neurosci. 8:183, Fig. 8.
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
import brainsim_ops as bo  # noqa: E402
from brainsim import analysis  # noqa: E402

REGIMES = {"A: SR": (3.0, 2.0), "B: SI fast": (6.0, 4.0), "C: AI": (5.0, 2.0),
           "D: SI slow": (4.5, 0.9)}
TAU, THETA, V_RESET, T_REF, DELAY, TAU_SYN = 20.0, 20.0, 10.0, 2.0, 1.5, 0.5


BANDS = ((5.0, 60.0), (60.0, 500.0))  # slow and fast oscillations (Hz)


def spectral_peak(freqs, psd, low: float, high: float) -> tuple[float, float]:
    """The frequency (Hz) of the largest power in `[low, high)` and how many times the median
    power of the band it is: about 1-3 for a flat (asynchronous) spectrum, far more for an
    oscillation."""
    band = (freqs >= low) & (freqs < high)
    at = np.argmax(psd[band])
    return float(freqs[band][at]), float(psd[band][at] / np.median(psd[band]))


def build(key, n_e: int, g: float, dt: float):
    """The network, and the weight (pA) that makes a spike move v by J = 100 mV / C_E."""
    n_i, c_e = n_e // 4, n_e // 10
    c_i, j = c_e // 4, 100.0 / c_e
    # an exponential current of tau_syn = 0.5 ms, held over each step: the charge it carries
    # in total moves v by J (close to Brunel's delta synapses)
    weight = j * TAU * (1 - np.exp(-dt / TAU_SYN)) / dt
    lif = bs.neurons.LIF(tau_m=TAU, v_rest=0.0, v_th=THETA, v_reset=V_RESET, t_ref=T_REF, R=1.0)
    keys = jax.random.split(key, 4)
    projections = [
        bs.Projection(pre, post, bo.fixed_in_degree(k, n_pre, n_post, c, weight=w),
                      bs.synapses.Exponential(tau=TAU_SYN), bs.synapses.Current(),
                      delay_steps=round(DELAY / dt))
        for k, (pre, post, n_pre, n_post, c, w) in zip(keys, [
            ("E", "E", n_e, n_e, c_e, weight), ("E", "I", n_e, n_i, c_e, weight),
            ("I", "E", n_i, n_e, c_i, -g * weight), ("I", "I", n_i, n_i, c_i, -g * weight)],
            strict=True)
    ]
    return bs.Network({"E": (lif, n_e), "I": (lif, n_i)}, projections), c_e, j


def external(rng, n_e: int, c_e: int, j: float, nu_ext: float, dt: float, steps: int):
    """Input current (pA) per step of C_E Poisson inputs at nu_ext Hz each: Poisson counts,
    each moving v by J within its step (given as a series, so the four regimes share one
    compiled program)."""
    per_spike = j / (1 - np.exp(-dt / TAU))
    current = per_spike * rng.poisson(c_e * nu_ext * dt * 1e-3, (steps, n_e + n_e // 4))
    return {"E": jnp.asarray(current[:, :n_e], jnp.float32),
            "I": jnp.asarray(current[:, n_e:], jnp.float32)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-e", type=int, default=1000, help="excitatory neurons")
    parser.add_argument("--duration", type=float, default=500.0, help="ms per regime")
    parser.add_argument("--dt", type=float, default=0.1, help="time step (ms)")
    parser.add_argument("--out", default="brunel_regimes.png", help="figure to write")
    args = parser.parse_args()
    settle = 100.0                                    # ms left out of the statistics
    rng = np.random.default_rng(2)
    fig, axes = plt.subplots(len(REGIMES), 3, figsize=(11, 2.3 * len(REGIMES)),
                             gridspec_kw={"width_ratios": [2, 2, 1.2]})
    for row, (label, (g, drive)) in zip(axes, REGIMES.items(), strict=True):
        net, c_e, j = build(jax.random.key(0), args.n_e, g, args.dt)
        nu_thr = THETA / (j * c_e * TAU * 1e-3)       # Hz
        steps = round(args.duration / args.dt)
        series = external(rng, args.n_e, c_e, j, drive * nu_thr, args.dt, steps)
        result = bs.run(net, net.init(jax.random.key(1)), input_series=series,
                        duration=args.duration, dt=args.dt, record=["E.spikes"])
        window = {"name": "E.spikes", "t_start": settle, "t_stop": args.duration}
        rate = float(np.mean(analysis.firing_rates(result, **window)))
        cv = float(np.nanmean(analysis.cv(result, name="E.spikes")))
        t, population = analysis.population_rate(result, 0.5, **window)
        freqs, psd = analysis.power_spectrum(population, 0.5,
                                             segment=min(100.0, args.duration - settle))
        slow, fast = (spectral_peak(freqs, np.asarray(psd), *band) for band in BANDS)
        print(f"{label:11s} g = {g:3.1f}, nu_ext/nu_thr = {drive:3.1f}: rate {rate:5.1f} Hz, "
              f"CV {cv:4.2f}, peak 5-60 Hz: {slow[0]:3.0f} Hz (x{slow[1]:4.1f}), "
              f"60-500 Hz: {fast[0]:3.0f} Hz (x{fast[1]:4.1f})")
        events = result.spikes["E.spikes"]
        shown = (events.indices < 50) & (events.times >= args.duration - 200.0)
        row[0].scatter(events.times[shown], events.indices[shown], s=1, c="k", marker=".")
        row[0].set(ylabel=label, xlim=(args.duration - 200.0, args.duration))
        row[1].plot(t, np.asarray(population), lw=0.6, c="k")
        row[1].set(xlim=(args.duration - 200.0, args.duration), ylabel="rate (Hz)")
        row[2].semilogy(freqs[1:], np.asarray(psd)[1:], c="k")
        row[2].set(xlim=(0, 500), ylabel="PSD (Hz²/Hz)")
    for ax, xlabel in zip(axes[-1], ("time (ms)", "time (ms)", "frequency (Hz)"), strict=True):
        ax.set_xlabel(xlabel)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
