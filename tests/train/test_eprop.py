"""e-prop: the eligibility-trace gradient against the exact truncated gradient, learning, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import brainsim as bs
from brainsim.train import RecurrentSNN, eprop_value_and_grad, random_feedback


def _task(key, steps=60, n_in=3):
    x = (jax.random.uniform(key, (steps, n_in)) < 0.3).astype(float)
    t = jnp.arange(steps)
    return x, jnp.sin(2 * jnp.pi * t / 30.0)[:, None]


def _truncated_loss(net, x, target, dt):
    """E with the recurrent spikes z(t - dt) held constant in I(t): the gradient e-prop gives."""

    def step(state, inputs):
        x_t, k = inputs
        frozen = state._replace(spikes=jax.lax.stop_gradient(state.spikes))
        state, y = net.step(frozen, x_t, t=k * dt, dt=dt)
        return state, y

    _, y = jax.lax.scan(step, net.init(), (x, jnp.arange(x.shape[0])))
    return 0.5 * jnp.sum((y - target) ** 2)


@pytest.mark.parametrize(
    "neuron",
    [
        bs.neurons.LIF(tau_m=20.0, v_th=-60.0, t_ref=0.0),
        bs.neurons.LIF(tau_m=20.0, v_th=-60.0, t_ref=2.0, detach_reset=True),
        bs.neurons.ALIF(tau_m=20.0, v_th=-60.0, t_ref=0.0, tau_a=100.0, beta=2.0),
    ],
    ids=["LIF", "LIF_detached_refractory", "ALIF"],
)
def test_eligibility_gradient_equals_truncated_bptt(neuron, x64):
    key = jax.random.key(0)
    net = RecurrentSNN.create(
        3, 12, 1, key=key, neuron=neuron, input_scale=300.0, recurrent_scale=150.0
    )
    x, target = _task(jax.random.key(1))
    loss, grads, _ = jax.jit(lambda n: eprop_value_and_grad(n, x, target, dt=1.0))(net)
    exact_loss, exact = eqx.filter_value_and_grad(_truncated_loss)(net, x, target, 1.0)
    spikes = bs.run(
        net,
        net.init(),
        input_series=x,
        steps=60,
        dt=1.0,
        stream=False,
        record={"z": lambda s, _: s.spikes},
    )
    assert float(spikes.traces["z"].sum()) > 10  # the network is active
    # The same sums taken in another order: agreement to float64 rounding.
    assert float(loss) == pytest.approx(float(exact_loss), rel=1e-12)
    for name in ("w_in", "w_rec", "w_out"):
        ours, theirs = getattr(grads, name), getattr(exact, name)
        if name == "w_rec":
            theirs = theirs * (1 - jnp.eye(12))
        scale = float(jnp.abs(theirs).max())
        assert scale > 0, name
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12 * scale)


def test_random_feedback_differs_only_in_the_hidden_gradients(x64):
    net = RecurrentSNN.create(3, 10, 2, key=jax.random.key(2), input_scale=300.0)
    x, target = _task(jax.random.key(3))
    target = jnp.concatenate([target, -target], axis=1)
    b = random_feedback(jax.random.key(4), net)
    _, sym, _ = eprop_value_and_grad(net, x, target, dt=1.0)
    _, rnd, _ = eprop_value_and_grad(net, x, target, dt=1.0, feedback=b)
    np.testing.assert_array_equal(sym.w_out, rnd.w_out)
    assert not np.allclose(sym.w_in, rnd.w_in)
    # Feeding back W_out itself is symmetric e-prop.
    _, same, _ = eprop_value_and_grad(net, x, target, dt=1.0, feedback=net.w_out)
    np.testing.assert_array_equal(same.w_in, sym.w_in)


def test_vmap_over_samples_equals_loop():
    net = RecurrentSNN.create(3, 8, 1, key=jax.random.key(5), input_scale=300.0)
    xs = jnp.stack([_task(jax.random.key(k))[0] for k in range(3)])
    target = _task(jax.random.key(0))[1]
    batched = jax.vmap(lambda x: eprop_value_and_grad(net, x, target, dt=1.0)[:2])(xs)
    for k in range(3):
        loss, grads, _ = eprop_value_and_grad(net, xs[k], target, dt=1.0)
        # float32: the batched and single reductions may associate differently.
        np.testing.assert_allclose(batched[0][k], loss, rtol=1e-5)
        np.testing.assert_allclose(batched[1].w_in[k], grads.w_in, rtol=1e-4, atol=1e-6)


def test_eprop_learns_a_sine():
    """Adam on e-prop gradients fits a sine far better than a silent readout does."""
    neuron = bs.neurons.LIF(tau_m=20.0, v_th=-60.0, t_ref=2.0)
    readout = bs.train.LeakyReadout(tau_m=20.0, R=1.0)
    net = RecurrentSNN.create(
        5,
        30,
        1,
        key=jax.random.key(6),
        input_scale=300.0,
        output_scale=100.0,
        neuron=neuron,
        readout=readout,
    )
    x = (jax.random.uniform(jax.random.key(7), (100, 5)) < 0.2).astype(float)
    target = jnp.sin(2 * jnp.pi * jnp.arange(100) / 50.0)[:, None]
    optimizer = optax.adam(5.0)

    def weights(net):
        return net.w_in, net.w_rec, net.w_out

    opt_state = optimizer.init(weights(net))

    @eqx.filter_jit
    def update(net, opt_state):
        loss, grads, _ = eprop_value_and_grad(net, x, target, dt=1.0)
        updates, opt_state = optimizer.update(weights(grads), opt_state)
        new = optax.apply_updates(weights(net), updates)
        return eqx.tree_at(weights, net, new), opt_state, loss

    losses = []
    for _ in range(50):
        net, opt_state, loss = update(net, opt_state)
        losses.append(float(loss))
    silent = 0.5 * float(jnp.sum(target**2))
    assert min(losses[-10:]) < 0.7 * silent, losses


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda n, x, y: eprop_value_and_grad(n, x[:, :2], y, dt=1.0), "`input_series`"),
        (lambda n, x, y: eprop_value_and_grad(n, x, y[:10], dt=1.0), "`target_series`"),
        (lambda n, x, y: eprop_value_and_grad(n, x, y, dt=0.0), "`dt`"),
        (
            lambda n, x, y: eprop_value_and_grad(n, x, y, dt=1.0, feedback=jnp.ones(3)),
            "`feedback`",
        ),
        (lambda n, x, y: RecurrentSNN(n.w_in, n.w_rec[:, :4], n.w_out), "`w_rec`"),
        (lambda n, x, y: eprop_value_and_grad(n.neuron, x, y, dt=1.0), "`net`"),
    ],
)
def test_bad_input_is_named(call, match):
    net = RecurrentSNN.create(3, 8, 1, key=jax.random.key(0))
    x, target = _task(jax.random.key(1))
    with pytest.raises((ValueError, TypeError), match=match):
        call(net, x, target)


@pytest.mark.slow
def test_eprop_sine_example_lowers_the_loss(run_example):
    out = run_example("eprop_sine")
    first, last = (float(x) for x in out.split("loss ")[1].split(" in ")[0].split(" -> "))
    assert last < 0.5 * first
