"""Continual-learning benchmark (issue 12): the cost of HLOP per training step.

The network and protocol of `examples/continual_digits.py` (a 64-128-128-10 integrate-and-fire
MLP, T = 6 steps, batch 32, SGD) are trained for one epoch of `--batches` batches by the harness
of `brainsim.continual.learn_tasks`, once without protection (`baseline`) and once with HLOP
(`hlop`: lateral subspace neurons updated by 5 Hebbian iterations on every batch, and every
weight update projected), under each trainer (`bptt`, `online`, `rate`). The lateral neurons are
set as in the middle of a 5-task run: the rows of three tasks frozen, a fourth task's rows
learning. One JSON line per (trainer, method):

    {"bench": "continual", "simulator": "brainsim", "trainer": ..., "method": ..., "batch": 32,
     "T": 6, "compile_s": ..., "step_s": ..., "overhead": ..., "hidden_rate_hz": [...]}

`compile_s` is lowering plus XLA compilation of the epoch (a `lax.scan` over the batches);
`step_s` the median over `--repeats` of the compiled epoch's wall time divided by the number of
batches; `overhead` (HLOP lines) is `step_s` relative to the baseline line of the same trainer
in the same run. `hidden_rate_hz` is each hidden layer's mean rate on the data afterwards. With
`--peer-python` (an interpreter with BrainPy), `bench/continual_brainpy.py` trains the same
network by plain BPTT in the same run. Pin the run to one core for stable figures:

    taskset -c 0 python bench/continual.py
    taskset -c 0 python bench/continual.py --peer-python /path/to/venv-with-brainpy/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from brainsim.continual import Protocol, mlp
from brainsim.continual._harness import _Harness
from brainsim.plasticity import LateralSubspace

SIZES = (64, 128, 128, 10)
FROZEN = (32, 48, 48)      # rows of three tasks (k0 + 2 increments of the default schedule)
LEARNING = (10, 12, 12)    # the current task's rows
K_MAX = (52, 72, 72)       # rows of a 5-task run
WINDOW = (12, 24, 24)      # the most rows one task adds (the first task's)


def _lateral(protocol: Protocol, trainer: str, data):
    """Lateral neurons of the middle of a run: `FROZEN` rows learnt on the data and frozen,
    then `LEARNING` new rows."""
    rules, states = [], []
    rows = [data] + [np.asarray(jax.random.bernoulli(jax.random.key(i), 0.2, (512, n)),
                                np.float32) for i, n in enumerate(SIZES[1:-1])]
    for i, (n, rate) in enumerate(zip(SIZES[:-1], protocol.hebbian_rates(trainer), strict=True)):
        rule = LateralSubspace(rate, iterations=protocol.hebbian_iterations, window=WINDOW[i])
        basis = np.linalg.svd(rows[i], full_matrices=False)[2][: FROZEN[i]]
        state = rule.init(n, k_max=K_MAX[i])
        H = state.H.at[: FROZEN[i]].set(basis)
        state = rule.consolidate(state._replace(H=H, active=jnp.arange(K_MAX[i]) < FROZEN[i]))
        states.append(rule.grow(state, LEARNING[i], key=jax.random.key(10 + i)))
        rules.append(rule)
    return tuple(rules), tuple(states)


def measure(trainer: str, method: str, batches: int, repeats: int, batch: int = 32,
            steps: int = 6) -> dict:
    protocol = Protocol(batch_size=batch, steps=steps)
    rng = np.random.default_rng(1)
    x = rng.random((batches * protocol.batch_size, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], len(x))
    rules, lateral = (None, None) if method == "baseline" else _lateral(protocol, trainer, x)
    harness = _Harness(mlp(SIZES, protocol, key=jax.random.key(0)), trainer, protocol, rules)
    trainable = harness.trainable
    carry = (trainable, harness.optimizer.init(trainable), lateral)
    xs = jnp.asarray(x.reshape(batches, protocol.batch_size, -1))
    ys = jnp.asarray(y.reshape(batches, protocol.batch_size))
    zeros = jax.tree.map(jnp.zeros_like, trainable)
    ewc = (zeros, zeros, 0.0)
    began = time.perf_counter()
    compiled = harness.epoch.lower(carry, xs, ys, None, ewc).compile()
    compile_s = time.perf_counter() - began
    out, losses = compiled(carry, xs, ys, None, ewc)
    jax.block_until_ready(losses)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        out, losses = compiled(carry, xs, ys, None, ewc)
        jax.block_until_ready(losses)
        times.append(time.perf_counter() - began)
    outputs = harness._outputs(out[0], xs[0])
    rates = [round(float(jnp.mean(s)) * 1000.0 / protocol.dt, 1) for s in outputs[:-1]]
    return dict(
        bench="continual",
        simulator="brainsim",
        trainer=trainer,
        method=method,
        batch=protocol.batch_size,
        T=protocol.steps,
        batches=batches,
        compile_s=round(compile_s, 3),
        step_s=round(statistics.median(times) / batches, 6),
        loss_first=round(float(losses[0]), 4),
        loss_last=round(float(losses[-1]), 4),
        hidden_rate_hz=rates,
        device=jax.devices()[0].platform,
    )


def run_brainpy(python: str, batches: int, repeats: int) -> None:
    """BrainPy's plain BPTT on the same network, in its own process (it needs no brainsim)."""
    script = pathlib.Path(__file__).with_name("continual_brainpy.py")
    importable = os.path.exists(python) and subprocess.run(
        [python, "-c", "import brainpy"], capture_output=True, check=False
    ).returncode == 0
    if not importable:
        print(json.dumps(dict(bench="continual", simulator="brainpy", skipped=(
            f"{python} cannot import brainpy; pass --peer-python"))), flush=True)
        return
    subprocess.run([python, str(script), "--batches", str(batches), "--repeats", str(repeats)],
                   check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainers", nargs="+", default=["bptt", "online", "rate"])
    parser.add_argument("--batches", type=int, default=45, help="batches per timed epoch")
    parser.add_argument("--batch", type=int, nargs="+", default=[32], help="batch sizes")
    parser.add_argument("--steps", type=int, nargs="+", default=[6], help="values of T")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-python", default=sys.executable,
                        help="interpreter that has brainpy installed")
    args = parser.parse_args()
    for batch in args.batch:
        for steps in args.steps:
            for trainer in args.trainers:
                baseline = measure(trainer, "baseline", args.batches, args.repeats, batch, steps)
                print(json.dumps(baseline), flush=True)
                hlop = measure(trainer, "hlop", args.batches, args.repeats, batch, steps)
                hlop["overhead"] = round(hlop["step_s"] / baseline["step_s"] - 1.0, 3)
                print(json.dumps(hlop), flush=True)
    run_brainpy(args.peer_python, args.batches, args.repeats)


if __name__ == "__main__":
    main()
