"""e-prop on NEST's sine-wave task: brainsim vs NEST 3.10, cost per training iteration.

The task and size of NEST's `eprop_supervised_regression_sine-waves` example (100 frozen
Poisson inputs, 100 LIF neurons, one leaky readout, 1000 steps of 1 ms per iteration). brainsim
(`examples/eprop_sine.py`'s network, Adam) trains `--iterations` iterations in one process:
compile_s is the first iteration minus a later one, run_s the mean of the rest. With
`--peer-python`, NEST's own example (200 iterations, run by
`tests/reference/make_nest_eprop_refs.py`) runs in that interpreter; its run_s is its wall time
per iteration. Both are pinned to one core. One JSON line per simulator with the first and
last loss and the recurrent firing rate.

    python bench/eprop.py
    python bench/eprop.py --peer-python /tmp/nest/bin/python
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


def run_brainsim(iterations: int) -> None:
    import equinox as eqx
    import jax
    import optax

    import brainsim as bs

    sys.path.insert(0, str(ROOT / "examples"))
    from eprop_sine import DT, STEPS, make_network, sine_task, weights

    bs.use_cpu_cores(1)
    spikes, target = sine_task(1, 100)
    net = make_network(100, 100, jax.random.key(1))
    optimizer = optax.adam(2.0)
    opt_state = optimizer.init(weights(net))

    @eqx.filter_jit
    def update(net, opt_state):
        loss, grads, final = bs.train.eprop_value_and_grad(net, spikes, target, dt=DT)
        updates, opt_state = optimizer.update(weights(grads), opt_state)
        new = optax.apply_updates(weights(net), updates)
        return eqx.tree_at(weights, net, new), opt_state, loss

    times, losses = [], []
    for _ in range(iterations):
        began = time.perf_counter()
        net, opt_state, loss = update(net, opt_state)
        losses.append(float(loss))
        times.append(time.perf_counter() - began)
    result = bs.run(net, net.init(), input_series=spikes, steps=STEPS, dt=DT, stream=False,
                    record={"z": lambda s, _: s.spikes})  # fmt: skip
    run_s = float(np.mean(times[1:]))
    _emit(bench="eprop", simulator="brainsim", n_in=100, n_rec=100, steps=STEPS, cores=1,
          iterations=iterations, compile_s=round(times[0] - run_s, 3),
          run_s=round(run_s, 4), loss_first=round(losses[0], 3), loss_last=round(losses[-1], 3),
          rate_hz=round(float(np.asarray(result.traces["z"]).mean()) * 1e3 / DT, 3))  # fmt: skip


def run_nest(peer_python: str, timeout: float) -> None:
    script = ROOT / "tests" / "reference" / "make_nest_eprop_refs.py"
    with tempfile.TemporaryDirectory() as out:
        path = pathlib.Path(out) / "nest_eprop.npz"
        subprocess.run(["taskset", "-c", "0", peer_python, str(script), str(path)], check=True,
                       timeout=timeout, capture_output=True, cwd=ROOT)  # fmt: skip
        ref = np.load(path)
        loss = ref["loss"]
        _emit(bench="eprop", simulator="nest", version="3.10", n_in=int(ref["n_in"]),
              n_rec=int(ref["n_rec"]), steps=1000, cores=1, iterations=len(loss),
              run_s=round(float(ref["wall_s"]) / len(loss), 4),
              total_s=round(float(ref["wall_s"]), 3), loss_first=round(float(loss[0]), 3),
              loss_last=round(float(loss[-1]), 3))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="brainsim iterations")
    parser.add_argument("--peer-python", default=None, help="interpreter with NEST 3.10")
    parser.add_argument("--timeout", type=float, default=3600.0, help="NEST run limit (s)")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        run_brainsim(args.iterations)
        return
    subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--in-process",
                    "--iterations", str(args.iterations)], check=True)  # fmt: skip
    if args.peer_python:
        run_nest(args.peer_python, args.timeout)


if __name__ == "__main__":
    main()
