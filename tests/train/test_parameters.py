import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import brainsim as bs
from brainsim.train import Positive, Sequential, SpikingDense, spike_count_loss, unwrap

DT = 0.5
STEPS = 80


def test_positive_round_trips_and_matches_numpy_inverse(x64):
    values = np.array([1.0 + 1e-6, 1.5, 3.0, 20.0, 1e3])
    p = Positive(values, minimum=1.0)
    np.testing.assert_allclose(p.theta[:4], np.log(np.expm1(values[:4] - 1.0)), rtol=1e-9)
    assert float(p.theta[4]) == pytest.approx(999.0)  # the naive log(expm1(999)) overflows
    np.testing.assert_allclose(p.value, values, rtol=1e-12)


def test_positive_stays_above_minimum_after_any_update():
    p = Positive(jnp.array([2.0, 5.0]), minimum=0.5)
    pushed = eqx.tree_at(lambda q: q.theta, p, p.theta - 1e4)
    assert np.all(np.asarray(pushed.value) >= 0.5)
    grad = jax.grad(lambda q: q.value.sum())(p).theta  # d softplus / d theta = sigmoid(theta)
    np.testing.assert_allclose(grad, jax.nn.sigmoid(p.theta), rtol=1e-6)  # float32


def test_positive_rejects_values_at_or_below_minimum():
    with pytest.raises(ValueError, match="`value`"):
        Positive(jnp.array([2.0, 1.0]), minimum=1.0)


def test_unwrap_replaces_only_positive_nodes():
    tree = {"a": Positive(3.0, 1.0), "b": jnp.ones(2), "c": [Positive(jnp.ones(2) * 4.0)]}
    out = unwrap(tree)
    assert float(out["a"]) == pytest.approx(3.0)
    np.testing.assert_allclose(out["c"][0], [4.0, 4.0], rtol=1e-6)
    assert out["b"] is tree["b"]


def _layer(detach_reset=True):
    """3 inputs -> 4 LIF neurons with per-neuron learnable tau_m (Positive), v_th and v_reset."""
    lif = bs.neurons.LIF(
        tau_m=10.0,
        v_th=jnp.array([-50.0, -52.0, -49.0, -51.0]),
        v_reset=jnp.array([-65.0, -60.0, -63.0, -66.0]),
        t_ref=0.0,
        detach_reset=detach_reset,
    )
    lif = eqx.tree_at(lambda m: m.tau_m, lif, Positive(jnp.array([8.0, 12.0, 15.0, 20.0]), 1.0))
    layer = SpikingDense(3, 4, lif, key=jax.random.key(1))
    weight = 120.0 + 60.0 * jax.random.uniform(jax.random.key(2), (3, 4))  # ~450 pA in total
    return eqx.tree_at(lambda m: m.weight, layer, weight)


def _inputs():
    t = jnp.arange(STEPS) * DT
    return 1.0 + 0.5 * jnp.sin(t[:, None] / jnp.array([3.0, 5.0, 7.0]))


def _potential_loss(layer):
    net = Sequential([layer])
    record = {"v": lambda state, outputs: state[0].v}
    result = bs.run(net, net.init(), dt=DT, steps=STEPS, input_series=_inputs(), record=record)
    return jnp.mean((result.traces["v"] + 55.0) ** 2)


@pytest.mark.parametrize(
    "where", [lambda m: m.neuron.tau_m.theta, lambda m: m.neuron.v_reset], ids=["tau_m", "v_reset"]
)
def test_tau_m_and_v_reset_gradients_match_finite_differences(x64, where, finite_differences):
    layer = _layer()
    spikes = Sequential([layer]).run(_inputs(), dt=DT)[0]
    assert np.all(np.asarray(spikes).sum(0) >= 2)  # every neuron resets: v_reset matters
    grad = where(eqx.filter_grad(_potential_loss)(layer))
    loss = jax.jit(lambda x: _potential_loss(eqx.tree_at(where, layer, x)))
    numeric = finite_differences(loss, where(layer), eps=1e-6)
    assert np.all(np.abs(numeric) > 1e-3)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5)


def test_threshold_gradient_is_the_surrogate_derivative(x64):
    """d(spike count)/d v_th = Σ_t σ'(x_t) ∂x_t/∂v_th, x = (v - v_th) / (v_th - v_reset), with
    v simulated independently in NumPy (exponential Euler, reset without gradient)."""
    layer = _layer()
    lif = unwrap(layer.neuron)
    tau, v_th, v_reset = (np.asarray(x) for x in (lif.tau_m, lif.v_th, lif.v_reset))
    currents = np.asarray(_inputs()) @ np.asarray(layer.weight)
    v = np.full(4, -65.0)
    expected = np.zeros(4)
    decay = np.exp(-DT / tau)
    for current in currents:
        v = -65.0 + 0.1 * current + (v + 65.0 - 0.1 * current) * decay
        x = (v - v_th) / (v_th - v_reset)
        dx_dth = -1.0 / (v_th - v_reset) - (v - v_th) / (v_th - v_reset) ** 2
        expected += dx_dth / (1.0 + 10.0 * np.abs(x)) ** 2  # FastSigmoid, alpha = 10
        v = np.where(x > 0, v_reset, v)

    def count(layer):
        return jnp.sum(Sequential([layer]).run(_inputs(), dt=DT)[0])

    grad = eqx.filter_grad(count)(layer).neuron.v_th
    assert np.all(np.abs(expected) > 1e-3)
    np.testing.assert_allclose(grad, expected, rtol=1e-9)


def test_neuron_parameters_train_jointly_with_weights_under_optax():
    layer = _layer(detach_reset=False)
    target = jnp.array([2.0, 12.0, 5.0, 20.0])

    def loss(layer):
        spikes = Sequential([layer]).run(_inputs(), dt=DT)[0]
        return spike_count_loss(spikes, target)

    optimizer = optax.adam(0.05)
    params = eqx.filter(layer, eqx.is_inexact_array)
    opt_state = optimizer.init(params)

    @eqx.filter_jit
    def update(layer, opt_state):
        value, grads = eqx.filter_value_and_grad(loss)(layer)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(layer, eqx.is_array))
        return eqx.apply_updates(layer, updates), opt_state, value

    first = float(loss(layer))
    trained = layer
    for _ in range(150):
        trained, opt_state, _ = update(trained, opt_state)
    assert float(loss(trained)) < 0.1 * first
    before, after = unwrap(layer.neuron), unwrap(trained.neuron)
    for name in ("tau_m", "v_th", "v_reset"):
        assert not np.allclose(getattr(before, name), getattr(after, name)), name
    assert np.all(np.asarray(after.tau_m) > 1.0)
