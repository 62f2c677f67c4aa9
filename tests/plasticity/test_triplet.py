"""Triplet STDP: the Sjöström pairing protocol against the model's spike-sum formula."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from plasticity_cases import KINDS, full, run, trains

from brainsim.plasticity import TripletSTDP, TripletTraces

FREQUENCIES = (0.1, 1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0)


def _protocol(frequency, delta_t, n_pairs=60):
    """Spike times (ms) of the pairing protocol: pre at k/f, post delta_t later (or before)."""
    starts = np.arange(n_pairs) * 1000.0 / frequency
    first, second = starts, starts + abs(delta_t)
    return (first, second) if delta_t > 0 else (second, first)


def _model_change(rule, pre_times, post_times):
    """Weight change of the all-to-all minimal model written as sums over spike pairs.

    Each trace is the sum of exp(-(t - t_k) / tau) over the earlier spikes t_k < t, so spikes at
    one time do not pair and a slow trace is read before its own jump (t - ε).
    """
    c = {name: float(getattr(rule, name)) for name in (
        "A2_plus", "A3_plus", "A2_minus", "A3_minus", "tau_plus", "tau_minus", "tau_x", "tau_y")}

    def trace(t, times, tau):
        earlier = times[times < t]
        return np.exp(-(t - earlier) / tau).sum()

    potentiation = sum(
        trace(t, pre_times, c["tau_plus"]) * (c["A2_plus"] + c["A3_plus"] *
                                              trace(t, post_times, c["tau_y"]))
        for t in post_times
    )
    depression = sum(
        trace(t, post_times, c["tau_minus"]) * (c["A2_minus"] + c["A3_minus"] *
                                                trace(t, pre_times, c["tau_x"]))
        for t in pre_times
    )
    return potentiation - depression


def _run_at_events(rule, pre_times, post_times):
    """Call the rule once per spike time with dt = the interval since the previous call."""
    times = np.union1d(pre_times, post_times)
    dt = np.diff(times, prepend=0.0)
    pre = np.isin(times, pre_times)[:, None].astype(float)
    post = np.isin(times, post_times)[:, None].astype(float)
    conn = full("dense", 1, 1, 0.0)

    def step(carry, inputs):
        w, traces = carry
        dt, s_pre, s_post = inputs
        return rule.update(traces, w, s_pre, s_post, dt=dt, conn=conn), None

    (w, _), _ = jax.lax.scan(step, (conn.weights, rule.init(conn)),
                             (jnp.asarray(dt), jnp.asarray(pre), jnp.asarray(post)))
    return float(w[0, 0])


def test_pairing_protocol_matches_the_spike_sum_formula_at_every_frequency(x64):
    rule = TripletSTDP.visual_cortex(w_min=-jnp.inf)
    for frequency in FREQUENCIES:
        for delta_t in (10.0, -10.0):
            pre_times, post_times = _protocol(frequency, delta_t)
            expected = _model_change(rule, pre_times, post_times)
            got = _run_at_events(rule, pre_times, post_times)
            assert got == pytest.approx(expected, rel=1e-10, abs=1e-15), (frequency, delta_t)


def test_pairing_protocol_depresses_at_low_and_potentiates_both_orders_at_high_frequency(x64):
    rule = TripletSTDP.visual_cortex(w_min=-jnp.inf)
    change = {(f, d): _run_at_events(rule, *_protocol(f, d)) for f in FREQUENCIES
              for d in (10.0, -10.0)}
    # 60 post-before-pre pairs at 0.1 Hz: 60 pair depressions -A2- exp(-10 / 33.7).
    assert change[(0.1, -10.0)] == pytest.approx(-60 * 7e-3 * np.exp(-10 / 33.7), rel=1e-3)
    assert change[(1.0, -10.0)] < 0
    # Pre-before-post at low frequency: no potentiation (A2+ ~ 0, o2 has decayed).
    assert abs(change[(0.1, 10.0)]) < 1e-6
    for f in (40.0, 50.0):
        assert change[(f, 10.0)] > 0.05 and change[(f, -10.0)] > 0.05, change
    # Potentiation grows with frequency above 10 Hz (Sjöström et al. 2001, Fig. 1).
    assert change[(20.0, 10.0)] < change[(30.0, 10.0)] < change[(40.0, 10.0)] < change[(50.0, 10.0)]


def test_calls_at_event_times_equal_stepping_on_the_grid(x64):
    rule = TripletSTDP.visual_cortex(w_min=-jnp.inf)
    pre_times, post_times = _protocol(20.0, -10.0, n_pairs=20)
    dt = 0.5
    n = int(max(pre_times.max(), post_times.max()) / dt) + 2
    to_steps = lambda times: list(np.round(times / dt).astype(int))  # noqa: E731
    w, _ = run(rule, full("dense", 1, 1, 0.0), trains(n, 1, {0: to_steps(pre_times)}),
               trains(n, 1, {0: to_steps(post_times)}), dt=dt)
    assert float(w[0, 0]) == pytest.approx(_run_at_events(rule, pre_times, post_times),
                                           rel=1e-11)


@pytest.mark.parametrize("kind", KINDS)
def test_second_post_spike_reads_the_slow_trace_before_its_own_jump(x64, kind):
    """pre at 0, post at 10 and 20 ms: the second post spike sees o2 = exp(-10 / tau_y)."""
    rule = TripletSTDP(A2_plus=0.002, A3_plus=0.01, A2_minus=0.0, A3_minus=0.0, w_min=-jnp.inf)
    conn = full(kind, 1, 2, 0.5)
    n, dt = 201, 0.1
    w, traces = run(rule, conn, trains(n, 1, {0: [0]}), trains(n, 2, {1: [100, 200]}), dt=dt)
    first = 0.002 * np.exp(-10 / 16.8)
    second = np.exp(-20 / 16.8) * (0.002 + 0.01 * np.exp(-10 / 125.0))
    dw = np.asarray(w - conn.weights).reshape(-1)
    np.testing.assert_allclose(dw, [0.0, first + second], rtol=1e-11, atol=1e-16)
    assert isinstance(traces, TripletTraces)
    np.testing.assert_allclose(traces.o2[1], np.exp(-10 / 125.0) + 1.0, rtol=1e-12)


def test_without_triplet_terms_the_window_is_the_pair_window(x64):
    rule = TripletSTDP(A2_plus=0.01, A3_plus=0.0, A2_minus=0.012, A3_minus=0.0, w_min=-jnp.inf)
    for delta_t in (5.0, 30.0, -5.0, -30.0):
        got = _run_at_events(rule, *_protocol(1.0, delta_t, n_pairs=1))
        expected = 0.01 * np.exp(-delta_t / 16.8) if delta_t > 0 else -0.012 * np.exp(
            delta_t / 33.7)
        assert got == pytest.approx(expected, rel=1e-12)


def test_visual_cortex_constants():
    rule = TripletSTDP.visual_cortex()
    got = [float(getattr(rule, n)) for n in ("tau_plus", "tau_minus", "tau_x", "tau_y",
                                               "A2_plus", "A3_plus", "A2_minus", "A3_minus")]
    np.testing.assert_allclose(got, [16.8, 33.7, 101, 125, 5e-10, 6.2e-3, 7e-3, 2.3e-4],
                               rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tau_x": 0.0}, "tau_x"),
        ({"tau_y": -5.0}, "tau_y"),
        ({"A3_plus": -1e-3}, "A3_plus"),
        ({"A2_minus": jnp.inf}, "A2_minus"),
        ({"w_min": 2.0, "w_max": 1.0}, "w_min"),
        ({"pairing": "triplet"}, "pairing"),
    ],
)
def test_bad_constants_fail_at_construction_naming_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TripletSTDP(**kwargs)


def test_bad_spikes_fail_naming_the_argument():
    conn = full("csr", 3, 2, 0.5)
    rule = TripletSTDP()
    with pytest.raises(ValueError, match="post_spikes"):
        rule.update(rule.init(conn), conn.weights, jnp.zeros(3), jnp.zeros(3), dt=1.0, conn=conn)
