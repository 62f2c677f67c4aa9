"""Builders: reproducibility, degree and probability statistics, self-connections, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim_ops as bo


def test_same_key_same_structure_other_key_differs():
    a = bo.fixed_prob(jax.random.key(0), 200, 300, 0.05)
    b = bo.fixed_prob(jax.random.key(0), 200, 300, 0.05)
    c = bo.fixed_prob(jax.random.key(1), 200, 300, 0.05)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.indptr, b.indptr)
    assert not np.array_equal(a.indices[:100], c.indices[:100])


def test_fixed_prob_count_within_binomial_bounds():
    n_pre, n_post, p = 400, 500, 0.02
    conn = bo.fixed_prob(jax.random.key(3), n_pre, n_post, p)
    mean = n_pre * n_post * p
    # 5 standard deviations of Binomial(n_pre * n_post, p).
    assert abs(conn.n_syn - mean) < 5 * np.sqrt(mean * (1 - p))
    rows = np.split(np.asarray(conn.indices), np.asarray(conn.indptr)[1:-1])
    assert all(np.all(np.diff(r) > 0) for r in rows)  # distinct and sorted within a row


def test_no_self_connections_when_disallowed():
    for conn in (
        bo.fixed_prob(jax.random.key(0), 60, 60, 1.0, allow_self_connections=False),
        bo.fixed_out_degree(jax.random.key(0), 60, 60, 59, allow_self_connections=False),
        bo.fixed_in_degree(jax.random.key(0), 60, 60, 30, allow_self_connections=False),
    ):
        assert np.all(np.diag(np.asarray(conn.todense())) == 0)
    full = bo.fixed_prob(jax.random.key(0), 60, 60, 1.0, allow_self_connections=False)
    assert full.n_syn == 60 * 59


def test_fixed_degrees_are_exact_and_distinct():
    out = bo.fixed_out_degree(jax.random.key(5), 50, 40, 7)
    dense = np.asarray(out.todense())
    assert np.all((dense != 0).sum(1) == 7) and dense.max() == 1.0
    inn = bo.fixed_in_degree(jax.random.key(6), 50, 40, 9)
    dense = np.asarray(inn.todense())
    assert np.all((dense != 0).sum(0) == 9) and dense.max() == 1.0
    assert inn.indices.shape == (40, 9) and inn.rows == "post"


def test_from_edges_keeps_repeated_edges_and_weight_order():
    conn = bo.from_edges([2, 0, 2, 0], [1, 1, 1, 0], [1.0, 2.0, 3.0, 4.0], n_pre=3, n_post=2)
    np.testing.assert_allclose(conn.todense(), [[4.0, 2.0], [0.0, 0.0], [0.0, 4.0]])
    np.testing.assert_array_equal(conn.indptr, [0, 2, 2, 4])


def test_all_to_all_and_one_to_one():
    d = bo.all_to_all(3, 3, 0.5, allow_self_connections=False)
    np.testing.assert_allclose(d.weights, 0.5 * (1 - np.eye(3)))
    o = bo.one_to_one(4, jnp.arange(4.0))
    np.testing.assert_allclose(bo.event_matvec(np.ones(4, bool), o), np.arange(4.0))


def test_index_arrays_are_int32():
    conn = bo.fixed_prob(jax.random.key(0), 10, 10, 0.5)
    for leaf in jax.tree.leaves(conn.layout):
        assert leaf.dtype == jnp.int32


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: bo.fixed_prob(jax.random.key(0), 10, 10, 1.5), "`p`"),
        (lambda: bo.fixed_prob(jax.random.key(0), -1, 10, 0.1), "`n_pre`"),
        (lambda: bo.fixed_prob(jax.random.key(0), 0, 10, 0.1), "`n_pre` must be a positive"),
        (lambda: bo.fixed_prob(jax.random.key(0), 10, 0, 0.1), "`n_post` must be a positive"),
        (lambda: bo.fixed_in_degree(jax.random.key(0), 0, 10, 1), "`n_pre` must be a positive"),
        (lambda: bo.fixed_out_degree(jax.random.key(0), 10, 0, 1), "`n_post` must be a positive"),
        (lambda: bo.all_to_all(0, 3), "`n_pre` must be a positive"),
        (lambda: bo.one_to_one(0), "`n` must be a positive"),
        (lambda: bo.from_edges([], [], n_pre=0, n_post=2), "`n_pre` must be a positive"),
        (lambda: bo.fixed_prob(0, 10, 10, 0.1), "`key`"),
        (lambda: bo.fixed_out_degree(jax.random.key(0), 10, 5, 6), "`k`"),
        (lambda: bo.fixed_prob(jax.random.key(0), 10, 10, 0.1, weight=[1.0, 2.0]), "`weight`"),
        (lambda: bo.from_edges([0, 1], [0], n_pre=2, n_post=2), "`pre` and `post`"),
        (lambda: bo.from_edges([0, 5], [0, 1], n_pre=2, n_post=2), "`pre`"),
        (lambda: bo.CSR([0, 2, 1], [0, 1], n_post=2), "`indptr`"),
        (lambda: bo.CSR([0, 1, 2], [0, 3], n_post=2), "`indices`"),
        (lambda: bo.CSR([0, 1, 2], [0, 1], [1.0, 2.0, 3.0], n_post=2), "`weights`"),
        (lambda: bo.CSR([0, 1, 2], [0.0, 1.0], n_post=2), "`indices`"),
        (lambda: bo.ELL(np.zeros((2, 3), int), np.ones((3, 2)), n_cols=4), "`weights`"),
        (lambda: bo.ELL(np.zeros((2, 3), int), n_cols=4, rows="side"), "`rows`"),
        (lambda: bo.Dense(np.ones(3)), "`weights`"),
    ],
)
def test_bad_construction_raises_naming_argument(build, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build()


def test_building_inside_jit_raises_clear_error():
    with pytest.raises(TypeError, match="outside jit"):
        jax.jit(lambda i: bo.CSR(i, np.array([0]), n_post=1))(np.array([0, 1]))


def test_synapse_shape_is_the_shape_of_per_synapse_weights():
    key = jax.random.key(0)
    csr = bo.fixed_prob(key, 30, 20, 0.2, weight=0.5)
    ell_pre = bo.fixed_out_degree(key, 30, 20, 4, weight=0.5)
    ell_post = bo.fixed_in_degree(key, 30, 20, 3, weight=0.5)
    dense = bo.Dense(jnp.ones((30, 20)))
    assert csr.synapse_shape == (csr.n_syn,)
    assert ell_pre.synapse_shape == (30, 4) and ell_post.synapse_shape == (20, 3)
    assert dense.synapse_shape == (30, 20)
    for conn in (csr, ell_pre, ell_post):
        w = jnp.arange(conn.n_syn, dtype=jnp.float32).reshape(conn.synapse_shape)
        assert conn.with_weights(w).todense().sum() == w.sum()
