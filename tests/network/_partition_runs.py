"""Partitioned runs against unpartitioned ones, with 4 CPU devices (run in its own process
by test_partition.py; prints one JSON object of results).

Each case builds a small network, runs it unpartitioned and partitioned over 2 and 4
devices with the same keys, and reports whether the spikes are identical, the largest
difference of a recorded potential and of the final plastic weights, and gradients.
"""

import json
import sys

import jax

jax.config.update("jax_num_cpu_devices", 4)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import brainsim as bs  # noqa: E402
import brainsim_ops as bo  # noqa: E402

DT = 0.1


def lif():
    return bs.neurons.LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, R=1.0)


def delayed(key):
    """E (250) and I (61: uneven parts) with a delay per projection, per presynaptic neuron
    and per synapse, and Tsodyks-Markram release on I->E; the smallest delay is 5 steps."""
    n_e, n_i = 250, 61
    keys = jax.random.split(key, 6)
    ee = bo.fixed_prob(keys[0], n_e, n_e, 0.1, weight=0.9)
    ei = bo.fixed_prob(keys[1], n_e, n_i, 0.1, weight=0.9)
    ie = bo.fixed_prob(keys[2], n_i, n_e, 0.2, weight=4.0)
    pre_delays = np.asarray(jax.random.randint(keys[3], (n_e,), 5, 30))
    synapse_delays = np.asarray(jax.random.randint(keys[4], (ee.n_syn,), 5, 25))
    exc = dict(kinetics=bs.synapses.Exponential(tau=5.0), output=bs.synapses.Conductance(E=0.0))
    inh = dict(kinetics=bs.synapses.Exponential(tau=10.0),
               output=bs.synapses.Conductance(E=-80.0))
    projections = [
        bs.Projection("E", "E", ee, **exc, delay_steps=synapse_delays, delay_per="synapse"),
        bs.Projection("E", "I", ei, **exc, delay_steps=pre_delays, delay_per="pre"),
        bs.Projection("I", "E", ie, **inh, delay_steps=15,
                      stp=bs.synapses.TsodyksMarkram(U=0.4, tau_d=200.0, tau_f=50.0)),
    ]
    network = bs.Network({"E": (lif(), n_e), "I": (lif(), n_i)}, projections)
    return network, {"E": 22.0, "I": 21.0}


def plastic(key):
    """E (203) with STDP on E->E (per-synapse weights) and a delay of 1 ms."""
    n = 203
    conn = bo.fixed_prob(key, n, n, 0.1)
    conn = conn.with_weights(jnp.full((conn.n_syn,), 0.8))
    stdp = bs.plasticity.STDP(A_plus=0.05, A_minus=0.05, tau_plus=20.0, tau_minus=20.0,
                              w_min=0.0, w_max=2.0)
    projection = bs.Projection("E", "E", conn, bs.synapses.Exponential(tau=5.0),
                               bs.synapses.Conductance(E=0.0), delay_steps=10, plasticity=stdp)
    network = bs.Network({"E": (lif(), n)}, [projection])
    return network, {"E": jnp.linspace(19.0, 23.0, n)}


def compare(network, inputs, parts, record, duration=100.0, **options):
    state = network.init(jax.random.key(1))
    reference = bs.run(network, state, inputs=inputs, duration=duration, dt=DT, record=record,
                       progress=False)
    out = {}
    for count in parts:
        parted = bs.network.partition(network, devices=count, **options)
        result = bs.run(parted, parted.init(jax.random.key(1)), inputs=inputs,
                        duration=duration, dt=DT, record=record, progress=False)
        same = all(
            np.array_equal(reference.spikes[k].times, result.spikes[k].times)
            and np.array_equal(reference.spikes[k].indices, result.spikes[k].indices)
            and reference.spikes[k].n == result.spikes[k].n
            for k in reference.spikes
        )
        spikes = sum(len(reference.spikes[k]) for k in reference.spikes)
        v = max(float(np.abs(np.asarray(reference.traces[k]) - result.traces[k]).max())
                for k in reference.traces)
        entry = dict(same_spikes=same, spikes=spikes, max_dv=v, every=parted.plan.every)
        final = parted.gather(result.final_state)
        for name, ps in reference.final_state["synapses"].items():
            if ps.weights is not None:
                entry["max_dw"] = float(np.abs(final["synapses"][name]["weights"]
                                               - np.asarray(ps.weights)).max())
                entry["dw_moved"] = float(np.abs(np.asarray(ps.weights) - 0.8).max())
        entry["step"] = int(final["step"])
        out[count] = entry
    return out


def gradient(parts):
    """d(sum of E potentials)/d(input current), partitioned and not (on-device runs)."""
    network, _ = bs.benchmarks.coba(jax.random.key(0), n=250)
    parted = bs.network.partition(network, devices=parts)

    def loss(current, model, state):
        result = bs.run(model, state, inputs={"E": current, "I": 20.0}, duration=20.0, dt=DT,
                        record=["E.v"], stream=False)
        return jnp.sum(result.traces["E.v"])  # run keeps the real neurons only

    plain = jax.grad(loss)(20.0, network, network.init(jax.random.key(1)))
    split = jax.grad(loss)(20.0, parted, parted.init(jax.random.key(1)))
    return dict(plain=float(plain), partitioned=float(split))


def main():
    results = {
        "coba": compare(*bs.benchmarks.coba(jax.random.key(0), n=601), (2, 4),
                        ["E.spikes", "I.spikes", "E.v"]),
        "delayed": compare(*delayed(jax.random.key(2)), (2, 4), ["E.spikes", "I.spikes", "I.v"]),
        "delayed_every_step": compare(*delayed(jax.random.key(2)), (2,),
                                      ["E.spikes", "I.spikes", "I.v"], exchange_every=1),
        "delayed_packed": compare(*delayed(jax.random.key(2)), (4,),
                                  ["E.spikes", "I.spikes", "I.v"], packed=True, duration=103.7),
        "plastic": compare(*plastic(jax.random.key(3)), (2, 4), ["E.spikes", "E.v"],
                           duration=200.0),
        "gradient": gradient(2),
    }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
