"""The Victor–Purpura spike-train distance."""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike, Float

from brainsim.fit._coincidence import _train


def victor_purpura(
    a: Float[ArrayLike, " k"], b: Float[ArrayLike, " m"], *, q: float
) -> float:
    """Victor–Purpura distance: the cheapest edit of train `a` into train `b`.

    Deleting or inserting a spike costs 1, moving a spike by `δt` costs `q |δt|`. By dynamic
    programming over `G[i, j]`, the distance between the first `i` spikes of `a` and the first
    `j` of `b`: `G[i, j] = min(G[i-1, j] + 1, G[i, j-1] + 1, G[i-1, j-1] + q |a_i - b_j|)`,
    `G[i, 0] = i`, `G[0, j] = j`. Each row is computed at once: with
    `A_j = min(G[i-1, j] + 1, G[i-1, j-1] + q |a_i - b_j|)`, the insertions along the row give
    `G[i, j] = min_{k <= j} (A_k + j - k)`, a cumulative minimum. `q = 0` gives the count
    difference `|k - m|`; `q -> ∞` counts non-identical spikes.

    Args:
        a: spike times (ms), `(k,)` (`inf` padding is ignored).
        b: spike times (ms), `(m,)`.
        q: cost per ms of moving a spike (1/ms, >= 0); `2 / q` is the largest shift cheaper
            than deleting and reinserting.

    Returns:
        The distance (dimensionless, >= 0).

    Examples:
        >>> from brainsim.fit import victor_purpura
        >>> victor_purpura([10.0, 20.0], [12.0], q=0.1)     # move 10 -> 12 (0.2), delete 20 (1)
        1.2

    Reference: Victor & Purpura (1996), *Nature and precision of temporal coding in visual
    cortex: a metric-space analysis*, J. Neurophysiol. 76:1310.
    """
    q = float(q)
    if not (np.isfinite(q) and q >= 0):
        raise ValueError(f"`q` must be a finite cost >= 0 (1/ms), got {q!r}.")
    a, b = _train("a", a), _train("b", b)
    j = np.arange(b.size + 1, dtype=float)
    row = j.copy()
    for i, t in enumerate(a, start=1):
        candidates = np.empty_like(row)
        candidates[0] = i
        candidates[1:] = np.minimum(row[1:] + 1, row[:-1] + q * np.abs(t - b))
        row = j + np.minimum.accumulate(candidates - j)
    return float(row[-1])
