"""The exact projector: a basis of each task's activity from its SVD (as in GPM)."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float


def energy_basis(
    activity: Float[np.ndarray, "m n"],
    basis: Float[np.ndarray, "k n"] | None = None,
    *,
    threshold: float = 0.95,
) -> Float[np.ndarray, "k2 n"]:
    """Extend an orthonormal basis with the principal directions of new activity (GPM).

    `activity` holds `m` activity vectors of a layer's input as rows. The part already covered
    by `basis` (rows `B`) is removed, `R̂ = R - R BᵀB`; the right singular vectors of `R̂`
    with the largest singular values `σ̂` are appended, as few as needed so that the energy
    of the activity captured by the old and new directions reaches `threshold`:

        ‖R BᵀB‖² + Σ_{i ≤ r} σ̂_i²  ≥  threshold · ‖R‖²    (Frobenius norms).

    Directions with a zero singular value (beyond the rank of `R̂`) are never added. The data
    is not centred, like the Hebbian rule of HLOP. Runs eagerly in NumPy (between
    tasks); pad the result with zero rows to keep shapes fixed under `jit`.

    Args:
        activity: `(m, n)`, one input vector of the layer a row.
        basis: orthonormal rows `(k, n)` from earlier tasks, or `None`.
        threshold: fraction of the energy to keep (in (0, 1]).

    Returns:
        The extended orthonormal basis, `(k + r, n)`.

    Examples:
        >>> import numpy as np
        >>> from brainsim.continual import energy_basis
        >>> x = np.random.default_rng(0).normal(size=(500, 4)) * [5.0, 1.0, 0.1, 0.1]
        >>> energy_basis(x, threshold=0.9).shape
        (1, 4)

    Reference: Saha, Garg & Roy (2021), *Gradient projection memory for continual learning*,
    ICLR.
    """
    activity = np.asarray(activity, dtype=np.float64)
    if activity.ndim != 2:
        raise ValueError(f"`activity` must have shape (m, n), got {activity.shape}.")
    n = activity.shape[1]
    basis = np.zeros((0, n)) if basis is None else np.asarray(basis, dtype=np.float64)
    if basis.ndim != 2 or basis.shape[1] != n:
        raise ValueError(f"`basis` must have shape (k, {n}), got {basis.shape}.")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"`threshold` must be in (0, 1], got {threshold!r}.")
    total = np.sum(activity**2)
    if total == 0.0:
        return basis
    residual = activity - (activity @ basis.T) @ basis
    covered = total - np.sum(residual**2)
    _, sigma, vt = np.linalg.svd(residual, full_matrices=False)
    need = threshold * total
    if covered >= need:
        return basis
    rank = int(np.sum(sigma > sigma[0] * max(residual.shape) * np.finfo(np.float64).eps))
    captured = covered + np.cumsum(sigma[:rank] ** 2)
    r = int(np.argmax(captured >= need)) + 1 if captured[-1] >= need else rank
    return np.concatenate([basis, vt[:r]])
