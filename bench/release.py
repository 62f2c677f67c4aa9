"""Cost of stochastic release: static, Bernoulli and quantal synapses on the same projection.

A Poisson population (`--n` neurons, `--rate` Hz) projects with probability `--p` and a 1-ms
delay onto `--n` LIF neurons held below threshold (so only the synapses work). One JSON line
per (simulator, synapse): compile and run time separately, presynaptic spikes, and the summed
input delivered (a check that the releases happened: Bernoulli ~ p_transmit, quantal ~ U of the
static sum at low rates); the releases draw with JAX's default PRNG (threefry) and with XLA's
bit generator (`key_impl="rbg"`). With `--peer-python` pointing at a Python with NEST 3.10, the same
network with `static_synapse`, `bernoulli_synapse` and `quantal_stp_synapse` runs in the same
invocation (one thread).

    python bench/release.py
    python bench/release.py --n 2000 --duration 2000 --peer-python /tmp/nest/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

SYNAPSES = ("static", "bernoulli", "quantal")
KEY_IMPLS = ("threefry2x32", "rbg")  # brainsim's PRNG for the releases (default, fast)
P_TRANSMIT, U, N_SITES, TAU_REC = 0.3, 0.5, 2, 400.0
WEIGHT = 1.0  # pA (a current jump; the neurons never reach threshold)


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def run_brainsim(args, synapse: str, key_impl: str = "threefry2x32") -> None:
    import jax
    import jax.numpy as jnp

    import brainsim as bs
    import brainsim_ops as bo
    from brainsim.synapses import BernoulliRelease, Current, Exponential, QuantalRelease

    release = {"static": None,
               "bernoulli": BernoulliRelease(P_TRANSMIT, key_impl=key_impl),
               "quantal": QuantalRelease(U=U, n=N_SITES, tau_rec=TAU_REC, key_impl=key_impl),
               }[synapse]
    conn = bo.fixed_prob(jax.random.key(0), args.n, args.n, args.p, weight=WEIGHT)
    proj = bs.Projection("pre", "post", conn, Exponential(tau=2.0), Current(), stp=release,
                         delay=1.0, dt=args.dt)  # fmt: skip
    quiet = bs.neurons.LIF(v_th=1e4, R=0.1)
    net = bs.Network({"pre": (bs.neurons.PoissonSource(rate=args.rate), args.n),
                      "post": (quiet, args.n)}, [proj])  # fmt: skip
    state = jax.block_until_ready(net.init(jax.random.key(1)))
    record = {"pre.spikes": None,
              "sum": lambda s, out: jnp.sum(s["synapses"]["pre->post"].kinetics.g)}
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        result = bs.run(net, state, duration=args.duration, dt=args.dt,
                        record=record, progress=False)
        jax.block_until_ready(result.final_state)
        timings.append(time.perf_counter() - began)
    tau, dt = 2.0, args.dt
    # the jumps of g (pA) summed: the sum of g over steps times (1 - exp(-dt / tau))
    total = float(jnp.sum(result.traces["sum"])) * (1 - jnp.exp(-dt / tau))
    _emit(bench="release", simulator="brainsim", synapse=synapse,
          key_impl=None if release is None else key_impl, n=args.n, p=args.p,
          n_syn=int(conn.n_syn), duration_ms=args.duration, dt=dt,
          compile_s=round(timings[0] - timings[1], 3), run_s=round(timings[1], 3),
          pre_spikes=len(result.spikes["pre.spikes"]), delivered=round(float(total), 1))


NEST_SCRIPT = r"""
import json, sys, time
import nest
n, p, rate, duration, dt, synapse, syn, weight = json.loads(sys.argv[1])
nest.ResetKernel()
nest.verbosity = nest.VerbosityLevel.ERROR
nest.resolution = dt
nest.local_num_threads = 1
nest.rng_seed = 1
pre = nest.Create("poisson_generator", params={"rate": rate})
parrots = nest.Create("parrot_neuron", n)
post = nest.Create("iaf_psc_exp", n, params={"V_th": 1e4, "tau_syn_ex": 2.0})
nest.Connect(pre, parrots)
spikes = nest.Create("spike_recorder")
nest.Connect(parrots, spikes)
began = time.perf_counter()
nest.Connect(parrots, post, {"rule": "pairwise_bernoulli", "p": p},
             {**syn, "weight": weight, "delay": 1.0})
build = time.perf_counter() - began
began = time.perf_counter()
nest.Simulate(duration)
run = time.perf_counter() - began
print(json.dumps(dict(bench="release", simulator="nest", synapse=synapse, n=n, p=p,
                      n_syn=nest.num_connections - n - n, duration_ms=duration, dt=dt,
                      compile_s=round(build, 3), run_s=round(run, 3),
                      pre_spikes=int(spikes.n_events), version=nest.__version__)))
"""
NEST_SYNAPSES = {
    "static": {"synapse_model": "static_synapse"},
    "bernoulli": {"synapse_model": "bernoulli_synapse", "p_transmit": P_TRANSMIT},
    "quantal": {"synapse_model": "quantal_stp_synapse", "U": U, "u": U, "n": N_SITES,
                "a": N_SITES, "tau_rec": TAU_REC, "tau_fac": 0.0},
}


def run_nest(args, synapse: str) -> None:
    config = json.dumps([args.n, args.p, args.rate, args.duration, args.dt, synapse,
                         NEST_SYNAPSES[synapse], WEIGHT])
    done = subprocess.run([args.peer_python, "-c", NEST_SCRIPT, config], capture_output=True,
                          text=True, check=False)  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        _emit(bench="release", simulator="nest", synapse=synapse, error=done.stderr[-300:])
        return
    print(lines[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--p", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=1000.0)
    parser.add_argument("--dt", type=float, default=0.1)
    parser.add_argument("--peer-python", default=None)
    args = parser.parse_args()
    for synapse in SYNAPSES:
        for key_impl in KEY_IMPLS[: 1 if synapse == "static" else None]:
            run_brainsim(args, synapse, key_impl)
        if args.peer_python:
            run_nest(args, synapse)


if __name__ == "__main__":
    sys.exit(main())
