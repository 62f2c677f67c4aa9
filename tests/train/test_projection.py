"""Orthogonal projection of weight updates: exactness, equivalence across forms, optax, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import brainsim as bs
from brainsim.continual import energy_basis


def _net(sizes=(6, 8, 8, 3), seed=0):
    keys = jax.random.split(jax.random.key(seed), len(sizes) - 1)
    lif = bs.neurons.LIF(tau_m=100.0, v_rest=0.0, v_reset=0.0, v_th=1.0, t_ref=0.0, R=100.0,
                         spike_fn=bs.surrogate.FastSigmoid(alpha=1.0))
    layers = [bs.train.SpikingDense(a, b, lif, key=k, weight_scale=2.0)
              for a, b, k in zip(sizes[:-2], sizes[1:-1], keys[:-1], strict=True)]
    layers.append(bs.train.SpikingDense(sizes[-2], sizes[-1], bs.train.LeakyReadout(tau_m=1e-3,
                                                                                    R=1.0),
                                        key=keys[-1], weight_scale=1.0))
    return bs.train.Sequential(layers)


def _outputs(net, x, steps=6):
    """Every layer's outputs `(T, B, n)` for inputs `x` `(B, n_in)` held for `steps` steps."""
    state = jax.tree.map(lambda a: jnp.broadcast_to(a, x.shape[:1] + a.shape[-1:]), net.init())
    return jax.lax.scan(lambda s, _: net.step(s, x, t=0.0, dt=1.0), state, None, length=steps)[1]


def _loss(net, x, y):
    logits = jnp.mean(_outputs(net, x)[-1], axis=0)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def _basis(rng, k, n):
    q, _ = np.linalg.qr(rng.normal(size=(n, k)))
    return jnp.asarray(q.T, jnp.result_type(float))


def test_projected_update_leaves_responses_to_protected_inputs_unchanged():
    rng = np.random.default_rng(0)
    basis = _basis(rng, 3, 7)
    old_inputs = rng.normal(size=(20, 3)) @ np.asarray(basis)        # inside the span
    update = jnp.asarray(rng.normal(size=(7, 4)), jnp.float32)
    net = bs.train.Sequential([bs.train.SpikingDense(7, 4, bs.train.LeakyReadout(),
                                                     key=jax.random.key(0))])
    updates = eqx.tree_at(lambda m: m.layers[0].weight, net, update)
    projected = bs.train.project_updates(updates, [basis]).layers[0].weight
    np.testing.assert_allclose(old_inputs @ np.asarray(projected), 0, atol=1e-5)
    residual = np.asarray(update - projected)                         # only the span removed
    np.testing.assert_allclose(residual, np.asarray(basis.T @ (basis @ update)), atol=1e-6)


def test_straight_through_current_gives_the_projected_bptt_gradient(x64):
    rng = np.random.default_rng(1)
    net = _net(seed=1)
    x = jnp.asarray(rng.random((5, 6)))
    y = jnp.asarray(rng.integers(0, 3, 5))
    bases = [_basis(rng, 2, 6), _basis(rng, 4, 8)]
    grads = eqx.filter_grad(_loss)(net, x, y)
    projected = bs.train.project_updates(grads, bases + [None])

    def straight_through_loss(weights):
        state = jax.tree.map(lambda a: jnp.broadcast_to(a, (5,) + a.shape[-1:]), net.init())

        def step(states, _):
            h, new = x, []
            for i, (layer, s) in enumerate(zip(net.layers, states, strict=True)):
                current = (bs.train.orthogonal_current(h, weights[i], bases[i]) if i < 2
                           else h @ weights[i])
                s, h = layer.neuron.step(s, current, t=0.0, dt=1.0)
                new.append(s)
            return tuple(new), h

        logits = jnp.mean(jax.lax.scan(step, state, None, length=6)[1], axis=0)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    weights = [layer.weight for layer in net.layers]
    assert float(straight_through_loss(weights)) == pytest.approx(float(_loss(net, x, y)))
    per_step = jax.grad(straight_through_loss)(weights)
    for i in range(3):
        np.testing.assert_allclose(per_step[i], projected.layers[i].weight, rtol=1e-9, atol=1e-12)


def test_orthogonal_current_matches_the_stop_gradient_form():
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.normal(size=(4, 5)), jnp.float32)
    W = jnp.asarray(rng.normal(size=(5, 3)), jnp.float32)
    B = _basis(rng, 2, 5)
    sg = jax.lax.stop_gradient

    def stop_gradient_form(x, W):
        x_perp = x - (x @ B.T) @ B
        return x @ sg(W) + sg(x_perp) @ W - sg(x_perp @ W)

    cot = jnp.asarray(rng.normal(size=(4, 3)), jnp.float32)
    ours = jax.vjp(lambda x, W: bs.train.orthogonal_current(x, W, B), x, W)
    theirs = jax.vjp(stop_gradient_form, x, W)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    for a, b in zip(ours[1](cot), theirs[1](cot), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    batched = jax.vmap(lambda x: bs.train.orthogonal_current(x, W, B))(x[:, None])
    np.testing.assert_allclose(batched[:, 0], x @ W, rtol=1e-6)


@pytest.mark.parametrize("optimizer", [optax.sgd(0.5), optax.sgd(0.5, momentum=0.9),
                                       optax.adam(0.05)], ids=["sgd", "momentum", "adam"])
def test_exact_projector_leaves_old_task_outputs_unchanged_to_rounding(optimizer, x64):
    rng = np.random.default_rng(3)
    net = _net((10, 16, 16, 3), seed=3)
    old_x = jnp.asarray(rng.random((2, 10)))
    new_x = jnp.asarray(rng.random((16, 10)) + 0.5)
    new_y = jnp.asarray(rng.integers(0, 3, 16))
    outputs = _outputs(net, old_x)
    rows = [old_x] + [o.reshape(-1, o.shape[-1]) for o in outputs[:-1]]
    bases = [jnp.asarray(energy_basis(np.asarray(r), threshold=1.0)) for r in rows]
    ranks = [int(np.linalg.matrix_rank(np.asarray(r))) for r in rows]
    assert [b.shape[0] for b in bases] == ranks and ranks[0] == 2 and max(ranks) < 16
    spec = jax.tree.map(lambda _: False, net)
    spec = eqx.tree_at(lambda m: [lay.weight for lay in m.layers], spec, [True] * 3)
    params, rest = eqx.partition(net, spec)
    opt = bs.train.orthogonal_projection(optimizer)
    opt_state = opt.init(params)
    before = [np.asarray(o) for o in _outputs(net, old_x)]

    @jax.jit
    def train_step(params, opt_state):
        grads = jax.grad(lambda p: _loss(eqx.combine(p, rest), new_x, new_y))(params)
        updates, opt_state = opt.update(grads, opt_state, params, bases=bases)
        return optax.apply_updates(params, updates), opt_state, grads

    for _ in range(20):
        params, opt_state, grads = train_step(params, opt_state)
    trained = eqx.combine(params, rest)
    assert float(_loss(trained, new_x, new_y)) < float(_loss(net, new_x, new_y)) - 0.01
    after = [np.asarray(o) for o in _outputs(trained, old_x)]
    for b, a in zip(before, after, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    unprotected = optax.apply_updates(params, jax.tree.map(lambda u: 5 * u, grads))
    moved = np.asarray(_outputs(eqx.combine(unprotected, rest), old_x)[-1])
    assert np.abs(moved - before[-1]).max() > 1e-3                     # the check can fail


def test_projection_refuses_optimisers_with_weight_decay():
    params = eqx.filter(_net(), eqx.is_inexact_array)
    for optimizer in (optax.adamw(1e-3), optax.chain(optax.add_decayed_weights(1e-4),
                                                      optax.sgd(0.1))):
        with pytest.raises(ValueError, match="weight decay"):
            bs.train.orthogonal_projection(optimizer).init(params)
    bs.train.orthogonal_projection(optax.adam(1e-3)).init(params)      # no decay: accepted


def test_projection_composes_inside_optax_chain_and_under_jit():
    net = _net()
    params = eqx.filter(net, eqx.is_inexact_array)
    opt = optax.chain(optax.clip_by_global_norm(1.0),
                      bs.train.orthogonal_projection(optax.sgd(0.1)))
    state = opt.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    basis = jnp.eye(6)[:2]
    updates, _ = jax.jit(lambda g, s, p, b: opt.update(g, s, p, bases=b))(
        grads, state, params, [basis, None, None])
    np.testing.assert_allclose(updates.layers[0].weight[:2], 0, atol=1e-7)
    assert np.all(np.asarray(updates.layers[0].weight[2:]) != 0)
    assert np.all(np.asarray(updates.layers[1].weight) != 0)


def test_bad_bases_fail_loudly():
    net = _net()
    with pytest.raises(ValueError, match="one entry per layer"):
        bs.train.project_updates(net, [None])
    with pytest.raises(ValueError, match="basis of layer 0"):
        bs.train.project_updates(net, [jnp.ones((2, 5)), None, None])
    with pytest.raises(TypeError, match="Sequential"):
        bs.train.project_updates({"w": jnp.ones(3)}, [None])
    with pytest.raises(TypeError, match="optax"):
        bs.train.orthogonal_projection("sgd")
