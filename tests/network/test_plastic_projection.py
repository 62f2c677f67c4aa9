"""Projections with long-term plasticity: weights as state, updated from the network's spikes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim.plasticity import STDP, EligibilitySTDP

DT = 0.1


def _network(rule, n_pre=40, n_post=6, conn=None):
    conn = conn if conn is not None else bo.fixed_prob(jax.random.key(0), n_pre, n_post, 0.5,
                                                       weight=0.5)
    lif = bs.neurons.LIF(tau_m=10.0, v_rest=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=2.0, R=1.0)
    projection = bs.Projection("pre", "post", conn, bs.synapses.Exponential(tau=5.0),
                               bs.synapses.Current(), plasticity=rule)
    net = bs.Network({"pre": (bs.neurons.PoissonSource(rate=40.0), n_pre), "post": (lif, n_post)},
                     [projection])
    return net, conn


@pytest.mark.parametrize("make_conn", [
    lambda: bo.fixed_prob(jax.random.key(0), 40, 6, 0.5, weight=0.5),
    lambda: bo.fixed_in_degree(jax.random.key(0), 40, 6, 10, weight=0.5),
    lambda: bo.Dense(jnp.full((40, 6), 0.5)),
])
def test_network_weights_equal_the_rule_replayed_on_the_recorded_spikes(make_conn):
    rule = STDP(A_plus=0.02, A_minus=0.021, tau_plus=15.0, tau_minus=25.0, w_max=1.0)
    net, conn = _network(rule, conn=make_conn())
    result = bs.run(net, net.init(jax.random.key(1)), inputs={"post": 16.0}, steps=1500, dt=DT,
                    record=["pre.spikes", "post.spikes"])
    pre = np.zeros((1500, 40), np.float32)
    post = np.zeros((1500, 6), np.float32)
    for array, events in ((pre, result.spikes["pre.spikes"]), (post, result.spikes["post.spikes"])):
        array[np.round(events.times / DT).astype(int), events.indices] = 1.0
    assert pre.sum() > 100 and post.sum() > 20

    @jax.jit
    def replay(pre, post):
        def one(carry, spikes):
            w, traces = carry
            w, traces = rule.update(traces, w, spikes[0], spikes[1], dt=DT, conn=conn)
            return (w, traces), None

        w0 = jnp.broadcast_to(conn.weights, conn.synapse_shape)
        return jax.lax.scan(one, (w0, rule.init(conn)), (pre, post))[0][0]

    expected = replay(jnp.asarray(pre), jnp.asarray(post))
    got = result.final_state["synapses"]["pre->post"].weights
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert not np.allclose(got, 0.5)


def test_delivery_uses_the_plastic_weights():
    frozen = STDP(A_plus=0.0, A_minus=0.0)
    conn = bo.fixed_prob(jax.random.key(2), 10, 4, 0.6, weight=0.5)
    projection = bs.Projection("a", "b", conn, bs.synapses.Exponential(tau=5.0),
                               bs.synapses.Current(), plasticity=frozen)
    state = projection.init()
    state = state._replace(weights=3.0 * state.weights)
    spikes = jnp.zeros(10).at[jnp.array([1, 7])].set(1.0)
    new = projection.step(state, spikes, jnp.int32(0), dt=DT, post_spikes=jnp.zeros(4))
    expected = 3.0 * bo.event_matvec(spikes, conn)
    np.testing.assert_allclose(new.kinetics.g, expected, rtol=1e-6)


def test_modulator_reaches_a_three_factor_rule_through_the_network_inputs():
    rule = EligibilitySTDP(A_plus=0.05, A_minus=0.05, tau_c=200.0, learning_rate=0.01)
    net, _ = _network(rule)
    state = net.init(jax.random.key(3))
    quiet = bs.run(net, state, inputs={"post": 16.0, "modulators": {"pre->post": 0.0}},
                   steps=800, dt=DT, record=None)
    rewarded = bs.run(net, state, inputs={"post": 16.0, "modulators": {"pre->post": 1.0}},
                      steps=800, dt=DT, record=None)
    w0 = np.broadcast_to(0.5, rewarded.final_state["synapses"]["pre->post"].weights.shape)
    np.testing.assert_allclose(quiet.final_state["synapses"]["pre->post"].weights, w0)
    assert not np.allclose(rewarded.final_state["synapses"]["pre->post"].weights, w0)


def test_plastic_network_jit_vmap_over_learning_rate_and_grad():
    conn = bo.fixed_prob(jax.random.key(0), 40, 6, 0.5, weight=0.5)

    def final_mean_weight(a_plus):
        rule = STDP(A_plus=a_plus, A_minus=0.01, w_max=2.0)
        net, _ = _network(rule, conn=conn)
        out = bs.run(net, net.init(jax.random.key(4)), inputs={"post": 16.0}, steps=300, dt=DT,
                     record=None)
        return out.final_state["synapses"]["pre->post"].weights.mean()

    grid = jnp.array([0.0, 0.01, 0.02])
    vmapped = jax.jit(jax.vmap(final_mean_weight))(grid)
    looped = jnp.stack([final_mean_weight(a) for a in grid])
    np.testing.assert_allclose(vmapped, looped, rtol=1e-5)
    assert vmapped[2] > vmapped[1] > vmapped[0]
    assert float(jax.grad(final_mean_weight)(0.01)) > 0.0


def test_unknown_modulator_and_bad_rule_are_named():
    net, _ = _network(STDP())
    with pytest.raises(KeyError, match="not plastic projections"):
        net.step(net.init(jax.random.key(0)), {"modulators": {"E->E": 1.0}}, t=0.0, dt=DT)
    with pytest.raises(TypeError, match="`plasticity` must be a rule"):
        bs.Projection("a", "b", bo.fixed_prob(jax.random.key(0), 3, 3, 0.5), plasticity=0.1)
