"""Every stimulation model under the transforms: jit = eager, vmap over amplitudes (or rates)
and keys = a loop, and gradients: exact for current sources, zero for spike sources (their
spikes carry no gradient).

The deterministic generators share `CurrentGenerator.step` (run here with `Waveform`); their
own part is the closed form `current(t)`, checked on a grid of times without a time loop.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.stimulation import (
    DC,
    MIP,
    CurrentSource,
    GammaProcess,
    GaussianNoise,
    InhomogeneousPoisson,
    OUNoise,
    PulsePacket,
    PulseTrain,
    Sinusoid,
    SinusoidalPoisson,
    Waveform,
)

# name -> a model built from one differentiable amplitude (pA) or rate (Hz)
STATEFUL = {
    "Waveform": lambda a: Waveform([0.0, 0.5], jnp.stack([0 * a, a]), interpolation="linear"),
    "GaussianNoise": lambda a: GaussianNoise(mean=a, std=a / 2, interval=0.2),
    "OUNoise": lambda a: OUNoise(mean=a, std=a / 2, tau=1.0 + a / 100),
    "InhomogeneousPoisson": lambda r: InhomogeneousPoisson(times=[0.0, 1.0], rates=[r, 2 * r]),
    "SinusoidalPoisson": lambda r: SinusoidalPoisson(rate=r, amplitude=r / 2, frequency=200.0),
    "GammaProcess": lambda r: GammaProcess(rate=r, shape=3),
    "MIP": lambda r: MIP(rate=r, copy_probability=0.5),
    "PulsePacket": lambda r: PulsePacket(times=[0.5, 1.5], activity=2, sdev=r / 1000),
}
GENERATORS = {
    "DC": lambda a: DC(amplitude=a, start=0.3, stop=1.1),
    "Waveform": lambda a: Waveform([0.2, 0.7, 1.0], jnp.stack([a, -a, 2 * a])),
    "Sinusoid": lambda a: Sinusoid(amplitude=a, frequency=300.0, phase=20.0, offset=a / 3),
    "PulseTrain": lambda a: PulseTrain(amplitude=a, width=0.2, period=0.5),
}
STEPS, N, DT = 20, 4, 0.1
TIMES = np.arange(STEPS) * DT


def _simulate(name):
    def simulate(value, key):
        model = STATEFUL[name](value)

        def body(state, n):
            return model.step(state, t=n * DT, dt=DT)

        return jax.lax.scan(body, model.init(N, key=key), jnp.arange(STEPS))[1]

    return simulate


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_stateful_jit_equals_eager_and_vmap_equals_loop(name):
    simulate = _simulate(name)
    values = jnp.array([150.0, 400.0, 900.0])
    keys = jax.random.split(jax.random.key(0), 3)
    jitted = jax.jit(simulate)
    loop = np.stack([jitted(v, k) for v, k in zip(values, keys, strict=True)])
    np.testing.assert_allclose(simulate(values[0], keys[0]), loop[0], rtol=1e-6, atol=1e-4)
    batched = jax.jit(jax.vmap(simulate))(values, keys)
    np.testing.assert_allclose(batched, loop, rtol=1e-6, atol=1e-4)
    assert np.any(loop != 0)


@pytest.mark.parametrize("name", ["Waveform", "GaussianNoise", "OUNoise"])
def test_current_source_gradient_matches_finite_differences(name, x64, finite_differences):
    simulate = _simulate(name)
    key = jax.random.key(1)

    @jax.jit
    def total(value):
        return jnp.sum(simulate(value, key) * jnp.linspace(0.5, 1.5, STEPS)[:, None])

    grad = jax.grad(total)(jnp.float64(300.0))
    np.testing.assert_allclose(grad, finite_differences(total, 300.0), rtol=1e-6)
    assert grad != 0


@pytest.mark.parametrize("name", sorted(set(STATEFUL) - {"Waveform", "GaussianNoise", "OUNoise"}))
def test_spike_sources_have_zero_gradient(name):
    model = STATEFUL[name]
    assert not isinstance(model(1.0), CurrentSource)

    def spikes(rate):
        source = model(rate)
        state = source.init(500, key=jax.random.key(2))
        return source.step(state, t=0.5, dt=DT)[1].sum()

    assert jax.grad(spikes)(jnp.float32(900.0)) == 0


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_current_under_jit_vmap_and_grad(name, x64, finite_differences):
    def total(amplitude):
        return jnp.sum(GENERATORS[name](amplitude)(TIMES) * jnp.linspace(0.5, 1.5, STEPS))

    amplitudes = jnp.array([-50.0, 10.0, 300.0])
    traces = jax.vmap(lambda a: GENERATORS[name](a)(TIMES))(amplitudes)
    loop = np.stack([GENERATORS[name](a)(TIMES) for a in amplitudes])
    np.testing.assert_allclose(traces, loop, rtol=1e-12)
    np.testing.assert_allclose(jax.jit(total)(10.0), total(10.0), rtol=1e-12)
    grad = jax.grad(total)(jnp.float64(10.0))
    np.testing.assert_allclose(grad, finite_differences(total, 10.0), rtol=1e-6)
    assert grad != 0 and np.ptp(loop[2]) > 0
