"""Rate-model benchmark: brainsim.rate against NEST 3.10's rate neurons, in one run.

A random network of N `tanh` rate neurons with noise (input noise: `tanh_rate_ipn`,
lambda = 1, sigma = 0.5; output noise: `tanh_rate_opn`, sigma = 0.05), tau = 10 ms, mu = 0.1,
each receiving K = 100 inputs from random sources with Gaussian weights (std 0.5 / sqrt(K)),
through delayed (1 ms) or instantaneous rate connections; dt = 0.1 ms, `--duration` ms.
brainsim holds the weights as a dense (N, N) matrix (`RateCoupling`), or with `_sparse` cases
as a `brainsim_ops.fixed_in_degree` connectivity (`event_matvec` of the rates); NEST uses
`rate_connection_delayed` / `rate_connection_instantaneous` (the latter with waveform
relaxation, NEST's default tolerance). Also Wilson-Cowan and Jansen-Rit populations of N units
(brainsim only: NEST 3.10 has neither model). Every measurement runs in a fresh process pinned
to one core; brainsim runs twice (compile = first run minus second). One JSON line per
measurement with the mean and standard deviation of the final rates across units (the two
simulators draw different networks and noise, so these agree in distribution only).

    python bench/rate.py                                        # brainsim only
    python bench/rate.py --peer-python /tmp/nest/bin/python     # and NEST in the same run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

K, TAU, MU, DT, DELAY = 100, 10.0, 0.1, 0.1, 1.0
CASES = ("ipn_delayed", "ipn_delayed_sparse", "ipn_instantaneous", "opn_delayed",
         "wilson_cowan", "jansen_rit")
NEST_CASES = ("ipn_delayed", "ipn_instantaneous", "opn_delayed")


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def run_brainsim(case: str, n: int, duration: float) -> None:
    """Measure one case in this process."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import brainsim as bs
    import brainsim_ops as bo
    from brainsim import rate

    bs.use_cpu_cores(1)
    began = time.perf_counter()
    if case in ("wilson_cowan", "jansen_rit"):
        model = rate.WilsonCowan() if case == "wilson_cowan" else rate.JansenRit()
        net, record = model, "output"
        state = model.init(n, key=jax.random.key(1))
    else:
        rng = np.random.default_rng(0)
        weights = np.zeros((n, n))
        for i in range(n):
            weights[i, rng.choice(n, K, replace=False)] = rng.normal(0, 0.5 / np.sqrt(K), K)
        gain = rate.Tanh()
        history = round(DELAY / DT) if "delayed" in case else 0
        if case.startswith("ipn"):
            unit = rate.InputNoiseRate(tau=TAU, mu=MU, sigma=0.5, gain=gain, history=history)
        else:
            unit = rate.OutputNoiseRate(tau=TAU, mu=MU, sigma=0.05, gain=gain, history=history)
        delay = DELAY if history else None
        if case.endswith("sparse"):
            conn = bo.fixed_in_degree(jax.random.key(0), n, n, K)
            normal = jax.random.normal(jax.random.key(2), conn.synapse_shape)
            weights = conn.with_weights(0.5 / np.sqrt(K) * normal)
        else:
            weights = jnp.asarray(weights)
        coupling = rate.RateCoupling("R", "R", weights, delay=delay, dt=DT)
        net = bs.Network({"R": (unit, n)}, couplings=[coupling])
        state, record = net.init(jax.random.key(1)), "R.rate"
    build_s = time.perf_counter() - began
    times = []
    for repeat in range(2):
        began = time.perf_counter()
        result = bs.run(net, state, duration=duration, dt=DT, t0=repeat * duration,
                        record={record: None}, every=round(duration / DT), progress=False)
        final = np.asarray(jax.block_until_ready(result[record]))[-1]
        times.append(time.perf_counter() - began)
    _emit(bench="rate", case=case, simulator="brainsim", version=bs.__version__, n=n, k=K,
          cores=1, dt_ms=DT, bio_s=duration / 1000, build_s=round(build_s, 3),
          compile_s=round(times[0] - times[1], 3), run_s=round(times[1], 3),
          s_per_bio_s=round(times[1] / (duration / 1000), 3),
          final_mean=round(float(final.mean()), 4), final_std=round(float(final.std()), 4))


def run_nest(case: str, n: int, duration: float) -> None:
    """Measure one case in NEST (this function runs in the NEST interpreter)."""
    import nest
    import numpy as np

    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": DT, "local_num_threads": 1, "rng_seed": 1,
                          "print_time": False})
    began = time.perf_counter()
    if case.startswith("ipn"):
        model, params = "tanh_rate_ipn", {"lambda": 1.0, "sigma": 0.5}
    else:
        model, params = "tanh_rate_opn", {"sigma": 0.05}
    pop = nest.Create(model, n, params={"tau": TAU, "mu": MU, **params})
    syn = {"weight": nest.random.normal(0.0, 0.5 / np.sqrt(K))}
    if case.endswith("delayed"):
        syn.update(synapse_model="rate_connection_delayed", delay=DELAY)
    else:
        syn.update(synapse_model="rate_connection_instantaneous")
    nest.Connect(pop, pop, {"rule": "fixed_indegree", "indegree": K, "allow_autapses": False},
                 syn)
    nest.Prepare()
    build_s = time.perf_counter() - began
    began = time.perf_counter()
    nest.Run(duration)
    run_s = time.perf_counter() - began
    nest.Cleanup()
    final = np.asarray(pop.get("rate"))
    _emit(bench="rate", case=case, simulator="nest", version=nest.__version__, n=n, k=K,
          cores=1, dt_ms=DT, bio_s=duration / 1000, build_s=round(build_s, 3),
          run_s=round(run_s, 3), s_per_bio_s=round(run_s / (duration / 1000), 3),
          final_mean=round(float(final.mean()), 4), final_std=round(float(final.std()), 4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="units N")
    parser.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--peer-python", default=None, help="interpreter with NEST 3.10")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per measurement (s)")
    parser.add_argument("--measure", nargs=3, metavar=("SIM", "CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        simulator, case, n = args.measure
        (run_brainsim if simulator == "brainsim" else run_nest)(case, int(n), args.duration)
        return
    for n in args.sizes:
        for case in args.cases:
            runs = [("brainsim", sys.executable)]
            if args.peer_python and case in NEST_CASES:
                runs.append(("nest", args.peer_python))
            for simulator, python in runs:
                subprocess.run(["taskset", "-c", "0", python, __file__, "--measure", simulator,
                                case, str(n), "--duration", str(args.duration)],
                               check=True, timeout=args.timeout,
                               env={**os.environ, "PYNEST_QUIET": "1"})  # fmt: skip


if __name__ == "__main__":
    main()
