import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.train import DCLSDense, LeakyReadout, sigma_schedule, tap_weights

DT = 1.0


def _layer(neuron=None, n_in=6, n_out=4, n_taps=7, kinetics=None, sigma=None, scale=3000.0):
    neuron = bs.neurons.LIF(t_ref=0.0) if neuron is None else neuron
    return DCLSDense(
        n_in, n_out, neuron, n_taps=n_taps, key=jax.random.key(3), weight_scale=scale,
        sigma=sigma, kinetics=kinetics,
    )  # fmt: skip


def _raster(key, steps=60, n=6, p=0.2):
    return jax.random.bernoulli(key, p, (steps, n)).astype(jnp.result_type(float))


def test_tap_weights_are_the_normalised_gaussian(x64):
    d = np.array([0.0, 1.3, 4.5, 6.0])
    sigma = 1.7
    taps = np.arange(7)[:, None]
    g = np.exp(-((taps - d) ** 2) / (2 * sigma**2))
    np.testing.assert_allclose(tap_weights(jnp.asarray(d), sigma, 7), g / g.sum(0), rtol=1e-12)


def test_kernel_sums_to_the_weight_and_is_centred_on_the_delay(x64):
    layer = _layer(sigma=0.8)
    layer = eqx.tree_at(lambda m: m.delay, layer, jnp.full((6, 4), 3.0))  # far from the ends
    kernel = layer.kernel()
    np.testing.assert_allclose(kernel.sum(0), layer.weight, rtol=1e-12)
    a = kernel / layer.weight
    np.testing.assert_allclose(np.tensordot(np.arange(7), a, 1), 3.0, rtol=1e-9)


def test_small_sigma_gives_a_near_one_hot_kernel_at_the_nearest_tap(x64):
    d = jnp.array([0.2, 2.7, 3.4, 5.9])
    one_hot = tap_weights(d, 0.0, 7)
    np.testing.assert_array_equal(np.argmax(one_hot, 0), [0, 3, 3, 6])
    np.testing.assert_array_equal(one_hot.sum(0), 1.0)
    # worst case d = 3.4: taps 0.4 and 0.6 away, ratio exp(-(0.6² - 0.4²) / (2 · 0.1²)) = e^-10
    np.testing.assert_allclose(tap_weights(d, 0.1, 7), one_hot, atol=4.6e-5)
    spread = [float(jnp.max(tap_weights(d, s, 7))) for s in (3.0, 1.0, 0.5, 0.1)]
    assert spread == sorted(spread)  # the peak sharpens monotonically as σ shrinks


def test_step_by_step_equals_the_whole_sequence_convolution(x64):
    for kinetics in (None, bs.synapses.Exponential(tau=3.0)):
        layer = _layer(kinetics=kinetics)
        x = _raster(jax.random.key(1))
        state, spikes = layer.init(), []
        for n in range(x.shape[0]):
            state, s = layer.step(state, x[n], t=n * DT, dt=DT)
            spikes.append(s)
        np.testing.assert_array_equal(layer.run(x, dt=DT), np.stack(spikes))
        assert np.sum(spikes) > 10  # the comparison covers spiking, not silence


def test_rounded_currents_are_the_explicitly_delayed_weighted_spikes(x64):
    layer = _layer().round_delays()
    x = np.asarray(_raster(jax.random.key(2)))
    d = np.asarray(layer.delay).astype(int)
    w = np.asarray(layer.weight)
    expected = np.zeros((x.shape[0], 4))
    for n in range(x.shape[0]):
        for i in range(6):
            for j in range(4):
                if n - d[i, j] >= 0:
                    expected[n, j] += w[i, j] * x[n - d[i, j], i]
    np.testing.assert_allclose(layer.currents(jnp.asarray(x)), expected, rtol=1e-12, atol=1e-9)
    assert len(np.unique(d)) > 3  # varied delays


@pytest.mark.parametrize("kinetics", [None, bs.synapses.Exponential(tau=4.0)])
def test_rounded_layer_and_event_driven_network_give_the_same_spikes_and_currents(kinetics):
    layer = _layer(kinetics=kinetics, scale=6000.0).round_delays()
    x = _raster(jax.random.key(4), steps=80)
    layer_spikes = layer.run(x, dt=DT)
    layer_currents = layer.currents(x)
    if kinetics is not None:  # the layer's synaptic variable, integrated by hand
        decay = np.exp(-DT / 4.0)
        g, filtered = np.zeros(4), []
        for current in np.asarray(layer_currents):
            g = g * decay + current
            filtered.append(g)
        layer_currents = np.stack(filtered)
    steps, pre = np.nonzero(np.asarray(x))
    source = bs.neurons.SpikeTimes(times=steps * DT, indices=pre)
    net = layer.to_network(source, dt=DT)
    result = bs.run(
        net, net.init(), dt=DT, steps=81, stream=False,
        record={
            "post": lambda state, outputs: outputs["output"],
            "g": lambda state, outputs: state["synapses"]["input->output"].kinetics.g,
        },
    )  # fmt: skip
    # the network's synaptic variable after step n is the layer's current of step n ...
    np.testing.assert_allclose(result.traces["g"][:80], layer_currents, rtol=2e-5, atol=1e-2)
    # ... which drives the network's neurons one step later
    np.testing.assert_array_equal(result.traces["post"][1:], layer_spikes)
    assert 20 < np.sum(layer_spikes) < 0.8 * layer_spikes.size


def test_delay_and_weight_gradients_match_finite_differences(x64, finite_differences):
    layer = _layer(LeakyReadout(tau_m=5.0), n_in=3, n_out=2, n_taps=6, sigma=1.2, scale=50.0)
    x = _raster(jax.random.key(5), steps=25, n=3, p=0.4)
    target = jax.random.normal(jax.random.key(6), (25, 2))

    @jax.jit
    def loss(delay, weight):
        model = eqx.tree_at(lambda m: (m.delay, m.weight), layer, (delay, weight))
        return jnp.sum((model.run(x, dt=DT) - target) ** 2)

    g_delay, g_weight = jax.grad(loss, argnums=(0, 1))(layer.delay, layer.weight)
    fd_delay = finite_differences(lambda d: loss(jnp.asarray(d), layer.weight), layer.delay)
    fd_weight = finite_differences(lambda w: loss(layer.delay, jnp.asarray(w)), layer.weight)
    np.testing.assert_allclose(g_delay, fd_delay, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_weight, fd_weight, rtol=1e-5, atol=1e-7)
    assert np.all(np.abs(g_delay) > 0)


def test_sigma_gets_no_gradient_and_spiking_delay_gradients_are_finite():
    layer = _layer(sigma=0.7)
    x = _raster(jax.random.key(7))

    @jax.jit
    @jax.grad
    def grad(model):
        return jnp.sum(model.run(x, dt=DT))

    grads = grad(layer)
    assert float(grads.sigma) == 0.0
    assert np.all(np.isfinite(grads.delay)) and np.any(grads.delay != 0)
    hard = grad(layer.round_delays())
    np.testing.assert_array_equal(hard.delay, 0.0)  # σ = 0: a hard tap, no delay gradient
    assert np.any(hard.weight != 0)


def test_jit_and_vmap_equal_the_loop_over_samples():
    layer = _layer()
    xs = jnp.stack([_raster(k) for k in jax.random.split(jax.random.key(8), 3)])
    loop = np.stack([layer.run(x, dt=DT) for x in xs])
    np.testing.assert_array_equal(jax.vmap(lambda x: layer.run(x, dt=DT))(xs), loop)
    jitted = jax.jit(lambda m, x: m.run(x, dt=DT))
    np.testing.assert_array_equal(jitted(layer, xs[0]), loop[0])
    states = jax.vmap(lambda _: layer.init())(jnp.arange(3))
    _, out = jax.vmap(lambda s, x: layer.step(s, x, t=0.0, dt=DT))(states, xs[:, 0])
    assert out.shape == (3, 4)


def test_layer_sits_in_sequential():
    k1, k2 = jax.random.split(jax.random.key(9))
    net = bs.train.Sequential([
        DCLSDense(6, 8, bs.neurons.LIF(t_ref=0.0), n_taps=5, key=k1, weight_scale=3000.0),
        bs.train.SpikingDense(8, 2, LeakyReadout(), key=k2),
    ])  # fmt: skip
    x = _raster(jax.random.key(10))
    hidden, out = net.run(x, dt=DT)
    np.testing.assert_array_equal(hidden, net.layers[0].run(x, dt=DT))
    assert out.shape == (60, 2)


def test_round_clamp_and_sigma_helpers():
    layer = eqx.tree_at(lambda m: m.delay, _layer(), jnp.full((6, 4), 7.6).at[0, 0].set(-2.0))
    clamped = layer.clamp_delays()
    assert float(clamped.delay.max()) == 6.0 and float(clamped.delay.min()) == 0.0
    hard = layer.round_delays()
    assert float(hard.sigma) == 0.0 and set(np.unique(hard.delay)) == {0.0, 6.0}
    assert float(layer.with_sigma(0.25).sigma) == 0.25
    values = [float(sigma_schedule(s, 40, 3.5, 0.5)) for s in range(0, 60, 5)]
    assert values[0] == pytest.approx(3.5) and values[-1] == pytest.approx(0.5)
    assert values == sorted(values, reverse=True)


def test_bad_inputs_fail_with_a_message():
    lif = bs.neurons.LIF()
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="n_taps"):
        DCLSDense(3, 2, lif, n_taps=0, key=key)
    with pytest.raises(ValueError, match="sigma"):
        DCLSDense(3, 2, lif, n_taps=4, key=key, sigma=-1.0)
    with pytest.raises(TypeError, match="neuron"):
        DCLSDense(3, 2, object(), n_taps=4, key=key)
    with pytest.raises(TypeError, match="kinetics"):
        DCLSDense(3, 2, lif, n_taps=4, key=key, kinetics=5.0)
    layer = DCLSDense(3, 2, lif, n_taps=4, key=key)
    with pytest.raises(ValueError, match="n_in = 3"):
        layer.step(layer.init(), jnp.ones(4), t=0.0, dt=DT)
    with pytest.raises(ValueError, match="n_in = 3"):
        layer.currents(jnp.ones((2, 10, 3)))
    with pytest.raises(ValueError, match="dt"):
        layer.to_projection("a", "b", dt=0.0)
    with pytest.raises(ValueError, match="total_steps"):
        sigma_schedule(0, 0, 2.0)
