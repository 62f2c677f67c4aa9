"""A partitioned network gives the spikes of the unpartitioned one.

Runs with 2 and 4 CPU devices happen in one subprocess (`_partition_runs.py`; the number of
devices is fixed when JAX starts); the in-process tests use one device.
"""

import json
import pathlib
import socket
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def runs():
    done = subprocess.run([sys.executable, str(HERE / "_partition_runs.py")],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


CASES = [  # (case, parts, steps between exchanges, steps run)
    ("coba", "2", 1, 1000), ("coba", "4", 1, 1000),
    ("delayed", "2", 5, 1000), ("delayed", "4", 5, 1000),  # exchange in blocks of 5 steps
    ("delayed_every_step", "2", 1, 1000),
    ("delayed_packed", "4", 5, 1037),  # bits; the run ends inside a block
    ("plastic", "2", 1, 2000), ("plastic", "4", 1, 2000),
]


@pytest.mark.parametrize(("case", "parts", "every", "steps"), CASES)
def test_partitioned_spikes_equal_unpartitioned(runs, case, parts, every, steps):
    entry = runs[case][parts]
    assert entry["spikes"] > 500  # the networks are active
    assert entry["same_spikes"]
    # Same operations in the same order, up to XLA's fusion choices: float32 rounding.
    assert entry["max_dv"] < 1e-4
    assert (entry["every"], entry["step"]) == (every, steps)


@pytest.mark.parametrize("parts", ["2", "4"])
def test_partitioned_stdp_weights_equal_unpartitioned(runs, parts):
    entry = runs["plastic"][parts]
    assert entry["dw_moved"] > 0.1  # STDP did change the weights
    assert entry["max_dw"] < 1e-5


def test_gradient_through_partitioned_run_equals_unpartitioned(runs):
    grads = runs["gradient"]
    assert grads["plain"] != 0.0
    np.testing.assert_allclose(grads["partitioned"], grads["plain"], rtol=1e-5)


def test_two_processes_on_localhost_give_the_spikes_of_one(tmp_path):
    """`jax.distributed` with a loopback coordinator: 2 processes x 2 CPU devices."""
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = str(probe.getsockname()[1])
    out = tmp_path / "report.json"
    script = str(HERE / "_partition_processes.py")
    processes = [
        subprocess.Popen([sys.executable, script, str(i), "2", port, str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
    report = json.loads(out.read_text())
    assert (report["devices"], report["parts"], report["packed"]) == (4, 4, True)
    assert report["step"] == 1000
    assert report["max_dv"] < 1e-4
    for name in ("E.spikes", "I.spikes"):
        assert len(report[f"reference {name}"][0]) > 100
        assert report[f"partitioned {name}"] == report[f"reference {name}"]


def _coba(n=203):
    return bs.benchmarks.coba(jax.random.key(0), n=n)


@pytest.mark.parametrize("packed", [False, True])
def test_one_device_partition_runs_like_the_network(packed):
    network, inputs = _coba()
    parted = bs.network.partition(network, devices=1, packed=packed)
    assert parted.padded_size("E") % 8 == 0 and parted.padded_size("E") > 162
    record = ["E.spikes", "I.spikes", "I.v"]
    reference = bs.run(network, network.init(jax.random.key(1)), inputs=inputs,
                       duration=50.0, dt=0.1, record=record, progress=False)
    result = bs.run(parted, parted.init(jax.random.key(1)), inputs=inputs, duration=50.0,
                    dt=0.1, record=record, progress=False)
    for name in ("E.spikes", "I.spikes"):
        np.testing.assert_array_equal(result.spikes[name].indices,
                                      reference.spikes[name].indices)
        assert result.spikes[name].n == reference.spikes[name].n
    assert result.traces["I.v"].shape == reference.traces["I.v"].shape
    np.testing.assert_allclose(result.traces["I.v"], reference.traces["I.v"], atol=1e-4)
    final = parted.gather(result.final_state)
    np.testing.assert_allclose(final["E"].v, reference.final_state["E"].v, atol=1e-4)
    assert final["step"] == 500


def test_dense_and_fixed_in_degree_projections_partition():
    lif = bs.neurons.LIF(tau_m=10.0, v_th=-50.0, v_rest=-65.0, v_reset=-65.0, R=1.0)
    dense = bo.Dense(jax.random.uniform(jax.random.key(0), (30, 21)) * 3.0)
    in_degree = bo.fixed_in_degree(jax.random.key(1), 21, 30, 5, weight=2.0)
    network = bs.Network({"A": (lif, 30), "B": (lif, 21)}, [
        bs.Projection("A", "B", dense, output=bs.synapses.Current()),
        bs.Projection("B", "A", in_degree, output=bs.synapses.Current(), delay_steps=3),
    ])
    inputs = {"A": jnp.linspace(10.0, 30.0, 30), "B": 12.0}
    reference = bs.run(network, network.init(), inputs=inputs, duration=40.0, dt=0.1,
                       record=["A.spikes", "B.spikes"], progress=False)
    parted = bs.network.partition(network, devices=1)
    result = bs.run(parted, parted.init(), inputs=inputs, duration=40.0, dt=0.1,
                    record=["A.spikes", "B.spikes"], progress=False)
    assert len(reference.spikes["B.spikes"]) > 20
    for name in ("A.spikes", "B.spikes"):
        np.testing.assert_array_equal(result.spikes[name].times, reference.spikes[name].times)
        np.testing.assert_array_equal(result.spikes[name].indices,
                                      reference.spikes[name].indices)


def test_vmap_over_inputs_of_a_partitioned_run_equals_a_loop():
    network, _ = _coba(101)
    parted = bs.network.partition(network, devices=1)
    state = parted.init(jax.random.key(1))

    def mean_v(current):
        result = bs.run(parted, state, inputs={"E": current, "I": 20.0}, duration=10.0, dt=0.1,
                        record=["E.v"], stream=False)
        assert result.traces["E.v"].shape[-1] == 80  # the real neurons only, also traced
        return jnp.mean(result.traces["E.v"])

    currents = jnp.array([15.0, 25.0])
    batched = jax.vmap(mean_v)(currents)
    looped = jnp.stack([mean_v(c) for c in currents])
    np.testing.assert_allclose(batched, looped, rtol=1e-6)
    assert batched[1] > batched[0]


def test_poisson_sources_draw_per_device_with_the_right_rate():
    """A population whose state holds a key draws from the key folded with the device index
    (other draws than unpartitioned, same statistics)."""
    source = bs.neurons.PoissonSource(rate=50.0)
    lif = bs.neurons.LIF(tau_m=10.0, v_th=-50.0, v_rest=-65.0, v_reset=-65.0, R=1.0)
    conn = bo.fixed_prob(jax.random.key(0), 400, 20, 0.2, weight=5.0)
    network = bs.Network({"P": (source, 400), "N": (lif, 20)},
                         [bs.Projection("P", "N", conn, output=bs.synapses.Current())])
    parted = bs.network.partition(network, devices=1)
    result = bs.run(parted, parted.init(jax.random.key(3)), duration=500.0, dt=0.1,
                    record=["P.spikes", "N.spikes"], progress=False)
    spikes = result.spikes["P.spikes"]
    assert spikes.n == 400 and spikes.indices.max() < 400
    # 400 trains x 0.5 s x 50 Hz = 10 000 spikes; Poisson sd 100.
    assert abs(len(spikes) - 10_000) < 500
    assert len(result.spikes["N.spikes"]) > 0


def test_per_neuron_inputs_and_recorded_indices_follow_the_real_neurons():
    network, _ = _coba()
    parted = bs.network.partition(network, devices=1)
    currents = {"E": jnp.linspace(15.0, 25.0, 162), "I": 20.0}
    record = {"E.v": [0, 100, 161]}
    reference = bs.run(network, network.init(jax.random.key(1)), inputs=currents,
                       duration=20.0, dt=0.1, record=record, progress=False)
    result = bs.run(parted, parted.init(jax.random.key(1)), inputs=currents, duration=20.0,
                    dt=0.1, record=record, progress=False)
    np.testing.assert_allclose(result.traces["E.v"], reference.traces["E.v"], atol=1e-4)
    with pytest.raises(ValueError, match="162 entries"):
        parted.step(parted.init(jax.random.key(1)), {"E": jnp.zeros(10)}, t=0.0, dt=0.1)


def test_partition_refuses_what_it_cannot_cut():
    network, _ = _coba()
    with pytest.raises(ValueError, match="device"):
        bs.network.partition(network, devices=len(jax.devices()) + 1)
    with pytest.raises(TypeError, match="Network"):
        bs.network.partition(object())
    lif = bs.neurons.LIF()
    gap = bs.network.GapJunctions("E", [0], [1], g=1.0)
    coupled = bs.Network({"E": (lif, 4)}, [], [gap])
    with pytest.raises(ValueError, match="couplings"):
        bs.network.partition(coupled, devices=1)
    stdp = bs.plasticity.STDP(A_plus=jnp.full((4,), 0.01))
    conn = bo.fixed_prob(jax.random.key(0), 4, 4, 0.5)
    plastic = bs.Network({"E": (lif, 4)}, [bs.Projection("E", "E", conn, plasticity=stdp)])
    with pytest.raises(ValueError, match="scalar constants"):
        bs.network.partition(plastic, devices=1)
    delayed = bs.Network({"E": (lif, 4)}, [bs.Projection("E", "E", conn, delay_steps=3)])
    assert bs.network.partition(delayed, devices=1).plan.every == 3
    with pytest.raises(ValueError, match="from 1 to 3"):
        bs.network.partition(delayed, devices=1, exchange_every=4)


def test_an_eager_first_step_keeps_the_native_kernels():
    """In a fresh process, the first operator call may be an eager partitioned step (traced by
    shard_map), where the native kernels' self-test could not run: partition runs it first."""
    code = (
        "import warnings; warnings.simplefilter('error', RuntimeWarning)\n"
        "import jax, brainsim as bs, brainsim_ops as bo\n"
        "net, inputs = bs.benchmarks.coba(jax.random.key(0), n=200)\n"
        "parted = bs.network.partition(net, devices=1)\n"
        "parted.step(parted.init(jax.random.key(1)), inputs, t=0.0, dt=0.1)\n"
        "print(bo.native_available())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True"]
