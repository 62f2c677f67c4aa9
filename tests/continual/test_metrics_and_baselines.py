"""Continual-learning metrics, EWC, the exact projector's basis and permuted task sequences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.continual import (
    average_accuracy,
    backward_transfer,
    energy_basis,
    ewc_penalty,
    fisher_diagonal,
    permuted_tasks,
)


def test_acc_and_bwt_follow_their_definitions():
    acc = np.array([[0.9, 0.2, 0.1], [0.7, 0.8, 0.3], [0.6, 0.5, 0.95]])
    assert average_accuracy(acc) == pytest.approx((0.6 + 0.5 + 0.95) / 3)
    assert backward_transfer(acc) == pytest.approx(((0.6 - 0.9) + (0.5 - 0.8)) / 2)
    assert backward_transfer([[0.7]]) == 0.0
    with pytest.raises(ValueError, match="square"):
        average_accuracy(np.ones((2, 3)))


def test_fisher_is_the_mean_squared_per_sample_gradient():
    rng = np.random.default_rng(0)
    x, y = jnp.asarray(rng.normal(size=(50, 3))), jnp.asarray(rng.normal(size=50))
    w = {"w": jnp.asarray([0.5, -1.0, 2.0]), "b": jnp.asarray(0.3)}

    def loss(p, x, y):
        return 0.5 * (x @ p["w"] + p["b"] - y) ** 2

    fisher = fisher_diagonal(jax.grad(loss), w, x, y)
    residual = np.asarray(x @ w["w"] + w["b"] - y)
    np.testing.assert_allclose(fisher["w"], np.mean((residual[:, None] * np.asarray(x)) ** 2, 0),
                               rtol=1e-5)
    np.testing.assert_allclose(fisher["b"], np.mean(residual**2), rtol=1e-5)
    penalty = ewc_penalty(w, jax.tree.map(jnp.zeros_like, w), fisher, 2.0)
    expected = float(jnp.sum(fisher["w"] * w["w"] ** 2) + fisher["b"] * 0.09)
    assert float(penalty) == pytest.approx(expected, rel=1e-5)
    grad = jax.grad(ewc_penalty)(w, jax.tree.map(jnp.zeros_like, w), fisher, 2.0)
    np.testing.assert_allclose(grad["w"], 2.0 * fisher["w"] * w["w"], rtol=1e-5)


def test_energy_basis_keeps_the_fewest_directions_reaching_the_threshold():
    rng = np.random.default_rng(1)
    axes, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    x = rng.normal(size=(2000, 6)) * np.array([4.0, 2.0, 1.0, 0.5, 0.1, 0.05]) @ axes.T
    total = np.sum(x**2)
    for threshold in (0.5, 0.8, 0.95, 0.999):
        basis = energy_basis(x, threshold=threshold)
        np.testing.assert_allclose(basis @ basis.T, np.eye(len(basis)), atol=1e-10)
        kept = np.sum((x @ basis.T) ** 2) / total
        fewer = np.sum((x @ basis[:-1].T) ** 2) / total
        assert kept >= threshold > fewer
    first = energy_basis(x[:, :], threshold=0.8)
    extended = energy_basis(x @ np.diag([0, 0, 0, 1, 1, 1.0]) @ axes.T, first, threshold=0.9)
    np.testing.assert_array_equal(extended[: len(first)], first)
    np.testing.assert_allclose(extended @ extended.T, np.eye(len(extended)), atol=1e-10)
    rank_two = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 5))
    assert energy_basis(rank_two, threshold=1.0).shape == (2, 5)       # no null directions
    assert energy_basis(np.zeros((4, 5))).shape == (0, 5)
    with pytest.raises(ValueError, match="threshold"):
        energy_basis(x, threshold=0.0)
    with pytest.raises(ValueError, match="basis"):
        energy_basis(x, np.ones((2, 4)))


def test_permuted_tasks_share_labels_and_permute_features_consistently():
    rng = np.random.default_rng(2)
    x, y = rng.random((10, 7)), rng.integers(0, 3, 10)
    xt, yt = rng.random((4, 7)), rng.integers(0, 3, 4)
    tasks = permuted_tasks(x, y, xt, yt, 4, seed=5)
    np.testing.assert_array_equal(tasks[0].x_train, x)
    for task in tasks[1:]:
        order = [int(np.flatnonzero(x[0] == v)[0]) for v in task.x_train[0]]
        np.testing.assert_array_equal(task.x_train, x[:, order])
        np.testing.assert_array_equal(task.x_test, xt[:, order])
        np.testing.assert_array_equal(task.y_train, y)
    again = permuted_tasks(x, y, xt, yt, 4, seed=5)
    np.testing.assert_array_equal(again[3].x_test, tasks[3].x_test)
    with pytest.raises(ValueError, match="n_tasks"):
        permuted_tasks(x, y, xt, yt, 0)
    with pytest.raises(ValueError, match="one label per sample"):
        permuted_tasks(x, y[:5], xt, yt, 2)
