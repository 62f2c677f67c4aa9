import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim import integrators


def _decay_error(method, dt):
    """Integrate dy/dt = y cos t from y(0) = 1 to t = 2 (exact: exp(sin t)); return |error|."""

    def f(t, y):
        return y * jnp.cos(t)

    exact = np.exp(np.sin(2.0))
    y = jnp.array(1.0)
    steps = int(round(2.0 / dt))
    for n in range(steps):
        y = method(f, y, n * dt, dt)
    return abs(float(y) - exact)


@pytest.mark.parametrize(("method", "order"), [(integrators.euler, 1), (integrators.rk4, 4)])
def test_convergence_order(method, order, x64):
    coarse, fine = _decay_error(method, 0.1), _decay_error(method, 0.05)
    assert np.log2(coarse / fine) == pytest.approx(order, abs=0.15)


def test_exp_euler_is_exact_for_linear_equations(x64):
    def f(t, v):
        return (-70.0 - v) / 15.0 + 2.0

    v = integrators.exp_euler(f, jnp.array([-50.0, -80.0]), 0.0, 1.5)
    expected = integrators.relax(jnp.array([-50.0, -80.0]), -40.0, 15.0, 1.5)
    np.testing.assert_allclose(v, expected, rtol=1e-13)


def test_exp_euler_uses_each_variables_own_rate_on_pytrees(x64):
    """For dx = -a x + y, dy = -b y: x sees rate a, y sees rate b, others frozen."""

    def f(t, state):
        x, y = state["x"], state["y"]
        return {"x": -2.0 * x + y, "y": -0.5 * y}

    out = integrators.exp_euler(f, {"x": jnp.array(1.0), "y": jnp.array(3.0)}, 0.0, 0.2)
    x_inf = 3.0 / 2.0
    np.testing.assert_allclose(out["x"], x_inf + (1.0 - x_inf) * np.exp(-0.4), rtol=1e-13)
    np.testing.assert_allclose(out["y"], 3.0 * np.exp(-0.1), rtol=1e-13)


def test_exp_euler_is_differentiable_near_zero_rate():
    def final(rate):
        return integrators.exp_euler(lambda t, y: -rate * y, jnp.array(1.0), 0.0, 0.1)

    assert np.isfinite(jax.grad(final)(0.0))
    assert jax.grad(final)(0.0) == pytest.approx(-0.1, rel=1e-4)


def test_exact_decay_and_relax():
    assert integrators.exact_decay(2.0, 10.0, 10.0) == pytest.approx(2.0 / np.e)
    assert integrators.relax(0.0, 1.0, 5.0, 5.0) == pytest.approx(1.0 - 1.0 / np.e)


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="`method`"):
        integrators.get("leapfrog")


def test_phi1_matches_expm1_over_z_in_float64(x64):
    z = np.concatenate([-np.logspace(-9, 1.5, 400), np.logspace(-9, 1.5, 400)])
    expected = np.expm1(z) / z
    got = np.asarray(integrators._phi1(jnp.asarray(z)))
    np.testing.assert_allclose(got, expected, rtol=2e-14)


def test_phi1_gradient_matches_its_analytic_derivative(x64):
    z = jnp.asarray([-0.3, -0.019, -1e-6, 0.0, 1e-6, 0.021, 0.5])
    grad = jax.vmap(jax.grad(integrators._phi1))(z)
    zf = np.asarray(z)
    expected = np.where(
        np.abs(zf) < 1e-4,
        0.5 + zf / 3,
        (zf * np.exp(zf) - np.expm1(zf)) / np.where(zf == 0, 1, zf) ** 2,
    )
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
