"""The host-side decoding of streamed spike recordings."""

import numpy as np
import pytest

from brainsim._run import _unpack_events


@pytest.mark.parametrize("n", [1, 7, 8, 13, 3200])
def test_unpacked_events_equal_the_set_bits_in_time_then_neuron_order(n):
    rng = np.random.default_rng(n)
    bits = rng.random((50, n)) < 0.05
    times, neurons = _unpack_events(np.packbits(bits, axis=-1))
    expected_times, expected_neurons = np.nonzero(bits)
    np.testing.assert_array_equal(times, expected_times)
    np.testing.assert_array_equal(neurons, expected_neurons)


def test_unpacking_no_spikes_gives_empty_events():
    times, neurons = _unpack_events(np.zeros((10, 4), np.uint8))
    assert times.size == 0 and neurons.size == 0
