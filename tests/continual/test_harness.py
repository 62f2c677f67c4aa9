"""The continual-learning harness and `examples/continual_digits.py` at reduced size."""

import json

import numpy as np
import pytest

from brainsim.continual import Protocol, learn_tasks, permuted_tasks


@pytest.fixture(scope="module")
def digit_tasks():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1437], order[1437:]
    return permuted_tasks(x[train], digits.target[train], x[test], digits.target[test], 3)


SMALL = Protocol(epochs=2)  # measured ACC / BWT: baseline 0.74 / -0.24, hlop 0.86 / -0.01


def test_hlop_and_the_exact_projector_forget_far_less_than_fine_tuning(digit_tasks):
    runs = {m: learn_tasks(digit_tasks, m, trainer="rate", protocol=SMALL)
            for m in ("baseline", "hlop", "exact")}
    assert runs["baseline"].backward_transfer < -0.2
    assert runs["hlop"].backward_transfer > -0.06
    assert runs["exact"].backward_transfer > -0.06
    assert runs["hlop"].average_accuracy > runs["baseline"].average_accuracy + 0.08
    np.testing.assert_array_equal(runs["hlop"].subspace_sizes, [[12, 24, 24], [22, 36, 36],
                                                                [32, 48, 48]])
    assert runs["hlop"].orthonormality.max() < 0.25       # 2 epochs: not fully converged
    assert np.all(np.diff(runs["exact"].subspace_sizes, axis=0) >= 0)


@pytest.mark.parametrize("trainer", ["bptt", "online"])
def test_every_trainer_learns_each_task_under_hlop(digit_tasks, trainer):
    result = learn_tasks(digit_tasks[:2], "hlop", trainer=trainer, protocol=SMALL)
    assert np.all(np.diag(result.acc) > 0.75)           # measured 0.86-0.95
    assert result.acc[1, 0] > 0.8                       # the first task is kept (0.91, 0.95)
    assert result.orthonormality.max() < 0.2


def test_bad_arguments_fail_loudly(digit_tasks):
    with pytest.raises(ValueError, match="method"):
        learn_tasks(digit_tasks, "gem")
    with pytest.raises(ValueError, match="trainer"):
        learn_tasks(digit_tasks, "hlop", trainer="eprop")
    with pytest.raises(ValueError, match="k_initial"):
        Protocol(k_initial=(1, 2))
    with pytest.raises(ValueError, match="hebbian_rate"):
        Protocol(hebbian_rate=(0.1, 0.1))


def test_example_prints_the_table_and_writes_the_accuracy_matrices(run_example, tmp_path):
    results = tmp_path / "results.json"
    out = run_example("continual_digits", "--tasks", 3, "--epochs", 1, "--train-samples", 480,
                      "--methods", "baseline", "hlop", "exact", "--json", results)
    assert "hlop" in out and "BWT" in out
    rows = json.loads(results.read_text())
    assert [r["method"] for r in rows] == ["baseline", "hlop", "exact"]
    assert np.asarray(rows[1]["acc"]).shape == (1, 3, 3)


def test_example_runs_the_permuted_mnist_set_up_on_user_arrays(run_example, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (96, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 10, 96)
    path = tmp_path / "mnist_like.npz"
    np.savez(path, x_train=x[:64], y_train=y[:64], x_test=x[64:], y_test=y[64:])
    out = run_example("continual_digits", "--data", path, "--tasks", 2, "--epochs", 1,
                      "--methods", "hlop", min_bytes=5_000)
    assert "hlop" in out
