"""A 64-point COBA sweep (Brette et al. 2007): one `brainsim.sweep` against sequential runs
and peers, JSON lines.

The points are an 8 x 8 grid of the excitatory and inhibitory conductance jumps of COBA
(`w_e` in [0.3, 0.9], `w_i` in [4, 10] leak units; the benchmark's 0.6 / 6.7 inside), 4000
neurons, 1 s each, dt = 0.1 ms. Each measurement runs in a fresh process pinned to `--cores`
cores, and every simulator runs the same points:

- `brainsim_sweep`: one `brainsim.sweep` over all points (one JAX CPU device per core);
- `brainsim_sequential`: the same point function, jitted once (the weights are arguments),
  called point after point;
- `brainpy` (`bench/sweep_brainpy.py`): one BrainPy network and run per point, as a BrainPy
  user would write the loop (each builds and compiles its own program);
- `brian2` (`bench/sweep_brian2.py`): Brian2 cpp_standalone, one build, then one run of the
  binary per point with the weights set through `run_args`.

Each line has `compile_s` (trace and compile; for the peers: see their files), `run_s`
(evaluating all points), `total_s` (what the user waits for, process start-up excluded) and
the E and I rates averaged over the points, so that a broken network cannot look fast.
brainsim measures its compile time without the persistent compilation cache. Peers run when
importable by `--peer-python`, else a `skipped` line.

    python bench/sweep.py                               # 64 points, 4000 neurons, 1 s
    python bench/sweep.py --points 4 --duration 200     # a quick check
    python bench/sweep.py --peer-python /tmp/bp/bin/python --brian2-python /tmp/b2/bin/python
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

SIMULATORS = ("brainsim_sweep", "brainsim_sequential", "brainpy", "brian2")
PEER_SCRIPTS = {"brainpy": "sweep_brainpy.py", "brian2": "sweep_brian2.py"}
PEER_MODULES = {"brainpy": "brainpy", "brian2": "brian2"}


def weight_grid(points: int) -> list[tuple[float, float]]:
    """`points` (a square number) pairs `(w_e, w_i)` in leak units, `w_i` varying fastest."""
    side = math.isqrt(points)
    if side * side != points:
        raise SystemExit(f"--points must be a square number, got {points}")

    def axis(low, high):
        return [low + (high - low) * k / max(side - 1, 1) for k in range(side)]

    return [(w_e, w_i) for w_e in axis(0.3, 0.9) for w_i in axis(4.0, 10.0)]


def peer_arguments(description: str) -> argparse.Namespace:
    """The command line of a peer script (`--n`, `--points`, `--duration`, `--cores`), with
    the process pinned to `--cores` cores."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--points", type=int, default=64)
    parser.add_argument("--duration", type=float, default=1000.0, help="ms per point")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    return args


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def emit_sweep(simulator, *, n, points, cores, duration, compile_s, run_s, total_s, rates,
               **extra) -> None:  # fmt: skip
    """One measurement's JSON line; `rates` is a list of (E, I) rates (Hz), one per point."""
    emit(
        bench="coba_sweep", simulator=simulator, n=n, points=points, cores=cores,
        bio_s=duration / 1000, compile_s=round(compile_s, 3), run_s=round(run_s, 3),
        total_s=round(total_s, 3),
        mean_rate_E_hz=round(sum(r[0] for r in rates) / len(rates), 2),
        mean_rate_I_hz=round(sum(r[1] for r in rates) / len(rates), 2), **extra,
    )  # fmt: skip


def _brainsim_point(duration):
    import equinox as eqx

    import brainsim as bs

    def point(network, state, inputs, *, w_e, w_i):
        network = eqx.tree_at(
            lambda net: [p.conn.weights for p in net.projections],
            network,
            [w_e if p.pre == "E" else w_i for p in network.projections],
        )
        return bs.firing_statistics(network, state, inputs=inputs, dt=0.1, duration=duration,
                                    spikes=["E.spikes", "I.spikes"])  # fmt: skip

    return point


def run_brainsim(mode: str, n: int, points: int, duration: float, cores: int) -> None:
    import brainsim as bs

    bs.use_cpu_cores(cores)
    import jax
    import jax.numpy as jnp
    import numpy as np

    began = time.perf_counter()
    network, inputs = bs.benchmarks.coba(jax.random.key(0), n=n)
    state = jax.block_until_ready(network.init(jax.random.key(1)))
    weights = np.array(weight_grid(points), dtype=np.float32)
    point = _brainsim_point(duration)
    if mode == "sweep":
        result = bs.sweep(point, {"w_e": weights[:, 0], "w_i": weights[:, 1]}, network, state,
                          inputs, progress=False)  # fmt: skip
        total_s = time.perf_counter() - began
        rates = list(zip(result["rate_E"].tolist(), result["rate_I"].tolist(), strict=True))
        emit_sweep("brainsim_sweep", n=n, points=points, cores=cores, duration=duration,
                   compile_s=result.compile_s, run_s=result.run_s, total_s=total_s, rates=rates,
                   devices=result.devices, chunk_size=result.chunk_size)  # fmt: skip
        return
    jitted = jax.jit(point)
    calls = []
    rates = []
    for w_e, w_i in weights:
        began_call = time.perf_counter()
        stats = jax.block_until_ready(
            jitted(network, state, inputs, w_e=jnp.float32(w_e), w_i=jnp.float32(w_i))
        )
        calls.append(time.perf_counter() - began_call)
        rates.append((float(stats["rate_E"]), float(stats["rate_I"])))
    total_s = time.perf_counter() - began
    # The first call compiles: compile = first call - a typical later one.
    typical = float(np.median(calls[1:])) if len(calls) > 1 else 0.0
    compile_s = calls[0] - typical
    emit_sweep("brainsim_sequential", n=n, points=points, cores=cores, duration=duration,
               compile_s=compile_s, run_s=sum(calls) - compile_s, total_s=total_s,
               rates=rates)  # fmt: skip


def _importable(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def _measure(command, simulator, args, env=None) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                              env=env)  # fmt: skip
    except subprocess.TimeoutExpired:
        emit(bench="coba_sweep", simulator=simulator, skipped=f"over the {args.timeout} s limit")
        return
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    for line in lines:
        print(line, flush=True)
    if done.returncode != 0 or not lines:
        errors = [line for line in done.stderr.splitlines() if "Error" in line]
        reason = (errors or done.stderr.strip().splitlines() or ["no output"])[-1]
        emit(bench="coba_sweep", simulator=simulator, skipped=reason[:200])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="neurons per network")
    parser.add_argument("--points", type=int, default=64, help="grid points (a square)")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological ms per point")
    parser.add_argument("--cores", type=int, default=2, help="cores of every measurement")
    parser.add_argument("--simulators", nargs="+", default=list(SIMULATORS), choices=SIMULATORS)
    parser.add_argument("--peer-python", default=sys.executable, help="python with BrainPy")
    parser.add_argument("--brian2-python", default=None, help="python with Brian2 (default: "
                        "--peer-python)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1800.0, help="s per measurement")
    parser.add_argument("--worker", choices=("sweep", "sequential"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    weight_grid(args.points)
    if args.worker:
        run_brainsim(args.worker, args.n, args.points, args.duration, args.cores)
        return
    sizes = ["--n", str(args.n), "--points", str(args.points), "--duration", str(args.duration),
             "--cores", str(args.cores)]  # fmt: skip
    here = os.path.dirname(os.path.abspath(__file__))
    pythons = {"brainpy": args.peer_python, "brian2": args.brian2_python or args.peer_python}
    for simulator in args.simulators:
        if simulator.startswith("brainsim"):
            env = dict(os.environ, BRAINSIM_COMPILATION_CACHE="0")
            mode = simulator.removeprefix("brainsim_")
            _measure([sys.executable, __file__, "--worker", mode, *sizes], simulator, args, env)
        elif _importable(pythons[simulator], PEER_MODULES[simulator]):
            script = os.path.join(here, PEER_SCRIPTS[simulator])
            env = dict(os.environ, OMP_NUM_THREADS=str(args.cores))
            _measure([pythons[simulator], script, *sizes], simulator, args, env)
        else:
            emit(bench="coba_sweep", simulator=simulator,
                 skipped=f"{PEER_MODULES[simulator]} is not importable by {pythons[simulator]}")


if __name__ == "__main__":
    main()
