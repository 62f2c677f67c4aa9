"""BrainPy peer of `bench/training.py`: the same 700-256-256-20 network trained by plain BPTT.

Run by `bench/training.py` with the interpreter that has BrainPy (`--peer-python`); it imports
neither brainsim nor anything outside BrainPy. Two LIF layers (tau 10 ms, threshold 1, reset 0,
arctan surrogate) and a leaky-integrator readout (tau 10 ms), dt = 1 ms, Poisson inputs at 20 Hz,
max-over-time cross-entropy, Adam. Prints one JSON line per T, with compile (first step minus
a later step) and step time (median after two warm-up steps) separated.

    python bench/training_brainpy.py --steps 100 500 --batch 64
    python bench/training_brainpy.py --steps 2000 --export /tmp/steps   # for training_alternating
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import time

import numpy as np

SIZES = (700, 256, 256, 20)
INPUT_RATE_HZ = 20.0


def _build(steps: int, batch: int):
    """BrainPy, its jitted training step and the step's inputs `(xs, ys)`."""
    import brainpy as bp
    import brainpy.math as bm

    bm.set_platform("cpu")
    bm.set_dt(1.0)

    class Network(bp.DynamicalSystem):
        def __init__(self):
            super().__init__()
            lif = dict(tau=10.0, V_th=1.0, V_reset=0.0, V_rest=0.0,
                       spk_fun=bm.surrogate.arctan)
            self.layers = bm.NodeList([
                bp.dnn.Linear(SIZES[0], SIZES[1], W_initializer=bp.init.KaimingNormal(scale=5.0)),
                bp.dyn.Lif(SIZES[1], **lif),
                bp.dnn.Linear(SIZES[1], SIZES[2], W_initializer=bp.init.KaimingNormal(scale=5.0)),
                bp.dyn.Lif(SIZES[2], **lif),
                bp.dnn.Linear(SIZES[2], SIZES[3], W_initializer=bp.init.KaimingNormal()),
                bp.dyn.Integrator(SIZES[3], tau=10.0),
            ])

        def update(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    with bm.training_environment():
        net = Network()
    bp.reset_state(net, batch)  # states get their batch shape before tracing
    optimizer = bp.optim.Adam(lr=1e-3, train_vars=net.train_vars().unique())
    rng = np.random.default_rng(1)
    xs = bm.asarray(rng.random((steps, batch, SIZES[0])) < INPUT_RATE_HZ / 1000.0, dtype=float)
    ys = bm.asarray(rng.integers(0, SIZES[-1], batch))

    def loss_fun(xs, ys):
        bp.reset_state(net, batch)
        outputs = bm.for_loop(net.step_run, (np.arange(steps), xs))  # (T, batch, classes)
        logits = bm.max(outputs, axis=0)
        return bp.losses.cross_entropy_loss(logits, ys)

    grad_fun = bm.grad(loss_fun, grad_vars=optimizer.vars_to_train, return_value=True)

    def train_step(xs, ys):
        grads, loss = grad_fun(xs, ys)
        optimizer.update(grads)
        return loss

    return bp, train_step, xs, ys


def measure(steps: int, batch: int, repeats: int) -> dict:
    bp, train_step, xs, ys = _build(steps, batch)
    train_step = bp.math.jit(train_step)
    began = time.perf_counter()
    train_step(xs, ys).block_until_ready()
    first = time.perf_counter() - began
    train_step(xs, ys).block_until_ready()  # BrainPy compiles a second time on the 2nd call
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        loss = train_step(xs, ys)
        loss.block_until_ready()
        times.append(time.perf_counter() - began)
    step_s = statistics.median(times)
    return dict(bench="training", simulator="brainpy", version=bp.__version__, mode="bptt",
                T=steps, batch=batch, compile_s=round(first - step_s, 3),
                step_s=round(step_s, 4), loss=round(float(loss), 4))


def export(steps: int, batch: int, path: pathlib.Path) -> None:
    """Write BrainPy's training step as a pure function, `path.jaxexport` (serialized
    `jax.export.Exported`: the step's states in, their new values and the loss out) and its
    inputs, `path.npz` (`arg0`, `arg1`, ... in the order of the exported function's flat
    arguments), for `bench/training_alternating.py` to time beside brainsim's step."""
    import brainstate.transform
    import jax

    _, train_step, xs, ys = _build(steps, batch)
    xs, ys = jax.numpy.asarray(xs), jax.numpy.asarray(ys)
    stateful = brainstate.transform.StatefulFunction(train_step, return_only_write=True)
    states = stateful.get_state_trace(xs, ys, compile_if_miss=True).get_state_values()
    exported = jax.export.export(jax.jit(stateful.jaxpr_call))(states, xs, ys)
    flat = [np.asarray(a) for a in jax.tree.leaves((states, xs, ys))]
    path.with_suffix(".jaxexport").write_bytes(exported.serialize())
    np.savez(path.with_suffix(".npz"), **{f"arg{i}": a for i, a in enumerate(flat)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="+", type=int, default=[100, 500, 2000])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--export", metavar="DIR",
                        help="write each T's training step (jax.export) instead of timing it")
    args = parser.parse_args()
    for steps in args.steps:
        if args.export:
            path = pathlib.Path(args.export) / f"brainpy_T{steps}_B{args.batch}"
            export(steps, args.batch, path)
            print(json.dumps({"exported": str(path), "T": steps, "batch": args.batch}), flush=True)
        else:
            print(json.dumps(measure(steps, args.batch, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
