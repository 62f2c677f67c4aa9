"""Every rate model under the transforms: jit = eager, vmap over a parameter and keys = a loop,
gradients = central finite differences (x64), alone and inside a `Network` with couplings."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim import rate

# name -> a model built from one differentiable parameter p (around 1)
MODELS = {
    "InputNoiseRate": lambda p: rate.InputNoiseRate(
        tau=5.0 * p, mu=p, sigma=0.3 * p, gain=rate.Tanh(g=p, theta=0.2)
    ),
    "InputNoiseRate-rectified": lambda p: rate.InputNoiseRate(
        lam=0.0, mu=p - 1.2, sigma=0.2, rectify=True, gain=rate.ThresholdLinear(g=p)
    ),
    "OutputNoiseRate": lambda p: rate.OutputNoiseRate(
        tau=4.0 * p, mu=p, sigma=0.1 * p, gain=rate.Sigmoid(g=2.0, beta=p)
    ),
    "WilsonCowan": lambda p: rate.WilsonCowan(P=1.25 * p, tau_E=2.0 * p, tau_I=2.0),
    "JansenRit": lambda p: rate.JansenRit(A=3.25 * p, p_low=120.0 * p, p_high=320.0),
}
STEPS, N, DT = 30, 3, 0.1


def _simulate(name):
    def simulate(value, key):
        model = MODELS[name](value)

        def body(state, n):
            return model.step(state, 0.3, t=n * DT, dt=DT)

        return jax.lax.scan(body, model.init(N, key=key), jnp.arange(STEPS))[1]

    return simulate


@pytest.mark.parametrize("name", sorted(MODELS))
def test_jit_equals_eager_and_vmap_equals_loop(name):
    simulate = _simulate(name)
    values = jnp.array([0.9, 1.0, 1.2])
    keys = jax.random.split(jax.random.key(0), 3)
    jitted = jax.jit(simulate)
    loop = np.stack([jitted(v, k) for v, k in zip(values, keys, strict=True)])
    # float32, 30 steps: eager and compiled programs may round differently by a few ulp
    np.testing.assert_allclose(simulate(values[0], keys[0]), loop[0], rtol=1e-5, atol=1e-6)
    batched = jax.jit(jax.vmap(simulate))(values, keys)
    np.testing.assert_allclose(batched, loop, rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(loop)) and np.ptp(loop) > 0


@pytest.mark.parametrize("name", sorted(MODELS))
def test_gradient_matches_finite_differences(name, x64, finite_differences):
    simulate = _simulate(name)
    key = jax.random.key(1)

    @jax.jit
    def loss(p):
        return jnp.sum(simulate(p, key)[-1] ** 2)

    grad = jax.jit(jax.grad(loss))(1.0)
    fd = finite_differences(loss, np.array(1.0))
    # x64, central differences with eps 1e-6: truncation and rounding well below 1e-6 relative
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    assert abs(float(grad)) > 1e-6


def _network(w):
    unit = rate.InputNoiseRate(tau=5.0, mu=0.5, gain=rate.Tanh(g=1.5), history=10)
    wc = rate.WilsonCowan(history=5)
    return bs.Network(
        {"A": (unit, 4), "B": (unit, 4), "W": (wc, 4)},
        couplings=[
            rate.RateCoupling("A", "B", w * jnp.eye(4)),
            rate.RateCoupling("B", "A", -w, delay=1.0, dt=DT),
            rate.RateCoupling("W", "A", 0.5 * w, delay=0.5, dt=DT),
            rate.RateCoupling("A", "W", w),
        ],
    )


def _final_rates(w):
    net = _network(w)
    result = bs.run(net, net.init(), duration=5.0, dt=DT, record=["B.rate"], stream=False)
    return result["B.rate"][-1]


def test_network_of_rate_populations_under_jit_vmap_and_grad(x64, finite_differences):
    ws = jnp.array([0.5, 1.0])
    final = jax.jit(_final_rates)
    loop = np.stack([final(w) for w in ws])
    np.testing.assert_allclose(jax.jit(jax.vmap(_final_rates))(ws), loop, rtol=1e-12)
    total = jax.jit(lambda w: jnp.sum(_final_rates(w)))
    grad = jax.jit(jax.grad(total))(0.8)
    fd = finite_differences(total, np.array(0.8))
    # x64 central differences (eps 1e-6)
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
