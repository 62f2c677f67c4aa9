"""The five GLIF levels (Allen Institute) and an escape-noise GIF under one current step.

Each GLIF level of NEST's default cell (Allen 490626718) gets the same current step; the
figure shows the membrane potential and the moving threshold, and the GIF panel a raster of
repeated trials (escape noise, one key per trial). Run:

    python examples/glif.py                     # writes glif.png
    python examples/glif.py --full --out glif_full.png   # 1 s step and f-I curves
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
from brainsim.neurons import GIF, GLIF  # noqa: E402

DT = 0.1


def glif_trace(level: int, current: float, duration: float):
    model = GLIF(level=level)
    result = bs.run(
        model,
        model.init(1),
        inputs=current,
        duration=duration,
        dt=DT,
        stream=False,
        record={"v": [0], "spikes": None, "theta": lambda s, _: model.threshold(s)},
    )
    return result


def f_i_curve(level: int, currents, duration: float):
    """Firing rate (Hz) at each current (pA), one neuron per current, in one run."""
    model = GLIF(level=level)
    result = bs.run(
        model,
        model.init(len(currents)),
        inputs=jnp.asarray(currents),
        duration=duration,
        dt=DT,
        stream=False,
        record=["spikes"],
    )
    return np.asarray(result.spikes["spikes"]).sum(0) / duration * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1 s step and f-I curves")
    parser.add_argument("--out", default="glif.png", help="figure file to write")
    args = parser.parse_args()
    duration = 1000.0 if args.full else 300.0
    current = 350.0
    began = time.perf_counter()

    rows = 6 + int(args.full)
    fig, axes = plt.subplots(rows, 1, figsize=(8, 1.6 * rows))
    for level in range(1, 6):
        result = glif_trace(level, current, duration)
        t = np.asarray(result.t)
        ax = axes[level - 1]
        ax.plot(t, np.asarray(result.traces["v"])[:, 0], lw=0.8, label="v")
        ax.plot(t, np.asarray(result.traces["theta"])[:, 0], lw=0.8, label="threshold")
        count = int(np.asarray(result.spikes["spikes"]).sum())
        ax.set_title(
            f"GLIF {level} ({GLIF.LEVELS[level]}), {current:g} pA: {count} spikes", fontsize=8
        )
        ax.set_ylabel("mV")
        print(f"GLIF {level} {GLIF.LEVELS[level]}: {count} spikes in {duration:g} ms")
    axes[0].legend(fontsize=7, loc="lower right")

    gif = GIF(
        tau_stc=(10.0, 100.0),
        q_stc=(20.0, 5.0),
        tau_sfa=(20.0, 200.0),
        q_sfa=(8.0, 2.0),
        Delta_V=1.0,
    )
    trials = 20
    result = bs.run(
        gif,
        gif.init(trials, key=jax.random.key(0)),
        inputs=260.0,
        duration=duration,
        dt=DT,
        record=["spikes"],
    )
    events = result.spikes["spikes"]
    times, senders = np.asarray(events.times), np.asarray(events.indices)
    axes[5].plot(times, senders, "|", ms=3)
    axes[5].set_title(
        f"GIF escape noise, 260 pA, {trials} trials: {len(times) / trials / duration * 1e3:.1f} Hz",
        fontsize=8,
    )
    axes[5].set_ylabel("trial")
    print(f"GIF: {len(times) / trials / duration * 1e3:.1f} Hz over {trials} trials")

    if args.full:
        currents = np.linspace(0.0, 800.0, 33)
        for level in range(1, 6):
            axes[6].plot(currents, f_i_curve(level, currents, duration), label=f"GLIF {level}")
        axes[6].set_xlabel("current (pA)")
        axes[6].set_ylabel("rate (Hz)")
        axes[6].legend(fontsize=7)
    for ax in axes[:6]:
        ax.set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out} in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
