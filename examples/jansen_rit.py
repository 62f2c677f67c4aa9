"""The alpha rhythm of Jansen & Rit (1995)'s cortical column, and how it depends on C.

Each Jansen-Rit column (pyramidal cells with excitatory and inhibitory interneurons) is driven
by an external rate p drawn every step uniformly from 120-320 Hz. With the paper's constants
(A = 3.25 mV, B = 22 mV, a = 100/s, b = 50/s, e0 = 2.5/s, v0 = 6 mV, r = 0.56/mV) and
C = 135, the EEG (y1 - y2) oscillates in the alpha band, near 10 Hz. Like the paper's Fig. 3,
the script varies the connectivity constant C (68, 128, 135, 270, 675, 1350: one `vmap` over
the models) and prints each EEG's spectral peak and amplitude; the rhythm appears only for
intermediate C. It writes a figure of the EEG traces and their spectra.

    python examples/jansen_rit.py              # 4 columns per C, 4 s at dt = 0.5 ms
    python examples/jansen_rit.py --full       # 16 columns per C, 20 s at dt = 0.1 ms

Reference: Jansen BH, Rit VG (1995). Biol. Cybern. 73:357-366, Fig. 3.
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
from brainsim import rate  # noqa: E402

C_VALUES = (68.0, 128.0, 135.0, 270.0, 675.0, 1350.0)
TRANSIENT = 1000.0  # ms dropped before the analysis


def simulate(c_values, columns: int, duration: float, dt: float, key):
    """EEG `(len(c_values), steps, columns)` in mV of columns at each C, one vmap."""

    def one(C, key):
        model = rate.JansenRit(C=C)
        result = bs.run(model, model.init(columns, key=key), duration=duration, dt=dt,
                        record=["y1", "y2"], stream=False)
        return result["y1"] - result["y2"]

    keys = jax.random.split(key, len(c_values))
    return np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(c_values), keys))


def spectrum(eeg: np.ndarray, dt: float):
    """Frequencies (Hz) and the column-averaged power of EEG traces `(steps, columns)`."""
    power = (np.abs(np.fft.rfft(eeg - eeg.mean(0), axis=0)) ** 2).mean(1)
    return np.fft.rfftfreq(eeg.shape[0], dt * 1e-3), power


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="16 columns, 20 s, dt = 0.1 ms")
    parser.add_argument("--out", default="jansen_rit.png", help="figure path")
    args = parser.parse_args()
    columns, duration, dt = (16, 20000.0, 0.1) if args.full else (4, 4000.0, 0.5)
    eeg = simulate(C_VALUES, columns, duration + TRANSIENT, dt, jax.random.key(0))
    eeg = eeg[:, round(TRANSIENT / dt):]

    fig, axes = plt.subplots(len(C_VALUES), 2, figsize=(10, 2 * len(C_VALUES)),
                             gridspec_kw={"width_ratios": [3, 1]})
    t = np.arange(eeg.shape[1]) * dt
    show = t < 2000.0
    print(f"{'C':>6} {'peak (Hz)':>10} {'EEG std (mV)':>13}")
    for row, (C, trace) in enumerate(zip(C_VALUES, eeg, strict=True)):
        freq, power = spectrum(trace, dt)
        band = (freq > 1.0) & (freq < 40.0)
        peak = freq[band][np.argmax(power[band])]
        print(f"{C:6.0f} {peak:10.2f} {trace.std(0).mean():13.3f}")
        axes[row, 0].plot(t[show], trace[show, 0], lw=0.7)
        axes[row, 0].set_ylabel(f"C = {C:g}\ny1 - y2 (mV)")
        axes[row, 1].semilogy(freq[band], power[band])
        axes[row, 1].axvline(peak, color="k", lw=0.5, ls=":")
    axes[-1, 0].set_xlabel("time (ms)")
    axes[-1, 1].set_xlabel("frequency (Hz)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
