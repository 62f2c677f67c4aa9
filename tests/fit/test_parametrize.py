import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import brainsim as bs
from brainsim.fit import default_bounds, parametrize

NEURONS = bs.neurons


def _all_array_fields(model):
    return [n for n, v in vars(model).items() if eqx.is_inexact_array(v)]


@pytest.mark.parametrize(
    "model",
    [NEURONS.LIF(), NEURONS.ALIF(), NEURONS.ExpIF()]
    + [NEURONS.Izhikevich.regime(r) for r in NEURONS.Izhikevich.REGIMES]
    + [NEURONS.AdEx.pattern(p, t_ref=0.5) for p in NEURONS.AdEx.PATTERNS],
    ids=lambda m: type(m).__name__,
)
def test_default_bounds_admit_every_published_parameter_set(model):
    names = _all_array_fields(model)
    params, to_model = parametrize(model, names)
    rebuilt = to_model(params)
    for name in names:
        assert to_model.bounds[name] == default_bounds(model, name)
        np.testing.assert_allclose(getattr(rebuilt, name), getattr(model, name), rtol=1e-6)


def test_defaults_follow_the_units_of_each_field():
    adex = NEURONS.AdEx()
    assert default_bounds(adex, "C") == (0.0, None)
    assert default_bounds(adex, "E_L") == (-100.0, 0.0)
    assert default_bounds(adex, "V_peak") == (-100.0, 60.0)
    assert default_bounds(adex, "b") == (None, None)
    assert default_bounds(NEURONS.ALIF(), "tau_m") == (0.0, None)    # inherited from LIF
    with pytest.raises(ValueError, match="no defaults for `spike_fn`"):
        default_bounds(adex, "spike_fn")
    with pytest.raises(ValueError, match="not a model with default bounds"):
        default_bounds(NEURONS.HH(), "g_Na")


def test_explicit_bounds_override_defaults_and_per_neuron_arrays_keep_their_shape(x64):
    lif = NEURONS.LIF(tau_m=jnp.array([10.0, 20.0, 30.0]))
    params, to_model = parametrize(lif, {"tau_m": (5.0, 50.0), "v_th": None})
    assert params["tau_m"].shape == (3,)
    assert to_model.bounds == {"tau_m": (5.0, 50.0), "v_th": (-100.0, 0.0)}
    np.testing.assert_allclose(to_model(params).tau_m, [10.0, 20.0, 30.0], rtol=1e-12)
    assert to_model(params).v_rest is lif.v_rest   # untouched parameters are the template's


def test_dotted_names_reach_into_submodules():
    class Cell(eqx.Module):
        neurons: NEURONS.LIF
        gain: jax.Array

    cell = Cell(NEURONS.LIF(tau_m=15.0), jnp.asarray(2.0))
    params, to_model = parametrize(cell, {"neurons.tau_m": None, "gain": (0.0, 10.0)})
    values = to_model.values(to_model.unconstrained({"neurons.tau_m": 7.0, "gain": 3.0}))
    np.testing.assert_allclose([values["neurons.tau_m"], values["gain"]], [7.0, 3.0], rtol=1e-5)
    assert float(to_model(params).neurons.tau_m) == pytest.approx(15.0, rel=1e-6)


@jax.jit
def _subthreshold_mse(to_model, params, v_data):
    model = to_model(params)
    result = bs.run(model, model.init(1), inputs=50.0, steps=v_data.shape[0], dt=0.5, record="v")
    return bs.fit.trace_mse(result["v"], v_data, dt=0.5)


def _lif_fit():
    """A subthreshold LIF fit with the reset detached (the surrogate adds nothing: the gradient
    is exact), its target trace, params and map."""
    target = NEURONS.LIF(tau_m=12.0, R=0.2, v_th=-40.0)
    v_data = bs.run(target, target.init(1), inputs=50.0, steps=40, dt=0.5, record="v")["v"]
    template = NEURONS.LIF(tau_m=20.0, R=0.1, v_th=-40.0, detach_reset=True)
    params, to_model = parametrize(template, {"tau_m": (2.0, 40.0), "R": (0.01, 1.0)})
    return v_data, params, to_model


def test_gradient_through_a_run_matches_finite_differences(x64, finite_differences):
    v_data, params, to_model = _lif_fit()
    grad = jax.grad(_subthreshold_mse, argnums=1)(to_model, params, v_data)
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    numeric = finite_differences(
        lambda x: _subthreshold_mse(to_model, unravel(jnp.asarray(x)), v_data), flat
    )
    np.testing.assert_allclose(jax.flatten_util.ravel_pytree(grad)[0], numeric, rtol=1e-5)


def test_many_starts_under_vmap_equal_a_loop_and_optax_stays_in_bounds():
    v_data, _, to_model = _lif_fit()
    starts = to_model.unconstrained(
        {"tau_m": jnp.array([5.0, 20.0, 35.0]), "R": jnp.array([0.05, 0.1, 0.5])}
    )

    def loss(params):
        return _subthreshold_mse(to_model, params, v_data)

    batched = jax.vmap(loss)(starts)
    looped = [loss(jax.tree.map(lambda x, i=i: x[i], starts)) for i in range(3)]
    np.testing.assert_allclose(batched, looped, rtol=1e-5)

    optimiser = optax.adam(0.3)
    state = jax.vmap(optimiser.init)(starts)

    @jax.jit
    def update(params, state):
        losses, grads = jax.vmap(jax.value_and_grad(loss))(params)
        updates, state = jax.vmap(optimiser.update)(grads, state)
        return optax.apply_updates(params, updates), state, losses

    params = starts
    for _ in range(30):
        params, state, losses = update(params, state)
    values = to_model.values(params)
    assert np.all((values["tau_m"] > 2.0) & (values["tau_m"] < 40.0))
    assert np.all((values["R"] > 0.01) & (values["R"] < 1.0))
    assert np.all(losses < batched)


def test_bad_names_and_bounds_are_refused():
    lif = NEURONS.LIF()
    with pytest.raises(ValueError, match="no parameter `tau`.*tau_m, v_rest"):
        parametrize(lif, ["tau"])
    with pytest.raises(ValueError, match="no parameter `method`"):
        parametrize(lif, ["method"])
    with pytest.raises(ValueError, match="no attribute `net`"):
        parametrize(lif, ["net.tau_m"])
    with pytest.raises(ValueError, match="not strictly inside"):
        parametrize(lif, {"tau_m": (20.0, 50.0)})           # tau_m = 10 ms
    with pytest.raises(ValueError, match="not strictly inside"):
        parametrize(NEURONS.AdEx(), ["t_ref"])              # t_ref = 0 on the default bound
    with pytest.raises(ValueError, match="low < high"):
        parametrize(lif, {"tau_m": (50.0, 1.0)})
    with pytest.raises(ValueError, match="pair"):
        parametrize(lif, {"tau_m": 5.0})
    with pytest.raises(ValueError, match="empty"):
        parametrize(lif, [])
    with pytest.raises(TypeError, match="list or dict"):
        parametrize(lif, "tau_m")
    params, to_model = parametrize(lif, ["tau_m"])
    with pytest.raises(ValueError, match="expected the parameters"):
        to_model({"v_th": params["tau_m"]})
    with pytest.raises(ValueError, match="not strictly inside"):
        to_model.unconstrained({"tau_m": -1.0})
