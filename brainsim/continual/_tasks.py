"""Task sequences for continual learning: fixed random input permutations of one data set."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Float, Int


class Task(NamedTuple):
    """One task of a sequence: training and test samples with their labels.

    Attributes:
        x_train: training inputs, `(m, n)`.
        y_train: training labels (ints), `(m,)`.
        x_test: test inputs, `(m_test, n)`.
        y_test: test labels (ints), `(m_test,)`.
    """

    x_train: Float[np.ndarray, "m n"]
    y_train: Int[np.ndarray, " m"]
    x_test: Float[np.ndarray, "m_test n"]
    y_test: Int[np.ndarray, " m_test"]


def permuted_tasks(
    x_train: Float[np.ndarray, "m n"],
    y_train: Int[np.ndarray, " m"],
    x_test: Float[np.ndarray, "m_test n"],
    y_test: Int[np.ndarray, " m_test"],
    n_tasks: int,
    *,
    seed: int = 0,
) -> list[Task]:
    """`n_tasks` tasks that differ by a fixed random permutation of the input features.

    Task 0 keeps the original order; task `t > 0` permutes the features of every sample (train
    and test) by the same permutation, drawn from `numpy.random.default_rng(seed)`. The labels
    and the output classes are shared (domain-incremental learning, as permuted MNIST).

    Args:
        x_train: training inputs, `(m_train, n)`.
        y_train: training labels (int), `(m_train,)`.
        x_test: test inputs, `(m_test, n)`.
        y_test: test labels (int), `(m_test,)`.
        n_tasks: number of tasks (int > 0).
        seed: seed of the permutations.

    Returns:
        A list of `Task`.

    Examples:
        >>> import numpy as np
        >>> from brainsim.continual import permuted_tasks
        >>> x, y = np.arange(12.0).reshape(3, 4), np.array([0, 1, 0])
        >>> tasks = permuted_tasks(x, y, x, y, 3, seed=1)
        >>> len(tasks), sorted(tasks[2].x_train[0]) == sorted(x[0])
        (3, True)
    """
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)
    if x_train.ndim != 2 or x_test.ndim != 2 or x_train.shape[1] != x_test.shape[1]:
        raise ValueError(
            "`x_train` and `x_test` must have shapes (m, n) and (m_test, n), got "
            f"{x_train.shape} and {x_test.shape}."
        )
    if len(y_train) != len(x_train) or len(y_test) != len(x_test):
        raise ValueError("`y_train` / `y_test` must have one label per sample.")
    if not isinstance(n_tasks, int) or n_tasks <= 0:
        raise ValueError(f"`n_tasks` must be a positive int, got {n_tasks!r}.")
    rng = np.random.default_rng(seed)
    n = x_train.shape[1]
    orders = [np.arange(n)] + [rng.permutation(n) for _ in range(n_tasks - 1)]
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    return [Task(x_train[:, o], y_train, x_test[:, o], y_test) for o in orders]
