import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.fit import first_spike_latency, latency_loss, soft_first_spike_latency


@pytest.fixture
def trains():
    return jnp.zeros((50, 4)).at[7, 0].set(1.0).at[30, 0].set(1.0).at[2, 1].set(1.0) \
        .at[12, 1].set(1.0).at[45, 2].set(1.0)          # train 3 is silent


def test_soft_latency_equals_the_exact_one_for_binary_spikes(trains):
    exact = first_spike_latency(trains, dt=0.5, t_start=3.0)
    soft = soft_first_spike_latency(trains, dt=0.5, t_start=3.0)
    # first spikes at or after 3 ms (step 6): steps 7, 12, 45 -> 0.5, 3.0, 19.5 ms
    np.testing.assert_allclose(exact, [0.5, 3.0, 19.5, np.inf])
    np.testing.assert_allclose(soft, [0.5, 3.0, 19.5, 50 * 0.5 - 3.0])


def test_soft_latency_gradient_is_the_time_saved_by_an_earlier_spike(x64):
    s = jnp.zeros(20).at[jnp.array([8, 15])].set(1.0)
    grad = jax.grad(lambda s: soft_first_spike_latency(s, dt=1.0, t_start=4.0))(s)
    expected = np.zeros(20)
    expected[4:8] = np.arange(4, 8) - 8.0      # t_m - t_first before the first spike
    expected[8] = 8.0 - 15.0                   # t_first - t_next at it
    np.testing.assert_allclose(grad, expected)


def test_soft_latency_gradient_matches_finite_differences(x64, finite_differences):
    p = np.random.default_rng(0).uniform(0.0, 0.3, (25, 2))

    @jax.jit
    def f(p):
        return jnp.sum(soft_first_spike_latency(jnp.asarray(p), dt=0.5, t_start=2.0) ** 2)

    np.testing.assert_allclose(jax.grad(f)(jnp.asarray(p)), finite_differences(f, p), rtol=1e-6,
                               atol=1e-6)


def test_latency_loss_treats_silent_trains_as_firing_at_the_end(trains):
    data = jnp.array([[1.0, 4.0], [5.0, jnp.inf], [jnp.inf, jnp.inf], [jnp.inf, jnp.inf]])
    # model 0.5, 3.0, 19.5, 22.0; data 1.0, 2.0, 22.0 (silent), 22.0 (silent)
    value = latency_loss(trains, data, dt=0.5, t_start=3.0)
    assert float(value) == pytest.approx((0.5**2 + 1.0 + 2.5**2 + 0.0) / 4)


def test_jit_equals_eager_and_vmap_equals_loop(trains):
    data = jnp.array([[1.0, 4.0], [5.0, jnp.inf], [jnp.inf, jnp.inf], [9.0, jnp.inf]])

    def f(s, d):
        return latency_loss(s, d, dt=0.5, t_start=3.0)

    jitted = jax.jit(f)
    assert float(jitted(trains, data)) == pytest.approx(float(f(trains, data)))
    mapped = jax.jit(jax.vmap(f, in_axes=(1, 0)))(trains, data)
    np.testing.assert_allclose(mapped, [jitted(trains[:, b], data[b]) for b in range(4)])
    exact = jax.vmap(lambda s: first_spike_latency(s, dt=0.5, t_start=3.0), in_axes=1)(trains)
    np.testing.assert_allclose(exact, first_spike_latency(trains, dt=0.5, t_start=3.0))


def test_bad_inputs_are_refused(trains):
    with pytest.raises(ValueError, match="t_start"):
        soft_first_spike_latency(trains, dt=0.5, t_start=25.0)
    with pytest.raises(ValueError, match="do not match"):
        latency_loss(trains, jnp.zeros((3, 1)), dt=0.5)
    with pytest.raises(ValueError, match="dt"):
        first_spike_latency(trains, dt=0.0)
