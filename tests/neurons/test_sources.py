import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.neurons import PoissonSource, SpikeTimes


def test_poisson_rate_matches_within_sampling_error():
    source = PoissonSource(rate=15.0)
    result = bs.run(source, source.init(1000, key=jax.random.key(0)), duration=2000.0, dt=0.1)
    expected = 15.0 * 1000 * 2.0  # spikes
    assert len(result.spikes["spikes"]) == pytest.approx(expected, abs=4 * np.sqrt(expected))


def test_poisson_same_key_same_trains_and_vmap_over_keys_equals_loop():
    source = PoissonSource(rate=50.0)

    def spikes(key):
        return bs.run(source, source.init(20, key=key), steps=200, dt=0.1, stream=False).spikes[
            "spikes"
        ]

    keys = jax.random.split(jax.random.key(7), 3)
    batched = jax.jit(jax.vmap(spikes))(keys)
    for k in range(3):
        np.testing.assert_array_equal(batched[k], spikes(keys[k]))
    np.testing.assert_array_equal(spikes(keys[0]), spikes(keys[0]))
    assert not np.array_equal(batched[0], batched[1])


def test_poisson_inputs_override_the_rate():
    source = PoissonSource(rate=0.0)
    state = source.init(10_000, key=jax.random.key(1))
    _, spikes = source.step(state, jnp.full(10_000, 1000.0), t=0.0, dt=0.5)
    assert float(spikes.mean()) == pytest.approx(0.5, abs=0.03)


def test_poisson_rejects_negative_rate_and_missing_key():
    with pytest.raises(ValueError, match="`rate`"):
        PoissonSource(rate=-1.0)
    with pytest.raises(ValueError, match="`key`"):
        PoissonSource().init(3)


@pytest.mark.parametrize("mean", [0.3, 1.0, 6.0])
def test_poisson_counts_follow_the_poisson_distribution(mean):
    """Counts per step: the frequencies of 0..8 events match the Poisson pmf (chi-square),
    for the unrolled inversion (concrete rate) and jax.random.poisson (rate as input)."""
    dt = 0.1
    source = PoissonSource(rate=mean / dt * 1000.0, counts=True)
    state = source.init(200_000, key=jax.random.key(3))
    _, concrete = jax.jit(lambda s: source.step(s, t=0.0, dt=dt))(state)
    _, traced = source.step(state, jnp.full(200_000, mean / dt * 1000.0), t=0.0, dt=dt)
    k = np.arange(9)
    pmf = np.exp(-mean) * mean**k / np.array([math.factorial(int(i)) for i in k])
    for counts in (np.asarray(concrete), np.asarray(traced)):
        assert np.all(counts == np.round(counts)) and counts.min() >= 0
        observed = np.array([(counts == i).sum() for i in k])
        expected = pmf * counts.size
        keep = expected > 20
        chi2 = (((observed - expected) ** 2 / expected)[keep]).sum()
        assert chi2 < 3 * keep.sum() + 20, (mean, observed, expected)
        assert counts.mean() == pytest.approx(mean, rel=0.02)


def test_poisson_spikes_reject_more_than_one_expected_spike_per_step():
    source = PoissonSource(rate=20_000.0)
    state = source.init(5, key=jax.random.key(0))
    with pytest.raises(ValueError, match="counts=True"):
        source.step(state, t=0.0, dt=0.1)
    source.step(state, t=0.0, dt=0.05)  # rate · dt = 1: allowed


def test_poisson_source_refuses_synaptic_input_with_a_clear_error():
    import brainsim_ops as bo

    source = PoissonSource(rate=10.0)
    net = bs.Network({"P": (source, 3)}, [bs.Projection("P", "P", bo.all_to_all(3, 3))])
    with pytest.raises(TypeError, match="inputs are rates"):
        net.step(net.init(jax.random.key(0)), t=0.0, dt=0.1)


def test_spike_times_replayed_at_their_step():
    times = np.array([0.0, 1.0, 1.04, 2.5, 9.9])
    source = SpikeTimes(times=times, indices=[0, 1, 1, 2, 0])
    result = bs.run(source, source.init(3), duration=10.0, dt=0.1)
    events = result.spikes["spikes"]
    np.testing.assert_allclose(events.times, [0.0, 1.0, 2.5, 9.9], atol=1e-9)
    np.testing.assert_array_equal(events.indices, [0, 1, 2, 0])


def test_spike_times_jit_and_vmap_over_times():
    base = np.array([1.0, 2.0])

    def first_step(shift):
        source = SpikeTimes(times=jnp.asarray(base) + shift, indices=[0, 0])
        spikes = bs.run(source, source.init(1), steps=40, dt=0.1, stream=False).spikes["spikes"]
        return jnp.argmax(spikes[:, 0])

    steps = jax.jit(jax.vmap(first_step))(jnp.array([0.0, 0.5, 1.0]))
    np.testing.assert_array_equal(steps, [10, 15, 20])


def test_spike_times_bad_input():
    with pytest.raises(ValueError, match="`times`"):
        SpikeTimes(times=[1.0, 2.0], indices=[0])
    with pytest.raises(ValueError, match="`indices`"):
        SpikeTimes(times=[1.0], indices=[-1])
    with pytest.raises(ValueError, match="`indices`"):
        SpikeTimes(times=[1.0], indices=[4]).init(3)
