"""COBA at growing sizes on one (or two) cores: time per neuron as the network outgrows the cache.

One JSON line per measurement, each in a fresh process (so that its peak memory is its own):
`simulator, n, cores, build_s, compile_s, run_s, s_per_bio_s`, the time per neuron relative to
the smallest size of the same simulator in this invocation (`per_neuron_rel`: 1.0 means the
cost grows exactly with n), the E/I rates (a silent or exploding network cannot look fast) and
the peak resident memory after building (`rss_build_mb`) and after running (`rss_run_mb`), and
the machine's 1-minute load average at the end (`load_1m`: other work on the other cores
shares the last-level cache and the memory bandwidth, which is what this benchmark measures).

brainsim (`bs.benchmarks.coba`, in-degree 80) is timed over `--duration` ms after a
`--warmup` ms run from the initial state, which also compiles: `compile_s` is the warm-up time
less what the warm-up steps cost at the measured rate. Peers reuse the runners of
`bench/coba.py`: Brian2 (cpp_standalone, `--brian2-python`) from its profile of a
`--warmup + --duration` ms run (its binary builds the synapses when it runs), BrainPy
(`--brainpy-python`) over `--duration` ms after a first run of the same length. A peer that
is not installed, fails, or runs past `--timeout` seconds prints a `skipped` line saying why
(and larger sizes of that peer are then skipped without a try).

`--cores` pins each process to that many cores (`brainsim.use_cpu_cores`; the peers with
`sched_setaffinity` and one thread per core). With `--partition`, brainsim on more than one core
runs partitioned (`brainsim.network.partition`), one CPU device per core (`"devices"` in its
lines); without it, one device computing on one thread of the pinned cores.

    python bench/scale.py                                  # 400k, 1M and 4M on one core
    python bench/scale.py --sizes 400000 4000000 --simulators brainsim
    python bench/scale.py --cores 2 --partition --simulators brainsim
    python bench/scale.py --cores 2 --brian2-python /tmp/b2/bin/python \\
        --brainpy-python /tmp/bp/bin/python --timeout 600
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SIMULATORS = ("brainsim", "brian2", "brainpy")
_MODULES = {"brian2": "brian2", "brainpy": "brainpy"}


def _emit(**fields):
    print(json.dumps(fields), flush=True)


def _peak_mb(children: bool = False) -> float:
    """Peak resident memory (MB) of this process (and of its waited-for children)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if children:
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return round(peak / 1024, 1)  # Linux reports kB


def run_brainsim(n: int, cores: int, warmup: float, duration: float, dt: float,
                 partitioned: bool = False) -> None:
    import brainsim as bs

    devices = cores if partitioned else 1
    bs.use_cpu_cores(cores, devices=devices)
    import jax

    began = time.perf_counter()
    net, inputs = bs.benchmarks.coba(jax.random.key(0), n=n)
    if devices > 1:
        net = bs.network.partition(net, devices=devices)
    state = net.init(jax.random.key(1))
    jax.block_until_ready(state)
    build_s = time.perf_counter() - began
    rss_build = _peak_mb()
    options = dict(inputs=inputs, dt=dt, record=["E.spikes", "I.spikes"], progress=False)
    began = time.perf_counter()
    warm = bs.run(net, state, duration=warmup, **options)
    jax.block_until_ready(warm.final_state)
    warmup_s = time.perf_counter() - began
    began = time.perf_counter()
    result = bs.run(net, warm.final_state, duration=duration, t0=warmup, **options)
    jax.block_until_ready(result.final_state)
    run_s = time.perf_counter() - began
    n_e = n * 4 // 5
    bio_s = duration / 1000
    _emit(
        simulator="brainsim", n=n, cores=cores, devices=devices, dt_ms=dt, warmup_ms=warmup,
        bio_s=bio_s,
        build_s=round(build_s, 2),
        compile_s=round(max(warmup_s - run_s * warmup / duration, 0.0), 2),
        run_s=round(run_s, 3), s_per_bio_s=round(run_s / bio_s, 2),
        rate_E_hz=round(len(result.spikes["E.spikes"]) / n_e / bio_s, 2),
        rate_I_hz=round(len(result.spikes["I.spikes"]) / (n - n_e) / bio_s, 2),
        rss_build_mb=rss_build, rss_run_mb=_peak_mb(), load_1m=round(os.getloadavg()[0], 2),
    )  # fmt: skip


def _peer_line(simulator: str, n: int, cores: int, duration: float, dt: float) -> dict:
    """The fields of bench/coba.py's JSON line for one run of `duration` ms."""
    import coba

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        if simulator == "brian2":
            coba.run_brian2("coba", n, duration, dt, cores)
        else:
            coba.run_brainpy("coba", n, duration, dt, cores)
    lines = [line for line in captured.getvalue().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{simulator} printed no measurement")
    fields = json.loads(lines[-1])
    fields.pop("bench", None)
    return fields


def _is_setup(code_object: str) -> bool:
    """Whether a Brian2 code object runs once before the steps (synapse creation, initial
    values) rather than every step."""
    return "create" in code_object or "group_variable_set" in code_object


def _run_peer(simulator: str, n: int, cores: int, warmup: float, duration: float, dt: float):
    """A peer through bench/coba.py's runners; its JSON line gains the peak memory.

    BrainPy's runner already times a second run of `duration` ms after a first one. Brian2's
    standalone binary also creates the synapses when it runs, so it runs once for
    `warmup + duration` ms with profiling on: `run_s` is the time its code objects spent in
    the steps (the synapse creation and initialisation left out), scaled to `duration` ms;
    `build_compile_s` is the compilation plus what the binary spent outside the steps.
    """
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])
    if simulator == "brainpy":
        fields = _peer_line("brainpy", n, cores, duration, dt)
    else:
        import brian2

        set_device = brian2.set_device
        brian2.set_device = lambda *args, **kwargs: set_device(*args, profile=True, **kwargs)
        fields = _peer_line("brian2", n, cores, warmup + duration, dt)
        with open(os.path.join(brian2.device.project_dir, "results", "profiling_info.txt")) as f:
            spent = {name: float(value) for name, value in (line.split() for line in f)}
        steps_s = sum(t for name, t in spent.items() if not _is_setup(name))
        run_s = steps_s * duration / (warmup + duration)
        fields.update(
            bio_s=duration / 1000,
            build_compile_s=round(fields.pop("compile_s") + fields["run_s"] - steps_s, 2),
            run_s=round(run_s, 3),
            s_per_bio_s=round(run_s / (duration / 1000), 2),
            profiled_s={name: round(t, 3) for name, t in spent.items()},
        )
    fields["simulator"] = simulator if simulator == "brainpy" else fields["simulator"]
    fields["rss_run_mb"] = _peak_mb(children=True)
    fields["load_1m"] = round(os.getloadavg()[0], 2)
    _emit(**fields)


def _importable(python: str, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def _measure(python: str, simulator: str, n: int, args) -> dict | str | None:
    """One measurement in a fresh process: its JSON fields; `"timeout"` or None (a `skipped`
    line printed) if it ran out of time or failed."""
    command = [python, os.path.abspath(__file__), "--worker", simulator, "--sizes", str(n),
               "--cores", str(args.cores), "--warmup", str(args.warmup), "--duration",
               str(args.duration), "--dt", str(args.dt)]  # fmt: skip
    if args.partition:
        command.append("--partition")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.cores))
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=args.timeout, env=env
        )
    except subprocess.TimeoutExpired:
        _emit(simulator=simulator, n=n, cores=args.cores,
              skipped=f"over the {args.timeout:g} s limit per measurement")  # fmt: skip
        return "timeout"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        errors = [line for line in done.stderr.splitlines() if "Error" in line]
        reason = (errors or done.stderr.strip().splitlines() or ["no output"])[-1]
        _emit(simulator=simulator, n=n, cores=args.cores, skipped=reason[:200])
        return None
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400_000, 1_000_000, 4_000_000])
    parser.add_argument("--cores", type=int, choices=(1, 2), default=1)
    parser.add_argument("--partition", action="store_true",
                        help="brainsim on several cores: partitioned, one device per core")
    parser.add_argument("--warmup", type=float, default=20.0, help="biological ms")
    parser.add_argument("--duration", type=float, default=20.0, help="biological ms timed")
    parser.add_argument("--dt", type=float, default=0.1, help="ms")
    parser.add_argument("--simulators", nargs="+", default=list(SIMULATORS), choices=SIMULATORS)
    parser.add_argument("--brian2-python", default=sys.executable)
    parser.add_argument("--brainpy-python", default=sys.executable)
    parser.add_argument("--timeout", type=float, default=900.0, help="s per measurement")
    parser.add_argument("--worker", choices=SIMULATORS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        n = args.sizes[0]
        if args.worker == "brainsim":
            run_brainsim(n, args.cores, args.warmup, args.duration, args.dt, args.partition)
        else:
            _run_peer(args.worker, n, args.cores, args.warmup, args.duration, args.dt)
        return
    pythons = {"brainsim": sys.executable, "brian2": args.brian2_python,
               "brainpy": args.brainpy_python}  # fmt: skip
    for simulator in args.simulators:
        python = pythons[simulator]
        if simulator != "brainsim" and not _importable(python, _MODULES[simulator]):
            for n in args.sizes:
                _emit(simulator=simulator, n=n, cores=args.cores,
                      skipped=f"{_MODULES[simulator]} is not importable by {python}")  # fmt: skip
            continue
        base = None  # seconds per neuron per biological second at the smallest size
        timed_out = None
        for n in sorted(args.sizes):
            if timed_out is not None:
                _emit(simulator=simulator, n=n, cores=args.cores,
                      skipped=f"not tried: n={timed_out} ran over the {args.timeout:g} s "
                              "limit")  # fmt: skip
                continue
            fields = _measure(python, simulator, n, args)
            if fields == "timeout":
                timed_out = n
                continue
            if fields is None:
                continue
            per_neuron = fields["s_per_bio_s"] / n
            base = base or per_neuron
            fields["per_neuron_rel"] = round(per_neuron / base, 3)
            _emit(**fields)


if __name__ == "__main__":
    main()
