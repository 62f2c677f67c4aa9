"""Rate-based training (DSR): spiking forward pass, gradient through the layers' rate maps."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.train._rate import _rate_map

IF = dict(tau_m=100.0, v_rest=0.0, v_reset=0.0, v_th=1.0, t_ref=0.0, R=100.0)


def _net(seed=0):
    k1, k2 = jax.random.split(jax.random.key(seed))
    return bs.train.Sequential([
        bs.train.SpikingDense(5, 7, bs.neurons.LIF(**IF), key=k1, weight_scale=1.5),
        bs.train.SpikingDense(7, 3, bs.train.LeakyReadout(tau_m=5.0, R=1.0), key=k2),
    ])


def test_loss_value_is_that_of_the_measured_rates():
    net = _net()
    x = jnp.asarray(np.random.default_rng(0).random((40, 4, 5)), jnp.float32)
    outputs = jax.vmap(lambda s: net.run(s, dt=1.0), in_axes=1, out_axes=1)(x)
    loss, _, rates = bs.train.rate_value_and_grad(net, lambda r: jnp.sum(r[-1] ** 2), x, dt=1.0)
    for measured, out in zip(rates, outputs, strict=True):
        np.testing.assert_allclose(measured, jnp.mean(out, axis=0), rtol=1e-5, atol=1e-6)
    assert float(loss) == pytest.approx(float(jnp.sum(rates[-1] ** 2)), rel=1e-5)


def test_readout_only_network_has_the_exact_gradient(x64, finite_differences):
    """For a readout layer the rate map is exact (mean potential under a constant current), so
    the rate gradient is the true gradient of the loss."""
    net = bs.train.Sequential([bs.train.SpikingDense(4, 2, bs.train.LeakyReadout(tau_m=5.0),
                                                     key=jax.random.key(1))])
    x = jnp.broadcast_to(jnp.asarray([0.3, 1.0, 0.0, 0.7]), (20, 4))

    def loss_of(W):
        net_w = eqx.tree_at(lambda m: m.layers[0].weight, net, jnp.asarray(W))
        return jnp.sum(jnp.mean(net_w.run(x, dt=1.0)[0], axis=0) ** 2)

    _, grads, _ = bs.train.rate_value_and_grad(net, lambda r: jnp.sum(r[-1] ** 2), x, dt=1.0)
    fd = finite_differences(loss_of, np.asarray(net.layers[0].weight))
    np.testing.assert_allclose(grads.layers[0].weight, fd, rtol=1e-6, atol=1e-9)


def test_gradient_is_that_of_the_rate_model_chain():
    net = _net(2)
    x = jnp.asarray(np.random.default_rng(2).random((30, 5)), jnp.float32)
    _, grads, rates = bs.train.rate_value_and_grad(net, lambda r: jnp.sum(r[-1] ** 2), x, dt=1.0)
    lif, readout = net.layers[0].neuron, net.layers[1].neuron
    W1, W2 = net.layers[0].weight, net.layers[1].weight
    a1 = jnp.mean(x, axis=0) @ W1
    slope = jnp.where((a1 > 0) & (a1 < 1), 1.0 - np.exp(-0.01), 0.0) * 100.0   # dφ/da, IF
    v_out = rates[1]
    gain = jnp.mean(1 - jnp.exp(-jnp.arange(1, 31) / 5.0))                      # readout
    delta2 = 2 * v_out * gain
    np.testing.assert_allclose(grads.layers[1].weight, jnp.outer(rates[0], delta2), rtol=1e-5)
    delta1 = (delta2 @ W2.T) * slope
    np.testing.assert_allclose(grads.layers[0].weight, jnp.outer(jnp.mean(x, 0), delta1),
                               rtol=1e-4, atol=1e-7)
    assert lif.t_ref == 0 and readout.R == 1


def test_rate_map_bounds_the_measured_rate_of_integrate_and_fire_from_above():
    """The map is the leak-free rate `a` (threshold units per step, clipped at 1); with reset
    to 0 and the 1 %-per-step leak of tau_m = 100 ms the measured rate is 1 / (steps to
    threshold), between 0.75 φ and φ for these currents, and φ = 1 at saturation."""
    lif = bs.neurons.LIF(**IF)
    drive = jnp.asarray([0.05, 0.1, 0.2, 0.25, 1.5])             # mV per step
    current = drive / (100.0 * (1 - np.exp(-0.01)))               # pA
    spikes = jax.lax.scan(lambda s, _: lif.step(s, current, t=0.0, dt=1.0), lif.init(5), None,
                          length=4000)[1]
    measured = np.asarray(jnp.mean(spikes, 0))
    phi = np.asarray(_rate_map(lif, current, dt=1.0, steps=4000))
    np.testing.assert_allclose(phi, np.minimum(drive, 1.0), rtol=1e-5)
    assert np.all(measured <= phi + 1e-6) and np.all(measured >= 0.75 * phi)
    assert measured[-1] == 1.0


def test_jit_and_vmap_over_samples_equal_the_batched_call():
    net = _net(3)
    x = jnp.asarray(np.random.default_rng(3).random((10, 3, 5)), jnp.float32)

    def one(xs):
        return bs.train.rate_value_and_grad(net, lambda r: jnp.sum(r[-1] ** 2), xs, dt=1.0)[1]

    batched = bs.train.rate_value_and_grad(net, lambda r: jnp.sum(r[-1] ** 2), x, dt=1.0)[1]
    per_sample = jax.jit(jax.vmap(one, in_axes=1))(x)
    np.testing.assert_allclose(jnp.sum(per_sample.layers[0].weight, 0), batched.layers[0].weight,
                               rtol=1e-4, atol=1e-6)


def test_bad_input_fails_loudly():
    net = _net()
    with pytest.raises(TypeError, match="Sequential"):
        bs.train.rate_value_and_grad(net.layers[0], lambda r: 0.0, jnp.ones((5, 5)), dt=1.0)
    with pytest.raises(ValueError, match="input_series"):
        bs.train.rate_value_and_grad(net, lambda r: 0.0, jnp.ones(5), dt=1.0)
    with pytest.raises(ValueError, match="dt"):
        bs.train.rate_value_and_grad(net, lambda r: 0.0, jnp.ones((5, 5)), dt=0.0)
    izh = bs.train.Sequential([bs.train.SpikingDense(5, 2, bs.neurons.Izhikevich(),
                                                     key=jax.random.key(0))])
    with pytest.raises(TypeError, match="integrate-and-fire"):
        bs.train.rate_value_and_grad(izh, lambda r: jnp.sum(r[-1]), jnp.ones((5, 5)), dt=1.0)
