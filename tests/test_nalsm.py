"""The NALSM at reduced size: construction, the LIF step by hand, the protocol's phases, the
branching factor's response to the astrocyte, and classification of the 8x8 digits."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim_ops as bo
from brainsim import nalsm
from brainsim.plasticity import AstroSTDP

GRID = (5, 5, 5)


@pytest.fixture(scope="module")
def liquid():
    return nalsm.build_liquid(jax.random.key(0), 16, grid=GRID)


def _images(n, n_pixels=16, seed=0):
    rng = np.random.default_rng(seed)
    return nalsm.normalise_images(rng.random((n, n_pixels)) ** 2)


def test_build_liquid_follows_the_construction(liquid):
    n, n_in = 125, 16
    assert liquid.n_liquid == n and liquid.n_input == n_in and liquid.n_total == n + n_in
    inh = np.asarray(liquid.inhibitory)
    assert inh[:n].sum() == 25 and not inh[n:].any()                 # 80 / 20 % E / I
    indptr = np.asarray(liquid.conn.indptr)
    pre = np.repeat(np.arange(n + n_in), np.diff(indptr))
    post = np.asarray(liquid.conn.indices)
    w = np.asarray(liquid.weights)
    assert post.max() < n                                            # nothing onto inputs
    assert np.sum(pre >= n) == int(0.15 * n * n_in)                  # exact input count
    assert not np.any((pre == post) & (pre < n))                     # no self connections
    assert np.all(np.abs(w) == 3.0)
    assert np.all(w[(pre < n) & ~inh[pre]] > 0) and np.all(w[inh[pre]] < 0)
    signs = w[pre >= n]
    assert 0.4 < np.mean(signs > 0) < 0.6                            # ± at random
    recurrent = liquid.recurrent()
    assert recurrent.n_pre == n and recurrent.n_syn == np.sum(pre < n)
    again = nalsm.build_liquid(jax.random.key(0), 16, grid=GRID)
    np.testing.assert_array_equal(again.conn.indices, liquid.conn.indices)
    np.testing.assert_array_equal(again.weights, liquid.weights)
    other = nalsm.build_liquid(jax.random.key(1), 16, grid=GRID)
    assert other.conn.n_syn != liquid.conn.n_syn or not np.array_equal(
        other.conn.indices, liquid.conn.indices)


def test_recurrent_in_degree_at_1000_neurons_matches_the_paper():
    big = nalsm.build_liquid(jax.random.key(3), 0, grid=(10, 10, 10))
    # the paper: about 16.7 k recurrent synapses at 1000 neurons (in-degree 12.4 E + 4.3 I)
    assert 15_500 < big.recurrent().n_syn < 18_000


def _two_neurons(weight):
    """Liquid neuron 0 driven by input neuron 1 through one synapse of `weight`."""
    conn = bo.from_edges([1], [0], [weight], n_pre=2, n_post=2)
    return nalsm.Liquid(conn=conn, inhibitory=jnp.zeros(2, bool), n_liquid=1)


def test_lif_step_by_hand():
    liquid = _two_neurons(100.0)
    state, w = liquid.init(), liquid.weights
    key = jax.random.key(0)
    spikes, v0, v1 = [], [], []
    for _ in range(8):       # pixel 1: the input neuron receives 100 every ms
        state, s = liquid.step(state, w, jnp.ones(1), key)
        spikes.append(np.asarray(s))
        v0.append(float(state.v[0]))
        v1.append(float(state.v[1]))
    spikes = np.array(spikes)
    # input: 100 at step 0 -> spikes at 1, refractory at 2 and 3 (v integrates), spikes at 4, 7
    np.testing.assert_array_equal(spikes[:, 1], [0, 1, 0, 0, 1, 0, 0, 1])
    np.testing.assert_allclose(v1[0], 100.0)
    np.testing.assert_allclose(v1[1], 100.0)                      # reset to 0, then + 100
    np.testing.assert_allclose(v1[2], 100.0 + 100.0 - 100.0 / 64, rtol=1e-6)
    # liquid neuron: W r = 100 at the input's spike (step 1, r = 1 / tau_u = 1), spikes at 2
    # (reset, then + 100 e^-1), stays above threshold but refractory at 3 and 4, spikes at 5
    np.testing.assert_allclose(v0[1], 100.0, rtol=1e-6)
    np.testing.assert_allclose(v0[2], 100.0 * np.exp(-1), rtol=1e-6)
    v3 = v0[2] - v0[2] / 64 + 100.0 * np.exp(-2)
    np.testing.assert_allclose(v0[3], v3, rtol=1e-6)
    np.testing.assert_array_equal(spikes[:6, 0], [0, 0, 1, 0, 0, 1])
    assert min(v0[2:5]) > 20.0


def test_pixel_zero_never_drives_and_weights_are_used_as_given():
    liquid = _two_neurons(30.0)
    state = liquid.init()
    for t in range(20):
        state, s = liquid.step(state, liquid.weights, jnp.zeros(1), jax.random.key(t))
        assert not np.any(np.asarray(s))
    state, s = liquid.step(liquid.init(), jnp.zeros(1), jnp.ones(1), jax.random.key(0))
    state, s = liquid.step(state, jnp.zeros(1), jnp.ones(1), jax.random.key(0))
    assert float(state.v[0]) == 0.0                                  # zero weight: no current


def test_normalise_images_and_counts():
    x = nalsm.normalise_images(np.array([[1.0, 1.0, 2.0], [0.0, 0.0, 5.0]]))
    np.testing.assert_allclose(x, [[0.25, 0.25, 0.5], [0.0, 0.0, 1.0]])
    c = nalsm.normalise_counts(np.array([[1, 3], [0, 0]]))
    np.testing.assert_allclose(c, [[0.25, 0.75], [0.0, 0.0]])
    with pytest.raises(ValueError, match="images"):
        nalsm.normalise_images(np.array([[0.0, 0.0]]))
    with pytest.raises(ValueError, match="images"):
        nalsm.normalise_images(np.ones(3))


def test_fit_readout_separates_gaussian_clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 10)) * 3
    y = np.repeat(np.arange(4), 50)
    x = centres[y] + rng.normal(size=(200, 10))
    readout = nalsm.fit_readout(x, y)
    assert readout.accuracy(x, y) > 0.97
    with pytest.raises(ValueError, match="labels"):
        nalsm.fit_readout(x, y[:10])
    with pytest.raises(TypeError, match="labels"):
        nalsm.fit_readout(x, y.astype(float))


def test_bad_input_is_rejected(liquid):
    model = nalsm.NALSM(liquid, liquid.rule())
    with pytest.raises(ValueError, match="pixels"):
        model.features(liquid.weights, jnp.zeros(3), jax.random.key(0))
    with pytest.raises(ValueError, match="pixels"):
        model.initialise(liquid.weights, jnp.zeros(16), jax.random.key(0))
    with pytest.raises(ValueError, match="feature_duration"):
        nalsm.NALSM(liquid, None, feature_duration=0)
    with pytest.raises(ValueError, match="anneal"):
        nalsm.NALSM(liquid, None, anneal=1.5)
    with pytest.raises(TypeError, match="rule"):
        nalsm.NALSM(liquid, "stdp")
    with pytest.raises(ValueError, match="n_input"):
        nalsm.build_liquid(jax.random.key(0), -1)
    with pytest.raises(ValueError, match="input_density"):
        nalsm.build_liquid(jax.random.key(0), 4, input_density=2.0)
    with pytest.raises(ValueError, match="inhibitory"):
        nalsm.Liquid(conn=liquid.conn, inhibitory=jnp.zeros(3, bool), n_liquid=125)


def test_feature_phase_is_deterministic_and_vmap_equals_a_loop(liquid):
    model = nalsm.NALSM(liquid, liquid.rule(), feature_duration=60)
    images = _images(3)
    keys = jax.random.split(jax.random.key(5), 3)
    w = liquid.weights
    one = jax.jit(lambda im, k: model.features(w, im, k, record=True))
    looped = [one(im, k) for im, k in zip(images, keys, strict=True)]
    counts = np.stack([np.asarray(c) for c, _ in looped])
    vmapped = jax.jit(jax.vmap(lambda im, k: model.features(w, im, k)))(images, keys)
    np.testing.assert_array_equal(vmapped, counts)
    matrix = model.feature_matrix(w, images, jax.random.key(5), batch_size=2)   # padded
    np.testing.assert_array_equal(matrix, counts)
    assert counts.sum() > 0
    np.testing.assert_array_equal(one(images[0], keys[0])[0], counts[0])       # same key
    assert not np.array_equal(one(images[0], keys[1])[0], counts[0])           # other key
    raster = looped[0][1]
    assert raster.shape == (60, 125) and raster.dtype == jnp.bool_
    np.testing.assert_array_equal(raster.sum(0), counts[0])


def test_initialisation_is_deterministic_and_static_rule_leaves_weights(liquid):
    model = nalsm.NALSM(liquid, liquid.rule())
    images = _images(5)
    a = model.initialise(liquid.weights, images, jax.random.key(1))
    b = model.initialise(liquid.weights, images, jax.random.key(1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, liquid.weights)
    rule = liquid.rule()
    pre, _ = _pre_post(liquid)
    w = np.asarray(a)
    assert np.all(w >= np.asarray(rule.w_min)[pre]) and np.all(w <= np.asarray(rule.w_max)[pre])
    static = nalsm.NALSM(liquid, None)
    np.testing.assert_array_equal(static.initialise(liquid.weights, images, jax.random.key(1)),
                                  liquid.weights)


def _pre_post(liquid):
    indptr = np.asarray(liquid.conn.indptr)
    return (np.repeat(np.arange(liquid.n_total), np.diff(indptr)),
            np.asarray(liquid.conn.indices))


def test_rule_of_the_liquid_has_the_classes_bounds():
    liquid = nalsm.build_liquid(jax.random.key(0), 4, grid=(3, 3, 3))
    rule = liquid.rule(w_A=0.05)
    assert isinstance(rule, AstroSTDP) and float(rule.w_A) == pytest.approx(0.05)
    inh = np.asarray(liquid.inhibitory)
    lo, hi = np.asarray(rule.w_min), np.asarray(rule.w_max)
    assert np.all(lo[:27][~inh[:27]] == 0) and np.all(hi[inh] == 0)
    assert np.all(lo[27:] == -3) and np.all(hi[27:] == 3)


@pytest.mark.slow   # ~40-60 s on 2 busy cores: compiles a NALSM and an L-BFGS readout
def test_docstring_examples_run():
    result = doctest.testmod(nalsm, globs={"jnp": jnp, **vars(nalsm)},
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.fixture(scope="module")
def digits():
    """The first 300 8x8 digits, normalised as the NALSM does, and their labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return np.asarray(nalsm.normalise_images(data.data[:300] / 16.0)), data.target[:300]


@pytest.fixture(scope="module")
def digit_liquid():
    return nalsm.build_liquid(jax.random.key(0), 64, grid=GRID)


def _init_images(digits):
    return digits[0][np.arange(100) % 200]            # 100 presentations of training digits


def _bf(liquid, rule, digits):
    model = nalsm.NALSM(liquid, rule)
    w, activity = model.initialise_with_activity(liquid.weights, _init_images(digits),
                                                 jax.random.key(1))
    return model.branching_factor(w, digits[0][:10], jax.random.key(2)), np.asarray(activity)


def test_branching_factor_falls_as_the_astrocyte_gain_rises(digit_liquid, digits):
    low, activity_low = _bf(digit_liquid, digit_liquid.rule(w_A=0.005), digits)
    high, activity_high = _bf(digit_liquid, digit_liquid.rule(w_A=0.2), digits)
    # measured 1.46 and 1.16 (125 neurons, 100 presentations, 10 rasters)
    assert low - high > 0.1, (low, high)
    assert 0.8 < high < 1.4
    assert activity_low.min() > 0 and activity_high.min() > 0      # never silent


def test_without_the_astrocyte_the_liquid_is_more_critical(digit_liquid, digits):
    nalsm_bf, _ = _bf(digit_liquid, digit_liquid.rule(w_A=0.2), digits)
    ablation_bf, _ = _bf(digit_liquid, digit_liquid.rule(astrocyte=False), digits)
    # measured 1.46 against 1.16
    assert ablation_bf - nalsm_bf > 0.1, (ablation_bf, nalsm_bf)


@pytest.mark.slow   # ~45 s on 2 busy cores: 300 feature phases, an L-BFGS compilation
def test_readout_of_liquid_features_classifies_digits(digit_liquid, digits):
    x, y = digits
    model = nalsm.NALSM(digit_liquid, digit_liquid.rule(w_A=0.05), feature_duration=100)
    w = model.initialise(digit_liquid.weights, _init_images(digits), jax.random.key(1))
    counts = model.feature_matrix(w, x, jax.random.key(3))
    assert np.all(np.asarray(counts).sum(1) > 0)                    # no silent sample
    features = nalsm.normalise_counts(counts)
    accuracy = nalsm.fit_readout(features[:200], y[:200]).accuracy(features[200:], y[200:])
    # chance is 10 %; measured 91 % (200 training digits, 100 ms presentations)
    assert accuracy > 0.8, accuracy


@pytest.mark.slow   # ~10 compilations: 1-3 min on 2 busy cores
def test_example_runs_and_prints_the_comparisons(run_example):
    stdout = run_example("nalsm", "--grid", 4, 4, 4, "--digits", 150, "--init", 40,
                         min_bytes=20_000)
    for text in ("branching factor vs w_A", "falls monotonically:", "NALSM (w_A = 0.05):",
                 "LSM+STDP (no astrocyte):", "best static LSM per seed:", "raw pixels",
                 "ablation minus NALSM: BF", "liquid never silent"):
        assert text in stdout, stdout
    assert "silent NALSM feature vectors 0" in stdout
