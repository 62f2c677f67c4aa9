import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim.neurons import LIF, SpikeTimes
from brainsim.plasticity import AdaptiveThreshold, SynapticScaling, WeightNormalization
from brainsim.surrogate import Triangle
from brainsim.synapses import Current, Exponential

DT = 0.5
QUIET = LIF(v_th=1e4, v_reset=-65.0, R=0.1)  # never fires


def test_scaling_multiplies_each_neurons_inputs_by_the_exact_factor(x64):
    conn = bo.fixed_prob(jax.random.key(0), 6, 3, 0.7, weight=1.0, per_synapse=True)
    w0 = conn.weights * jnp.linspace(0.5, 2.0, conn.n_syn)
    rule = SynapticScaling(target_rate=8.0, tau_rate=50.0, tau_scaling=300.0)
    traces = rule.init(conn)._replace(rate=jnp.array([2.0, 8.0, 20.0]))
    post = jnp.array([1.0, 0.0, 1.0])
    w, traces = rule.update(traces, w0, jnp.zeros(6), post, dt=2.0, conn=conn)
    _, target = bo.synapse_neurons(conn)
    factor = np.exp(2.0 * (8.0 - np.array([2.0, 8.0, 20.0])) / (8.0 * 300.0))
    np.testing.assert_allclose(w, w0 * factor[np.asarray(target)], rtol=1e-13)
    decay = np.exp(-2.0 / 50.0)
    expected_rate = np.array([2.0, 8.0, 20.0]) * decay + np.asarray(post) * 1000.0 / 50.0
    np.testing.assert_allclose(traces.rate, expected_rate, rtol=1e-13)
    inhibitory = SynapticScaling(8.0, 50.0, 300.0, polarity="inhibitory")
    w_inh, _ = inhibitory.update(rule.init(conn)._replace(rate=jnp.array([2.0, 8.0, 20.0])),
                                 w0, jnp.zeros(6), post, dt=2.0, conn=conn)
    np.testing.assert_allclose(w_inh, w0 / factor[np.asarray(target)], rtol=1e-13)


def test_rate_estimate_of_a_regular_train_averages_to_its_rate(x64):
    rule = SynapticScaling(target_rate=5.0, tau_rate=200.0, tau_scaling=1e9)
    conn = bo.Dense(jnp.ones((1, 1)))
    spikes = (jnp.arange(8000) % 100 == 0).astype(float)  # 20 Hz at dt = 0.5 ms

    def body(traces, s):
        _, traces = rule.update(traces, conn.weights, jnp.zeros(1), s[None], dt=DT, conn=conn)
        return traces, traces.rate[0]

    _, rate = jax.lax.scan(body, rule.init(conn), spikes)
    # after 20 time constants the filtered train is periodic; its mean over one period is
    # the rate (the filter's kernel integrates to 1); sampling at dt = 0.5 ms of a 50-ms
    # period gives the mean to about (dt / tau_rate) relative
    assert float(rate[-100:].mean()) == pytest.approx(20.0, rel=3e-3)


def _scaled_lif_rates(initial_scale, tau_scaling=1000.0, steps=24_000):
    """Four LIF neurons whose input current is proportional to the sum of their input
    weights (20 pA per unit: the mean drive of a presynaptic population); scaling acts on
    the weights. Returns the rates (Hz) over the last 4 s and the final weights."""
    lif = LIF()
    rule = SynapticScaling(target_rate=10.0, tau_rate=200.0, tau_scaling=tau_scaling)
    conn = bo.Dense(jnp.ones((10, 4)) * jnp.array([1.0, 3.0, 5.0, 10.0]))

    def body(carry, _):
        neuron, w, traces = carry
        neuron, spikes = lif.step(neuron, 20.0 * w.sum(0), t=0.0, dt=DT)
        w, traces = rule.update(traces, w, jnp.zeros(10), spikes, dt=DT, conn=conn)
        return (neuron, w, traces), spikes

    (_, w, _), spikes = jax.lax.scan(body, (lif.init(4), initial_scale * conn.weights,
                                            rule.init(conn)), None, length=steps)  # fmt: skip
    return spikes[-8000:].sum(0) / 4.0, w


def test_scaling_brings_every_neuron_to_the_target_rate():
    rates, w = jax.jit(_scaled_lif_rates)(1.0)
    # initial inputs 200 to 2000 pA; after 12 s (12 tau_scaling) each neuron fires at 10 Hz: a
    # deterministic LIF counts whole spikes in 4 s, so +-0.5 Hz is +-2 spikes
    np.testing.assert_allclose(rates, 10.0, atol=0.5)
    # the fixed point is the same total input for every neuron
    np.testing.assert_allclose(w.sum(0), w.sum(0)[0], rtol=0.02)


def test_scaling_jit_and_vmap_over_tau_scaling_equal_loop():
    taus = jnp.array([500.0, 1000.0])
    run = jax.jit(jax.vmap(lambda tau: _scaled_lif_rates(1.0, tau, steps=2000)[1]))
    batched = run(taus)
    single = jax.jit(lambda tau: _scaled_lif_rates(1.0, tau, steps=2000)[1])
    for i, tau in enumerate(taus):
        np.testing.assert_allclose(batched[i], single(tau), rtol=1e-6)


def test_scaling_gradients_match_finite_differences(x64, finite_differences):
    conn = bo.Dense(jnp.full((3, 2), 0.5))
    post = (jax.random.uniform(jax.random.key(1), (50, 2)) < 0.05).astype(float)

    def final_sum(params):
        rule = SynapticScaling(target_rate=params[0], tau_rate=params[1], tau_scaling=params[2])

        def body(carry, s):
            w, traces = carry
            return rule.update(traces, w, jnp.zeros(3), s, dt=1.0, conn=conn), None

        (w, _), _ = jax.lax.scan(body, (conn.weights, rule.init(conn)), post)
        return w.sum()

    params = np.array([8.0, 30.0, 200.0])
    grad = jax.grad(final_sum)(jnp.asarray(params))
    # smooth in every parameter: central differences with eps = 1e-6 are accurate to ~1e-8
    np.testing.assert_allclose(grad, finite_differences(final_sum, params), rtol=1e-6,
                               atol=1e-10)


def test_scaling_in_a_network_of_a_silent_neuron_follows_the_exact_growth():
    steps, tau_rate, tau_scaling, target = 200, 20.0, 400.0, 10.0
    conn = bo.from_edges([0, 1], [0, 0], [1.0, 2.0], n_pre=2, n_post=1)
    rule = SynapticScaling(target_rate=target, tau_rate=tau_rate, tau_scaling=tau_scaling)
    proj = bs.Projection("pre", "post", conn, Exponential(tau=5.0), Current(), plasticity=rule)
    net = bs.Network({"pre": (SpikeTimes(times=[], indices=[]), 2), "post": (QUIET, 1)}, [proj])
    result = jax.jit(lambda s: bs.run(net, s, steps=steps, dt=DT, record=None))(net.init())
    w = result.final_state["synapses"]["pre->post"].weights
    # the estimate decays from the target: r_k = target exp(-k dt / tau_rate), k = 0..steps-1
    r = target * np.exp(-np.arange(steps) * DT / tau_rate)
    factor = np.exp(np.sum(DT * (target - r) / (target * tau_scaling)))
    np.testing.assert_allclose(w, np.array([1.0, 2.0]) * factor, rtol=1e-5)  # float32 sums


@pytest.mark.parametrize("make_conn", [
    lambda: bo.fixed_prob(jax.random.key(2), 8, 5, 0.6, weight=1.0, per_synapse=True),
    lambda: bo.Dense(jax.random.uniform(jax.random.key(3), (8, 5))),
])
def test_normalization_sets_every_incoming_sum(make_conn, x64):
    conn = make_conn()
    w = conn.weights * jax.random.uniform(jax.random.key(4), conn.synapse_shape, minval=0.1)
    total = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0])
    w_new, _ = WeightNormalization(total=total).update((), w, None, None, dt=DT, conn=conn)
    dense = np.asarray(conn.with_weights(w_new).todense())
    has_input = np.asarray(conn.with_weights(jnp.ones_like(w)).todense()).sum(0) > 0
    np.testing.assert_allclose(dense.sum(0)[has_input], np.asarray(total)[has_input],
                               rtol=1e-12)
    ratios = np.asarray(w_new) / np.asarray(w)  # the same factor for one neuron's inputs
    _, post = bo.synapse_neurons(conn)
    for j in range(5):
        chosen = ratios[np.asarray(post) == j]
        np.testing.assert_allclose(chosen, chosen[0], rtol=1e-12)


def test_normalization_gradient_matches_finite_differences(x64, finite_differences):
    conn = bo.Dense(jnp.ones((3, 2)))
    rule = WeightNormalization(total=2.0)
    probe = jnp.arange(6.0).reshape(3, 2)

    def f(w):
        return jnp.sum(probe * rule.update((), jnp.asarray(w), None, None, dt=DT, conn=conn)[0])

    w = np.array([[0.2, 0.5], [0.7, 0.1], [0.4, 0.9]])
    np.testing.assert_allclose(jax.grad(f)(jnp.asarray(w)), finite_differences(f, w),
                               rtol=1e-6, atol=1e-9)


def _threshold_run(neuron, current, steps):
    def body(state, _):
        return neuron.step(state, current, t=0.0, dt=DT)

    return jax.lax.scan(body, neuron.init(current.shape[0]), None, length=steps)


def test_adaptive_threshold_reaches_the_target_and_keeps_the_spike_count_identity(x64):
    neuron = AdaptiveThreshold(LIF(), target_rate=10.0, eta=0.5)
    current = jnp.array([160.0, 200.0, 300.0, 600.0])  # 0 to ~200 Hz without adaptation
    steps = 20_000  # 10 s
    state, spikes = jax.jit(_threshold_run, static_argnums=2)(neuron, current, steps)
    count = np.asarray(spikes).sum(0)
    # dtheta = eta (N - r T): exact, up to float64 rounding of 20 000 additions
    np.testing.assert_allclose(count - 10.0 * 10.0, np.asarray(state.theta) / 0.5, atol=1e-8)
    # last 4 s: the rate is the target to within one spike per window of the threshold's
    # jitter (theta moves by eta = 0.5 mV per spike): +-0.5 Hz = +-2 spikes
    np.testing.assert_allclose(np.asarray(spikes)[-8000:].sum(0) / 4.0, 10.0, atol=0.5)


def test_adaptive_threshold_vmap_over_eta_equals_loop_and_runs_in_a_network():
    current = jnp.array([300.0, 600.0])

    def final_theta(eta):
        neuron = AdaptiveThreshold(LIF(), target_rate=10.0, eta=eta)
        return _threshold_run(neuron, current, 1000)[0].theta

    etas = jnp.array([0.2, 1.0])
    batched = jax.jit(jax.vmap(final_theta))(etas)
    single = jax.jit(final_theta)
    for i, eta in enumerate(etas):
        np.testing.assert_allclose(batched[i], single(eta), rtol=1e-6)
    neuron = AdaptiveThreshold(LIF(), target_rate=10.0, eta=0.5)
    net = bs.Network({"n": (neuron, 2)}, [])
    result = bs.run(net, net.init(), steps=1000, dt=DT, inputs={"n": current},
                    record=["n.spikes"])  # fmt: skip
    theta = result.final_state["n"].theta
    np.testing.assert_allclose(theta, single(0.5), rtol=1e-5)


def test_adaptive_threshold_gradient_matches_finite_differences(x64, finite_differences):
    # below threshold the triangle surrogate is 0, so the spikes carry no gradient and the
    # threshold drifts as -eta target t: smooth in both parameters
    lif = LIF(spike_fn=Triangle(width=0.2))  # v stays 10 mV (x = -0.67) below threshold

    def theta_sum(params):
        neuron = AdaptiveThreshold(lif, target_rate=params[0], eta=params[1])
        return _threshold_run(neuron, jnp.array([50.0, 100.0]), 200)[0].theta.sum()

    params = np.array([10.0, 0.5])
    np.testing.assert_allclose(jax.grad(theta_sum)(jnp.asarray(params)),
                               finite_differences(theta_sum, params), rtol=1e-6)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SynapticScaling(target_rate=0.0), "target_rate"),
        (lambda: SynapticScaling(tau_rate=-1.0), "tau_rate"),
        (lambda: SynapticScaling(tau_scaling=0.0), "tau_scaling"),
        (lambda: SynapticScaling(polarity="both"), "polarity"),
        (lambda: WeightNormalization(total=-1.0), "total"),
        (lambda: WeightNormalization(total=jnp.ones(3)).init(bo.Dense(jnp.ones((2, 2)))),
         "total"),
        (lambda: AdaptiveThreshold(LIF(), eta=0.0), "eta"),
        (lambda: AdaptiveThreshold(LIF(), target_rate=-5.0), "target_rate"),
        (lambda: AdaptiveThreshold(LIF(), threshold="theta"), "threshold"),
        (lambda: AdaptiveThreshold("LIF"), "neuron"),
        (lambda: AdaptiveThreshold(LIF(), theta_max=0.0), "theta_max"),
    ],
)
def test_bad_homeostatic_parameters_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_synaptic_scaling_example_brings_both_runs_toward_the_target(run_example):
    out = run_example("synaptic_scaling", "--duration", "6000", "--n-post", "10")
    for line in out.strip().splitlines():
        first = float(line.split("(mean ")[1].split(")")[0])
        last = float(line.split("(mean ")[2].split(")")[0])
        # from ~15 Hz on average (0 to ~35 Hz) to the 8-Hz target within 6 s: the mean of ten
        # neurons in the last second is within 3 Hz of it, closer than at the start
        assert abs(last - 8.0) < 3.0
        assert abs(last - 8.0) < abs(first - 8.0)
