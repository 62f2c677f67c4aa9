"""Oja's rule and the subspace rule extract principal components."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.plasticity import Oja, Subspace

N_INPUTS = 8


def _data(n_samples=20000, seed=0):
    """Zero-mean Gaussian samples with a random rotation of decreasing variances."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(N_INPUTS, N_INPUTS)))
    scales = np.array([3.0, 2.2, 1.6, 0.6, 0.5, 0.4, 0.3, 0.2])
    x = rng.normal(size=(n_samples, N_INPUTS)) * scales @ basis.T
    return x - x.mean(axis=0)


def _train(rule, w0, xs, epochs=1):
    def body(w, x):
        return rule.update(w, x), None

    w = jnp.asarray(w0)
    for _ in range(epochs):
        w, _ = jax.lax.scan(body, w, jnp.asarray(xs))
    return np.asarray(w)


def test_oja_weight_vector_converges_to_the_first_principal_component():
    xs = _data()
    w = _train(Oja(learning_rate=1e-3), np.random.default_rng(1).normal(size=N_INPUTS) * 0.1, xs)
    _, _, vt = np.linalg.svd(xs, full_matrices=False)
    cosine = abs(w @ vt[0]) / np.linalg.norm(w)
    assert cosine > 0.99
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=0.05)


def test_subspace_rows_span_the_top_k_principal_subspace():
    xs = _data()
    k = 3
    W0 = np.random.default_rng(2).normal(size=(k, N_INPUTS)) * 0.1
    W = _train(Subspace(learning_rate=1e-3), W0, xs)
    _, _, vt = np.linalg.svd(xs, full_matrices=False)
    q_learned, _ = np.linalg.qr(W.T)
    cosines = np.linalg.svd(q_learned.T @ vt[:k].T, compute_uv=False)
    angles = np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))
    assert angles.max() < 5.0
    np.testing.assert_allclose(W @ W.T, np.eye(k), atol=0.05)   # rows become orthonormal


def test_subspace_with_one_unit_is_ojas_rule(x64):
    rng = np.random.default_rng(3)
    w, x = rng.normal(size=N_INPUTS), rng.normal(size=N_INPUTS)
    np.testing.assert_allclose(Subspace(learning_rate=0.01).update(w[None], x)[0],
                               Oja(learning_rate=0.01).update(w, x), rtol=1e-14)


def test_oja_step_matches_the_equation(x64):
    w, x = np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0, -1.0])
    y = w @ x
    np.testing.assert_allclose(Oja(learning_rate=0.1).update(w, x), w + 0.1 * y * (x - y * w),
                               rtol=1e-14)


@pytest.mark.parametrize("rule_type", [Oja, Subspace])
def test_hebbian_bad_input_fails_naming_the_argument(rule_type):
    with pytest.raises(ValueError, match="learning_rate"):
        rule_type(learning_rate=0.0)
    rule = rule_type()
    w = jnp.ones(4) if rule_type is Oja else jnp.ones((2, 4))
    with pytest.raises(ValueError, match="`x`"):
        rule.update(w, jnp.ones(3))
    with pytest.raises(ValueError, match="`w`" if rule_type is Oja else "`W`"):
        rule.update(jnp.ones((2, 2, 4)), jnp.ones(4))
