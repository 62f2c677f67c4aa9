"""Three-factor rules: eligibility-modulated STDP (distal reward) and error-modulated readout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from plasticity_cases import KINDS, run, sparse, synapse_pre_post, trains

import brainsim_ops as bo
from brainsim.plasticity import EligibilitySTDP, EligibilityTraces, ErrorModulated

DT = 1.0
N_STEPS = 3000
REWARD_STEP = 1100


def _reward(n_post, value, step=REWARD_STEP):
    m = np.zeros((N_STEPS, n_post))
    m[step] = value
    return jnp.asarray(m)


def test_delayed_reward_changes_only_the_synapse_whose_pairing_preceded_it(x64):
    """Synapses i -> i: 0 paired pre->post 5 ms, 1 pre only, 2 post only, 3 pre->post 800 ms."""
    conn = bo.one_to_one(4, jnp.ones(4))
    rule = EligibilitySTDP.izhikevich2007(learning_rate=0.01)
    pre = trains(N_STEPS, 4, {0: [100], 1: [100], 3: [100]})
    post = trains(N_STEPS, 4, {0: [105], 2: [105], 3: [900]})
    w_before, _ = run(rule, conn, pre[:REWARD_STEP], post[:REWARD_STEP], dt=DT)
    np.testing.assert_array_equal(w_before, 1.0)          # eligibility alone changes nothing
    w, traces = run(rule, conn, pre, post, dt=DT, modulators=_reward(4, 0.5))
    c0 = 1.0 * np.exp(-5 / 20.0)
    q = np.exp(-DT / 1000.0 - DT / 200.0)
    geometric = (1 - q ** (N_STEPS - REWARD_STEP)) / (1 - q)
    expected = 0.01 * DT * c0 * np.exp(-(REWARD_STEP - 105) * DT / 1000.0) * 0.5 * geometric
    assert float(w[0] - 1.0) == pytest.approx(expected, rel=1e-10)
    assert float(w[0] - 1.0) > 0.2
    np.testing.assert_array_equal(w[1:3], 1.0)
    assert abs(float(w[3] - 1.0)) < 1e-12                 # exp(-800 / 20) eligibility left
    assert isinstance(traces, EligibilityTraces) and traces.eligibility.shape == (4,)


def test_reward_after_post_before_pre_depresses(x64):
    conn = bo.one_to_one(1, jnp.ones(1))
    rule = EligibilitySTDP.izhikevich2007(learning_rate=0.01)
    w, _ = run(rule, conn, trains(N_STEPS, 1, {0: [105]}), trains(N_STEPS, 1, {0: [100]}),
               dt=DT, modulators=_reward(1, 0.5))
    assert float(w[0]) < 1.0 - 0.2


def test_modulator_per_postsynaptic_neuron_rewards_only_its_synapses(x64):
    conn = bo.one_to_one(2, jnp.ones(2))
    rule = EligibilitySTDP.izhikevich2007(learning_rate=0.01)
    pre = trains(N_STEPS, 2, {0: [100], 1: [100]})
    post = trains(N_STEPS, 2, {0: [105], 1: [105]})
    w_one, _ = run(rule, conn, pre, post, dt=DT, modulators=_reward(2, [0.5, 0.0]))
    assert float(w_one[0]) > 1.2 and float(w_one[1]) == 1.0
    scalar = jnp.zeros(N_STEPS).at[REWARD_STEP].set(0.5)
    w_all, _ = run(rule, conn, pre, post, dt=DT, modulators=scalar)
    np.testing.assert_allclose(w_all, [w_one[0], w_one[0]], rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_without_tau_d_the_modulator_multiplies_the_eligibility_directly(x64, kind):
    conn = sparse(kind)
    rng = np.random.default_rng(1)
    rule = EligibilitySTDP(A_plus=0.5, A_minus=0.7, tau_c=300.0, learning_rate=0.2,
                           w_min=-jnp.inf)
    c = jnp.asarray(rng.normal(size=conn.weights.shape))
    traces = rule.init(conn)._replace(eligibility=c)
    m = rng.normal(size=conn.n_post) * (rng.random(conn.n_post) < 0.5)
    no_spikes_pre, no_spikes_post = jnp.zeros(conn.n_pre), jnp.zeros(conn.n_post)
    w, new = rule.update(traces, conn.weights, no_spikes_pre, no_spikes_post, dt=DT, conn=conn,
                         modulator=m)
    _, j = synapse_pre_post(conn)
    c_now = np.asarray(c) * np.exp(-DT / 300.0)
    expected = 0.2 * DT * c_now * m[j]
    if isinstance(conn, bo.Dense):
        expected = np.where(np.asarray(conn.mask), expected, 0.0)
    np.testing.assert_allclose(w - conn.weights, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(new.modulator, m)


def test_eligibility_follows_the_stdp_window_and_decays_with_tau_c(x64):
    conn = bo.one_to_one(1, jnp.ones(1))
    rule = EligibilitySTDP(A_plus=1.0, A_minus=1.5, tau_c=1000.0)
    _, traces = run(rule, conn, trains(506, 1, {0: [100]}), trains(506, 1, {0: [105]}), dt=DT)
    assert float(traces.eligibility[0]) == pytest.approx(np.exp(-5 / 20) * np.exp(-0.4),
                                                         rel=1e-12)


def test_izhikevich_constants():
    rule = EligibilitySTDP.izhikevich2007()
    got = [float(getattr(rule, n)) for n in ("A_plus", "A_minus", "tau_plus", "tau_minus",
                                               "tau_c", "tau_d", "w_min", "w_max")]
    assert got == [1.0, 1.5, 20.0, 20.0, 1000.0, 200.0, 0.0, 4.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tau_c": 0.0}, "tau_c"),
        ({"tau_d": -200.0}, "tau_d"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"A_minus": -1.0}, "A_minus"),
        ({"w_min": 5.0, "w_max": 4.0}, "w_min"),
    ],
)
def test_eligibility_stdp_bad_constants_fail_naming_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EligibilitySTDP(**kwargs)


def test_eligibility_stdp_bad_modulator_shape_fails():
    conn = bo.one_to_one(3)
    rule = EligibilitySTDP()
    with pytest.raises(ValueError, match="modulator"):
        rule.update(rule.init(conn), jnp.ones(3), jnp.zeros(3), jnp.zeros(3), dt=DT, conn=conn,
                    modulator=jnp.ones(2))


@pytest.mark.parametrize("kind", KINDS)
def test_error_modulated_change_is_rate_times_error_times_gate_times_trace(x64, kind):
    conn = sparse(kind)
    rng = np.random.default_rng(2)
    rule = ErrorModulated(learning_rate=0.3, tau=20.0)
    x0 = rng.uniform(0, 2, conn.n_pre)
    traces = rule.init(conn)._replace(pre=jnp.asarray(x0))
    spikes = (rng.random(conn.n_pre) < 0.3).astype(float)
    error = rng.normal(size=conn.n_post)
    for gate in (1.0, 0.0):
        w, new = rule.update(traces, conn.weights, spikes, jnp.zeros(conn.n_post), dt=DT,
                             conn=conn, modulator=gate * error)
        x = x0 * np.exp(-DT / 20.0) + spikes
        i, j = synapse_pre_post(conn)
        expected = 0.3 * error[j] * gate * x[i]
        if isinstance(conn, bo.Dense):
            expected = np.where(np.asarray(conn.mask), expected, 0.0)
        np.testing.assert_allclose(w - conn.weights, expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(new.pre, x, rtol=1e-14)


def test_error_modulated_readout_learns_a_linear_target_map():
    """Filtered Poisson inputs; the target is a fixed readout of the same traces."""
    n_in, n_out, steps = 20, 3, 20000
    w_target = jax.random.normal(jax.random.key(0), (n_in, n_out))
    spikes = (jax.random.uniform(jax.random.key(1), (steps, n_in)) < 0.02).astype(jnp.float32)
    rule = ErrorModulated(learning_rate=0.01, tau=20.0)
    conn = bo.Dense(jnp.zeros((n_in, n_out)))

    def step(carry, s):
        w, traces = carry
        x = traces.pre * jnp.exp(-DT / 20.0) + s          # the trace the rule is about to use
        error = x @ w_target - x @ w
        return rule.update(traces, w, s, jnp.zeros(n_out), dt=DT, conn=conn,
                           modulator=error), None

    (w, _), _ = jax.lax.scan(step, (conn.weights, rule.init(conn)), spikes)
    relative = float(jnp.linalg.norm(w - w_target) / jnp.linalg.norm(w_target))
    assert relative < 0.05


def test_error_modulated_needs_a_modulator_and_valid_constants():
    conn = bo.Dense(jnp.zeros((2, 1)))
    rule = ErrorModulated()
    with pytest.raises(ValueError, match="modulator"):
        rule.update(rule.init(conn), conn.weights, jnp.zeros(2), jnp.zeros(1), dt=DT, conn=conn)
    with pytest.raises(ValueError, match="tau"):
        ErrorModulated(tau=0.0)
    with pytest.raises(ValueError, match="learning_rate"):
        ErrorModulated(learning_rate=-0.1)
