"""GLIF and GIF point neurons: cost per simulated second, brainsim vs NEST 3.10.

`--n` unconnected neurons (1000 by default) driven by constant currents spread over
200-600 pA, `--duration` ms at dt = 0.1 ms, for GLIF levels 1 and 5, GIF with two-component
kernels, and the plain LIF as the cost baseline of each simulator (`iaf_psc_alpha` in NEST).
brainsim runs twice in one process (compile = first run - second run); with `--peer-python`
the same script measures NEST's `glif_psc`, `gif_psc_exp` and `iaf_psc_alpha` in that
interpreter. Both sides are pinned to one core. One JSON line per model and simulator: times
(s) and the mean firing rate (Hz), so that a silent population cannot look fast.

    python bench/glif.py
    python bench/glif.py --peer-python /tmp/nest/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

DT = 0.1
GIF_KERNELS = dict(tau_stc=[10.0, 100.0], q_stc=[20.0, 5.0], tau_sfa=[20.0, 200.0],
                   q_sfa=[8.0, 2.0])  # fmt: skip
MODELS = ("LIF", "GLIF1", "GLIF5", "GIF")


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def _currents(n: int) -> np.ndarray:
    return np.linspace(200.0, 600.0, n)


def run_brainsim(n: int, duration: float) -> None:
    import jax
    import jax.numpy as jnp

    import brainsim as bs
    from brainsim.neurons import GIF, GLIF, LIF

    bs.use_cpu_cores(1)
    models = {
        "LIF": LIF(tau_m=10.0, R=0.04, v_th=-55.0, v_rest=-70.0, v_reset=-70.0),
        "GLIF1": GLIF(level=1),
        "GLIF5": GLIF(level=5),
        "GIF": GIF(Delta_V=1.0, **GIF_KERNELS),
    }
    currents = jnp.asarray(_currents(n))
    for name in MODELS:
        model = models[name]
        state = model.init(n, key=jax.random.key(0))
        times = []
        for repeat in range(2):
            began = time.perf_counter()
            result = bs.run(model, state, inputs=currents, duration=duration, dt=DT,
                            t0=repeat * duration, record=["spikes"], progress=False)
            jax.block_until_ready(result.final_state)
            times.append(time.perf_counter() - began)
            if repeat == 0:
                rate = len(result.spikes["spikes"]) / n / (duration / 1000)
        _emit(bench="glif", simulator="brainsim", model=name, n=n, bio_s=duration / 1000,
              dt_ms=DT, cores=1, compile_s=round(times[0] - times[1], 3),
              run_s=round(times[1], 3), rate_hz=round(rate, 3))  # fmt: skip


def run_nest(n: int, duration: float) -> None:
    import nest

    nest.set_verbosity("M_ERROR")
    for name in MODELS:
        nest.ResetKernel()
        nest.set(resolution=DT, local_num_threads=1, print_time=False)
        began = time.perf_counter()
        if name == "LIF":
            pop = nest.Create("iaf_psc_alpha", n, params=dict(tau_m=10.0, C_m=250.0,
                              V_th=-55.0, E_L=-70.0, V_reset=-70.0))  # fmt: skip
        elif name.startswith("GLIF"):
            flags = name == "GLIF5"
            pop = nest.Create("glif_psc", n, params=dict(spike_dependent_threshold=flags,
                              after_spike_currents=flags, adapting_threshold=flags))  # fmt: skip
        else:
            pop = nest.Create("gif_psc_exp", n, params=dict(Delta_V=1.0, **GIF_KERNELS))
        # Constant currents: I_e where the model has it, else one dc generator per neuron.
        if name == "GLIF1" or name == "GLIF5":
            for i, amplitude in enumerate(_currents(n)):
                dc = nest.Create("dc_generator", params=dict(amplitude=float(amplitude)))
                nest.Connect(dc, pop[i])
        else:
            pop.set([dict(I_e=float(a)) for a in _currents(n)])
        recorder = nest.Create("spike_recorder")
        nest.Connect(pop, recorder)
        nest.Prepare()
        build_s = time.perf_counter() - began
        began = time.perf_counter()
        nest.Run(duration)
        run_s = time.perf_counter() - began
        nest.Cleanup()
        rate = recorder.get("n_events") / n / (duration / 1000)
        _emit(bench="glif", simulator="nest", version=nest.__version__, model=name, n=n,
              bio_s=duration / 1000, dt_ms=DT, cores=1, compile_s=round(build_s, 3),
              run_s=round(run_s, 3), rate_hz=round(rate, 3))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="neurons per model")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    parser.add_argument("--peer-python", default=None, help="interpreter with NEST 3.10")
    parser.add_argument("--side", choices=["brainsim", "nest"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "brainsim":
        run_brainsim(args.n, args.duration)
        return
    if args.side == "nest":
        run_nest(args.n, args.duration)
        return
    common = ["--n", str(args.n), "--duration", str(args.duration)]
    subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--side", "brainsim",
                    *common], check=True)  # fmt: skip
    if args.peer_python:
        subprocess.run(["taskset", "-c", "0", args.peer_python, __file__, "--side", "nest",
                        *common], check=True)  # fmt: skip


if __name__ == "__main__":
    main()
