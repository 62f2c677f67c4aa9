"""A long COBA run on disk, killed and resumed: identical spikes, flat memory. JSON lines.

The 4000-neuron COBA network runs for `--duration-s` seconds of biological time (one hour by
default) with `brainsim.run_to_disk`, recording all E and I spikes and the membrane potential
of 100 excitatory neurons every 10 ms, with a checkpoint every `--checkpoint-s` seconds. The
process is killed with SIGKILL `--kill-delay-s` wall-clock seconds after its
`--kill-after`-th checkpoint (mid-way through the next interval, so the files hold data past
the checkpoint that resuming must drop), and a new process resumes the run to its end.

An uninterrupted reference process runs the first `--reference-s` seconds (default: all of
it) in another folder, at the same time on `--reference-cpu` (or afterwards with
`--reference-cpu -1`); its spikes and traces must equal the resumed run's over that span bit
for bit, and with the whole span, so must the final states. The reference must reach past
the resumed checkpoint to test anything: pass a shorter `--reference-s` only to save time.

Each worker is pinned to one CPU and one XLA thread. Per checkpoint the line gives the
worker's resident memory (`rss_mb`, VmRSS) and its peak so far (`peak_rss_mb`, VmHWM), read
from `/proc/<pid>/status` by this process as the checkpoint appears; memory is bounded when
both stay flat from one checkpoint to the next.

    python bench/long_run.py                                   # 1 h, checkpoints every 10 min
    python bench/long_run.py --duration-s 120 --checkpoint-s 20
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

N = 4000
DT = 0.1  # ms
TRACE_EVERY = 100  # steps: 10 ms
TRACED = 100  # excitatory neurons whose v is recorded


def _emit(**fields):
    print(json.dumps({"bench": "long_run", **fields}), flush=True)


def _memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a process in MiB, or None once it has gone."""
    try:
        text = pathlib.Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    if "VmHWM" not in fields:  # a zombie
        return None
    return tuple(float(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def _checkpoint_step(folder: pathlib.Path) -> int | None:
    from brainsim._checkpoint import read_header

    try:
        return read_header(folder / "checkpoint.npz")["step"]
    except (FileNotFoundError, OSError, ValueError, KeyError):
        return None


def worker(args) -> None:
    """Run (or resume) the network in `args.worker` and report this process's totals."""
    os.sched_setaffinity(0, {args.cpu})
    import jax

    import brainsim as bs
    from brainsim._run_to_disk import run_to_disk

    bs.use_cpu_cores(1)
    began = time.perf_counter()
    network, inputs = bs.benchmarks.coba(jax.random.key(0), n=N)
    state = network.init(jax.random.key(1))
    result = run_to_disk(
        network,
        state,
        args.worker,
        dt=DT,
        duration=args.duration_s * 1000,
        inputs=inputs,
        record={"E.spikes": None, "I.spikes": None, "E.v": list(range(TRACED))},
        every=TRACE_EVERY,
        checkpoint_interval=args.checkpoint_s * 1000,
        chunk_steps=args.chunk_steps,
        progress=False,
        resume=True,
    )
    print(json.dumps({"steps": result.steps, "wall_s": time.perf_counter() - began}), flush=True)


def _start(args, folder, duration_s, cpu, chunk_steps=None) -> subprocess.Popen:
    command = [sys.executable, __file__, "--worker", str(folder), "--cpu", str(cpu)]
    command += ["--duration-s", str(duration_s), "--checkpoint-s", str(args.checkpoint_s)]
    if chunk_steps is not None:
        command += ["--chunk-steps", str(chunk_steps)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def _watch(process, folder, label, began, *, kill_after=None, kill_delay_s=0.0) -> str:
    """Emit a line per new checkpoint of `process`; kill it `kill_delay_s` after checkpoint
    number `kill_after` (counting from the first after its start). Returns "killed" or
    "finished"."""
    last = _checkpoint_step(folder)
    seen, kill_at = 0, None
    while process.poll() is None:
        time.sleep(0.2)
        step = _checkpoint_step(folder)
        memory = _memory_mb(process.pid)
        if step is not None and step != last and memory is not None:
            last, seen = step, seen + 1
            _emit(event="checkpoint", process=label, bio_s=step * DT / 1000,
                  wall_s=round(time.perf_counter() - began, 1), rss_mb=round(memory[0], 1),
                  peak_rss_mb=round(memory[1], 1))  # fmt: skip
            if kill_after is not None and seen == kill_after:
                kill_at = time.perf_counter() + kill_delay_s
        if kill_at is not None and time.perf_counter() >= kill_at:
            process.send_signal(signal.SIGKILL)
            process.wait()
            _emit(event="killed", process=label, at_bio_s=last * DT / 1000,
                  wall_s=round(time.perf_counter() - began, 1))  # fmt: skip
            return "killed"
    if process.returncode != 0:
        raise RuntimeError(f"the {label} worker failed with exit status {process.returncode}")
    totals = json.loads(process.stdout.read().strip().splitlines()[-1])
    _emit(event="finished", process=label, **totals)
    return "finished"


def _equal_prefix(a: np.ndarray, b: np.ndarray, block: int = 1 << 24) -> bool:
    """Whether `a[:len(b)]` equals `b`, compared block by block (memory-mapped files)."""
    if len(a) < len(b):
        return False
    return all(np.array_equal(a[i : min(i + block, len(b))], b[i : i + block])
               for i in range(0, len(b), block))


def compare(folder: pathlib.Path, reference: pathlib.Path, whole: bool) -> dict:
    """Whether the resumed run equals the reference over the reference's span."""
    from brainsim._checkpoint import load_state
    from brainsim._run_to_disk import read_run

    run, ref = read_run(folder), read_run(reference)
    same = {}
    for name in ("E.spikes", "I.spikes"):
        same[name] = _equal_prefix(run[name].times, ref[name].times) and _equal_prefix(
            run[name].indices, ref[name].indices
        )
        if run[name].times.size > ref[name].times.size:  # the next event is past the span
            same[name] &= bool(run[name].times[ref[name].times.size] >= ref.duration + ref.t0)
    same["E.v"] = _equal_prefix(run["E.v"], ref["E.v"])
    if whole:
        a = load_state(folder / "checkpoint.npz").state
        b = load_state(reference / "checkpoint.npz").state
        same["final_state"] = all(np.array_equal(a[k], b[k]) for k in b)
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=3600.0, help="biological time (s)")
    parser.add_argument("--checkpoint-s", type=float, default=600.0, help="checkpoint interval")
    parser.add_argument("--kill-after", type=int, default=2, help="checkpoints before the kill")
    parser.add_argument("--kill-delay-s", type=float, default=10.0, help="wall s after it")
    parser.add_argument("--reference-s", type=float, default=None, help="reference span (s)")
    parser.add_argument("--cpu", type=int, default=1, help="CPU of the run")
    parser.add_argument(
        "--reference-cpu", type=int, default=0, help="CPU of the reference (-1: afterwards)"
    )
    parser.add_argument("--folder", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the run folders")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--chunk-steps", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args)
        return

    root = pathlib.Path(args.folder or tempfile.mkdtemp(prefix="brainsim_long_run_"))
    folder, reference = root / "run", root / "reference"
    for path in (folder, reference):
        shutil.rmtree(path, ignore_errors=True)
    reference_s = args.reference_s or args.duration_s
    _emit(event="start", n=N, dt_ms=DT, bio_s=args.duration_s, checkpoint_s=args.checkpoint_s,
          kill_after=args.kill_after, reference_s=reference_s, folder=str(root))  # fmt: skip
    began = time.perf_counter()
    first = _start(args, folder, args.duration_s, args.cpu)
    while not (folder / "run.json").exists() and first.poll() is None:
        time.sleep(0.2)
    chunk_steps = json.loads((folder / "run.json").read_text())["chunk_steps"]
    parallel = None
    if args.reference_cpu >= 0:
        parallel = _start(args, reference, reference_s, args.reference_cpu, chunk_steps)
    try:
        outcome = _watch(first, folder, "first", began, kill_after=args.kill_after,
                         kill_delay_s=args.kill_delay_s)  # fmt: skip
        if outcome != "killed":
            raise RuntimeError("the run finished before it was killed: lower --kill-after")
        _watch(_start(args, folder, args.duration_s, args.cpu), folder, "resumed", began)
        if parallel is None:
            parallel = _start(args, reference, reference_s, args.cpu, chunk_steps)
        _watch(parallel, reference, "reference", began)
    finally:  # a failed worker leaves no reference running on
        if parallel is not None and parallel.poll() is None:
            parallel.kill()

    import brainsim as bs
    from brainsim._run_to_disk import read_run

    same = compare(folder, reference, whole=reference_s >= args.duration_s)
    result = read_run(folder)
    disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    _emit(event="summary", identical=all(same.values()), compared=same, compared_bio_s=reference_s,
          rate_e_hz=round(result.rate("E.spikes"), 2), rate_i_hz=round(result.rate("I.spikes"), 2),
          spikes=len(result["E.spikes"]) + len(result["I.spikes"]),
          disk_mb=round(disk / 2**20, 1), brainsim=bs.__version__)  # fmt: skip
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
