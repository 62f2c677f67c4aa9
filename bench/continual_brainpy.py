"""BrainPy peer of `bench/continual.py`: its network trained by plain BPTT, without protection.

Run by `bench/continual.py --peer-python` with an interpreter that has BrainPy; it imports neither
brainsim nor anything outside BrainPy, numpy and the standard library.

Network (`examples/continual_digits.py`'s): a 64-128-128-10 MLP without biases, only the weights
trained, dt = 1 ms, T = 6 steps, each sample (a 64-vector in [0, 1)) held as a constant input
current for the T steps. The hidden layers are `bp.dyn.Lif` (tau 100 ms, V_rest = V_reset = 0,
V_th = 1 mV, no refractory period) integrated by exponential Euler with R = 1 / (1 - exp(-dt/tau)),
so that each step `V <- exp(-dt/tau) V + I`: the current adds exactly I mV and V leaks 1 % a step,
as brainsim's LIF does. Reset is `spk_reset="hard"` without detaching (`V += (V_reset - V) s`),
which in value and gradient is brainsim's reset; the surrogate is `InvSquareGrad(alpha=1)`,
`1 / (1 + |V - V_th|)^2`, i.e. SuperSpike's fast sigmoid with alpha = 1, brainsim's `FastSigmoid(1)`
(BrainPy's `soft_sign` has half that height, so it is not used). Differences from brainsim: BrainPy
fires at `V >= V_th` (brainsim at `V > V_th`). The readout is 10 non-spiking units whose output
is their input current each step (brainsim's `LeakyReadout` with tau = 1 us is that to rounding);
logits are its mean over the T steps, loss the mean cross-entropy. Initial weights are normal with
std = scale / sqrt(n_in), scale 4 for the hidden layers and 1 for the readout, drawn by BrainPy's
generator seeded with `--seed` (so not brainsim's draw). Plain SGD, learning rate 0.2, batch 32.
The data are numpy's `default_rng(1)`: uniform inputs `(batches * 32, 64)`, then labels 0..9, as
in `bench/continual.py`.

What is timed: one epoch of `--batches` training steps (step = loss + gradient + SGD update on a
batch of 32) as one jitted `bm.for_loop` over the batches. `compile_s` is the first call's time
minus the median of the later ones (BrainPy compiles again on the second call, so that is also a
warm-up); `step_s` is the median epoch time over `--repeats` divided by the number of batches.
The weights are put back to their initial values before every epoch (outside the timing), so each
repeat trains from the same start. `step_call_s` is the median time of a single jitted step called
from Python (dispatch included). `hidden_rate_hz` is each hidden layer's mean rate (spikes per
step * 1000 / dt) on the first batch after the epoch, the first entry the first hidden layer.
`loss_first` / `loss_last` are the losses of the epoch's first and last batch. One JSON line:

    python bench/continual_brainpy.py --batches 45 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np

SIZES = (64, 128, 128, 10)
STEPS = 6              # T
DT = 1.0               # ms
TAU_M = 100.0          # ms
BATCH = 32
LEARNING_RATE = 0.2
WEIGHT_SCALE = (4.0, 4.0, 1.0)
SURROGATE_ALPHA = 1.0


def measure(batches: int, repeats: int, calls: int, seed: int) -> dict:
    import brainpy as bp
    import brainpy.math as bm

    bm.set_platform("cpu")
    bm.set_dt(DT)
    bm.random.seed(seed)

    class Network(bp.DynamicalSystem):
        def __init__(self):
            super().__init__()
            neuron = dict(tau=TAU_M, V_th=1.0, V_reset=0.0, V_rest=0.0,
                          R=1.0 / (1.0 - math.exp(-DT / TAU_M)), spk_reset="hard",
                          spk_fun=bm.surrogate.InvSquareGrad(alpha=SURROGATE_ALPHA))
            dense = [
                bp.dnn.Linear(n_in, n_out, b_initializer=None,
                              W_initializer=bp.init.Normal(scale=scale / math.sqrt(n_in)))
                for n_in, n_out, scale in zip(SIZES[:-1], SIZES[1:], WEIGHT_SCALE, strict=True)
            ]
            self.fc1, self.fc2, self.readout = dense
            self.lif1 = bp.dyn.Lif(SIZES[1], **neuron)
            self.lif2 = bp.dyn.Lif(SIZES[2], **neuron)

        def update(self, x):
            s1 = self.lif1(self.fc1(x))
            s2 = self.lif2(self.fc2(s1))
            return self.readout(s2), s1, s2

    with bm.training_environment():
        net = Network()
    bp.reset_state(net, BATCH)
    weights = net.train_vars().unique()
    optimizer = bp.optim.SGD(lr=LEARNING_RATE, train_vars=weights)
    initial = {name: bm.as_jax(var.value) for name, var in weights.items()}

    rng = np.random.default_rng(1)
    x = rng.random((batches * BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], len(x))
    xs = bm.asarray(x.reshape(batches, BATCH, SIZES[0]))
    ys = bm.asarray(y.reshape(batches, BATCH))

    def run(x):
        """(readout, hidden-1 spikes, hidden-2 spikes), each (T, batch, n), from rest."""
        bp.reset_state(net, BATCH)
        return bm.for_loop(lambda i: net.step_run(i, x), np.arange(STEPS))

    def loss_fun(x, y):
        logits = bm.mean(run(x)[0], axis=0)
        return bp.losses.cross_entropy_loss(logits, y)

    grad_fun = bm.grad(loss_fun, grad_vars=weights, return_value=True)

    def train_batch(x, y):
        grads, loss = grad_fun(x, y)
        optimizer.update(grads)
        return loss

    @bm.jit
    def epoch(xs, ys):
        return bm.for_loop(train_batch, (xs, ys))

    train_step = bm.jit(train_batch)

    @bm.jit
    def rates(x):
        _, s1, s2 = run(x)
        return bm.stack([bm.mean(s1), bm.mean(s2)]) * (1000.0 / DT)

    def restore():
        for name, var in weights.items():
            var.value = initial[name]

    def timed(fun, *args):
        restore()
        began = time.perf_counter()
        out = fun(*args)
        out.block_until_ready()
        return time.perf_counter() - began, out

    first, _ = timed(epoch, xs, ys)
    timed(epoch, xs, ys)  # the second call compiles again
    times = []
    for _ in range(repeats):
        elapsed, losses = timed(epoch, xs, ys)
        times.append(elapsed)
    epoch_s = statistics.median(times)
    hidden = [round(float(r), 1) for r in np.asarray(rates(xs[0]))]
    losses = np.asarray(losses)

    timed(train_step, xs[0], ys[0])
    timed(train_step, xs[0], ys[0])
    call_times = []
    for i in range(calls):
        began = time.perf_counter()
        train_step(xs[i % batches], ys[i % batches]).block_until_ready()
        call_times.append(time.perf_counter() - began)

    return dict(
        bench="continual",
        simulator="brainpy",
        version=bp.__version__,
        trainer="bptt",
        method="baseline",
        batch=BATCH,
        T=STEPS,
        batches=batches,
        compile_s=round(first - epoch_s, 3),
        step_s=round(epoch_s / batches, 6),
        step_call_s=round(statistics.median(call_times), 6),
        loss_first=round(float(losses[0]), 4),
        loss_last=round(float(losses[-1]), 4),
        loss=round(float(losses[-1]), 4),
        hidden_rate_hz=hidden,
        device="cpu",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=45, help="batches per timed epoch")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs after the warm-up")
    parser.add_argument("--calls", type=int, default=20, help="timed single-step calls")
    parser.add_argument("--seed", type=int, default=0, help="seed of BrainPy's weight generator")
    args = parser.parse_args()
    print(json.dumps(measure(args.batches, args.repeats, args.calls, args.seed)), flush=True)


if __name__ == "__main__":
    main()
