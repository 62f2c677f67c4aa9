"""Rate neurons against NEST 3.10 (tests/reference/make_nest_rate_refs.py): deterministic traces
of a driver and a target coupled instantaneously and with a delay, for tanh and threshold-linear
gains, input and output noise, linear_summation True and False; and noise statistics against
the Ornstein-Uhlenbeck theory and NEST's."""

import pathlib

import jax
import numpy as np
import pytest

import brainsim as bs
from brainsim import rate

REF = np.load(pathlib.Path(__file__).parents[1] / "reference" / "nest_rate_refs.npz")
TRACES = sorted(k for k in REF.files if k.endswith("linear"))


def _gain(key):
    if key.startswith("tanh"):
        return rate.Tanh(g=1.5, theta=0.3)
    return rate.ThresholdLinear(g=1.5, theta=0.3, alpha=1.2)


@pytest.mark.parametrize("key", TRACES)
def test_deterministic_traces_match_nest(key, x64):
    gain, linear = _gain(key), key.endswith("_linear")
    model = rate.InputNoiseRate if "_ipn_" in key else rate.OutputNoiseRate
    driver = model(mu=1.0, tau=5.0, gain=gain, linear_summation=linear, history=20)
    target = model(mu=0.2, tau=10.0, gain=gain, linear_summation=linear)
    psi = None if linear else gain
    net = bs.Network(
        {"drv": (driver, 1), "tgt": (target, 1)},
        couplings=[
            rate.RateCoupling("drv", "tgt", 0.8, gain=psi),
            rate.RateCoupling("drv", "tgt", -0.5, delay=2.0, dt=0.1, gain=psi),
        ],
    )
    result = bs.run(net, net.init(), duration=30.0, dt=0.1, record=["drv.rate", "tgt.rate"])
    ours = np.stack([np.asarray(result["drv.rate"])[:, 0], np.asarray(result["tgt.rate"])[:, 0]])
    # same propagators, same order of operations, x64 on both sides: agreement to rounding
    np.testing.assert_allclose(ours, REF[key], rtol=0, atol=1e-12)


def _sampled(model, key, variable):
    """400 units, 1100 ms at dt = 0.1 ms, `variable` sampled every 1 ms from 100 ms on."""
    state = model.init(400, key=key)

    def ms(state, _):
        state, _ = jax.lax.scan(lambda s, _: (model.step(s, None, t=0.0, dt=0.1)[0], None),
                                state, None, length=10)
        return state, getattr(state, variable)

    state, _ = jax.lax.scan(ms, state, None, length=100)
    return np.asarray(jax.jit(lambda s: jax.lax.scan(ms, s, None, length=1000)[1])(state))


def test_input_noise_is_an_ou_process_with_nest_statistics(x64):
    x = _sampled(rate.InputNoiseRate(tau=10.0, lam=1.0, sigma=1.0, mu=0.5), jax.random.key(3),
                 "rate")
    corr = np.mean((x[:-1] - x.mean()) * (x[1:] - x.mean())) / x.var()
    # 400 units x 1000 ms with a 10 ms correlation time: ~2e4 independent samples, so the
    # variance is known to ~1 % and the mean to ~0.005; tolerances are 4-5 standard errors
    assert abs(x.mean() - 0.5) < 0.025 and abs(REF["ipn_mean"] - 0.5) < 0.025
    assert abs(x.var() - 0.5) < 0.025  # theory: sigma^2 / (2 lambda)
    assert abs(x.var() - REF["ipn_var"]) < 0.035
    assert abs(corr - np.exp(-0.1)) < 0.01 and abs(REF["ipn_corr_1ms"] - np.exp(-0.1)) < 0.01


def test_output_noise_has_the_variance_of_nest(x64):
    x = _sampled(rate.OutputNoiseRate(tau=10.0, sigma=0.1, mu=0.5), jax.random.key(4), "output")
    # independent draws (4e5 samples): the variance tau sigma^2 / dt = 1 is known to ~0.3 %
    assert abs(x.var() - 1.0) < 0.015 and abs(REF["opn_var"] - 1.0) < 0.015
    assert abs(x.mean() - REF["opn_mean"]) < 0.01
