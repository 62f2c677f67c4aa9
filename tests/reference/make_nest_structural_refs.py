"""NEST 3.10 reference of Butz-van Ooyen structural plasticity (tests/plasticity/).

Run with NEST's interpreter (NEST is not a test dependency):

    /tmp/nest/bin/python tests/reference/make_nest_structural_refs.py            # small, 5 seeds
    /tmp/nest/bin/python tests/reference/make_nest_structural_refs.py --full     # NEST's example

The protocol is that of NEST's `structural_plasticity.py` example: an E/I network of
`iaf_psc_alpha` neurons (NEST's default parameters: C_m = 250 pF, tau_m = 10 ms, tau_syn = 2 ms,
t_ref = 2 ms, E_L = V_reset = -70 mV, V_th = -55 mV) starts without connections; each neuron
receives its own 10-kHz Poisson train of 6.2-pA alpha currents (1 ms delay). Excitatory neurons
grow `Axon_ex`, `Den_ex` and `Den_in` elements, inhibitory ones `Axon_in`, `Den_ex` and
`Den_in`, on Gaussian growth curves (eta = 0, eps = 0.05 for E and 0.2 for I; growth rates in
elements/ms: 1e-4, except 4e-4 for `Den_ex` of I neurons); calcium has NEST's defaults
(tau_Ca = 10 s, beta_Ca = 0.001). `Axon_ex -> Den_ex` synapses carry 585 pA, `Axon_in ->
Den_in` synapses -585 pA, both with a 1-ms delay. Synapses are created and deleted every
`update_interval` ms.

- `--full`: NEST's example as published (800 E + 200 I neurons, 200 s, update every 10 s),
  one seed: `nest_structural_full.npz`.
- default (`small`, for the test suite): 160 E + 40 I neurons, growth rates x10, update
  every 1 s, 20 s; five seeds (`rng_seed` 1-5): `nest_structural_small.npz`.

Every second (ms units: `t` in ms) the mean calcium of E and I neurons and the total numbers
of excitatory and inhibitory synapses (connected `Axon_ex` / `Axon_in` elements) are stored,
one row per seed, with the wall time of each run.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import nest
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
PSC_E, PSC_I, PSC_EXT, BG_RATE, DELAY = 585.0, -585.0, 6.2, 10000.0, 1.0
PROTOCOLS = {
    "small": dict(n_e=160, n_i=40, t_sim=20000.0, interval=1000.0, growth_scale=10.0,
                  seeds=(1, 2, 3, 4, 5)),
    "full": dict(n_e=800, n_i=200, t_sim=200000.0, interval=10000.0, growth_scale=1.0,
                 seeds=(1,)),
}


def growth(rate: float, eps: float, scale: float) -> dict:
    return {"growth_curve": "gaussian", "growth_rate": rate * scale, "continuous": False,
            "eta": 0.0, "eps": eps}


def run(n_e, n_i, t_sim, interval, growth_scale, seed, record_every=1000.0):
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = 0.1
    nest.rng_seed = seed
    nest.local_num_threads = 1
    nest.structural_plasticity_update_interval = interval
    nest.CopyModel("static_synapse", "synapse_ex", {"weight": PSC_E, "delay": DELAY})
    nest.CopyModel("static_synapse", "synapse_in", {"weight": PSC_I, "delay": DELAY})
    nest.structural_plasticity_synapses = {
        "synapse_ex": {"synapse_model": "synapse_ex", "pre_synaptic_element": "Axon_ex",
                       "post_synaptic_element": "Den_ex"},
        "synapse_in": {"synapse_model": "synapse_in", "pre_synaptic_element": "Axon_in",
                       "post_synaptic_element": "Den_in"},
    }
    s = growth_scale
    e_elements = {"Den_ex": growth(1e-4, 0.05, s), "Den_in": growth(1e-4, 0.05, s),
                  "Axon_ex": growth(1e-4, 0.05, s)}
    i_elements = {"Den_ex": growth(4e-4, 0.2, s), "Den_in": growth(1e-4, 0.2, s),
                  "Axon_in": growth(1e-4, 0.2, s)}
    exc = nest.Create("iaf_psc_alpha", n_e, {"synaptic_elements": e_elements})
    inh = nest.Create("iaf_psc_alpha", n_i, {"synaptic_elements": i_elements})
    noise = nest.Create("poisson_generator", params={"rate": BG_RATE})
    nest.Connect(noise, exc + inh, "all_to_all", {"weight": PSC_EXT, "delay": DELAY})
    nest.EnableStructuralPlasticity()
    ca_e, ca_i, syn_e, syn_i = [], [], [], []
    began = time.perf_counter()
    for _ in range(int(round(t_sim / record_every))):
        nest.Simulate(record_every)
        ca_e.append(np.mean(exc.Ca))
        ca_i.append(np.mean(inh.Ca))
        syn_e.append(sum(el["Axon_ex"]["z_connected"] for el in exc.synaptic_elements))
        syn_i.append(sum(el["Axon_in"]["z_connected"] for el in inh.synaptic_elements))
    wall = time.perf_counter() - began
    return np.array(ca_e), np.array(ca_i), np.array(syn_e), np.array(syn_i), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="NEST's example at its own size")
    args = parser.parse_args()
    name = "full" if args.full else "small"
    p = PROTOCOLS[name]
    rows = []
    for seed in p["seeds"]:
        rows.append(run(p["n_e"], p["n_i"], p["t_sim"], p["interval"], p["growth_scale"], seed))
        print(f"seed {seed}: Ca E {rows[-1][0][-1]:.4f} I {rows[-1][1][-1]:.4f}, synapses "
              f"E {rows[-1][2][-1]} I {rows[-1][3][-1]}, {rows[-1][4]:.1f} s", flush=True)
    ca_e, ca_i, syn_e, syn_i, wall = (np.array(x) for x in zip(*rows, strict=True))
    np.savez_compressed(
        HERE / f"nest_structural_{name}.npz",
        t=np.arange(1, ca_e.shape[1] + 1) * 1000.0, ca_e=ca_e, ca_i=ca_i, syn_e=syn_e,
        syn_i=syn_i, wall_s=wall, seeds=np.array(p["seeds"]), n_e=p["n_e"], n_i=p["n_i"],
        interval=p["interval"], growth_scale=p["growth_scale"], nest_version=nest.__version__,
    )


if __name__ == "__main__":
    main()
