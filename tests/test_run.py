import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.neurons import LIF


@pytest.fixture
def lif():
    return LIF(R=0.1, t_ref=2.0)


def test_streaming_chunks_equal_one_device_scan(lif):
    state = lif.init(50, key=jax.random.key(0))
    currents = jnp.linspace(100.0, 400.0, 50)
    kwargs = dict(inputs=currents, duration=300.0, dt=0.1, record=["spikes", "v"], every=10)
    streamed = bs.run(lif, state, chunk_steps=370, **kwargs)
    whole = bs.run(lif, state, stream=False, **kwargs)
    dense = np.asarray(whole.spikes["spikes"])
    steps, neurons = np.nonzero(dense)
    np.testing.assert_allclose(streamed.spikes["spikes"].times, steps * 0.1)
    np.testing.assert_array_equal(streamed.spikes["spikes"].indices, neurons)
    np.testing.assert_allclose(streamed.traces["v"], whole.traces["v"], atol=1e-5)
    np.testing.assert_allclose(streamed.final_state.v, whole.final_state.v, atol=1e-5)


def test_trace_samples_are_every_kth_state(lif):
    state = lif.init(3)
    every = bs.run(lif, state, inputs=120.0, steps=100, dt=0.1, record="v", every=10)
    full = bs.run(lif, state, inputs=120.0, steps=100, dt=0.1, record="v")
    np.testing.assert_array_equal(every.traces["v"], full.traces["v"][9::10])
    np.testing.assert_allclose(every.t, full.t[9::10])
    assert full.t[0] == pytest.approx(0.1)


def test_steps_not_multiple_of_every_still_run_all_steps(lif):
    state = lif.init(2)
    odd = bs.run(lif, state, inputs=300.0, steps=107, dt=0.1, record=["spikes", "v"], every=10)
    ref = bs.run(lif, state, inputs=300.0, steps=107, dt=0.1, record=["spikes", "v"])
    assert odd.traces["v"].shape == (10, 2)
    np.testing.assert_allclose(odd.final_state.v, ref.final_state.v)
    np.testing.assert_array_equal(odd.spikes["spikes"].times, ref.spikes["spikes"].times)
    on_device = bs.run(lif, state, inputs=300.0, steps=107, dt=0.1, every=10, stream=False)
    assert on_device.spikes["spikes"].shape == (107, 2)
    np.testing.assert_allclose(on_device.final_state.v, ref.final_state.v, atol=1e-5)


def test_record_subsets_and_functions(lif):
    state = lif.init(5, key=jax.random.key(2))
    result = bs.run(
        lif,
        state,
        inputs=400.0,
        duration=50.0,
        dt=0.1,
        record={"spikes": [1, 3], "v": [0, 4], "drive": lambda s, out: s.v - lif.v_rest},
    )
    full = bs.run(lif, state, inputs=400.0, duration=50.0, dt=0.1, record=["spikes", "v"])
    assert set(np.unique(result.spikes["spikes"].indices)) <= {1, 3}
    keep = np.isin(full.spikes["spikes"].indices, [1, 3])
    np.testing.assert_array_equal(
        result.spikes["spikes"].indices, full.spikes["spikes"].indices[keep]
    )
    np.testing.assert_array_equal(result.traces["v"], full.traces["v"][:, [0, 4]])
    np.testing.assert_allclose(result.traces["drive"], full.traces["v"] + 65.0, atol=1e-5)
    assert result.spikes["spikes"].n == 2


def test_inputs_as_function_of_time_and_as_series(lif):
    state = lif.init(1)
    steps = 500
    series = jnp.where(jnp.arange(steps) * 0.1 < 25.0, 400.0, 0.0)[:, None]
    by_series = bs.run(lif, state, input_series=series, steps=steps, dt=0.1)
    by_function = bs.run(
        lif, state, inputs=lambda t: jnp.where(t < 25.0, 400.0, 0.0), steps=steps, dt=0.1
    )
    times = by_series.spikes["spikes"].times
    assert len(times) > 0 and times.max() < 25.0
    np.testing.assert_array_equal(times, by_function.spikes["spikes"].times)


def test_plain_step_function_and_t0():
    def counter(state, inputs, *, t, dt):
        return state + dt, {"t": jnp.asarray(t)}

    result = bs.run(counter, jnp.zeros(1), steps=5, dt=0.5, t0=10.0, record="t")
    np.testing.assert_allclose(
        result.traces["t"][:, 0] if result.traces["t"].ndim > 1 else result.traces["t"],
        [10.0, 10.5, 11.0, 11.5, 12.0],
    )
    np.testing.assert_allclose(result.final_state, [2.5])


def test_rate_and_spike_trains(lif):
    result = bs.run(lif, lif.init(4), inputs=300.0, duration=500.0, dt=0.1)
    events = result.spikes["spikes"]
    trains = events.trains()
    assert len(trains) == 4
    assert sum(len(t) for t in trains) == len(events)
    assert result.rate() == pytest.approx(len(events) / 4 / 0.5)


def test_check_finite_reports_variable_and_step():
    def blows_up(state, inputs, *, t, dt):
        v = jnp.where(t >= 0.5, jnp.nan, state.v)
        return state._replace(v=v), jnp.zeros_like(v)

    lif = LIF()
    with pytest.raises(FloatingPointError, match=r"\.v.*step 5"):
        bs.run(blows_up, lif.init(2), steps=20, dt=0.1, check_finite=True, record=None)


def test_bad_arguments_are_named(lif):
    state = lif.init(1)
    with pytest.raises(ValueError, match="`duration`"):
        bs.run(lif, state, dt=0.1)
    with pytest.raises(ValueError, match="`every`"):
        bs.run(lif, state, duration=1.0, dt=0.1, every=0)
    with pytest.raises(ValueError, match="input_series"):
        bs.run(lif, state, steps=10, dt=0.1, input_series=jnp.zeros((5, 1)))
    with pytest.raises(KeyError, match="'w'"):
        bs.run(lif, state, steps=10, dt=0.1, record="w")
    with pytest.raises(TypeError, match="`model`"):
        bs.run(42, state, steps=10, dt=0.1)
    with pytest.raises(KeyError, match="not recorded"):
        bs.run(lif, state, steps=10, dt=0.1)["v"]


def test_progress_bar_can_be_forced(lif, capsys):
    bs.run(lif, lif.init(1), steps=100, dt=0.1, progress=True, chunk_steps=20)
    assert "brainsim.run" in capsys.readouterr().err


def test_gradient_through_run_of_final_state():
    lif = LIF(R=0.1, detach_reset=True)

    def final_v(current):
        return bs.run(lif, lif.init(1), inputs=current, steps=50, dt=0.1).final_state.v[0]

    grad = jax.grad(final_v)(100.0)
    expected = 0.1 * (1 - np.exp(-5.0 / 10.0))  # R (1 - e^{-t/tau}) in mV/pA
    assert float(grad) == pytest.approx(expected, rel=1e-4)


def test_repeated_runs_never_reuse_a_stale_recording_function(lif):
    for offset in range(3):
        result = bs.run(
            lif,
            lif.init(2),
            steps=10,
            dt=0.1,
            record={"x": lambda s, out, offset=offset: s.v * 0 + offset},
        )
        np.testing.assert_array_equal(result.traces["x"], offset)


def _lif_loss(checkpoint_every, steps=120, every=1):
    lif = LIF(R=0.1, t_ref=0.0, detach_reset=False)

    def loss(weights, drive):
        result = bs.run(
            lif,
            lif.init(3),
            input_series=drive * weights,
            steps=steps,
            dt=0.5,
            record=["spikes", "v"],
            every=every,
            checkpoint_every=checkpoint_every,
        )
        counts = result.spikes["spikes"].sum(0)
        return jnp.sum((counts - 4.0) ** 2) + 1e-3 * jnp.sum(result.traces["v"] ** 2)

    return loss


@pytest.mark.parametrize("checkpoint_every, every", [(10, 1), (7, 1), (20, 5), (200, 1)])
def test_checkpointed_gradients_equal_plain_gradients(x64, checkpoint_every, every):
    drive = jnp.linspace(300.0, 600.0, 120)[:, None] * jnp.ones(3)
    weights = jnp.array([0.8, 1.0, 1.3])
    plain_value, plain = jax.value_and_grad(_lif_loss(None, every=every))(weights, drive)
    value, checkpointed = jax.value_and_grad(_lif_loss(checkpoint_every, every=every))(
        weights, drive
    )
    assert float(value) == pytest.approx(float(plain_value), rel=1e-12)
    assert np.all(np.abs(plain) > 0)
    np.testing.assert_allclose(checkpointed, plain, rtol=1e-10)


def test_checkpointed_run_returns_the_same_recordings(lif):
    state = lif.init(4, key=jax.random.key(3))
    kwargs = dict(inputs=350.0, steps=103, dt=0.1, record=["spikes", "v"], every=5, stream=False)
    plain = bs.run(lif, state, **kwargs)
    blocks = bs.run(lif, state, checkpoint_every=20, **kwargs)
    np.testing.assert_array_equal(blocks.spikes["spikes"], plain.spikes["spikes"])
    np.testing.assert_array_equal(blocks.traces["v"], plain.traces["v"])
    np.testing.assert_array_equal(blocks.final_state.v, plain.final_state.v)


def _backward_temp_bytes(checkpoint_every, steps):
    lif = LIF(R=0.1, t_ref=0.0)

    def loss(scale):
        result = bs.run(
            lif,
            lif.init(64),
            inputs=jnp.full(64, 300.0) * scale,
            steps=steps,
            dt=0.1,
            record=None,
            checkpoint_every=checkpoint_every,
        )
        return jnp.sum(result.final_state.v)

    compiled = jax.jit(jax.grad(loss)).lower(1.0).compile()
    return compiled.memory_analysis().temp_size_in_bytes


def test_checkpointing_bounds_backward_memory():
    plain = _backward_temp_bytes(None, 4000)
    checkpointed = _backward_temp_bytes(64, 4000)
    # plain BPTT keeps a few (64,) residuals per step (~0.9 MB per 1000 steps in float32);
    # checkpointing keeps one state per block of 64 steps plus one block of residuals (~0.1 MB).
    assert plain > 3 * _backward_temp_bytes(None, 1000)  # plain grows with the steps
    assert checkpointed < plain / 10


def test_checkpoint_every_must_be_a_multiple_of_every(lif):
    with pytest.raises(ValueError, match="`checkpoint_every`"):
        bs.run(lif, lif.init(1), steps=10, dt=0.1, every=4, checkpoint_every=6, stream=False)
    with pytest.raises(ValueError, match="`checkpoint_every`"):
        bs.run(lif, lif.init(1), steps=10, dt=0.1, checkpoint_every=0, stream=False)
