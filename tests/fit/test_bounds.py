import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.fit import Bounded

KINDS = [(-100.0, 0.0), (1.0, None), (None, 5.0), (None, None)]
VALUES = {(-100.0, 0.0): [-99.0, -65.0, -1e-3], (1.0, None): [1.5, 20.0, 100.0],
          (None, 5.0): [-300.0, 4.0], (None, None): [-7.0, 3.0]}


@pytest.mark.parametrize("bounds", KINDS)
def test_value_round_trips_through_theta(x64, bounds):
    values = jnp.asarray(VALUES[bounds])
    p = Bounded(values, *bounds)
    assert p.theta.shape == values.shape
    np.testing.assert_allclose(p.value, values, rtol=1e-12)


@pytest.mark.parametrize("bounds", KINDS)
def test_any_theta_gives_a_value_within_the_bounds(bounds):
    p = Bounded(VALUES[bounds][0], *bounds)
    values = jax.vmap(lambda t: Bounded.value.fget(eqx_replace(p, t)))(jnp.linspace(-30, 30, 61))
    low, high = bounds
    assert np.all(np.isfinite(values))
    assert low is None or np.all(values >= low)
    assert high is None or np.all(values <= high)


def eqx_replace(p, theta):
    import equinox as eqx

    return eqx.tree_at(lambda p: p.theta, p, theta)


@pytest.mark.parametrize("bounds", KINDS)
def test_gradient_matches_finite_differences(x64, bounds, finite_differences):
    p = Bounded(jnp.asarray(VALUES[bounds]), *bounds)

    def f(theta):
        return jnp.sum(eqx_replace(p, jnp.asarray(theta)).value ** 2)

    grad = jax.grad(lambda p: jnp.sum(p.value ** 2))(p).theta
    np.testing.assert_allclose(grad, finite_differences(f, p.theta), rtol=1e-6, atol=1e-6)


def test_jit_equals_eager():
    p = Bounded(jnp.array([-70.0, -50.0]), -100.0, 0.0)
    np.testing.assert_allclose(jax.jit(lambda p: p.value)(p), p.value, rtol=1e-6)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="inside"):
        Bounded(0.0, -100.0, 0.0)
    with pytest.raises(ValueError, match="inside"):
        Bounded(jnp.array([1.0, -1.0]), 0.0)
    with pytest.raises(ValueError, match="low < high"):
        Bounded(1.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        Bounded(1.0, 0.0, np.inf)
