import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.fit import fi_loss, spike_count_loss, van_rossum_loss


def _train(steps, *indices):
    return jnp.zeros(steps).at[jnp.array(indices)].set(1.0)


def test_van_rossum_of_identical_trains_is_zero_and_of_shifted_ones_the_closed_form(x64):
    dt, tau = 0.01, 5.0
    spikes = _train(20_000, 1000)                      # a model spike at 10 ms
    assert float(van_rossum_loss(spikes, jnp.array([10.0]), tau=tau, dt=dt)) == 0.0
    shifted = float(van_rossum_loss(spikes, jnp.array([13.0]), tau=tau, dt=dt))
    # Two exponentials k = 300 steps apart, r = exp(-dt / tau): the sum of the squared
    # difference of the filtered trains is 2 (1 - r^k) / (1 - r²); its limit dt -> 0 is the
    # continuous 1 - exp(-3 / tau).
    r, k = np.exp(-dt / tau), 300
    assert shifted == pytest.approx(dt / tau * 2 * (1 - r**k) / (1 - r**2), rel=1e-9)
    assert shifted == pytest.approx(1 - np.exp(-3.0 / tau), rel=5 * dt / tau)


def test_van_rossum_gradient_matches_finite_differences(x64, finite_differences):
    s = np.random.default_rng(0).random((30, 2))
    target = np.array([[3.0, np.inf], [1.0, 20.0]])

    @jax.jit
    def f(s):
        return van_rossum_loss(jnp.asarray(s), target, tau=4.0, dt=1.0)

    np.testing.assert_allclose(jax.grad(f)(jnp.asarray(s)), finite_differences(f, s), atol=1e-8)


def test_van_rossum_gradient_reaches_a_neuron_parameter_through_surrogate_spikes():
    dt, steps = 0.1, 600

    def loss(tau_m):
        lif = bs.neurons.LIF(tau_m=tau_m, v_th=-55.0)
        result = bs.run(lif, lif.init(1), inputs=200.0, steps=steps, dt=dt)
        return van_rossum_loss(result["spikes"][:, 0], jnp.array([10.0, 30.0]), tau=5.0, dt=dt)

    grad = jax.grad(loss)(20.0)
    assert np.isfinite(float(grad)) and float(grad) != 0.0


def test_spike_count_loss_counts_inside_the_window(x64, finite_differences):
    spikes = jnp.stack([_train(100, 5, 20, 60), _train(100, 90)], axis=1)
    data = jnp.array([[21.0, 50.0, jnp.inf], [10.0, 70.0, 95.0]])
    # window [10, 80) ms at dt = 1: model 2 and 0, data 2 and 2.
    value = spike_count_loss(spikes, data, dt=1.0, t_start=10.0, t_stop=80.0)
    assert float(value) == pytest.approx((0 + 4) / 2)
    s = np.random.default_rng(1).random((100, 2))

    @jax.jit
    def f(s):
        return spike_count_loss(jnp.asarray(s), data, dt=1.0, t_start=10.0, t_stop=80.0)

    np.testing.assert_allclose(jax.grad(f)(jnp.asarray(s)), finite_differences(f, s), atol=1e-6)


def test_fi_loss_compares_rates_in_hz():
    spikes = jnp.zeros((2000, 3)).at[500:1500:50, 1].set(1.0).at[500:1500:10, 2].set(1.0)
    data = jnp.array([[np.inf] * 2, [600.0, 700.0], [np.inf] * 2])
    # step 500..1500 ms at dt = 1 ms: model 0, 20, 100 spikes/s; data 0, 2, 0 spikes/s.
    value = fi_loss(spikes, data, dt=1.0, t_start=500.0, t_stop=1500.0)
    assert float(value) == pytest.approx((0 + 18.0**2 + 100.0**2) / 3, rel=1e-6)


@pytest.mark.parametrize("loss", ["van_rossum", "count", "fi"])
def test_jit_equals_eager_and_vmap_equals_loop(loss):
    rng = np.random.default_rng(2)
    spikes = jnp.asarray(rng.random((200, 3)) < 0.05, jnp.float32)
    data = jnp.asarray(np.sort(rng.uniform(0, 20, (3, 4)), axis=-1), jnp.float32)
    fn = {
        "van_rossum": lambda s, d: van_rossum_loss(s, d, tau=2.0, dt=0.1),
        "count": lambda s, d: spike_count_loss(s, d, dt=0.1, t_start=2.0),
        "fi": lambda s, d: fi_loss(s, d, dt=0.1, t_start=2.0, t_stop=18.0),
    }[loss]
    eager, jitted = fn(spikes, data), jax.jit(fn)
    assert float(jitted(spikes, data)) == pytest.approx(float(eager), rel=1e-5)
    mapped = jax.jit(jax.vmap(fn, in_axes=(1, 0)))(spikes, data)
    looped = jnp.stack([jitted(spikes[:, b], data[b]) for b in range(3)])
    np.testing.assert_allclose(mapped, looped, rtol=1e-5)
    assert float(jnp.mean(looped)) == pytest.approx(float(eager), rel=1e-5)


def test_bad_inputs_are_refused():
    spikes = jnp.zeros((10, 2))
    with pytest.raises(ValueError, match="do not match"):
        spike_count_loss(spikes, jnp.zeros((3, 1)), dt=1.0)
    with pytest.raises(ValueError, match="NaN"):
        spike_count_loss(spikes, jnp.array([[1.0], [jnp.nan]]), dt=1.0)
    with pytest.raises(ValueError, match="t_stop"):
        fi_loss(spikes, jnp.zeros((2, 1)), dt=1.0, t_start=5.0, t_stop=5.0)
    with pytest.raises(ValueError, match="tau"):
        van_rossum_loss(spikes, jnp.zeros((2, 1)), tau=0.0, dt=1.0)
