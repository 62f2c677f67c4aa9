import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.train import (
    max_over_time_cross_entropy,
    rate_regularizer,
    spike_count_loss,
    sum_over_time_cross_entropy,
    van_rossum_loss,
)


def _numpy_cross_entropy(logits, labels):
    logits = logits - logits.max(-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -np.mean([log_p[b, labels[b]] for b in range(len(labels))])


@pytest.fixture
def outputs():
    return np.random.default_rng(0).normal(size=(12, 4, 3))  # (T, batch, classes)


LABELS = np.array([0, 2, 1, 2])


def test_max_over_time_cross_entropy_matches_numpy(x64, outputs):
    value = max_over_time_cross_entropy(jnp.asarray(outputs), jnp.asarray(LABELS))
    assert float(value) == pytest.approx(_numpy_cross_entropy(outputs.max(0), LABELS), rel=1e-12)


def test_sum_over_time_cross_entropy_matches_numpy(x64, outputs):
    value = sum_over_time_cross_entropy(jnp.asarray(outputs), jnp.asarray(LABELS))
    assert float(value) == pytest.approx(_numpy_cross_entropy(outputs.sum(0), LABELS), rel=1e-12)


@pytest.mark.parametrize("loss", [max_over_time_cross_entropy, sum_over_time_cross_entropy])
def test_cross_entropy_gradients_match_finite_differences(x64, outputs, loss, finite_differences):
    def f(y):
        return loss(jnp.asarray(y), jnp.asarray(LABELS))

    np.testing.assert_allclose(
        jax.grad(f)(jnp.asarray(outputs)), finite_differences(f, outputs), atol=1e-8
    )


def test_spike_count_loss_matches_numpy_and_finite_differences(x64, finite_differences):
    spikes = np.random.default_rng(1).random((20, 2, 5))
    target = np.arange(10.0).reshape(2, 5)
    expected = np.mean((spikes.sum(0) - target) ** 2)
    assert float(spike_count_loss(spikes, target)) == pytest.approx(expected, rel=1e-12)
    grad = jax.grad(lambda s: spike_count_loss(s, target))(jnp.asarray(spikes))
    np.testing.assert_allclose(
        grad, finite_differences(lambda s: spike_count_loss(s, target), spikes), atol=1e-7
    )


def _numpy_van_rossum(a, b, tau, dt):
    """D² = (1/tau) ∫ (f - g)² dt with f, g the trains convolved with exp(-t/tau), by a
    direct double sum over spike pairs of each train (continuous-time kernel on the grid)."""
    t = np.arange(a.shape[0]) * dt
    kernel = np.where(t[:, None] >= t[None, :], np.exp(-(t[:, None] - t[None, :]) / tau), 0.0)
    difference = np.einsum("ts,s...->t...", kernel, a - b)
    return dt / tau * np.mean(np.sum(difference**2, axis=0))


def test_van_rossum_matches_direct_convolution(x64):
    rng = np.random.default_rng(2)
    a = (rng.random((300, 3, 2)) < 0.05).astype(float)
    b = (rng.random((300, 3, 2)) < 0.05).astype(float)
    value = van_rossum_loss(jnp.asarray(a), jnp.asarray(b), tau=5.0, dt=0.5)
    assert float(value) == pytest.approx(_numpy_van_rossum(a, b, 5.0, 0.5), rel=1e-10)


def test_van_rossum_of_one_spike_is_one_half_and_grows_with_shift(x64):
    one = jnp.zeros((20_000, 1)).at[100, 0].set(1.0)
    alone = van_rossum_loss(one, jnp.zeros_like(one), tau=10.0, dt=0.01)
    # on the grid: (dt/tau) Σ_n e^{-2n dt/tau} = (dt/tau) / (1 - e^{-2dt/tau}) → 1/2 as dt → 0
    assert float(alone) == pytest.approx(1e-3 / (1 - np.exp(-2e-3)), rel=1e-9)
    assert float(alone) == pytest.approx(0.5, rel=2e-3)
    # two single spikes shifted by Δ: D² = 1 - exp(-Δ/tau) in continuous time, O(dt/tau) on
    # the grid
    for shift in (1.0, 10.0):
        other = jnp.zeros_like(one).at[100 + int(shift / 0.01), 0].set(1.0)
        value = van_rossum_loss(one, other, tau=10.0, dt=0.01)
        assert float(value) == pytest.approx(1 - np.exp(-shift / 10.0), rel=2e-3)


def test_van_rossum_gradient_matches_finite_differences(x64, finite_differences):
    rng = np.random.default_rng(3)
    a, b = rng.random((25, 2)), (rng.random((25, 2)) < 0.2).astype(float)

    @jax.jit
    def f(s):
        return van_rossum_loss(jnp.asarray(s), jnp.asarray(b), tau=3.0, dt=1.0)

    np.testing.assert_allclose(jax.grad(f)(jnp.asarray(a)), finite_differences(f, a), atol=1e-8)


def test_rate_regularizer_matches_numpy_and_finite_differences(x64, finite_differences):
    rng = np.random.default_rng(4)
    spikes = (rng.random((100, 2, 4)) < np.array([0.0, 0.002, 0.01, 0.05])).astype(float)
    rate = spikes.sum(0) / (100 * 0.5e-3)  # Hz at dt = 0.5 ms, multiples of 20 Hz
    expected = np.mean(np.maximum(rate - 50.0, 0) ** 2 + np.maximum(15.0 - rate, 0) ** 2)
    value = rate_regularizer(jnp.asarray(spikes), dt=0.5, low=15.0, high=50.0)
    assert expected > 0
    assert float(value) == pytest.approx(expected, rel=1e-12)

    @jax.jit
    def f(s):
        return rate_regularizer(s, dt=0.5, low=15.0, high=50.0)

    np.testing.assert_allclose(
        jax.grad(f)(jnp.asarray(spikes)), finite_differences(f, spikes, eps=1e-5), rtol=1e-6
    )


def test_only_upper_or_only_lower_bound():
    spikes = jnp.zeros((100, 2)).at[:, 0].set(1.0)  # 1000 Hz and 0 Hz at dt = 1 ms
    assert float(rate_regularizer(spikes, dt=1.0, high=500.0)) == pytest.approx(500.0**2 / 2)
    assert float(rate_regularizer(spikes, dt=1.0, low=2.0)) == pytest.approx(2.0)


def test_bad_loss_arguments_are_named():
    with pytest.raises(ValueError, match="`labels`"):
        max_over_time_cross_entropy(jnp.zeros((5, 3, 2)), jnp.zeros(4, int))
    with pytest.raises(ValueError, match="`tau`"):
        van_rossum_loss(jnp.zeros((3, 1)), jnp.zeros((3, 1)), tau=0.0, dt=1.0)
    with pytest.raises(ValueError, match="`low`"):
        rate_regularizer(jnp.zeros((3, 1)), dt=1.0)
