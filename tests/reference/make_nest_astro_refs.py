"""Generate NEST 3.10 references of NEST's neuron–astrocyte examples.

NEST is not a test dependency: run this with an environment that has it, e.g.

    python3 -m venv /tmp/nest && /tmp/nest/bin/pip install nest-simulator==3.10.0 numpy
    /tmp/nest/bin/python tests/reference/make_nest_astro_refs.py
    /tmp/nest/bin/python tests/reference/make_nest_astro_refs.py --only driven

Each protocol re-implements one of the examples in `pynest/examples/astrocytes/` of NEST 3.10
(models `astrocyte_lr_1994`, `aeif_cond_alpha_astro`, `sic_connection`, rule
`third_factor_bernoulli_with_pool`), with NEST's parameters, resolution (0.1 ms) and default
delays (1 ms). What differs from the published scripts:

- Poisson inputs come from a `spike_generator` with spike times drawn here (a Poisson count
  per 0.1-ms step, as `poisson_generator` draws them, from a fixed numpy seed; a time repeats
  for several spikes in one step) and stored in the file, so that brainsim replays the very
  same spikes.
- `single` (astrocyte_single.py) also sends the astrocyte's SIC to a probe neuron through a
  `sic_connection` of one step's delay, to record the SIC.
- `tripartite` is astrocyte_interaction.py (NEST's tripartite example in 3.10: one
  presynaptic neuron, one postsynaptic neuron, one astrocyte).
- `driven` is that protocol with a stronger drive so that both neurons fire: input weight
  1.5 nS, neuron -> neuron weight 5 nS, postsynaptic `I_e` = 580 pA, SIC weight 3, 10 s.
- `small_network` (astrocyte_small_network.py) uses `static_synapse` instead of
  `tsodyks_synapse` for the neuron -> neuron and neuron -> astrocyte connections (brainsim's
  Tsodyks–Markram is the two-state model; NEST's `tsodyks_synapse` has a third, inactive
  state), and saves the connections NEST made.

Traces are recorded by multimeters at the listed intervals; NEST stamps a sample with the end of
the step it follows, and a spike with the end of the step in which it happened. Saved units:
ms, mV, pA, nS, µM. The keys of each file are listed in README.md.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import nest
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
DT = 0.1  # ms, NEST's default resolution, used by all the examples
DELAY = 1.0  # ms, NEST's default delay (Connect without "delay")
PROTOCOLS = ("single", "tripartite", "driven", "small_network")


def poisson_times(seed: int, rate: float, duration: float) -> np.ndarray:
    """Spike times (ms, on the grid, > 0, repeated for several spikes in one step) of a
    Poisson train: a Poisson(rate·dt) count per step, as NEST's `poisson_generator` draws."""
    counts = np.random.default_rng(seed).poisson(rate * DT * 1e-3, round(duration / DT))
    return np.repeat(np.arange(1, counts.size + 1) * DT, counts)


def reset():
    nest.ResetKernel()
    nest.set(resolution=DT, print_time=False)


def multimeter(nodes, names, interval):
    mm = nest.Create("multimeter", params={"record_from": names, "interval": interval})
    nest.Connect(mm, nodes)
    return mm


def traces(mm, names, nodes):
    """`{name: (samples, len(nodes))}` and the sample times, in the order of `nodes`."""
    events = mm.events
    ids = list(nodes.tolist())
    times = np.unique(events["times"])
    out = {}
    for name in names:
        values = np.empty((times.size, len(ids)))
        for k, node in enumerate(ids):
            mask = events["senders"] == node
            order = np.argsort(events["times"][mask])
            values[:, k] = events[name][mask][order]
        out[name] = values
    return times, out


def spikes(recorder, nodes):
    """Spike times (ms) and indices within `nodes`, sorted by time then index."""
    events = recorder.events
    first = nodes.tolist()[0]
    times, index = events["times"], events["senders"] - first
    order = np.lexsort((index, times))
    return times[order], index[order].astype(np.int32)


def gaps(times: np.ndarray) -> np.ndarray:
    """Spike times on the grid as uint16 step gaps (first gap counted from step 0)."""
    steps = np.round(np.asarray(times) / DT).astype(np.int64)
    diffs = np.diff(np.concatenate([[0], steps]))
    assert diffs.max() < 2**16 and diffs.min() >= 0
    return diffs.astype(np.uint16)


def run_single():
    """astrocyte_single.py: one astrocyte driven by a 1-Hz Poisson train for 60 s."""
    duration, rate, delta_IP3 = 60_000.0, 1.0, 0.2
    reset()
    input_times = poisson_times(11, rate, duration)
    astro = nest.Create("astrocyte_lr_1994", params={"delta_IP3": delta_IP3})
    probe = nest.Create("aeif_cond_alpha_astro")
    source = nest.Create("spike_generator", params={"spike_times": input_times})
    nest.Connect(source, astro, syn_spec={"weight": 1.0, "delay": DELAY})
    nest.Connect(astro, probe, syn_spec={"synapse_model": "sic_connection", "weight": 1.0,
                                         "delay": DT})  # fmt: skip
    names = ["IP3", "Ca_astro", "h_IP3R"]
    mm_astro = multimeter(astro, names, 50.0)
    mm_probe = multimeter(probe, ["I_SIC"], 50.0)
    nest.Simulate(duration)
    t, astro_traces = traces(mm_astro, names, astro)
    t_probe, probe_traces = traces(mm_probe, ["I_SIC"], probe)
    assert np.array_equal(t, t_probe)
    return {
        "duration": duration, "rate": rate, "delta_IP3": delta_IP3, "delay": DELAY,
        "sic_delay": DT, "input_times": input_times, "t": t,
        "IP3": astro_traces["IP3"][:, 0], "Ca": astro_traces["Ca_astro"][:, 0],
        "h_IP3R": astro_traces["h_IP3R"][:, 0], "SIC": probe_traces["I_SIC"][:, 0],
    }  # fmt: skip


def _tripartite(duration, w_input, w_pre_post, post_I_e, w_sic, interval):
    """astrocyte_interaction.py with the given drive; returns the arrays to save."""
    rate, tau_syn_ex, delta_IP3 = 1500.0, 2.0, 0.2
    reset()
    input_times = poisson_times(7, rate, duration)
    astro = nest.Create("astrocyte_lr_1994", params={"delta_IP3": delta_IP3})
    pre = nest.Create("aeif_cond_alpha_astro", params={"tau_syn_ex": tau_syn_ex})
    post = nest.Create("aeif_cond_alpha_astro", params={"tau_syn_ex": tau_syn_ex,
                                                        "I_e": post_I_e})  # fmt: skip
    source = nest.Create("spike_generator", params={"spike_times": input_times})
    nest.Connect(source, pre, syn_spec={"weight": w_input})
    nest.Connect(pre, post, syn_spec={"weight": w_pre_post})
    nest.Connect(pre, astro, syn_spec={"weight": 1.0})
    nest.Connect(astro, post, syn_spec={"synapse_model": "sic_connection", "weight": w_sic})
    neuron_names = ["V_m", "I_SIC"]
    mm_neurons = multimeter(pre + post, neuron_names, interval)
    mm_fine = multimeter(pre + post, ["V_m", "w", "g_ex"], DT)
    mm_astro = multimeter(astro, ["IP3", "Ca_astro", "h_IP3R"], interval)
    recorder = nest.Create("spike_recorder")
    nest.Connect(pre + post, recorder)
    nest.Simulate(duration)
    t, neuron_traces = traces(mm_neurons, neuron_names, pre + post)
    t_astro, astro_traces = traces(mm_astro, ["IP3", "Ca_astro", "h_IP3R"], astro)
    assert np.array_equal(t, t_astro)
    t_fine, fine = traces(mm_fine, ["V_m", "w", "g_ex"], pre + post)
    spike_times, spike_index = spikes(recorder, pre + post)
    # 100 ms at full resolution, from 50 ms before the first spike (of post, else of pre)
    first = spike_times[spike_index == 1] if np.any(spike_index == 1) else spike_times
    start = max(float(first[0]) - 50.0, 0.0) if first.size else 0.0
    keep = (t_fine > start) & (t_fine <= start + 100.0)
    return {
        "duration": duration, "rate": rate, "tau_syn_ex": tau_syn_ex, "delta_IP3": delta_IP3,
        "delay": DELAY, "sic_delay": DELAY, "w_input": w_input, "w_pre_post": w_pre_post,
        "post_I_e": post_I_e, "w_sic": w_sic, "input_gaps": gaps(input_times),
        "t": t, "V_m": neuron_traces["V_m"], "I_SIC": neuron_traces["I_SIC"][:, 1],
        "IP3": astro_traces["IP3"][:, 0], "Ca": astro_traces["Ca_astro"][:, 0],
        "h_IP3R": astro_traces["h_IP3R"][:, 0],
        "t_fine": t_fine[keep], "V_m_fine": fine["V_m"][keep], "w_fine": fine["w"][keep],
        "g_ex_fine": fine["g_ex"][keep],
        "spike_times": spike_times, "spike_index": spike_index,
    }  # fmt: skip


def run_tripartite():
    """astrocyte_interaction.py: 1500-Hz input, 60 s (the presynaptic neuron rarely fires)."""
    return _tripartite(60_000.0, 1.0, 1.0, 0.0, 1.0, interval=50.0)


def run_driven():
    """The tripartite protocol driven harder, 10 s: both neurons fire."""
    return _tripartite(10_000.0, 1.5, 5.0, 580.0, 3.0, interval=20.0)


def run_small_network():
    """astrocyte_small_network.py (static synapses): 10 + 10 neurons, 5 astrocytes, 1 s."""
    n_neurons, n_astro, duration = 10, 5, 1000.0
    neuron_params = {"tau_syn_ex": 2.0, "I_e": 1000.0}
    astro_params = {"IP3": 0.4, "delta_IP3": 0.2}
    reset()
    pre = nest.Create("aeif_cond_alpha_astro", n_neurons, params=neuron_params)
    post = nest.Create("aeif_cond_alpha_astro", n_neurons, params=neuron_params)
    astro = nest.Create("astrocyte_lr_1994", n_astro, params=astro_params)
    nest.TripartiteConnect(
        pre, post, astro,
        conn_spec={"rule": "pairwise_bernoulli", "p": 1.0},
        third_factor_conn_spec={"rule": "third_factor_bernoulli_with_pool", "p": 1.0,
                                "pool_size": 1, "pool_type": "block"},
        syn_specs={"primary": {"synapse_model": "static_synapse"},
                   "third_in": {"synapse_model": "static_synapse"},
                   "third_out": {"synapse_model": "sic_connection"}},
    )  # fmt: skip
    conns = {}
    for name, (src, tgt) in {"primary": (pre, post), "third_in": (pre, astro),
                             "third_out": (astro, post)}.items():  # fmt: skip
        c = nest.GetConnections(src, tgt)
        pairs = np.stack([np.asarray(c.source) - src.tolist()[0],
                          np.asarray(c.target) - tgt.tolist()[0]], axis=1)  # fmt: skip
        conns[f"edges_{name}"] = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))].astype(np.int32)
    mm_post = multimeter(post, ["V_m", "I_SIC"], 1.0)
    mm_astro = multimeter(astro, ["IP3", "Ca_astro"], 1.0)
    recorder = nest.Create("spike_recorder")
    nest.Connect(pre + post, recorder)
    nest.Simulate(duration)
    t, post_traces = traces(mm_post, ["V_m", "I_SIC"], post)
    _, astro_traces = traces(mm_astro, ["IP3", "Ca_astro"], astro)
    spike_times, spike_index = spikes(recorder, pre + post)
    return {
        "duration": duration, "n_neurons": n_neurons, "n_astro": n_astro, "delay": DELAY,
        "I_e": neuron_params["I_e"], "tau_syn_ex": neuron_params["tau_syn_ex"],
        "IP3_init": astro_params["IP3"], "delta_IP3": astro_params["delta_IP3"], "t": t,
        "post_V_m": post_traces["V_m"], "post_I_SIC": post_traces["I_SIC"],
        "IP3": astro_traces["IP3"], "Ca": astro_traces["Ca_astro"],
        "spike_times": spike_times, "spike_index": spike_index, **conns,
    }  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the protocols whose name contains this")
    parser.add_argument("--out-dir", default=str(HERE))
    args = parser.parse_args()
    nest.verbosity = nest.VerbosityLevel.ERROR
    for name in PROTOCOLS:
        if args.only not in name:
            continue
        start = time.perf_counter()
        data = globals()[f"run_{name}"]()
        path = pathlib.Path(args.out_dir) / f"nest_astro_{name}.npz"
        np.savez_compressed(path, dt=DT, nest_version=nest.__version__, **data)
        counts = ""
        if "spike_index" in data:
            counts = f", spikes per neuron {np.bincount(data['spike_index'], minlength=2).tolist()}"
        print(f"{path.name}: {time.perf_counter() - start:.1f} s, "
              f"{path.stat().st_size / 1e3:.0f} kB{counts}")  # fmt: skip


if __name__ == "__main__":
    main()
