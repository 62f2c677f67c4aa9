"""Generate Brian2 reference firing statistics of the COBA network (Vogels & Abbott 2005).

Brian2 is not a test dependency: run this with an environment that has it, e.g.

    /path/to/venv-with-brian2/bin/python tests/reference/make_brian2_coba_refs.py

It writes `brian2_coba_rates.npz`: for several seeds, the mean E and I rates (Hz) and the mean
CV of inter-spike intervals over 1 s of biological time, dt = 0.1 ms, exponential Euler,
the same model and parameters as `brainsim.benchmarks.coba`.
"""

from __future__ import annotations

import pathlib

import brian2 as b2
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SEEDS = (1, 2, 3, 4)
N, N_E, P, DURATION = 4000, 3200, 0.02, 1000.0


def _cv(monitor) -> float:
    cvs = []
    for times in monitor.spike_trains().values():
        t = np.asarray(times / b2.ms)
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(np.std(isi) / np.mean(isi))
    return float(np.mean(cvs))


def run(seed: int) -> tuple[float, float, float, float]:
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    eqs = """
    dv/dt = (-60*mV - v + ge*(0*mV - v) + gi*(-80*mV - v) + 20*mV)/(20*ms) : volt (unless refractory)
    dge/dt = -ge/(5*ms) : 1
    dgi/dt = -gi/(10*ms) : 1
    """  # noqa: E501
    group = b2.NeuronGroup(N, eqs, threshold="v > -50*mV", reset="v = -60*mV",
                           refractory=5 * b2.ms, method="exponential_euler")
    group.v = "-60*mV + rand() * 10*mV"
    exc, inh = group[:N_E], group[N_E:]
    ce = b2.Synapses(exc, group, on_pre="ge += 0.6")
    ci = b2.Synapses(inh, group, on_pre="gi += 6.7")
    ce.connect(p=P)
    ci.connect(p=P)
    me, mi = b2.SpikeMonitor(exc), b2.SpikeMonitor(inh)
    b2.run(DURATION * b2.ms)
    seconds = DURATION / 1000
    return (me.num_spikes / N_E / seconds, mi.num_spikes / (N - N_E) / seconds, _cv(me), _cv(mi))


def main() -> None:
    rows = np.array([run(seed) for seed in SEEDS])
    for seed, row in zip(SEEDS, rows, strict=True):
        print(f"seed {seed}: E {row[0]:.2f} Hz, I {row[1]:.2f} Hz, CV {row[2]:.2f} / {row[3]:.2f}")
    np.savez(HERE / "brian2_coba_rates.npz", seeds=np.array(SEEDS), rate_E=rows[:, 0],
             rate_I=rows[:, 1], cv_E=rows[:, 2], cv_I=rows[:, 3], duration_ms=DURATION, dt_ms=0.1,
             brian2_version=b2.__version__)


if __name__ == "__main__":
    main()
