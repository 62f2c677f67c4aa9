"""brainsim_ops.spatial.connect: the empirical probability of a connection against the kernel
(χ²), the degree distributions each rule prescribes, symmetric pairs, autapses and multapses,
reproducibility, memory without a dense matrix.

Statistical tests reject at the 0.1 % level (fixed keys, so each outcome is deterministic);
the `..._detects_...` tests show that the same statistic rejects a kernel 10 % too wide.
"""

import tracemalloc

import jax
import numpy as np
import pytest
from scipy import stats

from brainsim_ops import spatial
from brainsim_ops.spatial import _connect, _search

ALPHA = 1e-3


def _pairs(c):
    pre = np.repeat(np.arange(c.conn.n_pre), np.diff(np.asarray(c.conn.indptr)))
    return pre, np.asarray(c.conn.indices)


def _all_pairs(layer, mask_fn):
    """Distances of all ordered pairs i != j whose displacement passes `mask_fn` (dense; tests
    only, at most a few thousand neurons)."""
    disp = layer.displacement(layer.positions[:, None, :], layer.positions[None, :, :])
    dist = np.linalg.norm(disp, axis=-1)
    inside = mask_fn(disp, dist) & ~np.eye(layer.n, dtype=bool)
    return dist[inside]


def _chi2_against_kernel(c, candidate_distances, kernel, edges) -> float:
    """p-value of Σ_b (O_b - E_b)² / V_b over distance bins, with E_b = Σ p and V_b = Σ p(1-p)
    over the candidate pairs in bin b (a sum of independent Bernoulli variables), ~ χ²(B)."""
    observed = np.histogram(c.distance, edges)[0]
    p = kernel(candidate_distances)
    expected = np.histogram(candidate_distances, edges, weights=p)[0]
    variance = np.histogram(candidate_distances, edges, weights=p * (1 - p))[0]
    used = variance > 0
    statistic = np.sum((observed[used] - expected[used]) ** 2 / variance[used])
    return float(stats.chi2.sf(statistic, used.sum()))


def _gof(observed_counts, pmf) -> float:
    """χ² goodness of fit of a histogram of integers to a pmf, pooling sparse tails."""
    n = observed_counts.sum()
    expected = n * pmf
    obs, exp, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed_counts, expected, strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 10:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    obs[-1] += acc_o
    exp[-1] += acc_e
    return float(stats.chisquare(obs, np.array(exp) * sum(obs) / sum(exp))[1])


BERNOULLI_CASES = {
    "2d_grid_periodic_gaussian_circle": (
        lambda: spatial.grid((36, 36), extent=(1.0, 1.0), periodic=True),
        spatial.Gaussian(sigma=0.12, amplitude=0.7), spatial.Circular(0.33),
        lambda disp, d: d <= 0.33),
    "2d_random_exponential_rectangle": (
        lambda: spatial.random(jax.random.key(1), 1500, extent=(1.0, 2.0)),
        spatial.Exponential(scale=0.2, amplitude=0.9),
        spatial.Rectangular((-0.2, -0.4), (0.3, 0.5)),
        lambda disp, d: np.all((disp >= [-0.2, -0.4]) & (disp <= [0.3, 0.5]), axis=-1)),
    "3d_random_periodic_linear_box": (
        lambda: spatial.random(jax.random.key(2), 1200, extent=(1.0, 1.0, 1.0), periodic=True),
        spatial.Linear(intercept=1.0, slope=-2.0),
        spatial.Box((-0.3, -0.3, -0.2), (0.3, 0.3, 0.2)),
        lambda disp, d: np.all(np.abs(disp) <= [0.3, 0.3, 0.2], axis=-1)),
    "3d_grid_gaussian_annulus_user_kernel": (
        lambda: spatial.grid((11, 11, 11), extent=(1.0, 1.0, 1.0)),
        lambda d: 0.5 * (1.0 + np.cos(np.pi * d / 0.4)), spatial.Annulus(0.05, 0.4),
        lambda disp, d: (d >= 0.05) & (d <= 0.4)),
}


@pytest.mark.parametrize("name", sorted(BERNOULLI_CASES))
def test_bernoulli_probability_against_distance_matches_the_kernel(name):
    make_layer, kernel, mask, mask_fn = BERNOULLI_CASES[name]
    layer = make_layer()
    c = spatial.connect(jax.random.key(0), layer, layer, spatial.PairwiseBernoulli(kernel),
                        mask=mask, allow_autapses=False)
    candidates = _all_pairs(layer, mask_fn)
    edges = np.linspace(0.0, candidates.max() + 1e-9, 13)
    assert c.conn.n_syn > 5000
    assert _chi2_against_kernel(c, candidates, kernel, edges) > ALPHA


def test_kernel_chi2_detects_a_kernel_of_the_wrong_width():
    make_layer, kernel, mask, mask_fn = BERNOULLI_CASES["2d_grid_periodic_gaussian_circle"]
    layer = make_layer()
    wide = spatial.Gaussian(sigma=1.1 * kernel.sigma, amplitude=kernel.amplitude)
    c = spatial.connect(jax.random.key(0), layer, layer, spatial.PairwiseBernoulli(wide),
                        mask=mask, allow_autapses=False)
    candidates = _all_pairs(layer, mask_fn)
    edges = np.linspace(0.0, candidates.max() + 1e-9, 13)
    assert _chi2_against_kernel(c, candidates, kernel, edges) < ALPHA


def test_bernoulli_out_degree_is_binomial_without_mask():
    layer = spatial.random(jax.random.key(4), 1000, extent=(1.0, 1.0))
    c = spatial.connect(jax.random.key(5), layer, layer, spatial.PairwiseBernoulli(0.05),
                        allow_autapses=False)
    pre, post = _pairs(c)
    assert not np.any(pre == post)
    degrees = np.bincount(np.bincount(pre, minlength=1000), minlength=1000)
    assert _gof(degrees, stats.binom.pmf(np.arange(1000), 999, 0.05)) > ALPHA


def test_fixed_in_degree_gives_k_each_and_binomial_out_degrees():
    layer = spatial.random(jax.random.key(6), 800, extent=(1.0, 1.0))
    c = spatial.connect(jax.random.key(7), layer, layer, spatial.FixedInDegree(25))
    pre, post = _pairs(c)
    assert np.all(np.bincount(post, minlength=800) == 25)
    out = np.bincount(np.bincount(pre, minlength=800), minlength=800 * 25 + 1)
    assert _gof(out, stats.binom.pmf(np.arange(out.size), 800 * 25, 1 / 800)) > ALPHA


def test_fixed_in_degree_draws_partners_in_proportion_to_the_kernel():
    """With multapses the k draws of each post neuron are independent, ∝ p(d), so on a periodic
    grid (the same candidates around every neuron) the partners' distances are multinomial."""
    layer = spatial.grid((30, 30), extent=(1.0, 1.0), periodic=True)
    kernel = spatial.Exponential(scale=0.1)
    c = spatial.connect(jax.random.key(8), layer, layer, spatial.FixedInDegree(40, kernel),
                        mask=spatial.Circular(0.3), allow_autapses=False)
    candidates = layer.displacement(layer.positions[:1], layer.positions)
    d = np.linalg.norm(candidates, axis=1)
    d = d[(d <= 0.3) & (d > 0)]
    edges = np.linspace(0, 0.3 + 1e-9, 11)
    expected = np.histogram(d, edges, weights=kernel(d))[0]
    observed = np.histogram(c.distance, edges)[0]
    used = expected > 0
    assert np.all(observed[~used] == 0)
    expected = expected[used] * observed.sum() / expected.sum()
    assert stats.chisquare(observed[used], expected)[1] > ALPHA


def test_fixed_out_degree_without_multapses_gives_k_distinct_partners_in_the_mask():
    layer = spatial.grid((25, 25), extent=(1.0, 1.0), periodic=True)
    c = spatial.connect(jax.random.key(9), layer, layer,
                        spatial.FixedOutDegree(30, spatial.Gaussian(0.1)),
                        mask=spatial.Circular(0.2), allow_autapses=False, allow_multapses=False)
    pre, post = _pairs(c)
    assert np.all(np.bincount(pre, minlength=625) == 30)
    assert np.unique(pre * 625 + post).size == pre.size
    assert not np.any(pre == post) and c.distance.max() <= 0.2


def test_fixed_total_number_gives_n_synapses_with_binomial_out_degrees():
    layer = spatial.random(jax.random.key(10), 500, extent=(1.0, 1.0))
    c = spatial.connect(jax.random.key(11), layer, layer, spatial.FixedTotalNumber(20_000),
                        allow_autapses=False)
    pre, post = _pairs(c)
    assert c.conn.n_syn == 20_000 and not np.any(pre == post)
    out = np.bincount(np.bincount(pre, minlength=500), minlength=20_001)
    assert _gof(out, stats.binom.pmf(np.arange(out.size), 20_000, 1 / 500)) > ALPHA


def test_fixed_total_number_without_multapses_draws_distinct_pairs_in_the_mask():
    layer = spatial.grid((20, 20), extent=(1.0, 1.0), periodic=True)
    c = spatial.connect(jax.random.key(12), layer, layer, spatial.FixedTotalNumber(3000),
                        mask=spatial.Circular(0.15), allow_autapses=False,
                        allow_multapses=False)
    pre, post = _pairs(c)
    assert c.conn.n_syn == 3000 and np.unique(pre * 400 + post).size == 3000
    assert c.distance.max() <= 0.15


def test_symmetric_pairs_come_in_both_directions_with_the_kernel_probability():
    layer = spatial.grid((30, 30), extent=(1.0, 1.0), periodic=True)
    kernel = spatial.Gaussian(sigma=0.1, amplitude=0.6)
    c = spatial.connect(jax.random.key(13), layer, layer,
                        spatial.PairwiseBernoulli(kernel, symmetric=True),
                        mask=spatial.Circular(0.25), allow_autapses=False)
    pre, post = _pairs(c)
    forward = set(zip(pre.tolist(), post.tolist(), strict=True))
    assert forward == {(j, i) for i, j in forward} and not np.any(pre == post)
    d = np.linalg.norm(layer.displacement(layer.positions[:1], layer.positions), axis=1)
    d = d[(d > 0) & (d <= 0.25)]
    mean = 900 * kernel(d).sum()   # ordered pairs; each unordered pair drawn once
    sd = np.sqrt(2 * 900 * (kernel(d) * (1 - kernel(d))).sum())
    assert abs(c.conn.n_syn - mean) < 4 * sd


def test_same_key_same_connectivity_other_key_differs():
    layer = spatial.random(jax.random.key(14), 600, extent=(1.0, 1.0, 1.0), periodic=True)
    rule = spatial.FixedOutDegree(10, spatial.Gaussian(0.2))
    a, b, other = (spatial.connect(jax.random.key(k), layer, layer, rule,
                                   mask=spatial.Circular(0.4)) for k in (1, 1, 2))
    np.testing.assert_array_equal(a.conn.indices, b.conn.indices)
    np.testing.assert_array_equal(a.distance, b.distance)
    assert not np.array_equal(a.conn.indices, other.conn.indices)


def test_result_does_not_depend_on_the_block_size(monkeypatch):
    layer = spatial.grid((30, 30), extent=(1.0, 1.0))
    rules = (spatial.PairwiseBernoulli(spatial.Gaussian(0.1, 0.5)),
             spatial.FixedInDegree(12, spatial.Exponential(0.1)))
    whole = [spatial.connect(jax.random.key(15), layer, layer, r, mask=spatial.Circular(0.3))
             for r in rules]
    monkeypatch.setattr(_connect, "Search",
                        lambda *a, **k: _search.Search(*a, buffer=1000, **k))
    blocks = [spatial.connect(jax.random.key(15), layer, layer, r, mask=spatial.Circular(0.3))
              for r in rules]
    for x, y in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(x.conn.indptr, y.conn.indptr)
        np.testing.assert_array_equal(x.conn.indices, y.conn.indices)


def test_a_mask_removes_exactly_the_pairs_outside_it():
    """Each pair's draw is tied to the pair, so the masked Bernoulli connection is the unmasked
    one restricted to the mask (this checks the cell search finds every pair inside)."""
    layer = spatial.random(jax.random.key(16), 700, extent=(1.0, 1.0), periodic=True)
    rule = spatial.PairwiseBernoulli(spatial.Gaussian(0.15, 0.8))
    mask = spatial.Annulus(0.05, 0.3)
    masked = spatial.connect(jax.random.key(17), layer, layer, rule, mask=mask)
    full = spatial.connect(jax.random.key(17), layer, layer, rule)
    inside = (full.distance >= 0.05) & (full.distance <= 0.3)
    pre, post = _pairs(full)
    np.testing.assert_array_equal(np.stack(_pairs(masked)), np.stack([pre[inside], post[inside]]))


@pytest.mark.parametrize("rule", [spatial.PairwiseBernoulli(1.0), spatial.FixedInDegree(1),
                                  spatial.FixedOutDegree(1), spatial.FixedTotalNumber(50)])
def test_every_rule_applies_the_mask_to_post_minus_pre(rule):
    layer = spatial.grid((10, 1), extent=(1.0, 0.1), periodic=True)   # x = 0.05, 0.15, ...
    c = spatial.connect(jax.random.key(0), layer, layer, rule,
                        mask=spatial.Rectangular((0.05, -0.01), (0.25, 0.01)))
    pre, post = _pairs(c)
    shift = layer.displacement(layer.positions[pre], layer.positions[post])[:, 0]
    assert c.conn.n_syn > 0 and np.all((shift > 0.05) & (shift < 0.25))


@pytest.mark.parametrize("mask", [spatial.Circular(0.25),
                                  spatial.Rectangular((-0.25, -0.125), (0.25, 0.125))])
def test_partners_exactly_on_the_mask_edge_are_inside(mask):
    layer = spatial.grid((8, 8), extent=(1.0, 1.0), periodic=True)   # spacing 0.125
    c = spatial.connect(jax.random.key(0), layer, layer, spatial.PairwiseBernoulli(1.0),
                        mask=mask)
    expected = 13 if isinstance(mask, spatial.Circular) else 15   # self included
    assert np.all(np.diff(np.asarray(c.conn.indptr)) == expected)


def test_periodic_layer_connects_across_the_edge_by_the_shortest_distance():
    layer = spatial.grid((10,), extent=(1.0,), periodic=True)   # x = 0.05, 0.15, ..., 0.95
    c = spatial.connect(jax.random.key(0), layer, layer, spatial.PairwiseBernoulli(1.0),
                        mask=spatial.Circular(0.11), allow_autapses=False)
    pre, post = _pairs(c)
    assert set(post[pre == 0].tolist()) == {1, 9}
    np.testing.assert_allclose(c.distance, 0.1)


def test_weights_and_delays_follow_their_kernels():
    layer = spatial.grid((20, 20), extent=(400.0, 400.0))   # µm
    c = spatial.connect(jax.random.key(1), layer, layer,
                        spatial.PairwiseBernoulli(spatial.Gaussian(sigma=50.0, amplitude=0.5)),
                        mask=spatial.Circular(150.0), weights=spatial.Exponential(100.0, 2.0),
                        delays=spatial.Linear(intercept=0.5, slope=0.01))
    np.testing.assert_allclose(np.asarray(c.conn.weights), 2.0 * np.exp(-c.distance / 100.0),
                               rtol=1e-6)
    np.testing.assert_allclose(c.delay, 0.5 + 0.01 * c.distance)
    np.testing.assert_array_equal(c.delay_steps(0.1), np.floor(c.delay / 0.1 + 0.5 + 1e-9))


def test_delay_steps_round_to_the_nearest_step_and_reject_less_than_one():
    np.testing.assert_array_equal(spatial.delay_steps([0.05, 0.149, 0.15, 2.0], 0.1),
                                  [1, 1, 2, 20])
    with pytest.raises(ValueError, match="under one step"):
        spatial.delay_steps([0.5, 0.04], 0.1)
    with pytest.raises(ValueError, match="dt"):
        spatial.delay_steps(1.0, 0.0)


def test_no_dense_matrix_for_fifty_thousand_neurons():
    """A dense 50k x 50k boolean matrix would take 2.5 GB; the build stays under 150 MB of
    Python-side allocations (numpy buffers of one block of rows, and the result)."""
    layer = spatial.random(jax.random.key(3), 50_000, extent=(1.0, 1.0), periodic=True)
    tracemalloc.start()
    c = spatial.connect(jax.random.key(0), layer, layer,
                        spatial.PairwiseBernoulli(spatial.Gaussian(0.01, 0.5)),
                        mask=spatial.Circular(0.02), allow_autapses=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 50_000 * 10 < c.conn.n_syn < 50_000 * 30
    assert peak < 150e6, peak
