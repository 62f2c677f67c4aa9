"""BrainPy peer of `bench/sweep.py`: the COBA sweep as one BrainPy network and run per point.

Run by `bench/sweep.py --peer-python` with an interpreter that has BrainPy; it imports BrainPy,
the standard library and the stdlib-only parts of `bench/coba.py` (BrainPy's COBA network,
the same as `bench/coba.py` measures) and `bench/sweep.py` (the points, the JSON line).

Each point builds the network (`FixedProb` connectivity, exponential conductance synapses,
`LifRef` neurons), sets the weights of its excitatory and inhibitory projections to the
point's `w_e` and `w_i`, and runs it for the duration with a `DSRunner` that monitors the
spike counts: the loop a BrainPy user writes. BrainPy compiles each point's program anew (its
weights are constants of the program). `compile_s_per_point` is the first point's first run
minus a second run of the same network (that repeat is left out of the totals); `compile_s`
is it times the number of points, `run_s` the rest of `total_s`, which is everything, network
construction included.

    python bench/sweep_brainpy.py --points 4 --duration 200
"""

from __future__ import annotations

import time

from coba import _brainpy_network
from sweep import emit_sweep, peer_arguments, weight_grid


def run_point(n: int, duration: float, w_e: float, w_i: float, repeats: int = 1):
    """(time of each run (s), (E rate, I rate) in Hz of the first) of one BrainPy network."""
    import brainpy as bp
    import brainpy.math as bm

    net = _brainpy_network("coba", n)
    for projection in net.projections:
        projection.comm.weight = w_e if projection.pre is net.E else w_i
    runner = bp.DSRunner(
        net,
        monitors={"E": lambda: bm.sum(net.E.spike), "I": lambda: bm.sum(net.I.spike)},
        progress_bar=False,
    )
    times = []
    rates = None
    for _ in range(repeats):
        began = time.perf_counter()
        runner.run(duration)
        times.append(time.perf_counter() - began)
        if rates is None:
            bio_s = duration / 1000
            n_e = n * 4 // 5
            rates = (float(runner.mon["E"].sum()) / n_e / bio_s,
                     float(runner.mon["I"].sum()) / (n - n_e) / bio_s)  # fmt: skip
    return times, rates


def main() -> None:
    args = peer_arguments(__doc__.splitlines()[0])
    import brainpy as bp
    import brainpy.math as bm

    bm.set_platform("cpu")
    bm.set_dt(0.1)
    began = time.perf_counter()
    rates = []
    compile_s = repeat_s = 0.0
    for k, (w_e, w_i) in enumerate(weight_grid(args.points)):
        times, point_rates = run_point(args.n, args.duration, w_e, w_i, repeats=2 if k == 0 else 1)
        if k == 0:  # the repeat only measures the compile time; it is not part of the sweep
            compile_s, repeat_s = times[0] - times[1], times[1]
        rates.append(point_rates)
    total_s = time.perf_counter() - began - repeat_s
    emit_sweep("brainpy", n=args.n, points=args.points, cores=args.cores,
               duration=args.duration, compile_s=compile_s * args.points,
               run_s=total_s - compile_s * args.points, total_s=total_s, rates=rates,
               version=bp.__version__, compile_s_per_point=round(compile_s, 3))  # fmt: skip

if __name__ == "__main__":
    main()
