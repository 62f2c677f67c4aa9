import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.train import LeakyReadout, Sequential, SpikingDense, online_value_and_grad

DT = 1.0
TAU_M, TAU_OUT, R_OUT = 10.0, 5.0, 0.1


def _tiny_net():
    k1, k2 = jax.random.split(jax.random.key(0))
    lif = bs.neurons.LIF(tau_m=TAU_M, v_th=-50.0, v_reset=-65.0, t_ref=0.0, R=0.1)
    hidden = SpikingDense(3, 4, lif, key=k1)
    hidden = eqx.tree_at(lambda m: m.weight, hidden, 150.0 + 80.0 * jax.random.normal(k1, (3, 4)))
    readout = SpikingDense(4, 2, LeakyReadout(tau_m=TAU_OUT, R=R_OUT), key=k2, weight_scale=300.0)
    return Sequential([hidden, readout])


def _inputs_and_targets(steps=60):
    t = np.arange(steps) * DT
    x = 1.0 + 0.6 * np.sin(t[:, None] / np.array([2.0, 3.0, 5.0]))
    target = np.stack([np.sin(t / 4.0), np.cos(t / 6.0)], axis=1)
    return x, target


def _hand_written_online_gradient(net, x, target, decay):
    """OTTT for a LIF -> leaky readout network written out in NumPy: per-step errors
    `δ2 = (y - y*) R (1 - e^{-dt/τ_out})`,
    `δ1 = (W2 δ2) σ'(x1) / (v_th - v_reset) · R (1 - e^{-dt/τ_m})`,
    and `ΔW_l += â_l ⊗ δ_l` with `â_l(t) = λ â_l(t-1) + input_l(t)`."""
    w1, w2 = (np.asarray(layer.weight) for layer in net.layers)
    d1, d2 = np.exp(-DT / TAU_M), np.exp(-DT / TAU_OUT)
    v, y = np.full(4, -65.0), np.zeros(2)
    a1, a2 = np.zeros(3), np.zeros(4)
    g1, g2, total = np.zeros_like(w1), np.zeros_like(w2), 0.0
    for n in range(len(x)):
        a1 = decay * a1 + x[n]
        current = x[n] @ w1
        v = -65.0 + 0.1 * current + (v + 65.0 - 0.1 * current) * d1
        distance = (v + 50.0) / 15.0
        spikes = (distance > 0).astype(float)
        v = np.where(spikes > 0, -65.0, v)
        a2 = decay * a2 + spikes
        drive = R_OUT * (spikes @ w2)
        y = drive + (y - drive) * d2
        total += 0.5 * np.sum((y - target[n]) ** 2)
        delta2 = (y - target[n]) * R_OUT * (1 - d2)
        surrogate = 1.0 / (1.0 + 10.0 * np.abs(distance)) ** 2  # FastSigmoid, alpha = 10
        delta1 = (w2 @ delta2) * surrogate / 15.0 * 0.1 * (1 - d1)
        g1 += np.outer(a1, delta1)
        g2 += np.outer(a2, delta2)
    return total, g1, g2


def _squared_error(target):
    def loss_fn(outputs, n):
        return 0.5 * jnp.sum((outputs[-1] - target[n]) ** 2)

    return loss_fn


@pytest.mark.parametrize("tau_trace", [TAU_M, None], ids=["ottt", "sltt"])
def test_online_gradient_equals_hand_written_computation(x64, tau_trace):
    net = _tiny_net()
    x, target = _inputs_and_targets()
    loss, grads, _ = online_value_and_grad(
        net, _squared_error(jnp.asarray(target)), jnp.asarray(x), dt=DT, tau_trace=tau_trace
    )
    decay = 0.0 if tau_trace is None else np.exp(-DT / tau_trace)
    total, g1, g2 = _hand_written_online_gradient(net, x, target, decay)
    assert float(loss) == pytest.approx(total, rel=1e-12)
    assert np.abs(g1).max() > 1e-6 and np.abs(g2).max() > 1e-6
    np.testing.assert_allclose(grads.layers[0].weight, g1, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(grads.layers[1].weight, g2, rtol=1e-9, atol=1e-15)


def test_ottt_is_exact_bptt_for_a_linear_readout(x64):
    """Without spiking layers the only temporal path is the readout's leak, which the trace with
    `tau_trace = tau_out` carries exactly: online and backprop-through-time gradients agree."""
    readout = SpikingDense(3, 2, LeakyReadout(tau_m=TAU_OUT, R=R_OUT), key=jax.random.key(1))
    net = Sequential([readout])
    x, target = _inputs_and_targets(40)
    x, target = jnp.asarray(x), jnp.asarray(target)

    def bptt_loss(net):
        (y,) = net.run(x, dt=DT)
        return 0.5 * jnp.sum((y - target) ** 2)

    bptt = eqx.filter_grad(bptt_loss)(net).layers[0].weight
    _, grads, _ = online_value_and_grad(net, _squared_error(target), x, dt=DT, tau_trace=TAU_OUT)
    np.testing.assert_allclose(grads.layers[0].weight, bptt, rtol=1e-10)


def _online_temp_bytes(steps):
    net = _tiny_net()
    loss_fn = _squared_error(jnp.zeros((steps, 2)))

    arrays, structure = eqx.partition(net, eqx.is_array)

    def grads(arrays, x):
        net = eqx.combine(arrays, structure)
        return online_value_and_grad(net, loss_fn, x, dt=DT, tau_trace=TAU_M)[1]

    compiled = jax.jit(grads).lower(arrays, jnp.ones((steps, 3))).compile()
    return compiled.memory_analysis().temp_size_in_bytes


def test_online_memory_does_not_grow_with_steps():
    short, long = _online_temp_bytes(100), _online_temp_bytes(3000)
    # plain BPTT through the same network keeps ≥ 10 floats per step (> 100 kB at 3000 steps)
    assert long <= short + 1024


def test_online_rejects_other_models_and_bad_trace_constants():
    with pytest.raises(TypeError, match="`model`"):
        online_value_and_grad(bs.neurons.LIF(), lambda o, n: 0.0, jnp.ones((3, 1)), dt=1.0)
    with pytest.raises(ValueError, match="`tau_trace`"):
        online_value_and_grad(
            _tiny_net(), lambda o, n: 0.0, jnp.ones((3, 3)), dt=1.0, tau_trace=-1.0
        )


def test_batched_inputs_give_the_mean_of_per_sample_gradients(x64):
    net = _tiny_net()
    rng = np.random.default_rng(5)
    xs = jnp.asarray(1.0 + 0.5 * rng.random((30, 3, 3)))  # (T, batch, n_in)
    target = jnp.asarray(rng.normal(size=(30, 3, 2)))

    def batch_loss(outputs, n):
        return 0.5 * jnp.mean(jnp.sum((outputs[-1] - target[n]) ** 2, axis=-1))

    loss, grads, _ = online_value_and_grad(net, batch_loss, xs, dt=DT, tau_trace=TAU_M)
    per_sample = [
        online_value_and_grad(net, _squared_error(target[:, b]), xs[:, b], dt=DT, tau_trace=TAU_M)
        for b in range(3)
    ]
    assert float(loss) == pytest.approx(np.mean([float(p[0]) for p in per_sample]), rel=1e-12)
    for layer in range(2):
        expected = np.mean([p[1].layers[layer].weight for p in per_sample], axis=0)
        np.testing.assert_allclose(grads.layers[layer].weight, expected, rtol=1e-9, atol=1e-15)
