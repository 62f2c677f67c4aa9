import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim.neurons import LIF, SpikeTimes
from brainsim.synapses import Current, Exponential, TsodyksMarkram

DT = 0.1
QUIET = LIF(v_th=1e4, v_reset=-65.0, R=0.1)  # never fires: a probe of its input


def _arrival_steps(projection, spike_step, n_steps=40):
    """Steps at which each post neuron's synaptic variable first becomes nonzero."""
    source = SpikeTimes(
        times=[spike_step * DT] * projection.conn.n_pre, indices=list(range(projection.conn.n_pre))
    )
    net = bs.Network(
        {"pre": (source, projection.conn.n_pre), "post": (QUIET, projection.conn.n_post)},
        [projection],
    )
    name = projection.name
    result = bs.run(
        net,
        net.init(),
        steps=n_steps,
        dt=DT,
        record={"g": lambda s, out: s["synapses"][name].kinetics.g},
    )
    g = np.asarray(result.traces["g"])
    return [int(np.flatnonzero(g[:, j])[0]) if np.any(g[:, j]) else None for j in range(g.shape[1])]


def _three_synapses():
    # neuron 0 -> posts 0, 1, 2; neuron 1 -> post 2
    return bo.from_edges([0, 0, 0, 1], [0, 1, 2, 2], 1.0, n_pre=2, n_post=3)


@pytest.mark.parametrize("delay", [0, 1, 4, 13])
def test_projection_delay_is_exact(delay):
    proj = bs.Projection(
        "pre", "post", _three_synapses(), Exponential(), Current(), delay_steps=delay
    )
    assert _arrival_steps(proj, spike_step=5) == [5 + delay] * 3


def test_per_presynaptic_delays_are_exact():
    conn = bo.from_edges([0, 1, 2], [0, 1, 2], 1.0, n_pre=3, n_post=3)
    proj = bs.Projection(
        "pre", "post", conn, Exponential(), Current(), delay_steps=[0, 3, 9], delay_per="pre"
    )
    assert proj.delay_per == "pre"
    assert _arrival_steps(proj, spike_step=2) == [2, 5, 11]


def test_per_synapse_delays_are_exact():
    conn = _three_synapses()
    proj = bs.Projection(
        "pre",
        "post",
        conn,
        Exponential(),
        Current(),
        delay_steps=[0, 3, 7, 20],
        delay_per="synapse",
    )
    # post 2 receives from neuron 0 after 7 steps and from neuron 1 after 20: first at 7
    assert _arrival_steps(proj, spike_step=4) == [4, 7, 11]


def test_per_synapse_delays_spread_a_spike_over_time():
    conn = bo.from_edges([0, 0], [0, 0], [1.0, 2.0], n_pre=1, n_post=1)
    proj = bs.Projection(
        "pre",
        "post",
        conn,
        Exponential(tau=1e9),
        Current(),
        delay_steps=[2, 6],
        delay_per="synapse",
    )
    source = SpikeTimes(times=[0.0], indices=[0])
    net = bs.Network({"pre": (source, 1), "post": (QUIET, 1)}, [proj])
    result = bs.run(
        net,
        net.init(),
        steps=10,
        dt=DT,
        record={"g": lambda s, out: s["synapses"]["pre->post"].kinetics.g},
    )
    g = np.asarray(result.traces["g"])[:, 0]
    np.testing.assert_allclose(g, [0, 0, 1, 1, 1, 1, 3, 3, 3, 3], atol=1e-6)


def test_spike_affects_postsynaptic_neuron_one_step_after_arrival():
    conn = bo.one_to_one(1, weight=500.0)
    proj = bs.Projection("pre", "post", conn, Exponential(tau=5.0), Current(), delay_steps=3)
    net = bs.Network({"pre": (SpikeTimes(times=[1.0], indices=[0]), 1), "post": (QUIET, 1)}, [proj])
    result = bs.run(net, net.init(), steps=30, dt=DT, record="post.v")
    v = np.asarray(result.traces["post.v"])[:, 0]
    first_change = int(np.flatnonzero(v != v[0])[0])
    assert first_change == 10 + 3 + 1  # spike at step 10, arrives at 13, integrated in 14


def test_short_term_plasticity_scales_delivered_weight():
    conn = bo.one_to_one(1, weight=1.0)
    proj = bs.Projection(
        "pre", "post", conn, Exponential(tau=1e9), Current(), stp=TsodyksMarkram.depressing()
    )
    source = SpikeTimes(times=[0.0, 1.0], indices=[0, 0])
    net = bs.Network({"pre": (source, 1), "post": (QUIET, 1)}, [proj])
    result = bs.run(
        net,
        net.init(),
        steps=15,
        dt=DT,
        record={"g": lambda s, out: s["synapses"]["pre->post"].kinetics.g},
    )
    g = np.asarray(result.traces["g"])[:, 0]
    assert g[0] == pytest.approx(0.5)  # first release of a rested synapse is U
    u = 0.5 * np.exp(-1.0 / 50.0)
    u = u + 0.5 * (1 - u)
    x = 1 + (0.5 - 1) * np.exp(-1.0 / 800.0)
    assert g[10] - g[9] == pytest.approx(u * x, rel=1e-4)


def test_network_jit_vmap_over_weight_scale_and_grad():
    conn = bo.fixed_prob(jax.random.key(0), 40, 30, 0.2, weight=50.0, per_synapse=True)
    source = bs.neurons.PoissonSource(rate=200.0)

    def final_g(scale):
        proj = bs.Projection(
            "pre",
            "post",
            conn.with_weights(conn.weights * scale),
            Exponential(tau=5.0),
            Current(),
            delay_steps=2,
        )
        net = bs.Network({"pre": (source, 40), "post": (QUIET, 30)}, [proj])
        result = bs.run(net, net.init(jax.random.key(3)), steps=50, dt=DT, record=None)
        return result.final_state["synapses"]["pre->post"].kinetics.g.sum()

    scales = jnp.array([0.5, 1.0, 2.0])
    batched = jax.jit(jax.vmap(final_g))(scales)
    np.testing.assert_allclose(batched, [final_g(s) for s in scales], rtol=1e-5)
    np.testing.assert_allclose(batched[2], 4 * batched[0], rtol=1e-5)  # linear in weights
    assert float(jax.grad(final_g)(1.0)) == pytest.approx(float(final_g(1.0)), rel=1e-4)


def test_gradient_with_respect_to_per_synapse_weights_is_event_driven_and_exact():
    conn = bo.fixed_prob(jax.random.key(1), 20, 10, 0.3, weight=10.0, per_synapse=True)
    source = bs.neurons.PoissonSource(rate=300.0)

    def final_g(net):
        result = bs.run(net, net.init(jax.random.key(4)), steps=30, dt=DT, record=None)
        return result.final_state["synapses"]["pre->post"].kinetics.g.sum()

    for delay in (0, jnp.arange(conn.n_syn) % 5):
        proj = bs.Projection(
            "pre",
            "post",
            conn,
            Exponential(tau=5.0),
            Current(),
            delay_steps=delay,
            delay_per=None if isinstance(delay, int) else "synapse",
        )
        net = bs.Network({"pre": (source, 20), "post": (QUIET, 10)}, [proj])
        grads = eqx.filter_grad(final_g)(net)
        w_grad = grads.projections[0].conn.weights
        h = 1.0  # final g is linear in the weights: a large step is exact
        k = int(jnp.argmax(jnp.abs(w_grad)))
        bumped = eqx.tree_at(
            lambda n: n.projections[0].conn.weights,
            net,
            net.projections[0].conn.weights.at[k].add(h),
        )
        fd = (final_g(bumped) - final_g(net)) / h
        assert float(w_grad[k]) == pytest.approx(float(fd), rel=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(delay_steps=-1), ValueError, "`delay_steps`"),
        (dict(delay_steps=1.5), TypeError, "`delay_steps`"),
        (dict(delay_steps=[1, 2]), ValueError, "delay_per"),
        (dict(delay_steps=[0, 1, 2, 3], delay_per="pre"), ValueError, "`delay_steps`"),
        (dict(delay_steps=0, delay_per="axon"), ValueError, "`delay_per`"),
        (dict(delay_steps=10**6), ValueError, "`delay_steps`"),
    ],
)
def test_bad_delays_are_named(kwargs, error, match):
    conn = bo.from_edges([0, 1], [1, 0], 1.0, n_pre=2, n_post=2)
    with pytest.raises(error, match=match):
        bs.Projection("a", "b", conn, **kwargs)


def test_network_rejects_unknown_or_mismatched_populations():
    conn = bo.one_to_one(3)
    with pytest.raises(ValueError, match="'X'"):
        bs.Network({"A": (QUIET, 3)}, [bs.Projection("X", "A", conn)])
    with pytest.raises(ValueError, match="n_post = 3"):
        bs.Network({"A": (QUIET, 3), "B": (QUIET, 4)}, [bs.Projection("A", "B", conn)])
    with pytest.raises(ValueError, match="synapses"):
        bs.Network({"synapses": (QUIET, 3)})
    net = bs.Network({"A": (QUIET, 3)})
    with pytest.raises(KeyError, match="unknown populations"):
        net.step(net.init(), {"B": 1.0}, t=0.0, dt=DT)


def test_an_input_of_the_wrong_size_names_its_population():
    conn = bo.from_edges([0], [0], 1.0, n_pre=3, n_post=5)
    net = bs.Network({"E": (LIF(), 3), "I": (LIF(), 5)},
                     [bs.Projection("E", "I", conn, Exponential(), Current())])
    with pytest.raises(ValueError, match=r"population 'I': `inputs` of shape \(3,\) does not fit"):
        bs.run(net, net.init(), inputs={"E": jnp.ones(3), "I": jnp.ones(3)}, steps=2, dt=DT,
               record=["E.spikes"])
