"""Pair STDP: the exponential window, event-driven updates, pairings, weight dependences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from plasticity_cases import KINDS, full, run, sparse, synapse_pre_post, trains

import brainsim_ops as bo
from brainsim.plasticity import STDP, STDPTraces

DT = 0.1


def _pairing_change(rule, conn, pre_step, post_step, n_steps):
    """Weight changes after pre 0 spikes at step `pre_step` and post 1 at step `post_step`."""

    @jax.jit
    def change(pre_step, post_step):
        t = jnp.arange(n_steps)[:, None]
        pre = (t == pre_step) & (jnp.arange(conn.n_pre) == 0)
        post = (t == post_step) & (jnp.arange(conn.n_post) == 1)
        w, _ = run(rule, conn, pre.astype(float), post.astype(float), dt=DT)
        return w - conn.weights

    return change(pre_step, post_step)


@pytest.mark.parametrize("kind", KINDS)
def test_one_pairing_gives_exactly_the_exponential_window(x64, kind):
    rule = STDP(A_plus=0.01, A_minus=0.012, tau_plus=16.8, tau_minus=33.7, w_min=-jnp.inf)
    conn = full(kind, 2, 3, 0.5)
    pre_idx, post_idx = synapse_pre_post(conn)
    paired = (pre_idx == 0) & (post_idx == 1)
    for delta_steps in (1, 5, 37, 100, 400, -1, -5, -37, -100, -400):
        pre_step, post_step = (10, 10 + delta_steps) if delta_steps > 0 else (10 - delta_steps, 10)
        dw = np.asarray(_pairing_change(rule, conn, pre_step, post_step, 420))
        delta_t = delta_steps * DT
        if delta_t > 0:
            expected = 0.01 * np.exp(-delta_t / 16.8)
        else:
            expected = -0.012 * np.exp(delta_t / 33.7)
        np.testing.assert_allclose(dw[paired], expected, rtol=1e-11)
        np.testing.assert_array_equal(dw[~paired], 0.0)


def test_calls_at_event_times_equal_stepping_on_the_grid(x64):
    """Traces decay exactly, so one call per event with dt = the interval gives the same."""
    rule = STDP(A_plus=0.01, A_minus=0.012, w_min=-jnp.inf)
    conn = full("dense", 1, 1, 0.5)
    events = [(3.0, 1.0, 0.0), (7.5, 0.0, 1.0), (12.0, 1.0, 1.0), (40.0, 0.0, 1.0),
              (41.3, 1.0, 0.0)]
    w, traces, last = conn.weights, rule.init(conn), 0.0
    for t, pre, post in events:
        w, traces = rule.update(traces, w, jnp.array([pre]), jnp.array([post]), dt=t - last,
                                conn=conn)
        last = t
    steps = {int(round(t / DT)) for t, _, _ in events}
    pre_steps = [int(round(t / DT)) for t, pre, _ in events if pre]
    post_steps = [int(round(t / DT)) for t, _, post in events if post]
    n = max(steps) + 1
    w_grid, _ = run(rule, conn, trains(n, 1, {0: pre_steps}), trains(n, 1, {0: post_steps}), dt=DT)
    np.testing.assert_allclose(w_grid, w, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_only_rows_and_columns_of_neurons_that_spiked_change(x64, kind):
    conn = sparse(kind)
    rng = np.random.default_rng(0)
    rule = STDP(A_plus=0.01, A_minus=0.02, w_min=-jnp.inf)
    traces = STDPTraces(pre=jnp.asarray(rng.uniform(0.5, 2.0, conn.n_pre)),
                        post=jnp.asarray(rng.uniform(0.5, 2.0, conn.n_post)))
    pre = rng.random(conn.n_pre) < 0.3
    post = rng.random(conn.n_post) < 0.3
    w, new = rule.update(traces, conn.weights, pre, post, dt=DT, conn=conn)
    x = np.asarray(traces.pre) * np.exp(-DT / 20.0)
    y = np.asarray(traces.post) * np.exp(-DT / 20.0)
    i, j = synapse_pre_post(conn)
    dw = np.asarray(w - conn.weights)
    expected = -0.02 * y[j] * pre[i] + 0.01 * x[i] * post[j]
    if isinstance(conn, bo.Dense):
        expected = np.where(np.asarray(conn.mask), expected, 0.0)
    np.testing.assert_allclose(dw, expected, rtol=1e-12, atol=1e-15)
    untouched = ~(pre[i] | post[j])
    np.testing.assert_array_equal(np.asarray(w)[untouched], np.asarray(conn.weights)[untouched])
    np.testing.assert_allclose(new.pre, x + pre, rtol=1e-14)
    np.testing.assert_allclose(new.post, y + post, rtol=1e-14)


def test_nearest_pairing_counts_only_the_last_presynaptic_spike(x64):
    """Pre at 0 and 10 ms, post at 20 ms: all-to-all pairs both, nearest only the last."""
    conn = full("dense", 1, 1, 0.5)
    pre, post = trains(201, 1, {0: [0, 100]}), trains(201, 1, {0: [200]})
    changes = {}
    for pairing in ("all_to_all", "nearest"):
        rule = STDP(A_plus=0.01, A_minus=0.0, w_min=-jnp.inf, pairing=pairing)
        w, _ = run(rule, conn, pre, post, dt=DT)
        changes[pairing] = float(w[0, 0] - 0.5)
    assert changes["all_to_all"] == pytest.approx(0.01 * (np.exp(-1.0) + np.exp(-0.5)), rel=1e-12)
    assert changes["nearest"] == pytest.approx(0.01 * np.exp(-0.5), rel=1e-12)


def test_nearest_pairing_resets_the_trace_to_one_where_all_to_all_adds(x64):
    conn = full("dense", 1, 1, 0.5)
    pre, post = trains(11, 1, {0: [0, 10]}), trains(11, 1, {})
    for pairing, expected in (("all_to_all", 1.0 + np.exp(-1.0 / 20.0)), ("nearest", 1.0)):
        _, traces = run(STDP(pairing=pairing), conn, pre, post, dt=DT)
        assert float(traces.pre[0]) == pytest.approx(expected, rel=1e-12)


def test_multiplicative_depression_is_proportional_to_the_weight(x64):
    rule = STDP(A_plus=0.01, A_minus=0.05, w_min=0.0, weight_dependence="multiplicative")
    pre, post = trains(101, 1, {0: [100]}), trains(101, 1, {0: [0]})   # post 10 ms before pre
    for w0 in (0.2, 0.9):
        w, _ = run(rule, full("dense", 1, 1, w0), pre, post, dt=DT)
        assert float(w[0, 0]) == pytest.approx(w0 - 0.05 * np.exp(-0.5) * w0, rel=1e-12)
    w, _ = run(rule, full("dense", 1, 1, 0.2), post, pre, dt=DT)      # pre 10 ms before post
    assert float(w[0, 0]) == pytest.approx(0.2 + 0.01 * np.exp(-0.5), rel=1e-12)


def test_soft_bounds_scale_potentiation_by_distance_to_w_max_and_depression_by_w(x64):
    rule = STDP(A_plus=0.1, A_minus=0.05, w_min=0.0, w_max=2.0, weight_dependence="soft")
    first, second = trains(101, 1, {0: [0]}), trains(101, 1, {0: [100]})
    for w0 in (0.5, 1.8):
        w_ltp, _ = run(rule, full("dense", 1, 1, w0), first, second, dt=DT)
        w_ltd, _ = run(rule, full("dense", 1, 1, w0), second, first, dt=DT)
        assert float(w_ltp[0, 0]) == pytest.approx(w0 + 0.1 * np.exp(-0.5) * (2.0 - w0), rel=1e-12)
        assert float(w_ltd[0, 0]) == pytest.approx(w0 - 0.05 * np.exp(-0.5) * w0, rel=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_hard_bounds_hold_and_are_reached(kind):
    conn = full(kind, 4, 3, 0.5)
    key_pre, key_post = jax.random.split(jax.random.key(1))
    pre = (jax.random.uniform(key_pre, (3000, 4)) < 0.05).astype(jnp.float32)
    post = (jax.random.uniform(key_post, (3000, 3)) < 0.05).astype(jnp.float32)
    for A_plus, A_minus, bound in ((0.2, 0.0, 0.8), (0.0, 0.2, 0.1)):
        rule = STDP(A_plus=A_plus, A_minus=A_minus, w_min=0.1, w_max=0.8)
        w, _ = run(rule, conn, pre, post, dt=1.0)
        low, high, bound = np.float32(0.1), np.float32(0.8), np.float32(bound)
        assert np.asarray(w).min() >= low and np.asarray(w).max() <= high
        np.testing.assert_array_equal(np.asarray(w), bound)


def test_spikes_in_the_same_step_do_not_pair(x64):
    conn = full("dense", 1, 1, 0.5)
    both = trains(5, 1, {0: [2]})
    w, traces = run(STDP(w_min=-jnp.inf), conn, both, both, dt=DT)
    assert float(w[0, 0]) == 0.5
    np.testing.assert_allclose([traces.pre[0], traces.post[0]], np.exp(-2 * DT / 20.0), rtol=1e-12)


def test_scalar_weights_of_the_connectivity_become_one_per_synapse():
    conn = bo.fixed_prob(jax.random.key(0), 10, 8, 0.5, weight=0.3)
    rule = STDP()
    w, _ = rule.update(rule.init(conn), conn.weights, jnp.ones(10), jnp.ones(8), dt=DT, conn=conn)
    assert w.shape == (conn.n_syn,)


def test_dense_weights_need_no_connectivity(x64):
    rule = STDP(w_min=-jnp.inf)
    W = jnp.full((2, 3), 0.5)
    traces = rule.init(bo.Dense(W))
    traces = traces._replace(post=jnp.array([1.0, 0.0, 2.0]))
    w, _ = rule.update(traces, W, jnp.array([1.0, 0.0]), jnp.zeros(3), dt=0.0)
    np.testing.assert_allclose(w[0], 0.5 - 0.0105 * np.array([1.0, 0.0, 2.0]), rtol=1e-12)
    np.testing.assert_array_equal(w[1], 0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tau_plus": 0.0}, "tau_plus"),
        ({"tau_minus": -1.0}, "tau_minus"),
        ({"A_plus": -0.1}, "A_plus"),
        ({"A_minus": jnp.nan}, "A_minus"),
        ({"w_min": 1.0, "w_max": 0.5}, "w_min"),
        ({"w_max": jnp.nan}, "w_max"),
        ({"pairing": "nearest_neighbour"}, "pairing"),
        ({"weight_dependence": "soft_bounds"}, "weight_dependence"),
        ({"weight_dependence": "soft"}, "w_max"),
        ({"weight_dependence": "multiplicative", "w_min": -jnp.inf}, "w_min"),
    ],
)
def test_bad_constants_fail_at_construction_naming_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        STDP(**kwargs)


def test_bad_update_inputs_fail_naming_the_argument():
    conn = bo.fixed_prob(jax.random.key(0), 10, 8, 0.5, per_synapse=True)
    rule = STDP()
    traces, w = rule.init(conn), conn.weights
    ok_pre, ok_post = jnp.zeros(10), jnp.zeros(8)
    with pytest.raises(ValueError, match="pre_spikes"):
        rule.update(traces, w, jnp.zeros(9), ok_post, dt=DT, conn=conn)
    with pytest.raises(ValueError, match="post_spikes"):
        rule.update(traces, w, ok_pre, jnp.zeros((8, 1)), dt=DT, conn=conn)
    with pytest.raises(ValueError, match="weights"):
        rule.update(traces, w[:-1], ok_pre, ok_post, dt=DT, conn=conn)
    with pytest.raises(ValueError, match="conn="):
        rule.update(traces, w, ok_pre, ok_post, dt=DT)
    with pytest.raises(ValueError, match="dt"):
        rule.update(traces, w, ok_pre, ok_post, dt=-0.1, conn=conn)
    with pytest.raises(TypeError, match="pre_spikes"):
        rule.update(traces, w, jnp.zeros(10, jnp.complex64), ok_post, dt=DT, conn=conn)
    with pytest.raises(TypeError, match="conn"):
        rule.init(np.ones((10, 8)))
