"""The host-side decoding of streamed spike recordings."""

import jax.numpy as jnp
import numpy as np
import pytest

from brainsim._spike_bits import unpack_spike_bits as _unpack_events


@pytest.mark.parametrize("n", [1, 7, 8, 13, 63, 64, 65, 3200])
@pytest.mark.parametrize("rate", [0.002, 0.05, 1.0])
def test_unpacked_events_equal_the_set_bits_in_time_then_neuron_order(n, rate):
    rng = np.random.default_rng(n)
    bits = rng.random((50, n)) < rate
    times, neurons = _unpack_events(np.packbits(bits, axis=-1))
    expected_times, expected_neurons = np.nonzero(bits)
    np.testing.assert_array_equal(times, expected_times)
    np.testing.assert_array_equal(neurons, expected_neurons)


def test_unpacking_no_spikes_gives_empty_events():
    times, neurons = _unpack_events(np.zeros((10, 4), np.uint8))
    assert times.size == 0 and neurons.size == 0
    times, neurons = _unpack_events(np.zeros((0, 4), np.uint8))
    assert times.size == 0 and neurons.size == 0
    with pytest.raises(ValueError, match="must be 2-D"):
        _unpack_events(np.zeros(4, np.uint8))


def test_continuing_a_run_at_a_later_t0_reuses_the_compiled_chunk_and_sees_the_right_time():
    import brainsim as bs

    lif = bs.neurons.LIF(R=1.0)

    def drive(t):
        return jnp.where(t >= 100.0, 30.0, 0.0)  # pA: only from 100 ms on

    first = bs.run(lif, lif.init(2), inputs=drive, duration=100.0, dt=0.1, record="v")
    compiled = len(bs._run._compiled_chunks)
    second = bs.run(lif, first.final_state, inputs=drive, duration=100.0, dt=0.1, t0=100.0,
                    record="v")
    assert len(bs._run._compiled_chunks) == compiled
    np.testing.assert_allclose(first.traces["v"], -65.0)
    assert second.traces["v"][-1, 0] > -65.0 + 2.0
