"""Long runs on disk: interrupted and resumed runs are bit-identical to uninterrupted ones,
with plasticity, per-synapse delays and Poisson input; the files are plain NumPy arrays.

Run as a script (`python tests/test_run_to_disk.py FOLDER KILL_MS`), this file starts the test
network's run in FOLDER and kills its own process (SIGKILL) once KILL_MS ms are simulated.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys

import jax
import numpy as np
import pandas as pd
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim import _run_to_disk
from brainsim._checkpoint import load_state
from brainsim._run_to_disk import read_run, run_to_disk

DT = 0.1  # ms
DURATION = 200.0  # ms
RUN = dict(
    dt=DT,
    duration=DURATION,
    inputs={"E": 0.0},
    record={"E.spikes": None, "P.spikes": None, "E.v": [0, 5, 7]},
    every=10,
    checkpoint_interval=50.0,
    chunk_steps=250,
    progress=False,
)


def network(weight: float = 0.08) -> bs.Network:
    """100 Poisson sources (40 Hz) onto 200 LIF neurons, each projection with per-synapse
    delays (0.1 to 3 ms), the recurrent one plastic (STDP); E fires at about 19 Hz."""
    k_in, k_in_delays, k_rec, k_rec_delays = jax.random.split(jax.random.key(0), 4)
    lif = bs.neurons.LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0, R=1.0)
    into = bo.fixed_prob(k_in, 100, 200, 0.1, weight=weight)
    recurrent = bo.fixed_prob(k_rec, 200, 200, 0.05, weight=0.05)
    stdp = bs.plasticity.STDP(A_plus=0.01, A_minus=0.012, tau_plus=20.0, tau_minus=20.0,
                              w_min=0.0, w_max=1.0)  # fmt: skip
    projections = [
        bs.Projection("P", "E", into, bs.synapses.Exponential(tau=5.0),
                      bs.synapses.Conductance(E=0.0), delay_per="synapse",
                      delay_steps=jax.random.randint(k_in_delays, into.indices.shape, 1, 20)),
        bs.Projection("E", "E", recurrent, bs.synapses.Exponential(tau=5.0),
                      bs.synapses.Conductance(E=0.0), delay_per="synapse", plasticity=stdp,
                      delay_steps=jax.random.randint(k_rec_delays, recurrent.indices.shape, 1, 30)),
    ]  # fmt: skip
    populations = {"P": (bs.neurons.PoissonSource(rate=40.0), 100), "E": (lif, 200)}
    return bs.Network(populations, projections)


def initial_state(net):
    return net.init(jax.random.key(1))


class Stop(Exception):
    """Raised in place of a crash."""


def interrupting(ms: float, action):
    """A replacement for the chunk loop of `run_to_disk` that calls `action()` once the chunk
    that ends at `ms` is on disk."""
    chunks = _run_to_disk._stream_chunks

    def interrupted(*args):
        for item in chunks(*args):
            yield item
            if item[0] >= round(ms / DT):
                action()

    return interrupted


@pytest.fixture(scope="module")
def net():
    return network()


@pytest.fixture(scope="module")
def reference(net, tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    return run_to_disk(net, initial_state(net), folder, **RUN), folder


def assert_same_run(result, expected):
    for name in ("E.spikes", "P.spikes"):
        np.testing.assert_array_equal(result[name].times, expected[name].times)
        np.testing.assert_array_equal(result[name].indices, expected[name].indices)
    np.testing.assert_array_equal(result["E.v"], expected["E.v"])
    for a, b in zip(jax.tree.leaves(result.final_state), jax.tree.leaves(expected.final_state),
                    strict=True):  # fmt: skip
        if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
            a, b = jax.random.key_data(a), jax.random.key_data(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_run_to_disk_records_what_run_records(net, reference):
    result, _ = reference
    expected = bs.run(net, initial_state(net), **{k: v for k, v in RUN.items()
                                                  if k != "checkpoint_interval"})  # fmt: skip
    assert result.steps == 2000 and len(result["E.spikes"]) > 500  # E at about 19 Hz: 750
    assert_same_run(result, expected)


def test_interrupted_run_resumes_bit_identically_and_drops_what_followed_the_checkpoint(
    net, reference, tmp_path, monkeypatch
):
    def crash():
        raise Stop

    # checkpoints at 50, 100 and 150 ms; it stops at 175
    monkeypatch.setattr(_run_to_disk, "_stream_chunks", interrupting(175.0, crash))
    with pytest.raises(Stop):
        run_to_disk(net, initial_state(net), tmp_path, **RUN)
    monkeypatch.undo()
    killed = read_run(tmp_path, like=initial_state(net))
    assert killed.steps == 1500
    assert killed["E.spikes"].times.max() < 150.0
    times = tmp_path / "spikes" / "E.spikes.times.npy"
    written = (times.stat().st_size - 128) // 8
    assert written > len(killed["E.spikes"])  # 150 to 175 ms reached the file
    assert len(np.load(times)) == len(killed["E.spikes"])  # but not its header

    # resuming up to the checkpoint only drops what followed it; then to the end
    run_to_disk(net, initial_state(net), tmp_path, resume=True, **{**RUN, "duration": 150.0})
    assert (times.stat().st_size - 128) // 8 == len(killed["E.spikes"])
    resumed = run_to_disk(net, initial_state(net), tmp_path, resume=True, **RUN)
    assert_same_run(resumed, reference[0])


def test_run_killed_with_sigkill_resumes_bit_identically_in_a_new_process(net, reference, tmp_path):
    completed = subprocess.run(
        [sys.executable, __file__, str(tmp_path), "120"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == -signal.SIGKILL, completed.stderr
    assert read_run(tmp_path).steps == 1000  # the checkpoint at 100 ms
    resumed = run_to_disk(net, initial_state(net), tmp_path, resume=True, **RUN)
    assert_same_run(resumed, reference[0])


def test_recordings_are_plain_npy_files_for_numpy_and_pandas(reference):
    result, folder = reference
    times = np.load(folder / "spikes" / "E.spikes.times.npy")
    neurons = np.load(folder / "spikes" / "E.spikes.indices.npy")
    v = np.load(folder / "traces" / "E.v.npy")
    assert times.dtype == np.float64 and neurons.dtype == np.int32 and v.shape == (200, 3)
    np.testing.assert_array_equal(times, result["E.spikes"].times)
    np.testing.assert_array_equal(v, result["E.v"])
    events = pd.DataFrame({"t": times, "neuron": neurons})
    assert events.groupby("neuron").size().sum() == len(result["E.spikes"])
    description = json.loads((folder / "run.json").read_text())
    assert description["dt"] == DT and description["steps"] == 2000
    saved = load_state(folder / "checkpoint.npz")
    assert saved.step == 2000 and saved.t == pytest.approx(DURATION)


def test_a_finished_run_is_extended_by_a_longer_duration(tmp_path):
    lif = bs.neurons.LIF(tau_m=10.0)
    arguments = dict(dt=DT, inputs=300.0, checkpoint_interval=10.0, record=["spikes", "v"])
    expected = run_to_disk(lif, lif.init(3), tmp_path / "whole", duration=40.0, **arguments)
    run_to_disk(lif, lif.init(3), tmp_path / "parts", duration=20.0, **arguments)
    extended = run_to_disk(lif, lif.init(3), tmp_path / "parts", duration=40.0, resume=True,
                           **arguments)  # fmt: skip
    assert extended.steps == 400
    np.testing.assert_array_equal(extended["spikes"].times, expected["spikes"].times)
    np.testing.assert_array_equal(extended["v"], expected["v"])


def test_a_folder_holding_a_run_is_not_overwritten(reference, net):
    with pytest.raises(FileExistsError, match="resume=True"):
        run_to_disk(net, initial_state(net), reference[1], **RUN)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(dt=0.05), "dt = 0.1 ms"),
        (dict(every=5), "every = 10"),
        (dict(checkpoint_interval=100.0), "checkpoint_steps"),
        (dict(chunk_steps=500), "chunks of 250 steps"),
        (dict(check_finite=True), "check_finite = False"),
        (dict(record=["E.spikes"]), "`record` must be the same"),
        (dict(inputs={"E": 1.0}), "inputs differ"),
        (dict(duration=100.0), "already run 2000 steps"),
    ],
)
def test_resuming_with_other_settings_names_the_difference(reference, net, change, message):
    arguments = {**RUN, **change}
    with pytest.raises(ValueError, match=message):
        run_to_disk(net, initial_state(net), reference[1], resume=True, **arguments)


def test_resuming_with_another_model_or_state_structure_raises(reference, net):
    other = network(weight=0.09)
    with pytest.raises(ValueError, match="`model` differs"):
        run_to_disk(other, initial_state(other), reference[1], resume=True, **RUN)
    state = initial_state(net)
    state["E"] = state["E"]._replace(v=state["E"].v[:100])
    with pytest.raises(ValueError, match=r"\['E'\]\.v: saved with shape \(200,\)"):
        run_to_disk(net, state, reference[1], resume=True, **RUN)


def test_missing_run_folder_and_bad_intervals_raise(tmp_path, net):
    with pytest.raises(FileNotFoundError, match="no run"):
        read_run(tmp_path / "missing")
    with pytest.raises(ValueError, match="multiple of `every`"):
        run_to_disk(net, initial_state(net), tmp_path, **{**RUN, "checkpoint_interval": 0.5})
    with pytest.raises(ValueError, match="divides the checkpoint interval"):
        run_to_disk(net, initial_state(net), tmp_path, **{**RUN, "chunk_steps": 300})


if __name__ == "__main__":
    folder, kill_ms = pathlib.Path(sys.argv[1]), float(sys.argv[2])
    _run_to_disk._stream_chunks = interrupting(
        kill_ms, lambda: os.kill(os.getpid(), signal.SIGKILL)
    )
    model = network()
    run_to_disk(model, initial_state(model), folder, **RUN)
