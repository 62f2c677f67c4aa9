"""distance_prob and grid_positions: the Gaussian distance rule, reproducibility, no self
connections, bad input."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim_ops as bo
from brainsim_ops import _spatial


def _pairs(conn):
    indptr = np.asarray(conn.indptr)
    return np.repeat(np.arange(conn.n_pre), np.diff(indptr)), np.asarray(conn.indices)


def test_connection_probability_follows_the_gaussian_of_distance():
    pos = bo.grid_positions((12, 12, 12))
    C, lam = 0.6, 2.5
    conn = bo.distance_prob(jax.random.key(0), pos, pos, C, lam)
    connected = np.zeros((len(pos), len(pos)), bool)
    connected[_pairs(conn)] = True
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    off_diagonal = ~np.eye(len(pos), dtype=bool)
    # grid distances take few values: one bin per squared distance with >= 2000 pairs
    for value in np.unique(d2[off_diagonal]):
        pairs = (d2 == value) & off_diagonal
        n = pairs.sum()
        if n < 2000:
            continue
        p = C * np.exp(-value / lam**2)
        observed = connected[pairs].mean()
        # 5 binomial standard deviations (plus a floor for p near 0)
        assert abs(observed - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-4, (value, observed, p)


def test_total_synapse_count_matches_the_expected_sum_of_probabilities():
    key = jax.random.key(1)
    pre = jax.random.uniform(key, (300, 2), minval=0.0, maxval=50.0)
    post = np.asarray(jax.random.uniform(jax.random.key(2), (400, 2), minval=0.0, maxval=50.0))
    C, lam = 0.8, 6.0
    conn = bo.distance_prob(jax.random.key(3), pre, post, C, lam, allow_self_connections=True)
    d2 = ((np.asarray(pre)[:, None, :] - post[None, :, :]) ** 2).sum(-1)
    p = C * np.exp(-d2 / lam**2)
    mean, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
    assert abs(conn.n_syn - mean) < 5 * sd


def test_same_key_same_structure_other_key_differs():
    pos = bo.grid_positions((6, 6, 6))
    a = bo.distance_prob(jax.random.key(7), pos, pos, 0.5, 2.0)
    b = bo.distance_prob(jax.random.key(7), pos, pos, 0.5, 2.0)
    c = bo.distance_prob(jax.random.key(8), pos, pos, 0.5, 2.0)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.n_syn != c.n_syn or not np.array_equal(a.indices, c.indices)


def test_no_self_connections_unless_allowed_and_other_pairs_unchanged():
    pos = bo.grid_positions((5, 5, 4))
    without = bo.distance_prob(jax.random.key(4), pos, pos, 1.0, 1e6)
    with_self = bo.distance_prob(jax.random.key(4), pos, pos, 1.0, 1e6,
                                 allow_self_connections=True)
    pre, post = _pairs(without)
    assert not np.any(pre == post)
    assert without.n_syn == 100 * 99                       # C = 1, lam huge: all others
    pre_s, post_s = _pairs(with_self)
    assert with_self.n_syn == 100 * 100 and np.sum(pre_s == post_s) == 100
    small = dict(C=0.3, lam=1.5)
    a = bo.distance_prob(jax.random.key(5), pos, pos, **small)
    b = bo.distance_prob(jax.random.key(5), pos, pos, allow_self_connections=True, **small)
    a_set = set(zip(*_pairs(a), strict=True))
    b_set = {(i, j) for i, j in zip(*_pairs(b), strict=True) if i != j}
    assert a_set == b_set


def test_probability_zero_gives_no_synapses_and_weights_follow_arguments():
    pos = bo.grid_positions((4, 4))
    assert bo.distance_prob(jax.random.key(0), pos, pos, 0.0, 3.0).n_syn == 0
    conn = bo.distance_prob(jax.random.key(0), pos, pos, 1.0, 3.0, weight=0.5,
                            per_synapse=True, dtype=jnp.float32)
    assert conn.weights.shape == (conn.n_syn,) and conn.weights.dtype == jnp.float32
    assert np.all(np.asarray(conn.weights) == 0.5)


def test_grid_positions_are_c_order_coordinates():
    pos = bo.grid_positions((2, 3, 4))
    assert pos.shape == (24, 3)
    for k in (0, 5, 23):
        np.testing.assert_array_equal(pos[k], np.unravel_index(k, (2, 3, 4)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(pre_positions=np.zeros(5)), "pre_positions"),
        (dict(post_positions=np.zeros((4, 2))), "same number of coordinates"),
        (dict(post_positions=np.full((4, 3), np.nan)), "post_positions"),
        (dict(C=1.5), "`C`"),
        (dict(C=-0.1), "`C`"),
        (dict(C=[0.1, 0.2]), "`C`"),
        (dict(lam=0.0), "`lam`"),
        (dict(lam=np.inf), "`lam`"),
        (dict(lam="3"), "`lam`"),
    ],
)
def test_bad_input_names_the_argument(kwargs, message):
    args = dict(pre_positions=np.zeros((4, 3)), post_positions=np.zeros((4, 3)), C=0.2, lam=3.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        bo.distance_prob(jax.random.key(0), args["pre_positions"], args["post_positions"],
                         args["C"], args["lam"])


def test_bad_key_and_bad_grid_shape():
    pos = np.zeros((3, 2))
    with pytest.raises(TypeError, match="key"):
        bo.distance_prob(0, pos, pos, 0.5, 1.0)
    with pytest.raises(TypeError, match="pre_positions"):
        bo.distance_prob(jax.random.key(0), [["a", "b"]], pos, 0.5, 1.0)
    for shape in ((), (3, 0), (2.5,), 10):
        with pytest.raises(ValueError, match="shape"):
            bo.grid_positions(shape)


def test_docstring_examples_run():
    globs = {"bo": bo, "jax": jax, "np": np}
    result = doctest.testmod(_spatial, globs=globs, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
