"""COBA 4k with pair STDP on its excitatory-to-excitatory synapses, against the static network.

One JSON line per measurement, each from a fresh process pinned to `--cores` cores: time per
biological second with compile time separate, firing rates, the mean E->E weight before and
after, and the ratio to the static network (target: at most 2). BrainPy's STDP
(`bp.dyn.STDP_Song2000` on the same network) runs when `--peer-python` can import brainpy.

    python bench/plasticity.py
    python bench/plasticity.py --n 4000 --duration 1000 --peer-python /path/to/venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from coba import _brainpy_network, _emit, _emit_run  # bench/ is this script's folder

# Pair STDP on the E->E weights (0.6 leak units), additive with hard bounds [0, 1.2].
STDP = dict(A_plus=0.006, A_minus=0.0063, tau_plus=20.0, tau_minus=20.0, w_min=0.0, w_max=1.2)


def run_brainsim(n: int, duration: float, dt: float, cores: int, plastic: bool) -> None:
    import brainsim as bs

    bs.use_cpu_cores(cores)
    import jax

    rule = bs.plasticity.STDP(**STDP) if plastic else None
    net, inputs = bs.benchmarks.coba(jax.random.key(0), n=n, ee_plasticity=rule)
    state = jax.block_until_ready(net.init(jax.random.key(1)))
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        result = bs.run(net, state, inputs=inputs, duration=duration, dt=dt,
                        record=["E.spikes", "I.spikes"], progress=False)
        jax.block_until_ready(result.final_state)
        timings.append(time.perf_counter() - began)
    run_s, compile_s = timings[1], timings[0] - timings[1]
    fields = {}
    if plastic:
        before = state["synapses"]["E->E"].weights
        after = result.final_state["synapses"]["E->E"].weights
        fields = dict(w_ee_mean_before=round(float(before.mean()), 4),
                      w_ee_mean_after=round(float(after.mean()), 4))
    _emit_run("coba_stdp" if plastic else "coba_static", "brainsim", n=n, cores=cores, dt=dt,
              duration=duration, run_s=run_s, spikes_e=len(result.spikes["E.spikes"]),
              spikes_i=len(result.spikes["I.spikes"]), compile_s=compile_s, **fields)


def run_brainpy(n: int, duration: float, dt: float, cores: int, plastic: bool) -> None:
    import brainpy as bp
    import brainpy.math as bm

    bm.set_platform("cpu")
    bm.set_dt(dt)
    net = _brainpy_network("coba", n, ee_stdp=STDP if plastic else None)
    runner = bp.DSRunner(net, monitors={"E": lambda: bm.sum(net.E.spike),
                                        "I": lambda: bm.sum(net.I.spike)}, progress_bar=False)
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        runner.run(duration)
        timings.append(time.perf_counter() - began)
    run_s, compile_s = timings[1], timings[0] - timings[1]
    _emit_run("coba_stdp" if plastic else "coba_static", "brainpy", n=n, cores=cores, dt=dt,
              duration=duration, run_s=run_s, spikes_e=float(runner.mon["E"].sum()),
              spikes_i=float(runner.mon["I"].sum()), version=bp.__version__,
              compile_s=compile_s)


def _measure(python, simulator, plastic, args) -> dict | None:
    command = [python, __file__, "--worker", simulator, "--n", str(args.n), "--cores",
               str(args.cores), "--duration", str(args.duration), "--dt", str(args.dt)]
    if plastic:
        command.append("--plastic")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.cores))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        errors = [line for line in done.stderr.splitlines() if "Error" in line] or ["no output"]
        _emit(bench="coba_stdp" if plastic else "coba_static", simulator=simulator,
              skipped=errors[-1][:200])
        return None
    print(lines[-1], flush=True)
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--duration", type=float, default=1000.0, help="biological ms")
    parser.add_argument("--dt", type=float, default=0.1, help="ms")
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--worker", choices=["brainsim", "brainpy"], help=argparse.SUPPRESS)
    parser.add_argument("--plastic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker == "brainpy":
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
        runner = run_brainsim if args.worker == "brainsim" else run_brainpy
        runner(args.n, args.duration, args.dt, args.cores, args.plastic)
        return
    for simulator, python in (("brainsim", sys.executable), ("brainpy", args.peer_python)):
        if simulator == "brainpy":
            importable = os.path.exists(python) and subprocess.run(
                [python, "-c", "import brainpy"], capture_output=True).returncode == 0
            if not importable:
                _emit(bench="coba_stdp", simulator="brainpy",
                      skipped=f"brainpy is not importable by {python}")
                continue
        static = _measure(python, simulator, False, args)
        plastic = _measure(python, simulator, True, args)
        if static and plastic:
            _emit(bench="coba_stdp_vs_static", simulator=simulator,
                  ratio=round(plastic["run_s"] / static["run_s"], 2))


if __name__ == "__main__":
    main()
