"""COBA and COBAHH benchmarks (Brette et al. 2007): time per biological second, JSON lines.

In-degree is held at 80 as the networks grow; compile and run time are reported separately,
with firing rates so that a silent (or exploding) network cannot look fast. Every measurement
runs in a fresh process pinned to `--cores` cores (brainsim at 1 and 2 cores by default; the
peers with one thread, as in the issue). brainsim is measured twice per setting, each time in a
new process: `"compile_cache": "cold"` with an empty persistent compilation cache, then
`"warm"` with the cache the first process filled (what a user sees from the second run of a
script on). Peers run in the same invocation when importable by
`--peer-python` (default: this interpreter; `pip install brainsim[bench]`): Brian2
(cpp_standalone, one thread), BrainPy and NEST; a peer that is not installed gets a `skipped`
line.

    python bench/coba.py                                      # COBA and COBAHH at 4k
    python bench/coba.py --sizes 4000 40000 400000 --models coba
    python bench/coba.py --peer-python /path/to/venv/bin/python
    python bench/coba.py --models coba --sizes 4000 40000 400000 --devices 2 --simulators brainsim

With `--devices N`, brainsim runs on 1 core, on N cores unpartitioned (one device, one thread:
`brainsim.use_cpu_cores(N, devices=1)`) and on N cores partitioned over N CPU devices
(`brainsim.network.partition`, one device per core), each line saying `"devices"`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SIMULATORS = ("brainsim", "brian2", "brainpy", "nest")


def _emit(**fields):
    print(json.dumps(fields), flush=True)


def _emit_run(
    model: str,
    simulator: str,
    *,
    n: int,
    cores: int,
    dt: float,
    duration: float,
    run_s: float,
    spikes_e: float,
    spikes_i: float,
    version: str | None = None,
    build_s: float | None = None,
    compile_s: float | None = None,
    **extra,
) -> None:
    """One measurement's JSON line: times (s), time per biological second and E/I rates (Hz)
    from the spike counts of the `duration` ms run, then any `extra` fields."""
    n_e = n * 4 // 5
    bio_s = duration / 1000
    fields = dict(bench=model, simulator=simulator)
    if version is not None:
        fields["version"] = version
    fields.update(n=n, cores=cores, dt_ms=dt, bio_s=bio_s)
    if build_s is not None:
        fields["build_s"] = round(build_s, 3)
    if compile_s is not None:
        fields["compile_s"] = round(compile_s, 3)
    _emit(
        **fields,
        run_s=round(run_s, 3),
        s_per_bio_s=round(run_s / bio_s, 3),
        rate_E_hz=round(spikes_e / n_e / bio_s, 2),
        rate_I_hz=round(spikes_i / (n - n_e) / bio_s, 2),
        **extra,
    )


def run_brainsim(model: str, n: int, duration: float, dt: float, cores: int,
                 devices: int = 1) -> None:
    import brainsim as bs

    bs.use_cpu_cores(cores, devices=devices)
    import jax

    began = time.perf_counter()
    net, inputs = getattr(bs.benchmarks, model)(jax.random.key(0), n=n)
    if devices > 1:
        net = bs.network.partition(net, devices=devices)
    state = net.init(jax.random.key(1))
    jax.block_until_ready(state)
    build_s = time.perf_counter() - began
    # The first run compiles; the second reuses the compiled chunk. compile = first - second.
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        result = bs.run(
            net,
            state,
            inputs=inputs,
            duration=duration,
            dt=dt,
            record=["E.spikes", "I.spikes"],
            progress=False,
        )
        jax.block_until_ready(result.final_state)
        timings.append(time.perf_counter() - began)
    run_s, compile_s = timings[1], timings[0] - timings[1]
    _emit_run(
        model, "brainsim", n=n, cores=cores, dt=dt, duration=duration, run_s=run_s,
        spikes_e=len(result.spikes["E.spikes"]), spikes_i=len(result.spikes["I.spikes"]),
        build_s=build_s, compile_s=compile_s, devices=devices,
    )  # fmt: skip


_BRIAN2_COBA = """
dv/dt = (-60*mV - v + ge*(0*mV - v) + gi*(-80*mV - v) + 20*mV)/(20*ms) : volt (unless refractory)
dge/dt = -ge/(5*ms) : 1
dgi/dt = -gi/(10*ms) : 1
"""

_BRIAN2_COBAHH = """
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


def run_brian2(model: str, n: int, duration: float, dt: float, cores: int) -> None:
    import brian2 as b2

    directory = tempfile.mkdtemp(prefix="brian2_coba_")
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = cores
    b2.defaultclock.dt = dt * b2.ms
    n_e = n * 4 // 5
    if model == "coba":
        group = b2.NeuronGroup(
            n,
            _BRIAN2_COBA,
            threshold="v > -50*mV",
            reset="v = -60*mV",
            refractory=5 * b2.ms,
            method="exponential_euler",
        )
        group.v = "-60*mV + rand() * 10*mV"
        we, wi = "ge += 0.6", "gi += 6.7"
    else:
        area = 20000 * b2.umetre**2
        namespace = dict(
            gl=5e-5 * b2.siemens / b2.cm**2 * area,
            El=-60 * b2.mV,
            g_na=100 * b2.msiemens / b2.cm**2 * area,
            g_kd=30 * b2.msiemens / b2.cm**2 * area,
            VT=-63 * b2.mV,
            Cm=1 * b2.ufarad / b2.cm**2 * area,
        )
        group = b2.NeuronGroup(
            n,
            _BRIAN2_COBAHH,
            threshold="v > -20*mV",
            refractory="v > -20*mV",
            method="exponential_euler",
            namespace=namespace,
        )
        group.v = "El + (randn() * 5 - 5)*mV"
        we, wi = "ge += 6*nS", "gi += 67*nS"
    exc, inh = group[:n_e], group[n_e:]
    synapses = [b2.Synapses(exc, group, on_pre=we), b2.Synapses(inh, group, on_pre=wi)]
    for s in synapses:
        s.connect(p=80 / n)
    monitor_e, monitor_i = b2.SpikeMonitor(exc), b2.SpikeMonitor(inh)
    network = b2.Network(group, *synapses, monitor_e, monitor_i)
    network.run(duration * b2.ms)
    began = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False)
    compile_s = time.perf_counter() - began
    began = time.perf_counter()
    b2.device.run(directory=directory, with_output=False)
    run_s = time.perf_counter() - began
    _emit_run(
        model, "brian2_cpp_standalone", n=n, cores=cores, dt=dt, duration=duration, run_s=run_s,
        spikes_e=monitor_e.num_spikes, spikes_i=monitor_i.num_spikes, compile_s=compile_s,
    )  # fmt: skip


def _brainpy_network(model: str, n: int, ee_stdp: dict | None = None):
    """BrainPy's COBA or COBAHH network of `n` neurons; with `ee_stdp` (the constants of
    `brainsim.plasticity.STDP`: A_plus, A_minus, tau_plus, tau_minus, w_min, w_max) its E->E
    synapses learn by BrainPy's pair STDP (`STDP_Song2000`)."""
    import brainpy as bp
    import brainpy.math as bm

    class TraubHH(bp.dyn.NeuDyn):
        """COBAHH neuron (20 000 µm²: C = 200 pF, g_L = 10 nS, g_Na = 20 µS, g_Kd = 6 µS)."""

        def __init__(self, size):
            super().__init__(size=size)
            self.V = bm.Variable(-65.0 + 5.0 * bm.random.randn(self.num))
            self.m, self.h, self.n = (bm.Variable(bm.zeros(self.num)) for _ in range(3))
            self.spike = bm.Variable(bm.zeros(self.num, dtype=bool))
            self.integral = bp.odeint(
                bp.JointEq(self.dV, self.dm, self.dh, self.dn), method="exp_auto"
            )

        def dV(self, V, t, m, h, n, I):  # noqa: E741
            i_ion = 10.0 * (-60.0 - V) - 2e4 * m**3 * h * (V - 50.0) - 6e3 * n**4 * (V + 90.0)
            return (i_ion + I) / 200.0

        def dm(self, m, t, V):
            x, y = 13.0 - V - 63.0, V + 63.0 - 40.0
            return 0.32 * x / bm.expm1(x / 4.0) * (1 - m) - 0.28 * y / bm.expm1(y / 5.0) * m

        def dh(self, h, t, V):
            alpha = 0.128 * bm.exp((17.0 - V - 63.0) / 18.0)
            return alpha * (1 - h) - 4.0 / (1.0 + bm.exp((40.0 - V - 63.0) / 5.0)) * h

        def dn(self, n, t, V):
            x = 15.0 - V - 63.0
            beta = 0.5 * bm.exp((10.0 - V - 63.0) / 40.0)
            return 0.032 * x / bm.expm1(x / 5.0) * (1 - n) - beta * n

        def return_info(self):
            return self.spike

        def update(self, x=None):
            current = self.sum_current_inputs(self.V.value, init=0.0 if x is None else x)
            V, m, h, n = self.integral(
                self.V.value,
                self.m.value,
                self.h.value,
                self.n.value,
                bp.share["t"],
                I=current,
                dt=bp.share["dt"],
            )
            self.spike.value = bm.logical_and(self.V.value < -20.0, V >= -20.0)
            self.V.value, self.m.value, self.h.value, self.n.value = V, m, h, n
            return self.spike.value

    n_e = n * 4 // 5
    weights = {"coba": (0.6, 6.7), "cobahh": (6.0, 67.0)}[model]

    class Network(bp.DynamicalSystem):
        def __init__(self):
            super().__init__()
            if model == "coba":
                pars = dict(
                    V_rest=-60.0,
                    V_th=-50.0,
                    V_reset=-60.0,
                    tau=20.0,
                    tau_ref=5.0,
                    V_initializer=bp.init.Uniform(-60.0, -50.0),
                )
                self.E, self.I = bp.dyn.LifRef(n_e, **pars), bp.dyn.LifRef(n - n_e, **pars)
            else:
                self.E, self.I = TraubHH(n_e), TraubHH(n - n_e)
            self.projections = []
            for pre, w, tau, E in (
                (self.E, weights[0], 5.0, 0.0),
                (self.I, weights[1], 10.0, -80.0),
            ):
                for post in (self.E, self.I):
                    conn = bp.conn.FixedProb(80 / n, pre=pre.num, post=post.num)
                    syn = bp.dyn.Expon.desc(post.varshape, tau=tau)
                    out = bp.dyn.COBA.desc(E=E)
                    if ee_stdp is not None and pre is self.E and post is self.E:
                        projection = bp.dyn.STDP_Song2000(
                            pre=pre,
                            delay=None,
                            comm=bp.dnn.EventCSRLinear(conn, bp.init.Constant(w)),
                            syn=syn,
                            out=out,
                            post=post,
                            tau_s=ee_stdp["tau_plus"],
                            tau_t=ee_stdp["tau_minus"],
                            A1=ee_stdp["A_plus"],
                            A2=ee_stdp["A_minus"],
                            W_min=ee_stdp["w_min"],
                            W_max=ee_stdp["w_max"],
                        )
                        # The weights must be a Variable before tracing for in-place updates.
                        projection.comm.weight = bm.Variable(projection.comm.weight)
                    else:
                        projection = bp.dyn.ProjAlignPostMg2(
                            pre=pre,
                            delay=None,
                            comm=bp.dnn.EventCSRLinear(conn, w),
                            syn=syn,
                            out=out,
                            post=post,
                        )
                    self.projections.append(projection)
            self.drive = 20.0 if model == "coba" else 0.0

        def update(self):
            for projection in self.projections:
                projection()
            self.E(self.drive)
            self.I(self.drive)

    return Network()


def run_brainpy(model: str, n: int, duration: float, dt: float, cores: int) -> None:
    import brainpy as bp
    import brainpy.math as bm

    bm.set_platform("cpu")
    bm.set_dt(dt)
    began = time.perf_counter()
    net = _brainpy_network(model, n)
    build_s = time.perf_counter() - began
    runner = bp.DSRunner(
        net,
        monitors={"E": lambda: bm.sum(net.E.spike), "I": lambda: bm.sum(net.I.spike)},
        progress_bar=False,
    )
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        runner.run(duration)
        timings.append(time.perf_counter() - began)
    run_s, compile_s = timings[1], timings[0] - timings[1]
    _emit_run(
        model, "brainpy", n=n, cores=cores, dt=dt, duration=duration, run_s=run_s,
        spikes_e=float(runner.mon["E"].sum()), spikes_i=float(runner.mon["I"].sum()),
        version=bp.__version__, build_s=build_s, compile_s=compile_s,
    )  # fmt: skip


def run_nest(model: str, n: int, duration: float, dt: float, cores: int) -> None:
    import nest

    if model != "coba":
        _emit(bench=model, simulator="nest", n=n, skipped="only COBA is set up for NEST")
        return
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": dt, "local_num_threads": cores})
    n_e = n * 4 // 5
    params = dict(
        C_m=200.0,
        g_L=10.0,
        E_L=-60.0,
        V_th=-50.0,
        V_reset=-60.0,
        t_ref=5.0,
        E_ex=0.0,
        E_in=-80.0,
        tau_syn_ex=5.0,
        tau_syn_in=10.0,
        I_e=200.0,
    )
    began = time.perf_counter()
    neurons = nest.Create("iaf_cond_exp", n, params=params)
    neurons.V_m = nest.random.uniform(-60.0, -50.0)
    exc, inh = neurons[:n_e], neurons[n_e:]
    rule = {"rule": "pairwise_bernoulli", "p": 80 / n}
    # The COBA jumps are in units of the leak conductance (10 nS); NEST marks inhibitory
    # conductance synapses by a negative weight.
    nest.Connect(exc, neurons, rule, {"weight": 6.0, "delay": dt})
    nest.Connect(inh, neurons, rule, {"weight": -67.0, "delay": dt})
    recorder_e, recorder_i = nest.Create("spike_recorder"), nest.Create("spike_recorder")
    nest.Connect(exc, recorder_e)
    nest.Connect(inh, recorder_i)
    build_s = time.perf_counter() - began
    began = time.perf_counter()
    nest.Simulate(duration)
    run_s = time.perf_counter() - began
    _emit_run(
        model, "nest", n=n, cores=cores, dt=dt, duration=duration, run_s=run_s,
        spikes_e=recorder_e.n_events, spikes_i=recorder_i.n_events, version=nest.__version__,
        build_s=build_s,
    )  # fmt: skip


_RUNNERS = {
    "brainsim": run_brainsim,
    "brian2": run_brian2,
    "brainpy": run_brainpy,
    "nest": run_nest,
}
_MODULES = {"brian2": "brian2", "brainpy": "brainpy", "nest": "nest"}


def _importable(python: str, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def _measure(python, simulator, model, n, cores, args, cache: str | None = None,
             devices: int = 1) -> None:
    """One measurement in a fresh process; for brainsim, `cache` names the compilation cache
    (`"cold"`: a new empty directory, `"warm"`: the one the cold process filled) and
    `devices` the number of parts of a partitioned network."""
    command = [
        python,
        __file__,
        "--worker",
        simulator,
        "--models",
        model,
        "--sizes",
        str(n),
        "--cores",
        str(cores),
        "--duration",
        str(args.duration),
        "--dt",
        str(args.dt),
        "--devices",
        str(devices),
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(cores))
    if cache is not None:
        env["BRAINSIM_COMPILATION_CACHE"] = args.cache_dir
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=args.timeout, env=env
        )
    except subprocess.TimeoutExpired:
        _emit(
            bench=model,
            simulator=simulator,
            n=n,
            cores=cores,
            skipped=f"over the {args.timeout} s limit",
        )
        return
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    for line in lines:
        fields = json.loads(line)
        if cache is not None:
            fields["compile_cache"] = cache
        print(json.dumps(fields), flush=True)
    if done.returncode != 0 or not lines:
        errors = [line for line in done.stderr.splitlines() if "Error" in line]
        reason = (errors or done.stderr.strip().splitlines() or ["no output"])[-1]
        _emit(bench=model, simulator=simulator, n=n, cores=cores, skipped=reason[:200])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000])
    parser.add_argument("--models", nargs="+", default=["coba", "cobahh"])
    parser.add_argument("--duration", type=float, default=1000.0, help="biological ms")
    parser.add_argument("--dt", type=float, default=0.1, help="ms")
    parser.add_argument(
        "--cores",
        type=int,
        nargs="+",
        default=[1, 2],
        help="core counts for brainsim (peers run on the first)",
    )
    parser.add_argument(
        "--devices",
        type=int,
        default=1,
        help="also run brainsim partitioned over this many CPU devices, one per core",
    )
    parser.add_argument("--simulators", nargs="+", default=list(SIMULATORS), choices=SIMULATORS)
    parser.add_argument(
        "--peer-python", default=sys.executable, help="interpreter that has the peers installed"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="s per measurement")
    parser.add_argument("--worker", choices=SIMULATORS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker != "brainsim":
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores[0]])
        extra = {"devices": args.devices} if args.worker == "brainsim" else {}
        _RUNNERS[args.worker](
            args.models[0], args.sizes[0], args.duration, args.dt, args.cores[0], **extra
        )
        return
    settings = [(cores, 1) for cores in args.cores]  # (cores, devices) of brainsim
    if args.devices > 1:
        settings = [(1, 1), (args.devices, 1), (args.devices, args.devices)]
    peers = {}
    for simulator in args.simulators:
        if simulator != "brainsim":
            peers[simulator] = _importable(args.peer_python, _MODULES[simulator])
    for model in args.models:
        for n in args.sizes:
            for simulator in args.simulators:
                if simulator == "brainsim":
                    for cores, devices in settings:
                        with tempfile.TemporaryDirectory() as args.cache_dir:
                            for cache in ("cold", "warm"):
                                _measure(sys.executable, simulator, model, n, cores, args, cache,
                                         devices)
                elif peers[simulator]:
                    _measure(args.peer_python, simulator, model, n, args.cores[0], args)
                else:
                    _emit(
                        bench=model,
                        simulator=simulator,
                        n=n,
                        skipped=f"{_MODULES[simulator]} is not importable by {args.peer_python}",
                    )


if __name__ == "__main__":
    main()
