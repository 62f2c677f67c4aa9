"""COBA and COBAHH benchmarks (Brette et al. 2007): time per biological second, JSON lines.

In-degree is held at 80 as the networks grow; compile and run time are reported separately,
with firing rates so that a silent (or exploding) network cannot look fast. Peers run in the
same invocation when installed (`pip install brainsim[bench]`): Brian2 (cpp_standalone, one
thread) and BrainPy.

    python bench/coba.py                      # COBA and COBAHH at 4k
    python bench/coba.py --sizes 4000 40000 400000 --duration 1000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import jax

import brainsim as bs


def _emit(**fields):
    print(json.dumps(fields), flush=True)


def run_brainsim(model: str, n: int, duration: float, dt: float) -> None:
    began = time.perf_counter()
    net, inputs = getattr(bs.benchmarks, model)(jax.random.key(0), n=n)
    state = net.init(jax.random.key(1))
    build_s = time.perf_counter() - began
    record = ["E.spikes", "I.spikes"]
    # The first run compiles; the second reuses the compiled chunk. compile = first - second.
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        result = bs.run(net, state, inputs=inputs, duration=duration, dt=dt, record=record,
                        progress=False)
        jax.block_until_ready(result.final_state)
        timings.append(time.perf_counter() - began)
    run_s, compile_s = timings[1], timings[0] - timings[1]
    _emit(bench=model, simulator="brainsim", n=n, dt_ms=dt, bio_s=duration / 1000,
          build_s=round(build_s, 3), compile_s=round(compile_s, 3), run_s=round(run_s, 3),
          s_per_bio_s=round(run_s / (duration / 1000), 3),
          rate_E_hz=round(float(result.rate("E.spikes")), 2),
          rate_I_hz=round(float(result.rate("I.spikes")), 2))


def run_brian2(model: str, n: int, duration: float, dt: float) -> None:
    try:
        import brian2 as b2
    except ImportError:
        return
    b2.device.reinit()
    b2.device.activate()
    directory = tempfile.mkdtemp(prefix="brian2_coba_")
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 1
    b2.defaultclock.dt = dt * b2.ms
    n_e = n * 4 // 5
    p = 80 / n
    if model == "coba":
        eqs = """
        dv/dt = (-60*mV - v + ge*(0*mV - v) + gi*(-80*mV - v) + 20*mV)/(20*ms) : volt (unless refractory)
        dge/dt = -ge/(5*ms) : 1
        dgi/dt = -gi/(10*ms) : 1
        """  # noqa: E501
        group = b2.NeuronGroup(n, eqs, threshold="v > -50*mV", reset="v = -60*mV",
                               refractory=5 * b2.ms, method="exponential_euler")
        group.v = "-60*mV + rand() * 10*mV"
        we, wi = "ge += 0.6", "gi += 6.7"
    else:
        area = 20000 * b2.umetre**2
        eqs = """
        dv/dt = (gl*(El - v) - ge*(v - 0*mV) - gi*(v + 80*mV)
                 - g_na*m**3*h*(v - 50*mV) - g_kd*n**4*(v + 90*mV))/Cm : volt
        dm/dt = 0.32*(mV**-1)*4*mV/exprel((13*mV - v + VT)/(4*mV))/ms*(1-m)
                - 0.28*(mV**-1)*5*mV/exprel((v - VT - 40*mV)/(5*mV))/ms*m : 1
        dn/dt = 0.032*(mV**-1)*5*mV/exprel((15*mV - v + VT)/(5*mV))/ms*(1.-n)
                - .5*exp((10*mV - v + VT)/(40*mV))/ms*n : 1
        dh/dt = 0.128*exp((17*mV - v + VT)/(18*mV))/ms*(1.-h)
                - 4./(1 + exp((40*mV - v + VT)/(5*mV)))/ms*h : 1
        dge/dt = -ge/(5*ms) : siemens
        dgi/dt = -gi/(10*ms) : siemens
        """
        namespace = dict(gl=5e-5 * b2.siemens / b2.cm**2 * area, El=-60 * b2.mV,
                         g_na=100 * b2.msiemens / b2.cm**2 * area,
                         g_kd=30 * b2.msiemens / b2.cm**2 * area, VT=-63 * b2.mV,
                         Cm=1 * b2.ufarad / b2.cm**2 * area)
        group = b2.NeuronGroup(n, eqs, threshold="v > -20*mV", refractory="v > -20*mV",
                               method="exponential_euler", namespace=namespace)
        group.v = "El + (randn() * 5 - 5)*mV"
        we, wi = "ge += 6*nS", "gi += 67*nS"
    exc, inh = group[:n_e], group[n_e:]
    synapses = [b2.Synapses(exc, group, on_pre=we), b2.Synapses(inh, group, on_pre=wi)]
    for s in synapses:
        s.connect(p=p)
    monitor_e, monitor_i = b2.SpikeMonitor(exc), b2.SpikeMonitor(inh)
    network = b2.Network(group, *synapses, monitor_e, monitor_i)
    network.run(duration * b2.ms)
    began = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False)
    compile_s = time.perf_counter() - began
    began = time.perf_counter()
    b2.device.run(directory=directory, with_output=False)
    run_s = time.perf_counter() - began
    _emit(bench=model, simulator="brian2_cpp_standalone", n=n, dt_ms=dt, bio_s=duration / 1000,
          compile_s=round(compile_s, 3), run_s=round(run_s, 3),
          s_per_bio_s=round(run_s / (duration / 1000), 3),
          rate_E_hz=round(monitor_e.num_spikes / n_e / (duration / 1000), 2),
          rate_I_hz=round(monitor_i.num_spikes / (n - n_e) / (duration / 1000), 2))
    b2.device.reinit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000])
    parser.add_argument("--models", nargs="+", default=["coba", "cobahh"])
    parser.add_argument("--duration", type=float, default=1000.0, help="biological ms")
    parser.add_argument("--dt", type=float, default=0.1, help="ms")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for model in args.models:
        for n in args.sizes:
            run_brainsim(model, n, args.duration, args.dt)
            if not args.no_peers:
                run_brian2(model, n, args.duration, args.dt)


if __name__ == "__main__":
    main()
