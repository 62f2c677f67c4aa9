import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim.neurons import LIF, SpikeTimes
from brainsim.synapses import BernoulliRelease, Current, Exponential, QuantalRelease

REF = np.load(pathlib.Path(__file__).parents[1] / "reference" / "nest_release.npz")
N = int(REF["n_targets"])
DT = float(REF["dt"])
QUIET = LIF(v_th=1e4, v_reset=-65.0, R=0.1)  # never fires: a probe of its input
CASES = {
    "bernoulli": lambda p: BernoulliRelease(p_transmit=float(p["p_transmit"])),
    "quantal_depressing": lambda p: QuantalRelease(
        U=float(p["U"]), tau_rec=float(p["tau_rec"]), tau_fac=float(p["tau_fac"]), n=int(p["n"])
    ),
    "quantal_facilitating": lambda p: QuantalRelease(
        U=float(p["U"]), tau_rec=float(p["tau_rec"]), tau_fac=float(p["tau_fac"]), n=int(p["n"])
    ),
}


def _params(case):
    prefix = f"{case}__"
    return {k[len(prefix):]: REF[k] for k in REF.files if k.startswith(prefix)}


def _train_statistics(release, weight, times, key, n=N):
    """Mean and variance over `n` synapses of the weight transmitted at each spike of a train
    (times in ms). Between spikes nothing but time passes, so one call per spike, with `dt`
    the interval, is the same as one call per step."""
    conn = bo.all_to_all(1, n, weight=weight)
    intervals = jnp.diff(jnp.asarray(times), prepend=0.0)

    @jax.jit
    def run(state):
        def body(state, interval):
            state, w = release.transmit(state, jnp.ones(1), conn, dt=interval)
            return state, (w.mean(), w.var())

        return jax.lax.scan(body, state, intervals)[1]

    mean, var = run(release.init(conn, key))
    return np.asarray(mean), np.asarray(var)


def _quantal_theory(p, times):
    """Exact mean and variance per spike: Binomial(n, P_m u_m) sites of weight w."""
    U, n, w = float(p["U"]), int(p["n"]), float(p["weight"])
    tau_rec, tau_fac = float(p["tau_rec"]), float(p["tau_fac"])
    full, u, mean, var = 1.0, U, [], []
    for m, t in enumerate(times):
        if m > 0:
            h = t - times[m - 1]
            left = full * (1 - u)  # sites still full after the previous release
            full = left + (1 - left) * (1 - np.exp(-h / tau_rec))
            u = U + u * (1 - U) * (np.exp(-h / tau_fac) if tau_fac > 0 else 0.0)
        q = full * u
        mean.append(n * q * w)
        var.append(n * q * (1 - q) * w**2)
    return np.array(mean), np.array(var)


def _theory(case, p, times):
    if case == "bernoulli":
        q, w = float(p["p_transmit"]), float(p["weight"])
        return np.full(len(times), q * w), np.full(len(times), q * (1 - q) * w**2)
    return _quantal_theory(p, times)


def _z(a, b, var_a, var_b):
    return (a - b) / np.sqrt(var_a + var_b)


@pytest.mark.parametrize("case", list(CASES))
def test_transmitted_weight_statistics_match_theory_and_nest(case):
    p = _params(case)
    times = p["times"]
    release = CASES[case](p)
    mean, var = _train_statistics(release, float(p["weight"]), times, jax.random.key(7))
    mean_th, var_th = _theory(case, p, times)
    # the mean over N synapses of i.i.d. draws has standard error sqrt(var / N); the sample
    # variance has standard error about sqrt(2 / N) var (close to Gaussian at N = 4000).
    # 30 spikes x 3 cases: |z| < 4.5 fails by chance with probability < 1e-3.
    se_th = var_th / N
    assert np.all(np.abs(_z(mean, mean_th, se_th, 0.0)) < 4.5)
    assert np.all(np.abs(_z(mean, REF[f"{case}__mean"], se_th, se_th)) < 4.5)
    assert np.all(np.abs(var - var_th) < 4.5 * np.sqrt(2 / N) * var_th + 1e-6)
    assert np.all(np.abs(REF[f"{case}__var"] - var_th) < 4.5 * np.sqrt(2 / N) * var_th + 1e-6)


def test_theory_recursion_matches_nest_mean_over_the_whole_train():
    # pooled over 30 spikes, NEST's mean agrees with the exact recursion to 1.5 % (statistical
    # error of the pooled mean over 120 000 draws is < 0.5 %).
    for case in CASES:
        p = _params(case)
        mean_th, _ = _theory(case, p, p["times"])
        assert REF[f"{case}__mean"].sum() == pytest.approx(mean_th.sum(), rel=0.015)


@pytest.mark.parametrize("release", [BernoulliRelease(0.4), QuantalRelease(U=0.3, n=3)])
def test_same_key_same_releases_and_vmap_over_keys_equals_loop(release):
    conn = bo.fixed_prob(jax.random.key(0), 20, 30, 0.3, weight=1.0)
    spikes = jax.random.bernoulli(jax.random.key(1), 0.3, (25, 20)).astype(float)

    def run(key):
        def body(state, spike):
            state, w = release.transmit(state, spike, conn, dt=DT)
            return state, w

        return jax.lax.scan(body, release.init(conn, key), spikes)[1]

    keys = jax.random.split(jax.random.key(2), 3)
    batched = jax.jit(jax.vmap(run))(keys)
    for i, key in enumerate(keys):
        np.testing.assert_array_equal(batched[i], run(key))  # identical draws: exact
    np.testing.assert_array_equal(run(keys[0]), run(keys[0]))
    assert not np.array_equal(batched[0], batched[1])


def test_the_fast_bit_generator_is_reproducible_with_the_same_statistics():
    release = QuantalRelease(U=0.5, n=5, tau_rec=400.0, key_impl="rbg")
    p = _params("quantal_depressing")
    times = p["times"]
    mean, _ = _train_statistics(release, 1.0, times, None)
    again, _ = _train_statistics(release, 1.0, times, None)
    np.testing.assert_array_equal(mean, again)  # the same seed: the same releases
    mean_th, var_th = _theory("quantal_depressing", p, times)
    assert np.all(np.abs(mean - mean_th) < 4.5 * np.sqrt(var_th / N))  # as with threefry


def test_bernoulli_gradients_pathwise_for_weights_straight_through_for_p(x64, finite_differences):
    conn = bo.all_to_all(2, 6, weight=jnp.linspace(0.5, 1.5, 12).reshape(2, 6))
    spikes = jnp.array([1.0, 1.0])

    @jax.jit
    def total(p, w):
        release = BernoulliRelease(p_transmit=p)
        _, out = release.transmit(release.init(conn, jax.random.key(4)), spikes,
                                  conn.with_weights(w), dt=DT)
        return out.sum()

    w = np.asarray(conn.weights)
    grad_w = jax.grad(total, argnums=1)(0.4, jnp.asarray(w))
    # the draws do not depend on w: the sample is linear in w, central differences are exact
    # up to float64 rounding
    fd = finite_differences(lambda x: total(0.4, jnp.asarray(x)), w)
    np.testing.assert_allclose(grad_w, fd, atol=1e-8)
    # straight-through: d/dp of sum_k w_k b_k is sum_k w_k, which is dE/dp exactly
    assert float(jax.grad(total)(0.4, jnp.asarray(w))) == pytest.approx(w.sum(), rel=1e-12)


def test_quantal_gradients_pathwise_for_weights_straight_through_for_U(x64, finite_differences):
    conn = bo.all_to_all(1, 10, weight=jnp.linspace(0.5, 1.5, 10)[None])

    @jax.jit
    def first_spike(U, w):
        release = QuantalRelease(U=U, n=4)
        _, out = release.transmit(release.init(conn, jax.random.key(5)), jnp.ones(1),
                                  conn.with_weights(w), dt=DT)
        return out.sum()

    w = np.asarray(conn.weights)
    fd = finite_differences(lambda x: first_spike(0.3, jnp.asarray(x)), w)
    np.testing.assert_allclose(jax.grad(first_spike, argnums=1)(0.3, jnp.asarray(w)), fd,
                               atol=1e-8)  # linear in w for fixed draws
    # at the first spike all n sites are full: E = n U sum(w); the straight-through gradient
    # a * w = n * w equals dE/dU exactly
    assert float(jax.grad(first_spike)(0.3, jnp.asarray(w))) == pytest.approx(4 * w.sum())


def _network(release, delay_steps, weight=2.0, n_post=2000):
    conn = bo.from_edges(np.zeros(n_post, int), np.arange(n_post), weight, n_pre=1,
                         n_post=n_post)  # a CSR: a delayed release needs one
    proj = bs.Projection("pre", "post", conn, Exponential(tau=1e9), Current(), stp=release,
                         delay_steps=delay_steps)  # fmt: skip
    source = SpikeTimes(times=[1.0], indices=[0])
    return bs.Network({"pre": (source, 1), "post": (QUIET, n_post)}, [proj])


@pytest.mark.parametrize("delay_steps", [0, 3])
def test_projection_delivers_the_releases_after_the_delay(delay_steps):
    net = _network(BernoulliRelease(p_transmit=0.25), delay_steps)
    result = bs.run(net, net.init(), steps=20, dt=DT,
                    record={"g": lambda s, out: s["synapses"]["pre->post"].kinetics.g})
    g = np.asarray(result.traces["g"])
    arrival = 10 + delay_steps  # the spike at t = 1 ms is emitted in step 10
    assert not np.any(g[arrival - 1])
    values = set(np.unique(g[arrival]).tolist())
    assert values <= {0.0, 2.0}
    # fraction transmitted: binomial(2000, 0.25), standard error 0.0097; 4.5 sigma
    assert np.mean(g[arrival] > 0) == pytest.approx(0.25, abs=0.044)


def test_release_in_a_network_under_jit_vmap_and_grad():
    def final(weight, key):
        net = _network(QuantalRelease(U=0.5, n=2), 2, weight=weight, n_post=200)
        state = net.init()
        syn = state["synapses"]["pre->post"]
        state["synapses"]["pre->post"] = syn._replace(stp=syn.stp._replace(key=key))
        result = bs.run(net, state, steps=20, dt=DT, record=None)
        return result.final_state["synapses"]["pre->post"].kinetics.g.sum()

    keys = jax.random.split(jax.random.key(9), 2)
    batched = jax.jit(jax.vmap(final, in_axes=(None, 0)))(1.0, keys)
    single = jax.jit(final)
    np.testing.assert_allclose(batched, [single(1.0, k) for k in keys], rtol=1e-6)
    # linear in the weight for fixed draws: the gradient is the value at weight 1
    assert float(jax.grad(final)(1.0, keys[0])) == pytest.approx(float(batched[0]), rel=1e-5)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: BernoulliRelease(p_transmit=1.5), "p_transmit"),
        (lambda: BernoulliRelease(p_transmit=-0.1), "p_transmit"),
        (lambda: QuantalRelease(U=0.0), "`U`"),
        (lambda: QuantalRelease(tau_rec=-1.0), "tau_rec"),
        (lambda: QuantalRelease(n=0), "`n`"),
        (lambda: QuantalRelease(seed=-1), "seed"),
        (lambda: BernoulliRelease(0.5, key_impl="mt19937"), "key_impl"),
        (lambda: BernoulliRelease(jnp.full(3, 0.5)).init(bo.all_to_all(2, 2)), "p_transmit"),
        (lambda: QuantalRelease().init(bo.all_to_all(2, 2), key=3), "key"),
    ],
)
def test_bad_release_parameters_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_a_delayed_release_needs_csr():
    conn = bo.fixed_in_degree(jax.random.key(0), 10, 10, 2)
    with pytest.raises(TypeError, match="CSR"):
        bs.Projection("a", "b", conn, stp=BernoulliRelease(0.5), delay_steps=2)
