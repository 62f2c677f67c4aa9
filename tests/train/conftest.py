"""Shared data of the brainsim.train tests."""

import pytest


def _two_pattern_task(key, batch=32, steps=40, channels=10):
    """Poisson spike inputs (`(batch, steps, channels)`) and labels: class 0 drives channels
    0-4 at 20 % spike probability per step and the rest at 2 %, class 1 the opposite."""
    import jax
    import jax.numpy as jnp

    k_label, k_spikes = jax.random.split(key)
    labels = jax.random.bernoulli(k_label, 0.5, (batch,)).astype(jnp.int32)
    first = jnp.arange(channels) < channels // 2
    high = jnp.where(labels[:, None] == 0, first, ~first)
    p = jnp.where(high, 0.2, 0.02)[:, None, :]
    spikes = jax.random.bernoulli(k_spikes, p, (batch, steps, channels))
    return spikes.astype(jnp.result_type(float)), labels


@pytest.fixture
def two_pattern_task():
    """`two_pattern_task(key, batch=32, steps=40, channels=10) -> (inputs, labels)`."""
    return _two_pattern_task
