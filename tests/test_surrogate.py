import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim import surrogate


def _logistic(x):
    return 1 / (1 + np.exp(-x))


CASES = [
    (lambda: surrogate.Sigmoid(alpha=4.0), lambda x: 4 * _logistic(4 * x) * (1 - _logistic(4 * x))),
    (lambda: surrogate.FastSigmoid(alpha=10.0), lambda x: 1 / (1 + 10 * np.abs(x)) ** 2),
    (lambda: surrogate.Arctan(alpha=2.0), lambda x: 2 / (2 * (1 + (math.pi * 2 * x / 2) ** 2))),
    (
        lambda: surrogate.Triangle(gamma=0.3, width=1.0),
        lambda x: 0.3 * np.maximum(0, 1 - np.abs(x)),
    ),
    (
        lambda: surrogate.Gaussian(sigma=0.5),
        lambda x: np.exp(-(x**2) / 0.5) / (0.5 * math.sqrt(2 * math.pi)),
    ),
]
IDS = ["sigmoid", "fast_sigmoid", "arctan", "triangle", "gaussian"]


@pytest.mark.parametrize(("make", "formula"), CASES, ids=IDS)
def test_forward_is_exact_step(make, formula):
    fn = make()
    x = jnp.array([-2.0, -1e-6, 0.0, 1e-6, 3.0])
    np.testing.assert_array_equal(fn(x), [0.0, 0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize(("make", "formula"), CASES, ids=IDS)
def test_gradient_equals_surrogate_formula(make, formula, x64):
    fn = make()
    x = jax.random.uniform(jax.random.key(1), (50,), jnp.float64, -2.0, 2.0)
    grads = jax.vmap(jax.grad(fn))(x)
    np.testing.assert_allclose(grads, formula(np.asarray(x)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("make", "formula"), CASES, ids=IDS)
def test_jvp_and_vjp_agree(make, formula):
    fn = make()
    x = jnp.linspace(-1.5, 1.5, 7)
    tangent = jnp.arange(1.0, 8.0)
    _, jvp_out = jax.jvp(fn, (x,), (tangent,))
    _, pullback = jax.vjp(fn, x)
    (vjp_out,) = pullback(tangent)
    np.testing.assert_allclose(jvp_out, vjp_out, rtol=1e-6)


def test_sharpness_can_be_swept_with_vmap():
    alphas = jnp.array([1.0, 4.0, 8.0])
    slopes = jax.vmap(lambda a: jax.grad(surrogate.Sigmoid(alpha=a))(0.0))(alphas)
    np.testing.assert_allclose(slopes, alphas / 4, rtol=1e-6)


def test_jit_matches_eager():
    fn = surrogate.Arctan()
    x = jnp.linspace(-1, 1, 11)
    np.testing.assert_array_equal(jax.jit(lambda x: fn(x))(x), fn(x))
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(fn)))(x), jax.vmap(jax.grad(fn))(x))


@pytest.mark.parametrize(
    ("factory", "argument"),
    [
        (lambda: surrogate.Sigmoid(alpha=-1.0), "alpha"),
        (lambda: surrogate.FastSigmoid(alpha=0.0), "alpha"),
        (lambda: surrogate.Triangle(width=float("nan")), "width"),
        (lambda: surrogate.Gaussian(sigma=-0.1), "sigma"),
    ],
)
def test_bad_sharpness_names_the_argument(factory, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        factory()


def test_integer_input_gives_float_output():
    assert surrogate.FastSigmoid()(jnp.array([1, -1])).dtype == jnp.result_type(float)
