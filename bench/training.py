"""Training benchmark (issue 6): time per training step and memory as the number of steps grows.

A 700-256-256-20 network (two LIF layers and a leaky-integrator readout, dt = 1 ms) is trained
on Poisson inputs with batch 64 by three methods: plain surrogate-gradient BPTT, BPTT with
`checkpoint_every ≈ √T`, and online OTTT (`brainsim.train.online_value_and_grad`, memory
independent of T). One JSON line per (method, T):

    {"bench": "training", "mode": ..., "T": ..., "batch": ..., "compile_s": ..., "step_s": ...,
     "temp_bytes": ..., "hidden_rate_hz": ...}

Inputs are batch-major `(batch, T, 700)`; BPTT maps samples with `jax.vmap`, the online pass
takes them time-major with the batch as a middle axis. `compile_s` is lowering plus XLA
compilation of one full training step (loss, gradient, Adam update); `step_s` the median wall
time of the compiled step; `temp_bytes` the compiled program's temporary buffer size from
`memory_analysis()` (its peak scratch memory: activations and residuals kept for the backward
pass). With `--train weights` (default) the BPTT modes differentiate and update the three weight
matrices only, as the BrainPy peer does; `--train all` adds every neuron parameter (per-layer
`tau_m`, `v_th`, ...; one more gradient reduction per parameter and step). The online mode
always returns every parameter's gradient. BrainPy trains the same network by plain BPTT
(`bench/training_brainpy.py`, run with `--peer-python`, default this interpreter) when it can
import brainpy; otherwise a `skipped` line says why.

    python bench/training.py            # T in (100, 500, 2000), batch 64
    python bench/training.py --quick    # T in (20, 50), batch 8
    python bench/training.py --peer-python /path/to/venv-with-brainpy/bin/python
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import brainsim as bs
from brainsim.train import (
    LeakyReadout,
    Sequential,
    SpikingDense,
    max_over_time_cross_entropy,
    online_value_and_grad,
)

SIZES = (700, 256, 256, 20)
DT = 1.0
TAU_M = 10.0
INPUT_RATE_HZ = 20.0


def _network(key) -> Sequential:
    keys = jax.random.split(key, 3)
    lif = bs.neurons.LIF(tau_m=TAU_M, t_ref=0.0, detach_reset=True)
    return Sequential(
        [
            SpikingDense(SIZES[0], SIZES[1], lif, key=keys[0], weight_scale=1500.0),
            SpikingDense(SIZES[1], SIZES[2], lif, key=keys[1], weight_scale=1500.0),
            SpikingDense(SIZES[2], SIZES[3], LeakyReadout(), key=keys[2], weight_scale=100.0),
        ]
    )


def _data(key, batch: int, steps: int):
    """Poisson input spikes, batch-major `(batch, T, 700)`, and random labels."""
    k_x, k_y = jax.random.split(key)
    p = INPUT_RATE_HZ * DT / 1000.0
    x = jax.random.bernoulli(k_x, p, (batch, steps, SIZES[0])).astype(jnp.float32)
    return x, jax.random.randint(k_y, (batch,), 0, SIZES[-1])


def _hidden_rate(net, x):
    """Mean spike probability per step of the first hidden layer for batch-major inputs `x`
    (measured outside the timed training step)."""
    return jnp.mean(jax.vmap(lambda xs: net.run(xs, dt=DT, layers=[0])[0])(x))


def _trainable(net, train: str):
    """Filter spec of the parameters to train: the weight matrices, or every inexact array."""
    if train == "all":
        return jax.tree_util.tree_map(eqx.is_inexact_array, net)
    spec = jax.tree_util.tree_map(lambda _: False, net)
    return eqx.tree_at(lambda n: [layer.weight for layer in n.layers], spec,
                       replace=[True] * len(net.layers))


def _bptt_value_and_grad(checkpoint_every, spec):
    def loss(net, x, y):
        def one_sample(xs):  # record the readout only: recordings are O(T) memory
            return net.run(xs, dt=DT, checkpoint_every=checkpoint_every, layers=[-1])[0]

        out = jax.vmap(one_sample, out_axes=1)(x)  # (T, batch, classes)
        return max_over_time_cross_entropy(out, y)

    def value_and_grad(net, x, y):
        params, rest = eqx.partition(net, spec)
        return jax.value_and_grad(lambda p: loss(eqx.combine(p, rest), x, y))(params)

    return value_and_grad


def _online_value_and_grad(net, x, y):  # x time-major: (T, batch, 700)
    steps = x.shape[0]

    def loss_fn(outputs, n):  # readout cross-entropy at every step, averaged over T and batch
        log_p = jax.nn.log_softmax(outputs[-1], axis=-1)
        return -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=-1)) / steps

    value, grads, _ = online_value_and_grad(net, loss_fn, x, dt=DT, tau_trace=TAU_M)
    return value, grads


def _training_step(value_and_grad, optimizer, structure, spec):
    def step(arrays, opt_state, x, y):
        net = eqx.combine(arrays, structure)
        value, grads = value_and_grad(net, x, y)
        grads = eqx.filter(grads, spec)
        params = eqx.filter(arrays, spec)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return eqx.apply_updates(arrays, updates), opt_state, value

    return jax.jit(step)


def measure(mode: str, steps: int, batch: int, repeats: int, train: str = "weights") -> dict:
    net = _network(jax.random.key(0))
    spec = _trainable(net, "all" if mode == "online" else train)
    arrays, structure = eqx.partition(net, eqx.is_array)
    optimizer = optax.adam(1e-3)  # as the BrainPy peer
    opt_state = optimizer.init(eqx.filter(arrays, spec))
    x, y = _data(jax.random.key(1), batch, steps)
    rate_inputs = x[:, :20]  # batch-major, for the hidden rate after the timed steps
    if mode == "online":
        value_and_grad = _online_value_and_grad
        x = jnp.swapaxes(x, 0, 1)  # time-major, outside the compiled step
    else:
        k = max(1, round(math.sqrt(steps))) if mode == "bptt_checkpoint" else None
        value_and_grad = _bptt_value_and_grad(k, spec)
    step = _training_step(value_and_grad, optimizer, structure, spec)
    began = time.perf_counter()
    compiled = step.lower(arrays, opt_state, x, y).compile()
    compile_s = time.perf_counter() - began
    temp_bytes = compiled.memory_analysis().temp_size_in_bytes
    arrays, opt_state, value = compiled(arrays, opt_state, x, y)  # warm-up
    jax.block_until_ready(value)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        arrays, opt_state, value = compiled(arrays, opt_state, x, y)
        jax.block_until_ready(value)
        times.append(time.perf_counter() - began)
    rate = jax.jit(_hidden_rate)(eqx.combine(arrays, structure), rate_inputs)
    return dict(
        bench="training",
        simulator="brainsim",
        mode=mode,
        trained="all" if mode == "online" else train,
        T=steps,
        batch=batch,
        compile_s=round(compile_s, 3),
        step_s=round(statistics.median(times), 4),
        temp_bytes=int(temp_bytes),
        loss=round(float(value), 4),
        hidden_rate_hz=round(float(rate) * 1000.0 / DT, 2),
        device=jax.devices()[0].platform,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="T in (20, 50), batch 8")
    parser.add_argument("--modes", nargs="+", default=["bptt", "bptt_checkpoint", "online"])
    parser.add_argument("--steps", nargs="+", type=int, default=None, help="values of T")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per point")
    parser.add_argument("--train", choices=["weights", "all"], default="weights",
                        help="parameters the BPTT modes train (BrainPy: weights)")
    parser.add_argument("--peer-python", default=sys.executable,
                        help="interpreter that has brainpy installed")
    args = parser.parse_args()
    steps = args.steps or ([20, 50] if args.quick else [100, 500, 2000])
    batch = args.batch or (8 if args.quick else 64)
    repeats = args.repeats or (2 if args.quick else 3)
    for t in steps:
        for mode in args.modes:
            print(json.dumps(measure(mode, t, batch, repeats, args.train)), flush=True)
    run_brainpy(args.peer_python, steps, batch, repeats)


def run_brainpy(python: str, steps: list[int], batch: int, repeats: int) -> None:
    """BrainPy's BPTT on the same network, in its own process (it needs no brainsim)."""
    importable = os.path.exists(python) and subprocess.run(
        [python, "-c", "import brainpy"], capture_output=True).returncode == 0
    if not importable:
        print(json.dumps(dict(bench="training", simulator="brainpy",
                              skipped=f"brainpy is not importable by {python}")), flush=True)
        return
    script = pathlib.Path(__file__).with_name("training_brainpy.py")
    command = [python, str(script), "--steps", *map(str, steps), "--batch", str(batch),
               "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    for line in lines:
        print(line, flush=True)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "Error" in line] or ["failed"]
        print(json.dumps(dict(bench="training", simulator="brainpy", skipped=errors[-1][:200])),
              flush=True)


if __name__ == "__main__":
    main()
