"""Generate NEST 3.10 references of the stimulation devices (tests/stimulation/).

NEST is not a test dependency: run this with an environment that has it, e.g.

    python3 -m venv /tmp/nest && /tmp/nest/bin/pip install nest-simulator==3.10.0 numpy
    /tmp/nest/bin/python tests/reference/make_nest_stimulation_refs.py

It writes `nest_stimulation_currents.npz` (the current traces of `dc_generator`,
`step_current_generator`, `ac_generator` and `noise_generator`, recorded by a multimeter every
0.1-ms step) and `nest_stimulation_spikes.npz` (spike statistics of
`inhomogeneous_poisson_generator`, `sinusoidal_poisson_generator`, `gamma_sup_generator`,
`mip_generator` and `pulsepacket_generator`, each recorded through `parrot_neuron`s connected
with a delay of one step). The parameters of each device are stored beside its data (keys
`<device>__<parameter>`). Time conventions: a multimeter sample stamped `s` holds the current
that a neuron connected with a delay of one step receives in the step from `s` to `s + dt`;
spike times are the parrots' minus the delay. Resolution 0.1 ms, seed 12345.
"""

from __future__ import annotations

import pathlib

import nest
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
DT = 0.1
SEED = 12345

CURRENTS = {
    "dc_generator": {"amplitude": 150.0, "start": 2.0, "stop": 7.3},
    "step_current_generator": {
        "amplitude_times": [1.0, 2.5, 6.0],
        "amplitude_values": [100.0, -50.0, 25.0],
    },
    "ac_generator": {
        "amplitude": 80.0,
        "offset": 20.0,
        "frequency": 130.0,
        "phase": 35.0,
        "start": 1.0,
        "stop": 8.0,
    },
}
NOISE = {"mean": 50.0, "std": 100.0, "dt": 0.5}
NOISE_DURATION = 500.0
SPIKES = {
    "inhomogeneous_poisson_generator": (
        {"rate_times": [1.0, 300.0, 600.0], "rate_values": [10.0, 50.0, 0.0]},
        300,
        1000.0,
    ),
    "sinusoidal_poisson_generator": (
        {"rate": 30.0, "amplitude": 20.0, "frequency": 10.0, "phase": 45.0},
        300,
        1000.0,
    ),
    "gamma_sup_generator": ({"rate": 20.0, "gamma_shape": 4, "n_proc": 1}, 200, 2000.0),
    "mip_generator": ({"rate": 100.0, "p_copy": 0.2}, 50, 2000.0),
    "pulsepacket_generator": (
        {"pulse_times": [50.0, 150.0, 250.0], "activity": 20, "sdev": 5.0},
        30,
        300.0,
    ),
}


def reset():
    nest.ResetKernel()
    nest.set(resolution=DT, print_time=False, rng_seed=SEED)


def currents() -> dict:
    """Current traces of the deterministic generators and of `noise_generator`."""
    out = {}
    reset()
    meters = {}
    for model, params in CURRENTS.items():
        generator = nest.Create(model, params=params)
        meter = nest.Create("multimeter", params={"record_from": ["I"], "interval": DT})
        nest.Connect(meter, generator)
        meters[model] = meter
        for name, value in params.items():
            out[f"{model}__{name}"] = np.asarray(value, float)
    nest.Simulate(10.0)
    for model, meter in meters.items():
        events = meter.get("events")
        out[f"{model}__times"] = np.asarray(events["times"], np.float32)
        out[f"{model}__I"] = np.asarray(events["I"], np.float32)

    reset()
    noise = nest.Create("noise_generator", params=NOISE)
    neuron = nest.Create("iaf_psc_delta")
    nest.Connect(noise, neuron, syn_spec={"delay": DT})
    meter = nest.Create("multimeter", params={"record_from": ["I"], "interval": DT})
    nest.Connect(meter, noise)
    nest.Simulate(NOISE_DURATION + DT)
    events = meter.get("events")
    out["noise_generator__times"] = np.asarray(events["times"], np.float32)
    out["noise_generator__I"] = np.asarray(events["I"], np.float32)
    for name, value in NOISE.items():
        out[f"noise_generator__{name}"] = np.asarray(value, float)
    return out


def spikes() -> dict:
    """Spike times (pulse packets, gamma ISIs) or binned counts of the spike generators."""
    out = {}
    for model, (params, n, duration) in SPIKES.items():
        reset()
        generator = nest.Create(model, params=params)
        if model == "pulsepacket_generator":  # one train per generator: n generators
            generator = nest.Create(model, n, params=params)
        parrots = nest.Create("parrot_neuron", n)
        rule = "one_to_one" if len(generator) == n else "all_to_all"
        nest.Connect(generator, parrots, rule, syn_spec={"delay": DT})
        recorder = nest.Create("spike_recorder")
        nest.Connect(parrots, recorder)
        nest.Simulate(duration + 2 * DT)
        events = recorder.get("events")
        times = np.asarray(events["times"]) - DT
        neurons = np.asarray(events["senders"]) - parrots[0].global_id
        keep = times < duration
        times, neurons = times[keep], neurons[keep]
        for name, value in params.items():
            out[f"{model}__{name}"] = np.asarray(value, float)
        out[f"{model}__n"] = np.asarray(n)
        out[f"{model}__duration"] = np.asarray(duration)
        if model in ("inhomogeneous_poisson_generator", "sinusoidal_poisson_generator"):
            out[f"{model}__psth"] = np.histogram(times, np.arange(0.0, duration + 0.5, 1.0))[0]
            out[f"{model}__counts"] = np.bincount(neurons, minlength=n).astype(np.int16)
        elif model == "gamma_sup_generator":
            # The first 15 intervals of each train: all intervals inside a window would favour
            # short ones (a long one is more likely to cross the window's end).
            isis = np.stack([np.diff(np.sort(times[neurons == i]))[:15] for i in range(n)])
            out[f"{model}__isi"] = isis.ravel().astype(np.float32)
            out[f"{model}__counts"] = np.bincount(neurons, minlength=n).astype(np.int16)
        elif model == "mip_generator":
            bins = np.arange(0.0, duration + 0.5, 10.0)
            binned = np.stack([np.histogram(times[neurons == i], bins)[0] for i in range(n)])
            out[f"{model}__binned"] = binned.astype(np.int8)
        else:
            out[f"{model}__times"] = times.astype(np.float32)
            out[f"{model}__neurons"] = neurons.astype(np.int16)
    return out


def main() -> None:
    nest.verbosity = nest.VerbosityLevel.ERROR
    for name, make in (("currents", currents), ("spikes", spikes)):
        data = make()
        path = HERE / f"nest_stimulation_{name}.npz"
        np.savez_compressed(path, nest_version=nest.__version__, **data)
        print(f"{path.name}: {path.stat().st_size / 1000:.1f} kB")


if __name__ == "__main__":
    main()
