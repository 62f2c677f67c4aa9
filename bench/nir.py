"""An snnTorch conv network imported through NIR: brainsim (jit, vmap over a batch) vs snnTorch
running the same graph, on the CPU.

The graph is `tests/reference/snntorch_conv.nir`, written by snnTorch 1.0's exporter:
`Conv2d(1 -> 4, 3x3) -> Leaky -> AvgPool2d(2) -> Conv2d(4 -> 6, 3x3, stride 2) -> Leaky ->
Flatten -> Linear(24 -> 5) -> Leaky` on 1x8x8 frames, dt = 0.1 ms. Input: `--batch` sequences
of `--steps` frames of Bernoulli spikes (p = 0.2, numpy seed 0, the same on both sides).
brainsim reads it with `from_nir` and runs `jax.jit(jax.vmap(model.run))` twice in one process
(compile = first call - second call); with `--peer-python` (an interpreter with torch, snntorch
and nir) the same script reads the graph with `snntorch.import_from_nir` and steps it over
the batch, also twice (patching two bugs of snnTorch 1.0's importer on its own export: a
scalar `AvgPool2d` kernel size, and `Flatten(start_dim=0)` over the batch axis). Both sides
are pinned to one core (`taskset`, one torch thread). One JSON line per simulator: times (s),
total output spikes (the same on both sides when the two agree) and the output layer's mean
rate (Hz), so that a silent network cannot look fast.

    python bench/nir.py
    python bench/nir.py --peer-python /tmp/nirpeers/bin/python --batch 64 --steps 500
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
# This file is named nir.py: keep its folder off the path so `import nir` finds the package.
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != HERE]

GRAPH = HERE.parent / "tests" / "reference" / "snntorch_conv.nir"
DT = 0.1  # ms: snnTorch's exporter writes dt = 1e-4 s


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def _inputs(batch: int, steps: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((batch, steps, 1, 8, 8)) < 0.2).astype(np.float32)


def _line(simulator, version, times, spikes, batch, steps, n_out, compiled):
    """`first_s`, `run_s`: the first and second call; `compile_s` their difference where
    something is compiled (None for snnTorch, which runs eagerly)."""
    bio_s = steps * DT / 1000
    compile_s = round(times[0] - times[1], 4) if compiled else None
    _emit(bench="nir_snntorch_conv", simulator=simulator, version=version, batch=batch,
          steps=steps, dt_ms=DT, bio_s=bio_s, cores=1, first_s=round(times[0], 4),
          compile_s=compile_s, run_s=round(times[1], 4), spikes=int(spikes),
          rate_hz=round(spikes / (batch * n_out) / bio_s, 2))  # fmt: skip


def run_brainsim(batch: int, steps: int) -> None:
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import brainsim as bs

    bs.use_cpu_cores(1)
    model = bs.nir.from_nir(GRAPH, dt=DT)
    x = jnp.asarray(_inputs(batch, steps).reshape(batch, steps, -1))
    run = eqx.filter_jit(lambda m, x: jax.vmap(m.run)(x))
    times = []
    for _ in range(2):
        began = time.perf_counter()
        out = jax.block_until_ready(run(model, x))
        times.append(time.perf_counter() - began)
    _line("brainsim", bs.__version__, times, float(out.sum()), batch, steps, out.shape[-1],
          compiled=True)  # fmt: skip


def run_snntorch(batch: int, steps: int) -> None:
    import nir
    import snntorch
    import torch
    from snntorch import utils
    from snntorch.import_nir import import_from_nir

    torch.set_num_threads(1)
    graph = nir.read(GRAPH)
    for node in graph.nodes.values():  # two snnTorch 1.0 importer bugs on its own export:
        if isinstance(node, nir.AvgPool2d):  # a scalar kernel_size it cannot read back
            node.kernel_size = np.broadcast_to(node.kernel_size, (2,))
            node.stride = np.broadcast_to(node.stride, (2,))
        if isinstance(node, nir.Flatten):  # start_dim 0 would flatten the batch axis too
            node.start_dim = 1
    net = import_from_nir(graph)
    x = torch.from_numpy(_inputs(batch, steps))
    times = []
    for _ in range(2):
        utils.reset(net)
        began = time.perf_counter()
        with torch.no_grad():
            # The neurons keep their state (init_hidden=True); the executor returns (y, state).
            out = torch.stack([net(x[:, t])[0] for t in range(steps)])
        times.append(time.perf_counter() - began)
    _line("snntorch", snntorch.__version__, times, float(out.sum()), batch, steps,
          out.shape[-1], compiled=False)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32, help="input sequences")
    parser.add_argument("--steps", type=int, default=200, help="steps of 0.1 ms")
    parser.add_argument("--peer-python", default=None, help="interpreter with snntorch")
    parser.add_argument("--side", choices=["brainsim", "snntorch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "brainsim":
        run_brainsim(args.batch, args.steps)
        return
    if args.side == "snntorch":
        run_snntorch(args.batch, args.steps)
        return
    common = ["--batch", str(args.batch), "--steps", str(args.steps)]
    subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--side", "brainsim",
                    *common], check=True)  # fmt: skip
    if args.peer_python:
        subprocess.run(["taskset", "-c", "0", args.peer_python, __file__, "--side", "snntorch",
                        *common], check=True)  # fmt: skip


if __name__ == "__main__":
    main()
