"""Noise currents: OU statistics against theory, Gaussian white noise against NEST."""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import brainsim as bs
from brainsim.stimulation import GaussianNoise, OUNoise

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
N = 2000  # outputs: a correlation estimated from N pairs has sd (1 - ρ²) / sqrt(N)


def test_ou_variance_and_autocorrelation_match_theory():
    mean, std, tau, dt = 30.0, 80.0, 5.0, 0.5
    noise = OUNoise(mean=mean, std=std, tau=tau)
    state = noise.init(N, key=jax.random.key(3))
    result = bs.run(noise, state, steps=40, dt=dt, record=["I"], stream=False)
    trace = np.vstack([np.asarray(state.I)[None], np.asarray(result.traces["I"])])  # t = 0..20
    for row in (0, 40):  # stationary from the start: the same law at t = 0 and t = 20 ms
        assert abs(trace[row].mean() - mean) < 5 * std / np.sqrt(N)
        assert abs(trace[row].var() / std**2 - 1) < 5 * np.sqrt(2 / N)
    for lag_steps in (1, 4, 10, 20):
        rho = np.exp(-lag_steps * dt / tau)
        measured = np.corrcoef(trace[0], trace[lag_steps])[0, 1]
        assert abs(measured - rho) < 5 * (1 - rho**2) / np.sqrt(N), lag_steps


def test_ou_update_is_exact_for_any_step(x64):
    # Without noise the exact update is the exponential relaxation, whatever dt.
    noise = OUNoise(mean=10.0, std=0.0, tau=4.0)
    state = noise.init(1, key=jax.random.key(0))._replace(I=jnp.array([110.0]))
    for dt, steps in ((0.1, 80), (2.0, 4)):

        def advance(k, s, dt=dt):
            return noise.step(s, t=k * dt, dt=dt)[0]

        final = jax.lax.fori_loop(0, steps, advance, state)
        np.testing.assert_allclose(final.I, 10.0 + 100.0 * np.exp(-8.0 / 4.0), rtol=1e-12)


def test_ou_grad_wrt_parameters_matches_finite_differences(x64, finite_differences):
    key = jax.random.key(5)

    @jax.jit
    def power(params):
        noise = OUNoise(mean=params[0], std=params[1], tau=params[2])
        result = bs.run(noise, noise.init(3, key=key), steps=50, dt=0.2, record=["I"])
        return jnp.mean(result.traces["I"] ** 2)

    params = np.array([20.0, 50.0, 3.0])
    np.testing.assert_allclose(
        jax.grad(power)(jnp.asarray(params)), finite_differences(power, params), rtol=1e-6
    )


@pytest.fixture(scope="module")
def nest_noise():
    ref = np.load(REFERENCE / "nest_stimulation_currents.npz")
    return {k.split("__")[1]: ref[k] for k in ref.files if k.startswith("noise_generator__")}


def test_gaussian_noise_intervals_line_up_with_nest(nest_noise):
    # NEST's samples are the current a neuron receives with a delay of one step: intervals of
    # 0.5 ms starting at 0.1 ms, which is brainsim's GaussianNoise in a run starting at 0.1 ms.
    dt, interval = 0.1, float(nest_noise["dt"])
    noise = GaussianNoise(mean=nest_noise["mean"], std=nest_noise["std"], interval=interval)
    state = noise.init(1, key=jax.random.key(0))
    result = bs.run(noise, state, steps=200, dt=dt, t0=dt, record=["I"])
    ours = np.flatnonzero(np.diff(np.concatenate([state.I, result.traces["I"][:, 0]])))
    theirs = np.flatnonzero(np.diff(nest_noise["I"][:201]))
    np.testing.assert_array_equal(ours, theirs)
    assert ours.size == 40


def test_gaussian_noise_values_match_theory_and_nest(nest_noise):
    mean, std, interval = float(nest_noise["mean"]), float(nest_noise["std"]), 0.5
    nest_values = nest_noise["I"][4::5]  # one sample per interval
    noise = GaussianNoise(mean=mean, std=std, interval=interval)
    result = bs.run(noise, noise.init(4, key=jax.random.key(1)), steps=1250, dt=0.1, record=["I"])
    ours = result.traces["I"][4::5].ravel()
    for values in (ours, nest_values):
        assert abs(values.mean() - mean) < 5 * std / np.sqrt(values.size)
        assert abs(values.std() / std - 1) < 5 / np.sqrt(2 * values.size)
        assert abs(np.corrcoef(values[:-1], values[1:])[0, 1]) < 5 / np.sqrt(values.size)
    assert stats.ks_2samp(ours, nest_values).pvalue > 1e-3


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: OUNoise(std=-1.0), "`std`"),
        (lambda: OUNoise(tau=0.0), "`tau`"),
        (lambda: OUNoise(mean=np.inf), "`mean`"),
        (lambda: GaussianNoise(std=-2.0), "`std`"),
        (lambda: GaussianNoise(interval=-0.5), "`interval`"),
        (lambda: OUNoise().init(3), "`key`"),
        (lambda: OUNoise(tau=[1.0, 2.0]).init(3, key=jax.random.key(0)), "`tau`"),
        (
            lambda: GaussianNoise(interval=0.25).step(
                GaussianNoise().init(1, key=jax.random.key(0)), t=0.0, dt=0.1
            ),
            "not a whole multiple",
        ),
    ],
)
def test_bad_noise_parameters_raise_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()
