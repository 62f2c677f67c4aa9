"""Online training with HLOP's lateral subspace neurons learning at every step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.plasticity import LateralSubspace

IF = dict(tau_m=100.0, v_rest=0.0, v_reset=0.0, v_th=1.0, t_ref=0.0, R=100.0)


def _net():
    k1, k2 = jax.random.split(jax.random.key(0))
    return bs.train.Sequential([
        bs.train.SpikingDense(5, 6, bs.neurons.LIF(**IF), key=k1, weight_scale=2.0),
        bs.train.SpikingDense(6, 2, bs.train.LeakyReadout(tau_m=1e-3, R=1.0), key=k2),
    ])


def _loss(outputs, n):
    return jnp.sum(outputs[-1] ** 2)


def test_lateral_neurons_learn_from_each_step_and_leave_the_gradient_unchanged():
    net = _net()
    x = jnp.asarray(np.random.default_rng(0).random((8, 3, 5)), jnp.float32)   # (T, B, n)
    rule = LateralSubspace(learning_rate=0.02, iterations=2)
    lateral = (
        rule.grow(rule.init(5, k_max=3), 2, key=jax.random.key(1)),
        rule.grow(rule.init(6, k_max=3), 2, key=jax.random.key(2)),
    )
    plain = bs.train.online_value_and_grad(net, _loss, x, dt=1.0, tau_trace=20.0)
    loss, grads, _, learned = bs.train.online_value_and_grad(
        net, _loss, x, dt=1.0, tau_trace=20.0, lateral=((rule, lateral[0]), (rule, lateral[1])))
    assert float(loss) == pytest.approx(float(plain[0]))
    np.testing.assert_allclose(grads.layers[0].weight, plain[1].layers[0].weight, rtol=1e-6)

    spikes = jax.vmap(lambda s: net.run(s, dt=1.0)[0], in_axes=1, out_axes=1)(x)   # (T, B, 6)
    decay = np.exp(-1.0 / 20.0)
    moment0, moment1, trace = 0.0, 0.0, jnp.zeros((3, 6))
    for t in range(8):
        moment0 += x[t].T @ x[t] / 3                        # first layer: the input
        trace = decay * trace + spikes[t]
        both = jnp.concatenate([spikes[t], trace])           # later layers: spikes and trace
        moment1 += both.T @ both / 6
    expected0 = rule.update_from_moment(lateral[0], moment0 / 8)
    expected1 = rule.update_from_moment(lateral[1], moment1 / 8)
    np.testing.assert_allclose(learned[0].H, expected0.H, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(learned[1].H, expected1.H, rtol=1e-5, atol=1e-6)
    rows = jnp.concatenate([jnp.concatenate([spikes[t], decay_trace])
                            for t, decay_trace in enumerate(_traces(spikes, decay))])
    np.testing.assert_allclose(expected1.H, rule.update(lateral[1], rows).H, rtol=1e-4,
                               atol=1e-5)                   # = one batch of every step's rows


def _traces(spikes, decay):
    trace, out = jnp.zeros(spikes.shape[1:]), []
    for s in spikes:
        trace = decay * trace + s
        out.append(trace)
    return out


def test_spiking_lateral_neurons_learn_once_from_every_step():
    net = _net()
    x = jnp.asarray(np.random.default_rng(1).random((5, 2, 5)), jnp.float32)
    rule = LateralSubspace(learning_rate=0.02, iterations=1, spike_steps=40, full_scale=20.0)
    start = rule.grow(rule.init(5, k_max=2), 2, key=jax.random.key(1))
    *_, learned = bs.train.online_value_and_grad(net, _loss, x, dt=1.0, lateral=((rule, start),
                                                                                 None))
    expected = rule.update(start, x.reshape(-1, 5))          # one batch of every step's input
    np.testing.assert_allclose(learned[0].H, expected.H, rtol=1e-5, atol=1e-6)


def test_layers_without_lateral_neurons_are_left_out_and_bad_lengths_fail():
    net = _net()
    x = jnp.ones((4, 5))
    rule = LateralSubspace()
    state = rule.grow(rule.init(6, k_max=2), 1, key=jax.random.key(0))
    *_, learned = bs.train.online_value_and_grad(net, _loss, x, dt=1.0,
                                                 lateral=(None, (rule, state)))
    assert learned[0] is None and learned[1].H.shape == (2, 6)
    with pytest.raises(ValueError, match="one entry per layer"):
        bs.train.online_value_and_grad(net, _loss, x, dt=1.0, lateral=((rule, state),))
