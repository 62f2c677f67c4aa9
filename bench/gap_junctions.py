"""Cost of gap junctions: brainsim (exact, implicit, explicit) against NEST and Brian2.

The interneuron network of tests/network/test_gap_junctions.py at `--n` cells: Traub-Miles
cells (`TraubHH`; NEST's `hh_cond_beta_gap_traub`; the same equations in Brian2) with drives
of 250-350 pA and `2 n` random gap junctions of `--g` nS, dt = 0.025 ms, `--duration` ms.
Each simulator runs the network with and without the junctions, so that the cost of the
mechanism is the difference. Every worker is pinned to one core (`taskset -c 0`).

- brainsim: `GapJunctions(method=...)` for `exact` (dense propagator, n <= 4096), `implicit`
  (conjugate gradients over the junction list) and `explicit`; run twice in one process
  (compile = first run - second run).
- NEST 3.10 (`--nest-python`): `gap_junction` connections, waveform relaxation with NEST's
  defaults (1-ms communication interval, tolerance 1e-4 mV), adaptive RKF45 per cell.
- Brian2 (`--peer-python`): the summed variable `Igap_post = g*(v_pre - v_post)` (explicit),
  runtime mode with the cython target (its compilation timed apart, in the first run).

One JSON line per measurement: seconds of wall time per biological second, spikes per cell
per second (a broken network cannot look fast) and the Golomb-Rinzel chi.

    python bench/gap_junctions.py --n 200 1000
    python bench/gap_junctions.py --n 200 1000 --nest-python /tmp/nest/bin/python \
        --peer-python /tmp/b2/bin/python
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
DT = 0.025


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def protocol(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < 2 * n:
        i, j = rng.choice(n, 2, replace=False)
        pairs.add((min(i, j), max(i, j)))
    pre, post = np.array(sorted(pairs)).T
    return pre, post, rng.uniform(250.0, 350.0, n), rng.uniform(-70.0, -55.0, n)


def _chi(v) -> float:
    v = np.asarray(v, float)
    return float(np.sqrt(v.mean(1).var() / v.var(0).mean()))


def run_brainsim(n: int, g: float, duration: float, method: str) -> None:
    import jax
    import jax.numpy as jnp

    import brainsim as bs

    pre, post, drive, v0 = protocol(n)
    cell = bs.neurons.TraubHH(v_init=jnp.asarray(v0))
    couplings = [] if method == "none" else [
        bs.network.GapJunctions("I", pre, post, g=g, method=method, dt=DT)
    ]  # fmt: skip
    net = bs.Network({"I": (cell, n)}, couplings=couplings)
    times = []
    for _ in range(2):
        began = time.perf_counter()
        result = bs.run(net, net.init(), inputs={"I": jnp.asarray(drive)}, duration=duration,
                        dt=DT, record=["I.v", "I.spikes"], every=40)  # fmt: skip
        jax.block_until_ready(result.final_state)
        times.append(time.perf_counter() - began)
    spikes = len(result.spikes["I.spikes"])
    _emit(simulator="brainsim", method=method, n=n, g=g if couplings else 0.0,
          duration_ms=duration, compile_s=round(times[0] - times[1], 3),
          run_s=round(times[1], 3), s_per_bio_s=round(times[1] / duration * 1e3, 3),
          rate_hz=round(spikes / n / duration * 1e3, 2),
          chi=round(_chi(result["I.v"]), 3))  # fmt: skip


def run_nest(n: int, g: float, duration: float) -> None:
    import nest

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    from make_nest_gap_refs import nest_cells

    pre, post, drive, v0 = protocol(n)
    for coupled in (False, True):
        nest.ResetKernel()
        nest.set_verbosity("M_ERROR")
        nest.SetKernelStatus({"resolution": DT, "local_num_threads": 1})
        began = time.perf_counter()
        cells = nest_cells(nest, n, drive, v0)
        for i, j in zip(pre, post, strict=True) if coupled else ():
            nest.Connect(cells[int(i)], cells[int(j)],
                         {"rule": "one_to_one", "make_symmetric": True},
                         {"synapse_model": "gap_junction", "weight": g})  # fmt: skip
        sr = nest.Create("spike_recorder")
        mm = nest.Create("multimeter", {"interval": 40 * DT, "record_from": ["V_m"]})
        nest.Connect(cells, sr)
        nest.Connect(mm, cells)
        nest.Simulate(DT)  # network preparation (kept out of the run time)
        build = time.perf_counter() - began
        began = time.perf_counter()
        nest.Simulate(duration)
        run = time.perf_counter() - began
        ev = mm.get("events")
        v = np.asarray(ev["V_m"]).reshape(-1, n)
        _emit(simulator="nest", method="wfr" if coupled else "none", n=n, g=g if coupled else 0.0,
              duration_ms=duration, build_s=round(build, 3), run_s=round(run, 3),
              s_per_bio_s=round(run / duration * 1e3, 3),
              rate_hz=round(sr.get("n_events") / n / duration * 1e3, 2), chi=round(_chi(v), 3),
              version=nest.__version__)  # fmt: skip


def run_brian2(n: int, g: float, duration: float) -> None:
    import brian2 as b2

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    import make_nest_gap_refs as refs

    refs.TARGET = "cython"
    pre, post, drive, v0 = protocol(n)
    for coupled in (False, True):
        times = []
        for _ in range(2):  # the first run includes cython compilation
            began = time.perf_counter()
            t, v = refs.brian2_run(b2, DT, drive, v0, pre, post, g if coupled else 0.0,
                                   duration, 40)  # fmt: skip
            times.append(time.perf_counter() - began)
        spikes = refs.crossings(t, v)[0].size
        _emit(simulator="brian2", method="summed" if coupled else "zero_g", n=n,
              g=g if coupled else 0.0, duration_ms=duration,
              compile_s=round(times[0] - times[1], 3), run_s=round(times[1], 3),
              s_per_bio_s=round(times[1] / duration * 1e3, 3),
              rate_hz=round(spikes / n / duration * 1e3, 2), chi=round(_chi(v), 3),
              version=b2.__version__)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--g", type=float, default=10.0, help="nS per junction (default 10)")
    parser.add_argument("--duration", type=float, default=200.0, help="ms (default 200)")
    parser.add_argument("--nest-python", help="interpreter with NEST 3.10")
    parser.add_argument("--peer-python", help="interpreter with Brian2")
    parser.add_argument("--worker", choices=["brainsim", "nest", "brian2"])
    parser.add_argument("--method", default="exact")
    args = parser.parse_args()
    if args.worker == "brainsim":
        import brainsim as bs

        bs.use_cpu_cores(1)
        for n in args.n:
            run_brainsim(n, args.g, args.duration, args.method)
        return
    if args.worker == "nest":
        for n in args.n:
            run_nest(n, args.g, args.duration)
        return
    if args.worker == "brian2":
        for n in args.n:
            run_brian2(n, args.g, args.duration)
        return
    common = ["--g", str(args.g), "--duration", str(args.duration), "--n", *map(str, args.n)]
    for method in ("none", "exact", "implicit", "explicit"):
        subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--worker", "brainsim",
                        "--method", method, *common], check=True)  # fmt: skip
    if args.nest_python:
        subprocess.run(["taskset", "-c", "0", args.nest_python, __file__, "--worker", "nest",
                        *common], check=True)  # fmt: skip
    if args.peer_python:
        subprocess.run(["taskset", "-c", "0", args.peer_python, __file__, "--worker", "brian2",
                        *common], check=True)  # fmt: skip


if __name__ == "__main__":
    main()
