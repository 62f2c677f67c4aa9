"""Brian2 peer of `bench/sweep.py`: the COBA sweep in cpp_standalone, one build, one run of the
binary per point.

Run by `bench/sweep.py --brian2-python` with an interpreter that has Brian2; it imports Brian2,
the standard library and the stdlib-only parts of `bench/coba.py` (the COBA equations) and
`bench/sweep.py` (the points, the JSON line).

The network is `bench/coba.py`'s Brian2 COBA (exponential Euler, `openmp_threads = --cores`)
with the conductance jumps read from two per-neuron constants, `w_e` and `w_i`, so that
the compiled binary serves every point: after one `device.build`, each point is one
`device.run` with `run_args` setting `w_e`, `w_i` (Brian2 >= 2.6), and its spike counts are
read back. `compile_s` is the build (code generation and C++ compilation); `run_s` the runs
(each includes the binary's start-up and writing its results to disk, as a Brian2 user's loop
does); `total_s` both.

    python bench/sweep_brian2.py --points 4 --duration 200
"""

from __future__ import annotations

import tempfile
import time

from coba import _BRIAN2_COBA
from sweep import emit_sweep, peer_arguments, weight_grid


def main() -> None:
    args = peer_arguments(__doc__.splitlines()[0])
    import brian2 as b2

    began = time.perf_counter()
    directory = tempfile.mkdtemp(prefix="brian2_sweep_")
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.cores
    b2.defaultclock.dt = 0.1 * b2.ms
    n, n_e = args.n, args.n * 4 // 5
    equations = _BRIAN2_COBA + "w_e : 1 (constant)\nw_i : 1 (constant)\n"
    group = b2.NeuronGroup(n, equations, threshold="v > -50*mV", reset="v = -60*mV",
                           refractory=5 * b2.ms, method="exponential_euler")  # fmt: skip
    group.v = "-60*mV + rand() * 10*mV"
    exc, inh = group[:n_e], group[n_e:]
    synapses = [b2.Synapses(exc, group, on_pre="ge += w_e_post"),
                b2.Synapses(inh, group, on_pre="gi += w_i_post")]  # fmt: skip
    for s in synapses:
        s.connect(p=80 / n)
    monitor_e, monitor_i = b2.SpikeMonitor(exc), b2.SpikeMonitor(inh)
    network = b2.Network(group, *synapses, monitor_e, monitor_i)
    network.run(args.duration * b2.ms)
    b2.device.build(directory=directory, compile=True, run=False)
    compile_s = time.perf_counter() - began
    began = time.perf_counter()
    rates = []
    bio_s = args.duration / 1000
    for w_e, w_i in weight_grid(args.points):
        b2.device.run(directory=directory, with_output=False,
                      run_args={group.w_e: w_e, group.w_i: w_i})  # fmt: skip
        rates.append((monitor_e.num_spikes / n_e / bio_s,
                      monitor_i.num_spikes / (n - n_e) / bio_s))  # fmt: skip
    run_s = time.perf_counter() - began
    emit_sweep("brian2_cpp_standalone", n=n, points=args.points, cores=args.cores,
               duration=args.duration, compile_s=compile_s, run_s=run_s,
               total_s=compile_s + run_s, rates=rates, version=b2.__version__)  # fmt: skip


if __name__ == "__main__":
    main()
