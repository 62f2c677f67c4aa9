"""Continual-learning metrics from the accuracy matrix: average accuracy, backward transfer."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float


def _check_matrix(acc) -> np.ndarray:
    acc = np.asarray(acc, dtype=float)
    if acc.ndim != 2 or acc.shape[0] != acc.shape[1] or acc.shape[0] == 0:
        raise ValueError(
            "`acc` must be a square accuracy matrix (acc[i, j]: accuracy on task j after "
            f"training task i), got shape {acc.shape}."
        )
    return acc


def average_accuracy(acc: Float[np.ndarray, "T T"]) -> float:
    """ACC: the mean accuracy over all tasks after the last one, `mean_j acc[T-1, j]`.

    Args:
        acc: `acc[i, j]`, accuracy (fraction) on task `j` after training task `i`, `(T, T)`.

    Examples:
        >>> from brainsim.continual import average_accuracy
        >>> average_accuracy([[0.9, 0.1], [0.7, 0.9]])
        0.8

    Reference: Lopez-Paz & Ranzato (2017), *Gradient episodic memory for continual learning*,
    NeurIPS.
    """
    acc = _check_matrix(acc)
    return float(np.mean(acc[-1]))


def backward_transfer(acc: Float[np.ndarray, "T T"]) -> float:
    """BWT: how training later tasks changed the accuracy on earlier ones.

    `BWT = mean_{j<T-1} (acc[T-1, j] - acc[j, j])`; negative values are forgetting, 0 for a
    single task.

    Args:
        acc: `acc[i, j]`, accuracy (fraction) on task `j` after training task `i`, `(T, T)`.

    Examples:
        >>> from brainsim.continual import backward_transfer
        >>> round(backward_transfer([[0.9, 0.1], [0.7, 0.9]]), 3)
        -0.2

    Reference: Lopez-Paz & Ranzato (2017), NeurIPS.
    """
    acc = _check_matrix(acc)
    if acc.shape[0] == 1:
        return 0.0
    return float(np.mean(acc[-1, :-1] - np.diag(acc)[:-1]))
