"""Cost of structural plasticity: NEST's example network with and without rewiring.

The network of `examples/structural_plasticity.py` (NEST's `structural_plasticity.py`:
`iaf_psc_alpha` neurons, one 10-kHz Poisson train each, Gaussian growth curves, synapses made
and removed every `--interval` ms) runs with structural plasticity, and again with the same
growth and calcium but without rewiring (brainsim: an update interval longer than the run;
NEST: structural plasticity not enabled), so the difference is the cost of the mechanism.
One JSON line per (simulator, rewiring): compile and run time separately, mean rates of E and
I over the run, and the final numbers of synapses and mean calcium. With `--peer-python`
pointing at a Python with NEST 3.10, NEST runs the same protocol in the same invocation (one
thread).

    python bench/structural.py                                  # 160 E + 40 I, x10 growth, 20 s
    python bench/structural.py --full --peer-python /tmp/nest/bin/python     # NEST's size
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "structural_plasticity.py"
PROTOCOLS = {
    "small": dict(n_e=160, n_i=40, growth_scale=10.0, interval=1000.0, duration=20000.0),
    "full": dict(n_e=800, n_i=200, growth_scale=1.0, interval=10000.0, duration=200000.0),
}


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def run_brainsim(protocol: dict, rewiring: bool, seed: int) -> None:
    import jax

    spec = importlib.util.spec_from_file_location("structural_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    interval = protocol["interval"] if rewiring else 2 * protocol["duration"]
    net = example.build(protocol["n_e"], protocol["n_i"], growth_scale=protocol["growth_scale"],
                        interval=interval)  # fmt: skip
    record, compile_s, run_s, _ = example.simulate(net, jax.random.key(seed), protocol["duration"])
    _emit(simulator="brainsim", rewiring=rewiring, n=protocol["n_e"] + protocol["n_i"],
          duration_ms=protocol["duration"], compile_s=round(compile_s, 2), run_s=round(run_s, 2),
          rate_e_hz=round(float(record["rate_e"].mean()), 2),
          rate_i_hz=round(float(record["rate_i"].mean()), 2),
          synapses_e=int(record["syn_e"][-1]), synapses_i=int(record["syn_i"][-1]),
          ca_e=round(float(record["ca_e"][-1]), 4), ca_i=round(float(record["ca_i"][-1]), 4))


NEST_SCRIPT = r"""
import json, sys, time
import nest
n_e, n_i, scale, interval, duration, rewiring, seed = json.loads(sys.argv[1])
nest.ResetKernel()
nest.verbosity = nest.VerbosityLevel.ERROR
nest.resolution = 0.1
nest.rng_seed = seed + 1
nest.local_num_threads = 1
nest.structural_plasticity_update_interval = interval
nest.CopyModel("static_synapse", "synapse_ex", {"weight": 585.0, "delay": 1.0})
nest.CopyModel("static_synapse", "synapse_in", {"weight": -585.0, "delay": 1.0})
nest.structural_plasticity_synapses = {
    "synapse_ex": {"synapse_model": "synapse_ex", "pre_synaptic_element": "Axon_ex",
                   "post_synaptic_element": "Den_ex"},
    "synapse_in": {"synapse_model": "synapse_in", "pre_synaptic_element": "Axon_in",
                   "post_synaptic_element": "Den_in"},
}
def grow(rate, eps):
    return {"growth_curve": "gaussian", "growth_rate": rate * scale, "continuous": False,
            "eta": 0.0, "eps": eps}
exc = nest.Create("iaf_psc_alpha", n_e, {"synaptic_elements": {
    "Den_ex": grow(1e-4, 0.05), "Den_in": grow(1e-4, 0.05), "Axon_ex": grow(1e-4, 0.05)}})
inh = nest.Create("iaf_psc_alpha", n_i, {"synaptic_elements": {
    "Den_ex": grow(4e-4, 0.2), "Den_in": grow(1e-4, 0.2), "Axon_in": grow(1e-4, 0.2)}})
noise = nest.Create("poisson_generator", params={"rate": 10000.0})
nest.Connect(noise, exc + inh, "all_to_all", {"weight": 6.2, "delay": 1.0})
rec_e, rec_i = nest.Create("spike_recorder"), nest.Create("spike_recorder")
nest.Connect(exc, rec_e)
nest.Connect(inh, rec_i)
if rewiring:
    nest.EnableStructuralPlasticity()
began = time.perf_counter()
nest.Simulate(duration)
run_s = time.perf_counter() - began
syn_e = sum(el["Axon_ex"]["z_connected"] for el in exc.synaptic_elements)
syn_i = sum(el["Axon_in"]["z_connected"] for el in inh.synaptic_elements)
print(json.dumps(dict(simulator="nest", rewiring=bool(rewiring), n=n_e + n_i,
                      duration_ms=duration, compile_s=0.0, run_s=round(run_s, 2),
                      rate_e_hz=round(rec_e.n_events / n_e / duration * 1000, 2),
                      rate_i_hz=round(rec_i.n_events / n_i / duration * 1000, 2),
                      synapses_e=int(syn_e), synapses_i=int(syn_i),
                      ca_e=round(float(sum(exc.Ca)) / n_e, 4),
                      ca_i=round(float(sum(inh.Ca)) / n_i, 4),
                      nest_version=nest.__version__)), flush=True)
"""


def run_nest(python: str, protocol: dict, rewiring: bool, seed: int) -> None:
    config = [protocol[k] for k in ("n_e", "n_i", "growth_scale", "interval", "duration")]
    out = subprocess.run([python, "-c", NEST_SCRIPT, json.dumps(config + [rewiring, seed])],
                         capture_output=True, text=True, check=True)  # fmt: skip
    print(out.stdout.strip().splitlines()[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="NEST's size: 800 + 200, 200 s")
    parser.add_argument("--duration", type=float, default=None, help="ms")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peer-python", default=None, help="a Python with NEST 3.10")
    args = parser.parse_args()
    protocol = dict(PROTOCOLS["full" if args.full else "small"])
    if args.duration:
        protocol["duration"] = args.duration
    for rewiring in (True, False):
        run_brainsim(protocol, rewiring, args.seed)
        if args.peer_python:
            run_nest(args.peer_python, protocol, rewiring, args.seed)


if __name__ == "__main__":
    sys.exit(main())
