"""Composition: chain applies rules in order with their own traces; clip keeps bounds."""

import jax.numpy as jnp
import numpy as np
import pytest
from plasticity_cases import run, trains

import brainsim_ops as bo
from brainsim.plasticity import STDP, Chain, Clip, InhibitorySTDP, STDPTraces, chain, clip


def test_chain_applies_rules_in_order_each_with_its_own_traces(x64):
    conn = bo.Dense(jnp.full((1, 1), 0.5))
    first = STDP(A_plus=0.01, A_minus=0.0, w_min=-jnp.inf)
    second = InhibitorySTDP(eta=0.001, rho0=5.0, w_min=-jnp.inf)
    pre, post = trains(201, 1, {0: [0]}), trains(201, 1, {0: [100]})
    w, traces = run(chain(first, second), conn, pre, post, dt=0.1)
    w_a, traces_a = run(first, conn, pre, post, dt=0.1)
    w_b, traces_b = run(second, conn, pre, post, dt=0.1)
    np.testing.assert_allclose(w - 0.5, (w_a - 0.5) + (w_b - 0.5), rtol=1e-12)
    assert isinstance(traces, tuple) and len(traces) == 2
    np.testing.assert_allclose(traces[0].pre, traces_a.pre)
    np.testing.assert_allclose(traces[1].pre, traces_b.pre)


def test_clip_after_a_rule_bounds_every_weight(x64):
    conn = bo.Dense(jnp.array([[0.9, 0.1]]))
    rule = chain(STDP(A_plus=0.5, A_minus=0.5, w_min=-jnp.inf), clip(0.0, 1.0))
    pre, post = trains(21, 1, {0: [10]}), trains(21, 2, {0: [20], 1: [0]})
    w, _ = run(rule, conn, pre, post, dt=0.1)      # 0 -> 0 potentiates, 0 -> 1 depresses
    np.testing.assert_array_equal(w, [[1.0, 0.0]])
    w_free, _ = run(rule.rules[0], conn, pre, post, dt=0.1)
    assert float(w_free[0, 0]) > 1.0 and float(w_free[0, 1]) < 0.0


def test_clip_leaves_synapses_outside_a_dense_mask_alone():
    mask = jnp.array([[True, False]])
    conn = bo.Dense(jnp.array([[3.0, 0.0]]), mask=mask)
    rule = clip(0.5, 1.0)
    w, traces = rule.update(rule.init(conn), conn.weights, jnp.zeros(1), jnp.zeros(2), dt=0.1,
                            conn=conn)
    np.testing.assert_array_equal(w, [[1.0, 0.0]])
    assert traces == ()


def test_chain_and_clip_reject_bad_input():
    with pytest.raises(TypeError, match="init"):
        chain(STDP(), lambda w: w)
    with pytest.raises(ValueError, match="w_min"):
        clip(1.0, 0.0)
    rule = chain(STDP(), clip(0.0, 1.0))
    conn = bo.Dense(jnp.ones((1, 1)))
    traces = STDP().init(conn)
    with pytest.raises(ValueError, match="traces"):
        rule.update(traces, conn.weights, jnp.zeros(1), jnp.zeros(1), dt=0.1, conn=conn)


def test_chain_and_clip_are_the_public_types():
    rule = chain(STDP(), clip())
    assert isinstance(rule, Chain) and isinstance(rule.rules[1], Clip)
    assert isinstance(rule.init(bo.Dense(jnp.ones((2, 2))))[0], STDPTraces)
