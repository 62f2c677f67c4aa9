"""Neuron–glia network benchmark: example 6 of Stimberg et al. (2019), brainsim vs Brian2.

4000 conductance-based LIF neurons (3200 E, 800 I), 3200 G-ChI astrocytes on their own 10-ms
clock with gap junctions, ~0.64 M excitatory tripartite synapses and ~0.64 M inhibitory
Tsodyks–Markram synapses, `--duration` ms of biological time (1 s by default). brainsim runs
twice in one process (compile = first run − second run); Brian2 (cpp_standalone, the
published model, via `tests/reference/make_brian2_astro_refs.py --only ex6`) runs in the
`--peer-python` interpreter, its code generation and compilation timed apart from the run.
Both are pinned to one core (`taskset -c 0`). One JSON line per simulator: times (s), time per
biological second, E and I rates (Hz) and astrocyte releases.

    python bench/glia.py                                   # brainsim only
    python bench/glia.py --peer-python /tmp/b2/bin/python  # and Brian2 2.9 in the same run
    python bench/glia.py --peer-python /tmp/b2/bin/python --nest-python /tmp/nest/bin/python \
        --nalsm                                            # everything of issue 11

With `--nest-python`, the same run also measures NEST's astrocyte network example in brainsim
and in NEST 3.10 (`bench/glia_nest.py`, one core); with `--nalsm`, the NALSM feature phase
at 1000 neurons (`bench/nalsm.py`, samples per second).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def run_brainsim(duration: float, mapping: str) -> None:
    """Measure brainsim in this process (call it pinned to one core)."""
    import jax

    import brainsim as bs

    bs.use_cpu_cores(1)
    began = time.perf_counter()
    net, inputs = bs.benchmarks.neuron_glia(jax.random.key(0), mapping=mapping)
    state = jax.block_until_ready(bs.benchmarks.neuron_glia_init(net, jax.random.key(1)))
    build_s = time.perf_counter() - began
    times, results = [], []
    for repeat in range(2):
        began = time.perf_counter()
        result = bs.run(net, state, inputs=inputs, duration=duration, dt=0.1,
                        t0=repeat * duration, record=["N.spikes", "A.spikes"])  # fmt: skip
        state = jax.block_until_ready(result.final_state)
        times.append(time.perf_counter() - began)
        results.append(result)
    spikes = results[0].spikes["N.spikes"]
    n_e = int((spikes.indices < 3200).sum())
    n_i = int((spikes.indices >= 3200).sum())
    bio_s = duration / 1000
    _emit(bench="glia", simulator="brainsim", version=bs.__version__, mapping=mapping,
          n_neurons=4000, n_astrocytes=3200, n_synapses=int(sum(p.conn.n_syn
                                                                 for p in net.projections)),
          cores=1, dt_ms=0.1, bio_s=bio_s, build_s=round(build_s, 3),
          compile_s=round(times[0] - times[1], 3), run_s=round(times[1], 3),
          s_per_bio_s=round(times[1] / bio_s, 3), rate_E=round(n_e / 3200 / bio_s, 3),
          rate_I=round(n_i / 800 / bio_s, 3),
          astro_releases=int(len(results[0].spikes["A.spikes"].indices)))  # fmt: skip


def run_brian2(peer_python: str, duration: float, timeout: float) -> None:
    """Measure Brian2 cpp_standalone on the published script's model, in `peer_python`."""
    script = ROOT / "tests" / "reference" / "make_brian2_astro_refs.py"
    with tempfile.TemporaryDirectory() as out:
        command = ["taskset", "-c", "0", peer_python, str(script), "--only", "ex6",
                   "--scale", str(duration / 8000.0), "--out", out]  # fmt: skip
        began = time.perf_counter()
        subprocess.run(command, check=True, timeout=timeout, capture_output=True, cwd=ROOT)
        total = time.perf_counter() - began
        ref = np.load(pathlib.Path(out) / "brian2_astro_ex6.npz")
        probe = [peer_python, "-c", "import brian2; print(brian2.__version__)"]
        version = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
        bio_s = duration / 1000
        run_s = float(ref["wall_s"])
        _emit(bench="glia", simulator="brian2", version=version, device="cpp_standalone",
              n_neurons=4000, n_astrocytes=3200,
              n_synapses=int(ref["n_syn_E"]) + int(ref["n_syn_I"]), cores=1, dt_ms=0.1,
              bio_s=bio_s, compile_s=round(float(ref["codegen_s"]), 3), run_s=round(run_s, 3),
              s_per_bio_s=round(run_s / bio_s, 3),
              rate_E=round(float(ref["counts_1ms_E"].sum()) / 3200 / bio_s, 3),
              rate_I=round(float(ref["counts_1ms_I"].sum()) / 800 / bio_s, 3),
              astro_releases=int(ref["counts_1ms_astro"].sum()),
              total_s=round(total, 3))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    parser.add_argument("--mapping", choices=["published", "nearest"], default="published")
    parser.add_argument("--peer-python", default=None, help="interpreter with Brian2 installed")
    parser.add_argument("--nest-python", default=None, help="interpreter with NEST 3.10")
    parser.add_argument("--nalsm", action="store_true", help="also the NALSM feature phase")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per peer run (s)")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        run_brainsim(args.duration, args.mapping)
        return
    subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--in-process",
                    "--duration", str(args.duration), "--mapping", args.mapping],
                   check=True)  # fmt: skip
    if args.peer_python:
        run_brian2(args.peer_python, args.duration, args.timeout)
    here = pathlib.Path(__file__).parent
    if args.nest_python:
        subprocess.run([sys.executable, str(here / "glia_nest.py"), "--cores", "1",
                        "--nest-python", args.nest_python, "--timeout", str(args.timeout)],
                       check=True)  # fmt: skip
    if args.nalsm:
        subprocess.run(["taskset", "-c", "0", sys.executable, str(here / "nalsm.py"),
                        "--cores", "1"], check=True)  # fmt: skip


if __name__ == "__main__":
    main()
