"""A brainsim spiking network inside a Flax `nnx` model, trained with `nnx.Optimizer` (optax).

Flax is a development dependency (the `dev` extra), not a runtime one.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from flax import nnx

import brainsim as bs
from brainsim.train import LeakyReadout, Sequential, SpikingDense, max_over_time_cross_entropy

NANOAMPERE = 1000.0  # pA


class SpikingClassifier(nnx.Module):
    """nnx model around a brainsim network: its weights are `nnx.Param`s (in nA, so that one
    learning rate suits them and the Flax head), its neuron parameters fixed `nnx.Variable`s,
    and a plain `nnx.Linear` head reads the readout's maximum potential over time."""

    def __init__(self, n_in: int, hidden: int, n_out: int, *, rngs: nnx.Rngs):
        k1, k2 = jax.random.split(rngs.params())
        net = Sequential(
            [
                SpikingDense(n_in, hidden, bs.neurons.LIF(t_ref=0.0), key=k1, weight_scale=3000.0),
                SpikingDense(hidden, n_out, LeakyReadout(), key=k2, weight_scale=3000.0),
            ]
        )
        arrays, self.structure = eqx.partition(net, eqx.is_inexact_array)
        leaves, self.treedef = jax.tree.flatten(arrays)
        weights = {id(layer.weight) for layer in net.layers}
        self.arrays = nnx.List(
            [nnx.Param(x / NANOAMPERE) if id(x) in weights else nnx.Variable(x) for x in leaves]
        )
        self.head = nnx.Linear(n_out, n_out, rngs=rngs)

    def spiking_network(self) -> Sequential:
        leaves = [v[...] * NANOAMPERE if isinstance(v, nnx.Param) else v[...] for v in self.arrays]
        return eqx.combine(jax.tree.unflatten(self.treedef, leaves), self.structure)

    def __call__(self, x):  # x: (T, n_in) spikes
        _, out = self.spiking_network().run(x, dt=1.0)
        return self.head(out.max(0) / 10.0)  # logits from the peak potential in units of 10 mV


def test_brainsim_layers_inside_a_flax_nnx_model_train_with_optax(two_pattern_task):
    inputs, labels = two_pattern_task(jax.random.key(6))
    model = SpikingClassifier(10, 16, 2, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    initial = model.spiking_network()

    def loss(model):
        logits = jax.vmap(model)(inputs)
        return max_over_time_cross_entropy(logits[None], labels)  # one "time step": plain CE

    @nnx.jit
    def update(model, optimizer):
        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    losses = [float(update(model, optimizer)) for _ in range(30)]
    assert losses[-1] < 0.1 * losses[0]
    trained = model.spiking_network()
    for before, after in zip(initial.layers, trained.layers, strict=True):
        assert not jnp.allclose(before.weight, after.weight)  # the brainsim layers learned
        assert jnp.all(before.neuron.tau_m == after.neuron.tau_m)  # the neurons stayed fixed
