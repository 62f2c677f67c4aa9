"""Astrocyte-modulated STDP: hand-computed weights, the astrocyte's equation, the ablation,
a numpy transcription of the paper's update on every storage kind, jit, vmap, grad, errors."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from plasticity_cases import KINDS, full, synapse_pre_post

import brainsim_ops as bo
from brainsim.plasticity import AstroSTDP, AstroSTDPState, _astro_stdp, chain, clip

DECAY, JUMP, ETA, B_A, TAU_A = 0.90477, 0.1, 0.15, 0.15, 100.0

# presynaptic classes of the small cases: 0 excitatory, 1 inhibitory, 2 input
INH = np.array([False, True, False])
INP = np.array([False, False, True])


def _step(rule, state, w, conn, pre, post, u=0.0, dt=1.0):
    return rule.update(state, w, jnp.asarray(pre, float), jnp.asarray(post, float), dt=dt,
                       conn=conn, modulator=u)


def test_three_presynaptic_classes_by_hand(x64):
    rule = AstroSTDP.ivanov2021(INH, INP)
    conn = bo.from_edges([0, 1, 2], [0, 0, 0], [1.0, -1.0, 0.5], n_pre=3, n_post=1)
    state, w = rule.init(conn), conn.weights
    # 1: all three presynaptic neurons spike (no traces yet: no change), drive u = 4
    w, state = _step(rule, state, w, conn, [1, 1, 1], [0], u=4.0)
    np.testing.assert_array_equal(w, [1.0, -1.0, 0.5])
    a1 = 0.15 + (0.015 * 4.0 + 0.15 - 0.15) / TAU_A
    # 2: the postsynaptic neuron spikes 1 ms later: c+ x_j with x_j = 0.1 * 0.90477
    w, state = _step(rule, state, w, conn, [0, 0, 0], [1], u=-2.0)
    x = JUMP * DECAY
    expected = np.array([1.0 + ETA * x, -1.0 - a1 * x, 0.5 + ETA * x])
    np.testing.assert_allclose(w, expected, rtol=1e-14)
    a2 = a1 + (0.015 * -2.0 + 0.15 - a1) / TAU_A
    # 3: the presynaptic neurons spike again 1 ms later: c- x_i, x_i = 0.1 * 0.90477
    w, state = _step(rule, state, w, conn, [1, 1, 1], [0], u=0.0)
    expected = expected + np.array([-a2 * x, ETA * x, -a2 * x])
    np.testing.assert_allclose(w, expected, rtol=1e-14)
    np.testing.assert_allclose(state.astrocyte, a2 + (0.15 - a2) / TAU_A, rtol=1e-14)
    # presynaptic traces: spiked at 1 and 3 -> 0.1 * 0.90477^2 + 0.1
    np.testing.assert_allclose(state.pre, JUMP * DECAY**2 + JUMP, rtol=1e-14)
    np.testing.assert_allclose(state.post, [x], rtol=1e-14)


def test_bounds_per_class_and_one_clip_of_the_summed_change(x64):
    rule = AstroSTDP.ivanov2021(INH, INP)
    conn = bo.from_edges([0, 1, 2], [0, 0, 0], [2.999, -0.001, -2.999], n_pre=3, n_post=1)
    state, w = rule.init(conn), conn.weights
    w, state = _step(rule, state, w, conn, [1, 1, 1], [0])
    w, state = _step(rule, state, w, conn, [0, 0, 0], [1])    # E, input potentiate; I weakens
    np.testing.assert_allclose(w, [3.0, -0.001 - 0.15 * JUMP * DECAY, -2.999 + 0.15 * 0.090477],
                               rtol=1e-12)
    # E synapse at 3 with both ends spiking: + eta x_pre - A x_post = 0 exactly (A = eta)
    conn = bo.from_edges([0], [1], [3.0], n_pre=2, n_post=2)
    rule = AstroSTDP(w_min=0.0, w_max=3.0)
    state, w = rule.init(conn), conn.weights
    w, state = _step(rule, state, w, conn, [1, 1], [1, 1])
    w, state = _step(rule, state, w, conn, [1, 1], [1, 1])
    np.testing.assert_array_equal(w, [3.0])   # not clip(clip(3 + a) - a) = 3 - a


def test_astrocyte_follows_its_equation_with_annealing(x64):
    rule = AstroSTDP(w_A=0.02, b_A=0.1, tau_A=50.0, A_init=0.3, anneal=0.99)
    conn = bo.Dense(jnp.zeros((1, 1)))
    drives = np.asarray(jax.random.randint(jax.random.key(0), (200,), -30, 60), float)
    state, w = rule.init(conn), conn.weights
    A, g = 0.3, 1.0
    for u in drives:
        w, state = _step(rule, state, w, conn, [0], [0], u=u)
        A = A + (0.02 * g * u + 0.1 * g - A) / 50.0      # the paper's update, constants annealed
        A, g = 0.99 * A, 0.99 * g                        # then A, eta, w_A, b_A shrink by 1 %
        np.testing.assert_allclose(state.astrocyte, A, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(state.gain, 0.99**200, rtol=1e-12)


def test_astrocyte_relaxes_to_its_set_point():
    rule = AstroSTDP(w_A=0.01, b_A=0.2, tau_A=20.0)
    conn = bo.Dense(jnp.zeros((1, 1)))

    def step(state, _):
        _, state = rule.update(state, conn.weights, jnp.zeros(1), jnp.zeros(1), dt=1.0,
                               conn=conn, modulator=5.0)
        return state, None

    state, _ = jax.lax.scan(step, rule.init(conn), None, length=1000)
    np.testing.assert_allclose(state.astrocyte, 0.2 + 0.01 * 5.0, rtol=1e-5)


def test_ablation_depresses_with_eta_and_ignores_the_modulator(x64):
    rule = AstroSTDP.ivanov2021(INH, INP, astrocyte=False)
    conn = bo.from_edges([0, 1, 2], [0, 0, 0], [1.0, -1.0, 0.5], n_pre=3, n_post=1)
    state, w = rule.init(conn), conn.weights
    x = JUMP * DECAY
    w, state = rule.update(state, w, jnp.ones(3), jnp.zeros(1), dt=1.0, conn=conn)
    w, state = rule.update(state, w, jnp.zeros(3), jnp.ones(1), dt=1.0, conn=conn)
    np.testing.assert_allclose(w, [1.0 + ETA * x, -1.0 - ETA * x, 0.5 + ETA * x], rtol=1e-14)
    w, state = rule.update(state, w, jnp.ones(3), jnp.zeros(1), dt=1.0, conn=conn,
                           modulator=1e6)
    np.testing.assert_allclose(w, [1.0, -1.0, 0.5], rtol=1e-14)  # each pairing undone
    assert float(state.astrocyte) == 0.15


def _reference(w0, pre_idx, post_idx, lo, hi, inh, pre_trains, post_trains, drives, *,
               eta0, w_A, anneal, astrocyte):
    """The paper's update, transcribed in numpy over a dense (n_pre, n_post) matrix."""
    n_pre, n_post = pre_trains.shape[1], post_trains.shape[1]
    W = np.zeros((n_pre, n_post))
    W[pre_idx, post_idx] = w0
    mask = np.zeros((n_pre, n_post), bool)
    mask[pre_idx, post_idx] = True
    x_pre, x_post, A, g = np.zeros(n_pre), np.zeros(n_post), 0.15, 1.0
    for s_pre, s_post, u in zip(pre_trains, post_trains, drives, strict=True):
        eta = eta0 * g
        dep = A if astrocyte else eta
        c_plus = np.where(inh, -dep, eta)
        c_minus = np.where(inh, eta, -dep)
        dW = (c_plus * x_pre)[:, None] * s_post[None, :] + (c_minus * s_pre)[:, None] * x_post
        W = np.where(mask, np.clip(W + dW, lo[:, None], hi[:, None]), W)
        x_pre = DECAY * (x_pre + JUMP * s_pre)
        x_post = DECAY * (x_post + JUMP * s_post)
        if astrocyte:
            A = A + (w_A * g * u + B_A * g - A) / TAU_A
        A, g = anneal * A, anneal * g
    return W[pre_idx, post_idx], A


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("astrocyte", [True, False])
def test_matches_the_paper_update_on_every_storage_kind(x64, kind, astrocyte):
    n_pre, n_post, steps = 7, 5, 120
    classes = np.array([0, 1, 2, 0, 0, 1, 2])
    inh, inp = classes == 1, classes == 2
    conn = full(kind, n_pre, n_post, 0.0)
    pre_idx, post_idx = synapse_pre_post(conn)
    keys = jax.random.split(jax.random.key(1), 4)
    w0 = np.asarray(jax.random.uniform(keys[0], pre_idx.shape, minval=-0.5, maxval=0.5))
    w0 = np.where(inh[pre_idx], -np.abs(w0), np.where(inp[pre_idx], w0, np.abs(w0)))
    pre_trains = np.asarray(jax.random.uniform(keys[1], (steps, n_pre)) < 0.3, float)
    post_trains = np.asarray(jax.random.uniform(keys[2], (steps, n_post)) < 0.3, float)
    drives = pre_trains.sum(1) - post_trains.sum(1)
    rule = AstroSTDP.ivanov2021(inh, inp, w_max=0.6, eta=0.6, w_A=0.02, anneal=0.995,
                                astrocyte=astrocyte)

    @jax.jit
    def run(w, pre_trains, post_trains, drives):
        def step(carry, inputs):
            w, state = carry
            pre, post, u = inputs
            return rule.update(state, w, pre, post, dt=1.0, conn=conn, modulator=u), None

        (w, state), _ = jax.lax.scan(step, (w, rule.init(conn)),
                                     (pre_trains, post_trains, drives))
        return w, state

    w, state = run(jnp.asarray(w0), pre_trains, post_trains, drives)
    expected, A = _reference(w0.reshape(-1), pre_idx.reshape(-1), post_idx.reshape(-1),
                             np.asarray(rule.w_min), np.asarray(rule.w_max), inh, pre_trains,
                             post_trains, drives, eta0=0.6, w_A=0.02, anneal=0.995,
                             astrocyte=astrocyte)
    np.testing.assert_allclose(np.asarray(w).reshape(-1), expected, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(state.astrocyte, A, rtol=1e-12)
    assert np.any(np.abs(expected - w0.reshape(-1)) > 0.05)       # the weights did move
    assert np.any(np.abs(expected) == 0.6)                          # and some hit a bound


def _outcome(conn, pre_trains, post_trains, drives):
    def f(eta, w_A):
        rule = AstroSTDP(eta=eta, w_A=w_A, w_min=-5.0, w_max=5.0,
                         inhibitory=jnp.arange(conn.n_pre) % 3 == 1)

        def step(carry, inputs):
            w, state = carry
            pre, post, u = inputs
            return rule.update(state, w, pre, post, dt=1.0, conn=conn, modulator=u), None

        (w, state), _ = jax.lax.scan(step, (conn.weights, rule.init(conn)),
                                     (pre_trains, post_trains, drives))
        return jnp.sum(w**2) + state.astrocyte

    return f


def _random_case(dtype=None):
    conn = bo.fixed_prob(jax.random.key(5), 12, 9, 0.4, weight=0.2, per_synapse=True,
                         dtype=dtype)
    k1, k2 = jax.random.split(jax.random.key(6))
    pre = (jax.random.uniform(k1, (150, 12)) < 0.2).astype(conn.weights.dtype)
    post = (jax.random.uniform(k2, (150, 9)) < 0.2).astype(conn.weights.dtype)
    return conn, pre, post, pre.sum(1) - post.sum(1)


def test_jit_equals_eager():
    conn, pre, post, drives = _random_case()
    f = _outcome(conn, pre[:20], post[:20], drives[:20])
    np.testing.assert_allclose(jax.jit(f)(0.15, 0.015), f(0.15, 0.015), rtol=1e-6)


def test_vmap_over_constants_and_over_spike_trains_equals_a_loop():
    conn, pre, post, drives = _random_case()
    f = _outcome(conn, pre, post, drives)
    etas, w_As = jnp.array([0.05, 0.15, 0.3]), jnp.array([0.0, 0.015, 0.05])
    np.testing.assert_allclose(jax.vmap(f)(etas, w_As),
                               [f(e, a) for e, a in zip(etas, w_As, strict=True)], rtol=1e-5)
    trains = [_random_case()[1:]] + [(jnp.roll(pre, k, 0), post, drives) for k in (3, 7)]
    stacked = [jnp.stack(parts) for parts in zip(*trains, strict=True)]
    looped = [_outcome(conn, *t)(0.15, 0.015) for t in trains]
    vmapped = jax.vmap(lambda p, q, d: _outcome(conn, p, q, d)(0.15, 0.015))(*stacked)
    np.testing.assert_allclose(vmapped, looped, rtol=1e-5)


def test_grad_wrt_eta_and_w_A_matches_finite_differences(x64):
    conn, pre, post, drives = _random_case(jnp.float64)
    f = jax.jit(_outcome(conn, pre, post, drives))
    grad = jax.jit(jax.grad(f, argnums=(0, 1)))(0.15, 0.015)
    h = 1e-6
    fd_eta = (f(0.15 + h, 0.015) - f(0.15 - h, 0.015)) / (2 * h)
    fd_wa = (f(0.15, 0.015 + h) - f(0.15, 0.015 - h)) / (2 * h)
    assert abs(float(grad[0])) > 1e-3 and abs(float(grad[1])) > 1e-3
    np.testing.assert_allclose(grad[0], fd_eta, rtol=1e-6)
    np.testing.assert_allclose(grad[1], fd_wa, rtol=1e-6)


def test_composes_with_chain_and_state_is_a_named_tuple():
    conn, pre, post, drives = _random_case()
    rule = chain(AstroSTDP(), clip(-0.1, 0.25))
    state = rule.init(conn)
    assert isinstance(state[0], AstroSTDPState)
    w, state = rule.update(state, conn.weights, pre[0], post[0], dt=1.0, conn=conn,
                           modulator=drives[0])
    assert float(jnp.max(w)) <= 0.25


def test_bad_input_is_rejected_with_the_argument_named():
    conn = bo.Dense(jnp.zeros((3, 2)))
    rule = AstroSTDP()
    state = rule.init(conn)
    with pytest.raises(ValueError, match="modulator"):
        rule.update(state, conn.weights, jnp.zeros(3), jnp.zeros(2), dt=1.0, conn=conn)
    with pytest.raises(ValueError, match="modulator"):
        rule.update(state, conn.weights, jnp.zeros(3), jnp.zeros(2), dt=1.0, conn=conn,
                    modulator=jnp.zeros(2))
    with pytest.raises(ValueError, match="w_min"):
        AstroSTDP(w_min=jnp.zeros(4), w_max=1.0).init(conn)
    with pytest.raises(ValueError, match="inhibitory"):
        AstroSTDP(inhibitory=jnp.zeros(2, bool)).init(conn)
    with pytest.raises(ValueError, match="pre_spikes"):
        rule.update(state, conn.weights, jnp.zeros(2), jnp.zeros(2), dt=1.0, conn=conn,
                    modulator=0.0)
    bad = [dict(eta=-0.1), dict(tau_A=0.0), dict(trace_decay=0.0), dict(trace_decay=1.2),
           dict(anneal=1.5), dict(w_A=np.nan), dict(w_min=1.0, w_max=0.0),
           dict(eta=jnp.ones(2)), dict(w_min=jnp.zeros((2, 2)))]
    for kwargs in bad:
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            AstroSTDP(**kwargs)
    with pytest.raises(TypeError, match="inhibitory"):
        AstroSTDP(inhibitory=jnp.zeros(3))
    with pytest.raises(ValueError, match="inhibitory"):
        AstroSTDP(inhibitory=jnp.array([0, 2, 1]))
    with pytest.raises(ValueError, match="both"):
        AstroSTDP.ivanov2021([True, False], [True, True])
    with pytest.raises(ValueError, match="same length"):
        AstroSTDP.ivanov2021([True, False], [True])


def test_docstring_examples_run():
    result = doctest.testmod(_astro_stdp, optionflags=doctest.ELLIPSIS
                             | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_a_plastic_projection_passes_the_astrocyte_input_as_the_modulator():
    import brainsim as bs

    rule = AstroSTDP(w_A=0.01, w_min=0.0, w_max=2.0)
    conn = bo.fixed_prob(jax.random.key(0), 40, 6, 0.5, weight=0.5)
    lif = bs.neurons.LIF(tau_m=10.0, v_rest=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=2.0, R=1.0)
    projection = bs.Projection("pre", "post", conn, bs.synapses.Exponential(tau=5.0),
                               bs.synapses.Current(), plasticity=rule)
    net = bs.Network({"pre": (bs.neurons.PoissonSource(rate=40.0), 40), "post": (lif, 6)},
                     [projection])
    steps, dt, drive = 500, 0.5, 3.0
    result = bs.run(net, net.init(jax.random.key(1)),
                    inputs={"post": 16.0, "modulators": {"pre->post": drive}}, steps=steps,
                    dt=dt, record=None)
    final = result.final_state["synapses"]["pre->post"]
    A = 0.15
    for _ in range(steps):
        A = A + (0.01 * drive + dt * (0.15 - A)) / 100.0
    np.testing.assert_allclose(final.plasticity.astrocyte, A, rtol=1e-5)
    assert not np.allclose(final.weights, 0.5)
