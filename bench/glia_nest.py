"""NEST's astrocyte network example (astrocyte_brunel_bernoulli.py) in brainsim and in NEST.

A random balanced network of `aeif_cond_alpha_astro` neurons (80 % excitatory) and as many
`astrocyte_lr_1994` astrocytes, NEST 3.10's example with its parameters: Poisson input of
2000 Hz (1 nS) to every neuron; excitatory connections by the tripartite Bernoulli rule with
pools of 10 astrocytes, half of them paired with an astrocyte (`tsodyks_synapse`, 1 nS, 2 ms
delay; the paired astrocyte gets the same spikes, and sends a slow inward current of weight
0.05 to the target neuron); inhibitory connections Bernoulli (`tsodyks_synapse`, -4 nS, 1 ms);
astrocytes start at IP3 = 0.4 µM. As the network is scaled, the in-degree is held at NEST's
(800 excitatory, 200 inhibitory: `p_primary = 800 / N_E`, which is the example's 0.1 at its
full size of 10 000 neurons).

brainsim runs `AEIFCondAlphaAstro` (5 sub-steps), `AstrocyteLR1994`, `SlowInwardCurrent` and
`brainsim_ops.tripartite_bernoulli_with_pool`; its Tsodyks–Markram synapses are the two-state
model with NEST's U = 0.5, tau_rec = 800 ms and no facilitation (NEST's `tsodyks_synapse` has a
third, inactive state that delays recovery by tau_psc, 2 or 4 ms), and its Poisson input is one
Bernoulli draw per step (same mean). Each simulator builds its own random network. Every
measurement runs in a fresh process on `--cores` cores; NEST runs with the interpreter
`--nest-python` (default /tmp/nest/bin/python when it exists; a `skipped` line otherwise). One
JSON line per measurement: build, compile (brainsim: first run minus second) and run time,
time per biological second, firing rates and the mean SIC.

    python bench/glia_nest.py                       # 2000 neurons + 2000 astrocytes, 1 s
    python bench/glia_nest.py --sizes 2000 10000    # 10000: the example's size
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

SIMULATORS = ("brainsim", "nest")
DEFAULT_NEST = "/tmp/nest/bin/python"

# NEST's astrocyte_brunel_bernoulli.py
RATE = 2000.0  # Hz, Poisson input to every neuron
W_E, W_I, W_A2N = 1.0, -4.0, 0.05  # nS, nS, dimensionless (SIC weight)
D_E, D_I, D_IN = 2.0, 1.0, 1.0  # ms: excitatory, inhibitory, Poisson input (NEST default)
D_SIC = 1.0  # ms, sic_connection's default delay
K_E, K_I = 800, 200  # in-degrees (p = 0.1 of 8000 and 2000)
P_THIRD, POOL = 0.5, 10
TAU_SYN_EX, TAU_SYN_IN = 2.0, 4.0
IP3_INIT = 0.4


def _emit(**fields):
    print(json.dumps(fields), flush=True)


def _emit_run(simulator, *, n, cores, dt, duration, run_s, spikes_e, spikes_i, sic_pA,
              version=None, build_s=None, compile_s=None, **extra):  # fmt: skip
    n_e = n * 4 // 5
    bio_s = duration / 1000
    fields = dict(bench="glia_nest", simulator=simulator)
    if version is not None:
        fields["version"] = version
    fields.update(n=n, n_astro=n, cores=cores, dt_ms=dt, bio_s=bio_s)
    if build_s is not None:
        fields["build_s"] = round(build_s, 3)
    if compile_s is not None:
        fields["compile_s"] = round(compile_s, 3)
    _emit(**fields, run_s=round(run_s, 3), s_per_bio_s=round(run_s / bio_s, 3),
          rate_E_hz=round(spikes_e / n_e / bio_s, 2),
          rate_I_hz=round(spikes_i / (n - n_e) / bio_s, 2),
          mean_sic_pA=round(sic_pA, 4), **extra)  # fmt: skip


def _pad_rows(conn, before: int, after: int):
    """The CSR with `before` empty rows in front and `after` at the end (a projection from one
    part of a population)."""
    import numpy as np

    import brainsim_ops as bo

    indptr = np.asarray(conn.indptr)
    indptr = np.concatenate([np.zeros(before, indptr.dtype), indptr,
                             np.full(after, indptr[-1], indptr.dtype)])  # fmt: skip
    return bo.CSR(indptr, np.asarray(conn.indices), conn.weights, n_post=conn.n_post)


def brainsim_network(key, n: int, dt: float):
    """The network (populations "P" input, "N" neurons, E first, and "A" astrocytes) and its
    initial state."""
    import jax

    import brainsim as bs
    import brainsim_ops as bo
    from brainsim.astro import (
        AEIFCondAlphaAstro,
        AlphaSpikeInput,
        AstrocyteLR1994,
        Instantaneous,
        IP3Input,
        SlowInwardCurrent,
    )

    n_e = n * 4 // 5
    n_i = n - n_e
    k_rule, k_inh, k_init = jax.random.split(key, 3)
    rule = bo.tripartite_bernoulli_with_pool(
        k_rule, n_e, n, n, min(1.0, K_E / n_e), P_THIRD, pool_size=POOL,
        weight_primary=W_E, weight_third_in=W_E, weight_third_out=W_A2N,
    )  # fmt: skip
    inhibitory = bo.fixed_prob(k_inh, n_i, n, min(1.0, K_I / n_i), weight=W_I)
    neuron = AEIFCondAlphaAstro(tau_syn_ex=TAU_SYN_EX, tau_syn_in=TAU_SYN_IN)
    steps = round(D_SIC / dt)
    astro = AstrocyteLR1994(max_sic_delay=steps)
    # tsodyks_synapse: U = 0.5, tau_rec = 800 ms, tau_fac = 0 (no facilitation)
    depressing = bs.synapses.TsodyksMarkram(U=0.5, tau_d=800.0, tau_f=1e-3)
    jump, into = Instantaneous(), AlphaSpikeInput()
    net = bs.Network(
        {"P": (bs.neurons.PoissonSource(rate=RATE), n), "N": (neuron, n), "A": (astro, n)},
        [
            bs.Projection("P", "N", bo.one_to_one(n, W_E), jump, into,
                          delay_steps=round(D_IN / dt)),
            bs.Projection("N", "N", _pad_rows(rule.primary, 0, n_i), jump, into,
                          stp=depressing, delay_steps=round(D_E / dt), name="E->N"),
            bs.Projection("N", "A", _pad_rows(rule.third_in, 0, n_i), jump, IP3Input(),
                          stp=depressing, delay_steps=round(D_E / dt)),
            bs.Projection("N", "N", _pad_rows(inhibitory, n_e, 0), jump, into,
                          stp=depressing, delay_steps=round(D_I / dt), name="I->N"),
        ],
        [SlowInwardCurrent("A", "N", rule.third_out, delay_steps=steps)],
    )  # fmt: skip
    state = net.init(k_init)
    state["N"] = neuron.init(n)  # NEST starts every neuron at E_L
    state["A"] = astro.init(n, IP3=IP3_INIT)
    return net, state, rule


def run_brainsim(n: int, duration: float, dt: float, cores: int) -> None:
    import brainsim as bs

    bs.use_cpu_cores(cores)
    import jax
    import jax.numpy as jnp

    began = time.perf_counter()
    net, state, rule = brainsim_network(jax.random.key(0), n, dt)
    jax.block_until_ready(state)
    build_s = time.perf_counter() - began
    sic = net.couplings[0]
    record = {
        "N.spikes": lambda s, o: o["N"],
        "sic": lambda s, o: jnp.mean(sic.current(s["A"].sic[sic.delay_steps]))[None],
    }
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        result = bs.run(net, state, duration=duration, dt=dt, record=record, every=10,
                        progress=False)  # fmt: skip
        jax.block_until_ready(result.final_state)
        timings.append(time.perf_counter() - began)
    run_s, compile_s = timings[1], timings[0] - timings[1]
    spikes = result.spikes["N.spikes"]
    n_e = n * 4 // 5
    _emit_run("brainsim", n=n, cores=cores, dt=dt, duration=duration, run_s=run_s,
              spikes_e=int((spikes.indices < n_e).sum()),
              spikes_i=int((spikes.indices >= n_e).sum()),
              sic_pA=float(result.traces["sic"].mean()), version=getattr(bs, "__version__", None),
              build_s=build_s, compile_s=compile_s,
              synapses_E=rule.primary.n_syn, synapses_paired=rule.third_out.n_syn)  # fmt: skip


def run_nest(n: int, duration: float, dt: float, cores: int) -> None:
    import nest
    import numpy as np

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=dt, local_num_threads=cores, rng_seed=1, print_time=False)
    n_e = n * 4 // 5
    n_i = n - n_e
    params = {"tau_syn_ex": TAU_SYN_EX, "tau_syn_in": TAU_SYN_IN}
    began = time.perf_counter()
    exc = nest.Create("aeif_cond_alpha_astro", n_e, params=params)
    inh = nest.Create("aeif_cond_alpha_astro", n_i, params=params)
    astro = nest.Create("astrocyte_lr_1994", n, params={"IP3": IP3_INIT})
    noise = nest.Create("poisson_generator", params={"rate": RATE})
    nest.Connect(noise, exc + inh, syn_spec={"weight": W_E})
    syn_e = {"synapse_model": "tsodyks_synapse", "weight": W_E, "tau_psc": TAU_SYN_EX,
             "delay": D_E}  # fmt: skip
    nest.TripartiteConnect(
        exc, exc + inh, astro,
        conn_spec={"rule": "pairwise_bernoulli", "p": min(1.0, K_E / n_e)},
        third_factor_conn_spec={"rule": "third_factor_bernoulli_with_pool", "p": P_THIRD,
                                "pool_size": POOL, "pool_type": "random"},
        syn_specs={"primary": syn_e, "third_in": syn_e,
                   "third_out": {"synapse_model": "sic_connection", "weight": W_A2N}},
    )  # fmt: skip
    nest.Connect(inh, exc + inh, {"rule": "pairwise_bernoulli", "p": min(1.0, K_I / n_i)},
                 {"synapse_model": "tsodyks_synapse", "weight": W_I, "tau_psc": TAU_SYN_IN,
                  "delay": D_I})  # fmt: skip
    recorder_e, recorder_i = nest.Create("spike_recorder"), nest.Create("spike_recorder")
    nest.Connect(exc, recorder_e)
    nest.Connect(inh, recorder_i)
    sample = (exc + inh)[:: max(1, n // 100)]
    meter = nest.Create("multimeter", params={"record_from": ["I_SIC"], "interval": 1.0})
    nest.Connect(meter, sample)
    synapses_e = nest.GetKernelStatus("num_connections")
    build_s = time.perf_counter() - began
    began = time.perf_counter()
    nest.Simulate(duration)
    run_s = time.perf_counter() - began
    _emit_run("nest", n=n, cores=cores, dt=dt, duration=duration, run_s=run_s,
              spikes_e=recorder_e.n_events, spikes_i=recorder_i.n_events,
              sic_pA=float(np.mean(meter.events["I_SIC"])), version=nest.__version__,
              build_s=build_s, connections=synapses_e)  # fmt: skip


_RUNNERS = {"brainsim": run_brainsim, "nest": run_nest}


def _measure(python, simulator, n, cores, args) -> None:
    command = [python, __file__, "--worker", simulator, "--sizes", str(n), "--cores",
               str(cores), "--duration", str(args.duration), "--dt", str(args.dt)]  # fmt: skip
    env = dict(os.environ)
    root = str(pathlib.Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                              env=env)  # fmt: skip
    except subprocess.TimeoutExpired:
        _emit(bench="glia_nest", simulator=simulator, n=n, cores=cores,
              failed=f"timeout after {args.timeout:g} s")  # fmt: skip
        return
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        _emit(bench="glia_nest", simulator=simulator, n=n, cores=cores,
              failed=(done.stderr or done.stdout).strip().splitlines()[-1:])  # fmt: skip
        return
    for line in lines:
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000], help="neurons")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological ms")
    parser.add_argument("--dt", type=float, default=0.1, help="ms")
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--simulators", nargs="+", default=list(SIMULATORS), choices=SIMULATORS)
    parser.add_argument("--nest-python", default=DEFAULT_NEST if os.path.exists(DEFAULT_NEST)
                        else sys.executable, help="interpreter that has NEST 3.10")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1800.0, help="s per measurement")
    parser.add_argument("--worker", choices=SIMULATORS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker != "brainsim":
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores[0]])
        _RUNNERS[args.worker](args.sizes[0], args.duration, args.dt, args.cores[0])
        return
    has_nest = subprocess.run([args.nest_python, "-c", "import nest"],
                              capture_output=True).returncode == 0  # fmt: skip
    for n in args.sizes:
        for simulator in args.simulators:
            python = sys.executable if simulator == "brainsim" else args.nest_python
            if simulator == "nest" and not has_nest:
                _emit(bench="glia_nest", simulator="nest", n=n,
                      skipped=f"nest is not importable by {args.nest_python}")  # fmt: skip
                continue
            for cores in args.cores:
                _measure(python, simulator, n, cores, args)


if __name__ == "__main__":
    main()
