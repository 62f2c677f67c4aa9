"""e-prop on NEST's sine-wave task: brainsim vs NEST 3.10, cost per training iteration.

The same configuration on both sides: NEST's `eprop_supervised_regression_sine-waves` example
(100 frozen Poisson inputs, 100 `eprop_iaf` neurons, one readout, 1000 steps of 1 ms per
iteration, random feedback, gradient descent with NEST's learning rate, firing-rate
regulariser) and brainsim's copy of it in `examples/eprop_sine.py --nest` (`EpropLIF`, NEST's
initial weights, the state carried from sequence to sequence). brainsim trains `--iterations`
iterations in one process, one e-prop gradient and weight update per iteration: compile_s is
the first iteration minus a later one, run_s the mean of the rest. With `--peer-python`, NEST's
own example (200 iterations, run by `tests/reference/make_nest_eprop_refs.py`) runs in that
interpreter; with `--nest-reference` the timings saved with `tests/reference/nest_eprop_sine.npz`
(made by the same script) are reported instead of running NEST again. NEST's run_s is its time
in `nest.Simulate` per iteration (it has no compilation; setup_s is the rest of the script:
building the network, recording, evaluation). Both are pinned to one core (`--core`). One
JSON line per simulator with the first and last loss (brainsim: `E + E_reg`, what it
differentiates; NEST: `E`) and the recurrent firing rate.

    python bench/eprop.py
    python bench/eprop.py --peer-python /tmp/nest/bin/python
    python bench/eprop.py --nest-reference
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
REFERENCE = ROOT / "tests" / "reference" / "nest_eprop_sine.npz"


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def run_brainsim(iterations: int) -> None:
    import equinox as eqx
    import jax

    import brainsim as bs

    sys.path.insert(0, str(ROOT / "examples"))
    from eprop_sine import DT, KAPPA, STEPS, nest_network, nest_task, weights

    bs.use_cpu_cores(1)
    first, spikes, target, _, eta = nest_task(REFERENCE)
    net, feedback = nest_network(1)
    reg = dict(c_reg=300.0 / STEPS, f_target=10.0, tau_reg=-DT / float(np.log(KAPPA)))

    @eqx.filter_jit
    def update(net, state, x):
        loss, grads, state = bs.train.eprop_value_and_grad(
            net, x, target, dt=DT, feedback=feedback, state=state, **reg
        )
        new = jax.tree.map(lambda w, g: w - eta * g, weights(net), weights(grads))
        return eqx.tree_at(weights, net, new), state, loss

    state, times, losses = net.init(), [], []
    for k in range(iterations):
        began = time.perf_counter()
        net, state, loss = update(net, state, first if k == 0 else spikes)
        losses.append(float(loss))
        times.append(time.perf_counter() - began)
    result = bs.run(net, net.init(), input_series=spikes, steps=STEPS, dt=DT, stream=False,
                    record={"z": lambda s, _: s.spikes})  # fmt: skip
    run_s = float(np.mean(times[1:]))
    _emit(bench="eprop", simulator="brainsim", config="nest_sine", n_in=100, n_rec=100,
          steps=STEPS, cores=1, iterations=iterations, compile_s=round(times[0] - run_s, 3),
          run_s=round(run_s, 4), loss_first=round(losses[0], 3), loss_last=round(losses[-1], 3),
          rate_hz=round(float(np.asarray(result.traces["z"]).mean()) * 1e3 / DT, 3))  # fmt: skip


def _emit_nest(path: pathlib.Path, source: str) -> None:
    ref = np.load(path)
    loss = ref["loss"]
    iterations = len(loss)
    _emit(bench="eprop", simulator="nest", version="3.10", config="nest_sine",
          n_in=int(ref["n_in"]), n_rec=int(ref["n_rec"]), steps=1000, cores=1,
          iterations=iterations, compile_s=0.0,
          setup_s=round(float(ref["wall_s"] - ref["simulate_s"]), 3),
          run_s=round(float(ref["simulate_s"]) / iterations, 4),
          total_s=round(float(ref["wall_s"]), 3), loss_first=round(float(loss[0]), 3),
          loss_last=round(float(loss[-1]), 3), source=source)  # fmt: skip


def run_nest(peer_python: str, timeout: float, core: int) -> None:
    script = ROOT / "tests" / "reference" / "make_nest_eprop_refs.py"
    with tempfile.TemporaryDirectory() as out:
        path = pathlib.Path(out) / "nest_eprop.npz"
        subprocess.run(["taskset", "-c", str(core), peer_python, str(script), str(path)],
                       check=True, timeout=timeout, capture_output=True, cwd=ROOT)  # fmt: skip
        _emit_nest(path, "this run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="brainsim iterations")
    parser.add_argument("--peer-python", default=None, help="interpreter with NEST 3.10")
    parser.add_argument("--nest-reference", action="store_true",
                        help="report NEST's timings saved in the reference npz")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=3600.0, help="NEST run limit (s)")
    parser.add_argument("--core", type=int, default=0, help="the CPU core both run on")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        run_brainsim(args.iterations)
        return
    subprocess.run(["taskset", "-c", str(args.core), sys.executable, __file__, "--in-process",
                    "--iterations", str(args.iterations)], check=True)  # fmt: skip
    if args.peer_python:
        run_nest(args.peer_python, args.timeout, args.core)
    elif args.nest_reference:
        _emit_nest(REFERENCE, str(REFERENCE.relative_to(ROOT)))


if __name__ == "__main__":
    main()
