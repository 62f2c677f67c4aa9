import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import brainsim as bs
from brainsim.train import (
    LeakyReadout,
    Sequential,
    SpikingDense,
    max_over_time_cross_entropy,
    rate_regularizer,
)

DT = 1.0


def _net(key=None, n_in=10, hidden=16, n_out=2):
    k1, k2 = jax.random.split(jax.random.key(0) if key is None else key)
    return Sequential(
        [
            SpikingDense(n_in, hidden, bs.neurons.LIF(t_ref=0.0), key=k1, weight_scale=3000.0),
            SpikingDense(hidden, n_out, LeakyReadout(), key=k2, weight_scale=3000.0),
        ]
    )


def test_sequential_run_equals_a_hand_written_loop_over_time_and_layers(x64):
    net = _net()
    x = jax.random.bernoulli(jax.random.key(1), 0.3, (30, 10)).astype(float)
    hidden, out = net.run(x, dt=DT)
    lif, readout = net.layers[0].neuron, net.layers[1].neuron
    s_h, s_o = lif.init(16), readout.init(2)
    for n in range(30):
        s_h, spikes = lif.step(s_h, x[n] @ net.layers[0].weight, t=n * DT, dt=DT)
        s_o, v = readout.step(s_o, spikes @ net.layers[1].weight, t=n * DT, dt=DT)
        np.testing.assert_array_equal(hidden[n], spikes)
        np.testing.assert_allclose(out[n], v, rtol=1e-12)
    assert float(hidden.sum()) > 0
    (readout_only,) = net.run(x, dt=DT, layers=[-1])
    np.testing.assert_array_equal(readout_only, out)


def test_batches_through_vmap_equal_a_loop_over_samples():
    net = _net()
    xs = jax.random.bernoulli(jax.random.key(2), 0.3, (3, 25, 10)).astype(jnp.float32)
    batched = jax.vmap(lambda x: net.run(x, dt=DT))(xs)
    for b in range(3):
        single = net.run(xs[b], dt=DT)
        for layer_out, batch_out in zip(single, batched, strict=True):
            np.testing.assert_allclose(batch_out[b], layer_out, atol=1e-5)


def test_checkpointed_run_gives_the_same_weight_gradients(x64):
    net = _net()
    x = jax.random.bernoulli(jax.random.key(3), 0.3, (40, 10)).astype(float)

    def loss(net, checkpoint_every):
        hidden, out = net.run(x, dt=DT, checkpoint_every=checkpoint_every)
        return jnp.sum(out**2) + rate_regularizer(hidden, dt=DT, high=50.0)

    plain = eqx.filter_grad(loss)(net, None)
    blocks = eqx.filter_grad(loss)(net, 8)
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(blocks), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    assert float(jnp.abs(plain.layers[0].weight).sum()) > 0


def test_layers_check_their_arguments():
    with pytest.raises(ValueError, match="`n_in`"):
        SpikingDense(0, 3, bs.neurons.LIF(), key=jax.random.key(0))
    with pytest.raises(TypeError, match="`neuron`"):
        SpikingDense(2, 3, "LIF", key=jax.random.key(0))
    a = SpikingDense(2, 3, bs.neurons.LIF(), key=jax.random.key(0))
    b = SpikingDense(4, 1, LeakyReadout(), key=jax.random.key(1))
    with pytest.raises(ValueError, match="layer 0 has 3 outputs but layer 1 takes 4"):
        Sequential([a, b])
    with pytest.raises(ValueError, match="`layers`"):
        Sequential([])


class Classifier(eqx.Module):
    """An equinox model with a brainsim network inside: spike trains in, class logits out."""

    net: Sequential

    def __call__(self, x):
        hidden, out = self.net.run(x, dt=DT)
        return out, hidden


def weights_only(model):
    """A filter spec (equinox) that selects the layers' weights and nothing else."""
    spec = jax.tree.map(lambda _: False, model)
    weights = lambda m: tuple(layer.weight for layer in m.net.layers)  # noqa: E731
    return eqx.tree_at(weights, spec, replace=(True,) * len(model.net.layers))


def test_spiking_layers_inside_an_equinox_model_learn_a_task_with_optax(two_pattern_task):
    inputs, labels = two_pattern_task(jax.random.key(4))
    model = Classifier(net=_net(jax.random.key(5)))
    trainable, fixed = eqx.partition(model, weights_only(model))

    def loss(trainable):
        out, hidden = jax.vmap(eqx.combine(trainable, fixed))(inputs)  # (batch, T, C)
        return max_over_time_cross_entropy(jnp.swapaxes(out, 0, 1), labels)  # time first

    optimizer = optax.adam(20.0)  # pA per step: the weights are hundreds of pA
    opt_state = optimizer.init(trainable)

    @jax.jit
    def update(trainable, opt_state):
        value, grads = jax.value_and_grad(loss)(trainable)
        updates, opt_state = optimizer.update(grads, opt_state, trainable)
        return optax.apply_updates(trainable, updates), opt_state, value

    losses = []
    for _ in range(60):
        trainable, opt_state, value = update(trainable, opt_state)
        losses.append(float(value))
    assert losses[-1] < 0.1 * losses[0]
    out, _ = jax.vmap(eqx.combine(trainable, fixed))(inputs)
    accuracy = float(jnp.mean(jnp.argmax(out.max(1), -1) == labels))
    assert accuracy >= 0.9
