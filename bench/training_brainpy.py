"""BrainPy peer of `bench/training.py`: the same 700-256-256-20 network trained by plain BPTT.

Run by `bench/training.py` with the interpreter that has BrainPy (`--peer-python`); it imports
neither brainsim nor anything outside BrainPy. Two LIF layers (tau 10 ms, threshold 1, reset 0,
arctan surrogate) and a leaky-integrator readout (tau 10 ms), dt = 1 ms, Poisson inputs at 20 Hz,
max-over-time cross-entropy, Adam. Prints one JSON line per T, with compile (first step minus
a later step) and step time (median after two warm-up steps) separated.

    python bench/training_brainpy.py --steps 100 500 --batch 64
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

SIZES = (700, 256, 256, 20)
INPUT_RATE_HZ = 20.0


def measure(steps: int, batch: int, repeats: int) -> dict:
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

    @bm.jit
    def train_step(xs, ys):
        grads, loss = grad_fun(xs, ys)
        optimizer.update(grads)
        return loss

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="+", type=int, default=[100, 500, 2000])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for steps in args.steps:
        print(json.dumps(measure(steps, args.batch, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
