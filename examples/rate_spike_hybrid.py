"""A hybrid network: a rate population drives spiking neurons, whose rate is read back out.

A rate population R (input noise, tanh gain) follows a slow 2 Hz sinusoidal drive. Through
`RateToSpikes` it sets the rate of Poisson units P (40 Hz per unit of R's rate), which excite
LIF neurons E through a sparse current-based projection; `spike_to_rate` filters E's spikes
(20 ms) into the input of a readout rate population F, so F holds E's firing rate in Hz.
Everything is one `Network`, stepped in one compiled loop. The script prints the mean rates and
the correlation between R's rate and F's readout (the spiking layer relays the slow signal),
and writes a figure: R's rate, E's raster and F's readout.

    python examples/rate_spike_hybrid.py            # 400 neurons per layer, 2 s
    python examples/rate_spike_hybrid.py --full     # 4000 neurons per layer, 10 s
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
from brainsim import rate  # noqa: E402

DT = 0.1


def build(n: int) -> bs.Network:
    """R (rate) -> P (Poisson) -> E (LIF) -> F (rate readout of E, Hz)."""
    conn = bo.fixed_prob(jax.random.key(0), n, n, 50 / n, weight=15.0)  # 50 inputs of 15 pA
    return bs.Network(
        {
            "R": (rate.InputNoiseRate(tau=20.0, mu=0.5, sigma=0.05, gain=rate.Tanh()), n),
            "P": (bs.neurons.PoissonSource(), n),
            "E": (bs.neurons.LIF(tau_m=10.0, v_rest=-65.0, v_th=-50.0, v_reset=-65.0), n),
            "F": (rate.InputNoiseRate(tau=1.0), n),
        },
        [
            bs.Projection("P", "E", conn, bs.synapses.Exponential(tau=5.0),
                          bs.synapses.Current()),
            rate.spike_to_rate("E", "F", n, tau=20.0),
        ],
        couplings=[rate.RateToSpikes("R", "P", scale=40.0)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="4000 neurons per layer, 10 s")
    parser.add_argument("--out", default="rate_spike_hybrid.png", help="figure path")
    args = parser.parse_args()
    n, duration = (4000, 10000.0) if args.full else (400, 2000.0)
    net = build(n)

    def drive(t):
        return {"R": 1.5 * jnp.sin(2 * jnp.pi * 2.0 * t * 1e-3)}

    result = bs.run(net, net.init(jax.random.key(1)), inputs=drive, duration=duration, dt=DT,
                    record={"R.rate": None, "F.rate": None, "E.spikes": None}, every=10)
    t = np.asarray(result.t)
    r_mean = np.asarray(result["R.rate"]).mean(1)
    f_mean = np.asarray(result["F.rate"]).mean(1)
    spikes = result.spikes["E.spikes"]
    settled = t > 200.0
    corr = np.corrcoef(r_mean[settled], f_mean[settled])[0, 1]
    print(f"R rate: mean {r_mean.mean():.3f}, range {r_mean.min():.3f} .. {r_mean.max():.3f}")
    print(f"E spikes: {len(spikes.times) / n / (duration / 1000):.2f} Hz per neuron")
    print(f"F readout: mean {f_mean[settled].mean():.2f} Hz")
    print(f"correlation(R, F) = {corr:.3f}")

    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
    axes[0].plot(t, r_mean)
    axes[0].set_ylabel("R rate (a.u.)")
    shown = np.asarray(spikes.indices) < 100
    axes[1].plot(np.asarray(spikes.times)[shown], np.asarray(spikes.indices)[shown], "|",
                 ms=2, color="k")
    axes[1].set_ylabel("E neuron")
    axes[2].plot(t, f_mean)
    axes[2].set_ylabel("F readout (Hz)")
    axes[2].set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
