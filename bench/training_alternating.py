"""brainsim's and BrainPy's BPTT training steps timed in one process, alternating. JSON lines.

`bench/training.py` times the two simulators in separate processes, which on a shared machine
see different loads. Here BrainPy's training step (the 700-256-256-20 network of
`bench/training_brainpy.py`) is exported by its own interpreter (`--peer-python`) with
`jax.export`, deserialized in this process and compiled by the same XLA as brainsim's step
(`bench/training.py`'s BPTT step, weights trained); the two compiled programs are then called
in turn for `--rounds` rounds. Each line gives, per simulator and `T`, the smallest and the
median CPU time (`time.process_time`) and wall time of a training step over the rounds. Both
simulators need the same JAX version for the exported program to load. Pin it to one core:

    taskset -c 0 python bench/training_alternating.py --peer-python /path/to/brainpy/python \\
        --steps 100 500 2000
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import equinox as eqx
import jax
import numpy as np
import optax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import training  # noqa: E402  (bench/training.py: brainsim's network and training step)

PEER = pathlib.Path(__file__).resolve().parent / "training_brainpy.py"


def brainsim_step(steps: int, batch: int):
    """brainsim's compiled BPTT training step, as a call without arguments."""
    net = training._network(jax.random.key(0))
    spec = training._trainable(net, "weights")
    arrays, structure = eqx.partition(net, eqx.is_array)
    optimizer = optax.adam(1e-3)
    opt_state = optimizer.init(eqx.filter(arrays, spec))
    x, y = training._data(jax.random.key(1), batch, steps)
    step = training._training_step(training._bptt_value_and_grad(None, spec), optimizer,
                                   structure, spec)
    compiled = step.lower(arrays, opt_state, x, y).compile()
    return lambda: compiled(arrays, opt_state, x, y)


def brainpy_step(python: str, steps: int, batch: int, folder: pathlib.Path):
    """BrainPy's training step, exported by `python` and compiled here, as a call."""
    subprocess.run([python, str(PEER), "--steps", str(steps), "--batch", str(batch),
                    "--export", str(folder)], check=True, capture_output=True)
    path = folder / f"brainpy_T{steps}_B{batch}"
    exported = jax.export.deserialize(bytearray(path.with_suffix(".jaxexport").read_bytes()))
    with np.load(path.with_suffix(".npz")) as saved:
        flat = [jax.device_put(saved[f"arg{i}"]) for i in range(len(saved.files))]
    args, kwargs = jax.tree.unflatten(exported.in_tree, flat)
    compiled = jax.jit(exported.call).lower(*args, **kwargs).compile()
    return lambda: compiled(*args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", required=True, help="interpreter with BrainPy")
    parser.add_argument("--steps", nargs="+", type=int, default=[100, 500, 2000])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for steps in args.steps:
            calls = {"brainsim": brainsim_step(steps, args.batch),
                     "brainpy": brainpy_step(args.peer_python, steps, args.batch,
                                             pathlib.Path(folder))}
            for call in calls.values():
                jax.block_until_ready(call())  # warm-up
            cpu = {name: [] for name in calls}
            wall = {name: [] for name in calls}
            for _ in range(args.rounds):
                for name, call in calls.items():
                    began, began_cpu = time.perf_counter(), time.process_time()
                    jax.block_until_ready(call())
                    wall[name].append(time.perf_counter() - began)
                    cpu[name].append(time.process_time() - began_cpu)
            for name in calls:
                print(json.dumps(dict(
                    bench="training_alternating", simulator=name, mode="bptt", T=steps,
                    batch=args.batch, rounds=args.rounds,
                    cpu_min_s=round(min(cpu[name]), 4),
                    cpu_median_s=round(statistics.median(cpu[name]), 4),
                    wall_min_s=round(min(wall[name]), 4),
                    wall_median_s=round(statistics.median(wall[name]), 4),
                )), flush=True)


if __name__ == "__main__":
    main()
