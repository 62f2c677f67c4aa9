"""Write the NEST 3.10 reference runs of `glif_psc` (GLIF levels 1-5) and `gif_psc_exp`.

Run with NEST's interpreter: `/tmp/nest/bin/python tests/reference/make_nest_glif_refs.py`.
Writes `nest_glif.npz` (one step-current protocol per GLIF level: V_m, threshold, the input current
and spike times) and `nest_gif.npz` (a deterministic
run of `gif_psc_exp` with a vanishing `Delta_V`, and the spike trains of many independent
trials of the stochastic model). NEST delivers a `dc_generator`'s current one step late; the
recorded `I` (stored in full) enters the update of the step after the one it is recorded in;
the traces are stored every millisecond (the state after every tenth step) in float32.
"""

import pathlib

import nest
import numpy as np

DT = 0.1
KEEP = 10  # traces are stored every KEEP steps (1 ms), in float32, to keep the files small
OUT = pathlib.Path(__file__).resolve().parent
# (start ms, stop ms, amplitude pA): a sub-threshold step, a supra-threshold step, a strong one.
GLIF_STEPS = [(20.0, 120.0, 200.0), (150.0, 450.0, 320.0), (500.0, 700.0, 600.0)]
GLIF_DURATION = 750.0
LEVELS = {
    1: dict(spike_dependent_threshold=False, after_spike_currents=False, adapting_threshold=False),
    2: dict(spike_dependent_threshold=True, after_spike_currents=False, adapting_threshold=False),
    3: dict(spike_dependent_threshold=False, after_spike_currents=True, adapting_threshold=False),
    4: dict(spike_dependent_threshold=True, after_spike_currents=True, adapting_threshold=False),
    5: dict(spike_dependent_threshold=True, after_spike_currents=True, adapting_threshold=True),
}
GLIF_PARAMS = dict(
    C_m=58.72,
    g=9.43,
    E_L=-78.85,
    V_th=-51.68,
    V_reset=-78.85,
    t_ref=3.75,
    th_spike_add=0.37,
    th_spike_decay=0.009,
    voltage_reset_fraction=0.2,
    voltage_reset_add=18.51,
    th_voltage_index=0.005,
    th_voltage_decay=0.09,
    asc_decay=[0.003, 0.1],
    asc_amps=[-9.18, -198.94],
    asc_r=[1.0, 1.0],
)
GIF_PARAMS = dict(
    C_m=80.0,
    g_L=4.0,
    E_L=-70.0,
    V_reset=-55.0,
    V_T_star=-35.0,
    lambda_0=1.0,
    t_ref=4.0,
    tau_stc=[10.0, 100.0],
    q_stc=[20.0, 5.0],
    tau_sfa=[20.0, 200.0],
    q_sfa=[8.0, 2.0],
)
GIF_STEPS = [(20.0, 400.0, 220.0), (400.0, 800.0, 320.0)]
GIF_DURATION = 800.0
GIF_TRIALS = 300


def _reset():
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, rng_seed=12345, print_time=False)


def _drive(neurons, steps):
    for start, stop, amplitude in steps:
        dc = nest.Create("dc_generator", params=dict(start=start, stop=stop, amplitude=amplitude))
        nest.Connect(dc, neurons)


def _record(neuron, names, duration):
    meter = nest.Create("multimeter", params=dict(record_from=names, interval=DT))
    spikes = nest.Create("spike_recorder")
    nest.Connect(meter, neuron)
    nest.Connect(neuron, spikes)
    nest.Simulate(duration)
    events = meter.get("events")
    order = np.argsort(events["times"])
    return {k: np.asarray(events[k])[order] for k in names}, np.asarray(
        spikes.get("events")["times"]
    )


def glif_refs():
    out = dict(dt=DT, **{f"p_{k}": np.asarray(v) for k, v in GLIF_PARAMS.items()})
    for level, flags in LEVELS.items():
        _reset()
        neuron = nest.Create("glif_psc", params=dict(GLIF_PARAMS, **flags))
        _drive(neuron, GLIF_STEPS)
        names = ["V_m", "threshold", "I"]
        traces, spike_times = _record(neuron, names, GLIF_DURATION)
        out[f"level{level}_I"] = traces.pop("I")
        for name, values in traces.items():
            out[f"level{level}_{name}"] = values[KEEP - 1 :: KEEP].astype(np.float32)
        out[f"level{level}_spikes"] = spike_times
        print(f"GLIF level {level}: {len(spike_times)} spikes")
    np.savez_compressed(OUT / "nest_glif.npz", **out)


def gif_refs():
    _reset()
    deterministic = nest.Create("gif_psc_exp", params=dict(GIF_PARAMS, Delta_V=1e-4))
    _drive(deterministic, GIF_STEPS)
    traces, spike_times = _record(deterministic, ["V_m", "E_sfa", "I_stc"], GIF_DURATION)
    out = dict(
        dt=DT,
        steps=np.asarray(GIF_STEPS),
        **{f"p_{k}": np.asarray(v) for k, v in GIF_PARAMS.items()},
    )
    out.update({f"det_{k}": v[KEEP - 1 :: KEEP].astype(np.float32) for k, v in traces.items()})
    out.update(det_spikes=spike_times, det_steps=len(traces["V_m"]))
    print(f"GIF deterministic: {len(spike_times)} spikes")

    _reset()
    trials = nest.Create("gif_psc_exp", GIF_TRIALS, params=dict(GIF_PARAMS, Delta_V=1.0))
    _drive(trials, GIF_STEPS)
    recorder = nest.Create("spike_recorder")
    nest.Connect(trials, recorder)
    nest.Simulate(GIF_DURATION)
    events = recorder.get("events")
    out["noisy_Delta_V"] = 1.0
    out["noisy_senders"] = (np.asarray(events["senders"]) - min(trials.tolist())).astype(np.int16)
    out["noisy_times"] = np.asarray(events["times"]).astype(np.float32)
    print(f"GIF noisy: {len(events['times']) / GIF_TRIALS:.1f} spikes per trial")
    np.savez_compressed(OUT / "nest_gif.npz", **out)


if __name__ == "__main__":
    glif_refs()
    gif_refs()
