"""Fit AdEx, Izhikevich and adaptive LIF to a real cortical neuron, and test on held-out sweeps.

Cell B6 of the BluePyEfe IDRest recordings (rat somatosensory cortex, regular spiking,
adapting; `brainsim.datasets.load_idrest`): five 2 s current steps. Each model is fitted with
`brainsim.fit.fit_model` (random search, then multistart Adam through the simulation with
surrogate gradients) on the steps of 119, 238 and 353 pA and tested on 175 and 297 pA. The
loss is `recording_loss()`: subthreshold voltage (spike windows masked) + spike count + van
Rossum distance. Printed per model: held-out coincidence factor Γ (Δ = 4 ms), spike-count
error, subthreshold RMSE, wall time (compilation included). Run:

    python examples/fit_recordings.py                  # 1 s windows at dt 1 ms, < 1 min
    python examples/fit_recordings.py --full --out fit.png    # the whole sweeps at 0.25 ms
"""

from __future__ import annotations

import argparse

import equinox as eqx
import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from jaxtyping import Array, Float  # noqa: E402

import brainsim as bs  # noqa: E402
from brainsim.datasets import load_idrest  # noqa: E402
from brainsim.fit import SweepData, fit_model  # noqa: E402

TRAIN, TEST = [0, 2, 4], [1, 3]


class ScaledInput(eqx.Module):
    """A neuron driven by `gain · I`: Izhikevich's input is dimensionless, the recording's pA."""

    neuron: bs.neurons.Izhikevich
    gain: Float[Array, ""]

    def init(self, n, key=None):
        return self.neuron.init(n, key)

    def step(self, state, inputs, *, t, dt):
        return self.neuron.step(state, self.gain * inputs, t=t, dt=dt)


def models():
    """(name, template, {parameter: bounds or None}, search ranges) of each model."""
    # spike cut-off at -30 mV: at dt 1 ms a cut-off at 0 mV makes the exponential overshoot
    # so far that its gradient overflows (NaN) in float32
    adex = bs.neurons.AdEx(C=200.0, g_L=12.0, E_L=-70.0, V_T=-45.0, delta_T=2.0, a=2.0,
                           tau_w=300.0, b=60.0, V_r=-55.0, V_peak=-30.0)
    izhikevich = ScaledInput(
        bs.neurons.Izhikevich.regime("RS", method="half_steps"), jax.numpy.asarray(0.05)
    )
    alif = bs.neurons.ALIF(tau_m=15.0, R=0.15, v_rest=-70.0, v_th=-45.0, v_reset=-55.0,
                           tau_a=200.0, beta=3.0)
    return [
        ("AdEx", adex,
         {"C": None, "g_L": None, "E_L": None, "V_T": None, "tau_w": None, "a": (-10.0, 20.0),
          "b": (0.0, 300.0), "V_r": None},
         {"E_L": (-75.0, -62.0), "V_T": (-55.0, -35.0), "V_r": (-65.0, -40.0)}),
        ("Izhikevich", izhikevich,
         {"neuron.a": None, "neuron.b": (0.05, 0.4), "neuron.c": None, "neuron.d": (0.0, 20.0),
          "gain": (1e-3, 1.0)},
         {"neuron.c": (-70.0, -40.0), "gain": (0.01, 0.2)}),
        ("ALIF", alif,
         ["tau_m", "R", "v_rest", "v_th", "v_reset", "tau_a", "beta"],
         {"v_rest": (-75.0, -62.0), "v_th": (-55.0, -30.0), "v_reset": (-70.0, -45.0),
          "beta": (0.5, 10.0)}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="whole 3 s sweeps at dt 0.25 ms, more candidates and steps")
    parser.add_argument("--out", default="fit_recordings.png", help="figure file to write")
    parser.add_argument("--duration", type=float, help="window after 600 ms (ms)")
    parser.add_argument("--samples", type=int, help="candidates of the global stage")
    parser.add_argument("--steps", type=int, help="refinement steps")
    args = parser.parse_args()
    dt, window, samples, steps = (0.25, (0.0, 3000.0), 2048, 300) if args.full else (
        1.0, (600.0, 1600.0), 256, 60)
    if args.duration:
        window = (600.0, 600.0 + args.duration)
    samples, steps = args.samples or samples, args.steps or steps

    recording = load_idrest("B6")
    train = SweepData.from_recording(recording, TRAIN, dt=dt, window=window, t_start=50.0)
    test = SweepData.from_recording(recording, TEST, dt=dt, window=window, t_start=50.0)
    print(f"cell B6: train on {recording.amplitudes[TRAIN].round()} pA, test on "
          f"{recording.amplitudes[TEST].round()} pA; window {window} ms at dt {dt} ms; "
          f"{samples} candidates, {steps} steps")
    print(f"{'model':<11} {'train loss':>10} {'held-out Γ':>11} {'|ΔN| (spikes)':>14} "
          f"{'ΔN/N':>6} {'RMSE (mV)':>10} {'wall (s)':>9}")
    fig, axes = plt.subplots(3, len(TEST), figsize=(11, 7), sharex=True, squeeze=False)
    for row, (name, template, names, search) in enumerate(models()):
        result = fit_model(template, names, train, search=search, n_samples=samples,
                           n_starts=4, steps=steps, progress=False)
        report = result.evaluate(test)
        summary = report.summary()
        print(f"{name:<11} {result.loss:>10.2f} {summary['gamma']:>11.2f} "
              f"{summary['count_error']:>14.1f} {summary['relative_count_error']:>6.2f} "
              f"{summary['rmse']:>10.2f} {result.wall_time:>9.1f}")
        for col in range(len(TEST)):
            ax = axes[row, col]
            t = test.time + test.t_offset
            ax.plot(t, test.voltage[:, col], color="0.5", lw=0.6, label="recorded")
            ax.plot(t, report.simulation.v[:, col], color=f"C{row}", lw=0.7, label=name)
            ax.set_title(f"{name}, {recording.amplitudes[TEST[col]]:.0f} pA (held out): "
                         f"Γ = {report.gamma[col]:.2f}", fontsize="small")
            ax.legend(loc="lower right", fontsize="x-small")
        axes[row, 0].set_ylabel("v (mV)")
    for ax in axes[-1]:
        ax.set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
