import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.fit import bin_spike_times, spike_times


def test_binned_times_land_on_the_step_stamped_with_them():
    binned = bin_spike_times(jnp.array([[0.0, 0.3, 1.1, jnp.inf], [-1.0, 5.0, 0.5, jnp.inf]]),
                             n_steps=5, dt=0.25)
    assert binned.shape == (5, 2)
    np.testing.assert_array_equal(binned[:, 0], [1, 1, 0, 0, 1])   # 0 -> 0, 0.3 -> 1, 1.1 -> 4
    np.testing.assert_array_equal(binned[:, 1], [0, 0, 1, 0, 0])   # -1 and 5 outside


def test_spike_times_of_a_binned_model_train_round_trip():
    spikes = jnp.zeros(300).at[jnp.array([3, 77, 299])].set(1.0)
    times = spike_times(spikes, dt=0.1, t0=5.0)
    np.testing.assert_allclose(times, [5.3, 12.7, 34.9])
    np.testing.assert_array_equal(bin_spike_times(times, n_steps=300, dt=0.1, t0=5.0), spikes)


def test_binning_under_jit_equals_eager():
    times = jnp.array([[1.0, 2.5], [0.0, jnp.inf]])
    eager = bin_spike_times(times, n_steps=10, dt=0.5)
    jitted = jax.jit(lambda t: bin_spike_times(t, n_steps=10, dt=0.5))(times)
    np.testing.assert_array_equal(eager, jitted)


def test_bad_spike_data_is_refused():
    with pytest.raises(ValueError, match="NaN"):
        bin_spike_times(jnp.array([1.0, jnp.nan]), n_steps=10, dt=0.5)
    with pytest.raises(ValueError, match="n_steps"):
        bin_spike_times(jnp.array([1.0]), n_steps=0, dt=0.5)
    with pytest.raises(ValueError, match="dt"):
        bin_spike_times(jnp.array([1.0]), n_steps=4, dt=-0.5)
    with pytest.raises(ValueError, match="one train"):
        spike_times(jnp.zeros((4, 2)), dt=1.0)
