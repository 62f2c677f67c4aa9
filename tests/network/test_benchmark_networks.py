
import jax
import numpy as np
import pytest

import brainsim as bs


def _cv(events):
    cvs = [np.std(np.diff(t)) / np.mean(np.diff(t)) for t in events.trains() if len(t) >= 3]
    return float(np.mean(cvs))


def test_coba_is_asynchronous_irregular_at_about_20_hz():
    network, inputs = bs.benchmarks.coba(jax.random.key(0), n=4000)
    result = bs.run(
        network,
        network.init(jax.random.key(1)),
        inputs=inputs,
        duration=500.0,
        dt=0.1,
        record=["E.spikes", "I.spikes"],
    )
    for name in ("E.spikes", "I.spikes"):
        assert 10.0 < result.rate(name) < 40.0
        assert _cv(result.spikes[name]) > 0.8


@pytest.mark.parametrize("model", ["cuba", "cobahh"])
def test_other_benchmark_networks_fire_at_moderate_rates(model):
    network, inputs = getattr(bs.benchmarks, model)(jax.random.key(0), n=1000)
    result = bs.run(
        network,
        network.init(jax.random.key(1)),
        inputs=inputs,
        duration=200.0,
        dt=0.1,
        record=["E.spikes", "I.spikes"],
    )
    for name in ("E.spikes", "I.spikes"):
        assert 1.0 < result.rate(name) < 100.0
