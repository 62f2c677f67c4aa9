"""Generate NEST 3.10 references of stochastic release (tests/synapses/test_stochastic_release.py).

NEST is not a test dependency: run this with an environment that has it, e.g.

    python3 -m venv /tmp/nest && /tmp/nest/bin/pip install nest-simulator==3.10.0 numpy
    /tmp/nest/bin/python tests/reference/make_nest_release_refs.py

A `spike_generator` drives one `parrot_neuron` with a regular train; the parrot projects to
`N_TARGETS` `iaf_psc_delta` neurons through one `bernoulli_synapse` or `quantal_stp_synapse`
each, and a `weight_recorder` records every transmitted event. For each parrot spike the file
holds the mean and the variance, over the connections, of the transmitted weight (0 for a
connection that transmitted nothing). Keys `<case>__times` (the parrot's spike times, ms:
the time the synapse sees), `<case>__mean`, `<case>__var`, and `<case>__<parameter>`.
Resolution 0.1 ms, seed 12345. Writes `nest_release.npz`.
"""

from __future__ import annotations

import pathlib

import nest
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
DT = 0.1
SEED = 12345
N_TARGETS = 4000
PERIOD = 20.0
N_SPIKES = 30
FIRST = 9.0  # the generator's first spike (ms); the parrot's is one delay (1 ms) later

CASES = {
    "bernoulli": ("bernoulli_synapse", {"p_transmit": 0.3, "weight": 2.0}),
    "quantal_depressing": (
        "quantal_stp_synapse",
        {"U": 0.5, "u": 0.5, "n": 5, "a": 5, "tau_rec": 400.0, "tau_fac": 0.0, "weight": 1.0},
    ),
    "quantal_facilitating": (
        "quantal_stp_synapse",
        {"U": 0.1, "u": 0.1, "n": 3, "a": 3, "tau_rec": 100.0, "tau_fac": 300.0, "weight": 1.5},
    ),
}


def run(model: str, params: dict) -> dict:
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = DT
    nest.rng_seed = SEED
    times = FIRST + PERIOD * np.arange(N_SPIKES)
    generator = nest.Create("spike_generator", params={"spike_times": times})
    parrot = nest.Create("parrot_neuron")
    targets = nest.Create("iaf_psc_delta", N_TARGETS)
    recorder = nest.Create("weight_recorder")
    nest.CopyModel(model, "recorded", {"weight_recorder": recorder})
    nest.Connect(generator, parrot, syn_spec={"delay": 1.0})
    syn = {"synapse_model": "recorded", "delay": 1.0, **params}
    nest.Connect(parrot, targets, "all_to_all", syn_spec=syn)
    nest.Simulate(FIRST + PERIOD * N_SPIKES + 10.0)
    events = recorder.events
    parrot_times = times + 1.0
    index = np.rint((events["times"] - parrot_times[0]) / PERIOD).astype(int)
    weights = np.asarray(events["weights"], float)
    total = np.bincount(index, weights, minlength=N_SPIKES)
    square = np.bincount(index, weights**2, minlength=N_SPIKES)
    mean = total / N_TARGETS
    out = {"times": parrot_times, "mean": mean, "var": square / N_TARGETS - mean**2}
    out.update({name: np.asarray(value, float) for name, value in params.items()})
    return out


def main() -> None:
    data = {"n_targets": np.asarray(N_TARGETS), "dt": np.asarray(DT)}
    for case, (model, params) in CASES.items():
        for key, value in run(model, params).items():
            data[f"{case}__{key}"] = value
        print(case, np.round(data[f"{case}__mean"][:6], 3))
    np.savez_compressed(HERE / "nest_release.npz", **data)


if __name__ == "__main__":
    main()
