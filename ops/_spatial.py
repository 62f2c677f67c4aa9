"""Distance-dependent connectivity: neurons with positions, Gaussian connection probability.

``P_ij = C exp(-(D_ij / lam)^2)`` with ``D_ij`` the Euclidean distance between presynaptic
neuron ``i`` and postsynaptic neuron ``j`` (the rule of Maass, Natschläger & Markram 2002 for
liquid state machines). Like the other builders, the structure is drawn on the host by a numba
kernel from a 64-bit seed taken from the ``jax.random`` key, one splitmix64 stream per
presynaptic row, so it depends only on the key and the arguments.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._builders import _row_state, _seed, _uniform, _weights
from ._connectivity import CSR
from ._layout import layout_from_pre_major


@njit(cache=True)
def _distance_rows(seed, pre, post, c, inv_lam2, allow_self, indptr, out, fill):
    """Row ``r`` keeps column ``j`` when a uniform draw ``u`` in (0, 1] has ``u <= P_rj``.

    One draw per pair (also for the excluded diagonal), so the structure of every other pair
    does not depend on ``allow_self``. First pass (``fill`` False) counts, second fills.
    """
    n_rows, n_cols, dims = pre.shape[0], post.shape[0], pre.shape[1]
    total = 0
    for r in range(n_rows):
        if fill:
            total = indptr[r]
        else:
            indptr[r] = total
        state = _row_state(seed, r)
        for j in range(n_cols):
            d2 = 0.0
            for k in range(dims):
                diff = pre[r, k] - post[j, k]
                d2 += diff * diff
            state, u = _uniform(state)
            if j == r and not allow_self:
                continue
            if u <= c * np.exp(-d2 * inv_lam2):
                if fill:
                    out[total] = j
                total += 1
    if not fill:
        indptr[n_rows] = total


def _positions(value, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be a real (n, d) array of coordinates.") from error
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(
            f"`{name}` must have shape (n, d) (one row of d coordinates per neuron), got "
            f"{arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must hold finite coordinates.")
    return np.ascontiguousarray(arr)


def _real_scalar(value) -> float | None:
    """`value` as a Python float if it is a real scalar (not bool), else None."""
    if isinstance(value, bool | np.bool_ | str) or np.ndim(value) != 0:
        return None
    kind = np.asarray(value).dtype.kind
    return float(value) if kind in "iuf" else None


def distance_prob(key, pre_positions, post_positions, C: float, lam: float, *, weight=1.0,
                  allow_self_connections: bool = False, per_synapse: bool = False,
                  dtype=None) -> CSR:
    """Connect each pair independently with probability ``C exp(-(D_ij / lam)^2)`` (CSR).

    ``D_ij`` is the Euclidean distance between the positions of presynaptic neuron ``i`` and
    postsynaptic neuron ``j`` (any number of dimensions ``d``). The cost is one distance and
    one random draw per pair, ``O(n_pre n_post)`` time and ``O(synapses)`` memory: fine up to
    ~10^4 x 10^4 neurons.

    Args:
        key: ``jax.random`` key (same key and arguments give the same structure).
        pre_positions: coordinates of the presynaptic neurons, shape ``(n_pre, d)`` (µm, or
            grid units; any unit shared with ``lam``).
        post_positions: coordinates of the postsynaptic neurons, shape ``(n_post, d)``.
        C: connection probability at distance 0, in [0, 1].
        lam: length constant λ (same unit as the positions, > 0).
        weight: scalar weight (stored once, unless ``per_synapse``), or ``(n_syn,)`` array.
        allow_self_connections: if False, no synapse ``i -> i`` (index equality: pass the same
            population twice; between two different populations pass True).
        per_synapse: store one weight per synapse (needed for plasticity / learning).
        dtype: weight dtype (default: JAX's default float).

    Returns:
        A :class:`CSR` (rows are presynaptic neurons, columns ascending within a row).

    Example:
        >>> pos = bo.grid_positions((10, 10, 10))           # 1000 neurons on a cube
        >>> conn = bo.distance_prob(jax.random.key(0), pos, pos, 0.3, 2.0)

    Reference: Maass, Natschläger & Markram (2002), Neural Comput. 14:2531.
    """
    pre = _positions(pre_positions, "pre_positions")
    post = _positions(post_positions, "post_positions")
    if pre.shape[1] != post.shape[1]:
        raise ValueError(
            f"`pre_positions` and `post_positions` must have the same number of coordinates "
            f"per neuron, got d = {pre.shape[1]} and d = {post.shape[1]}."
        )
    c = _real_scalar(C)
    if c is None or not 0.0 <= c <= 1.0:
        raise ValueError(f"`C` must be a probability in [0, 1], got {C!r}.")
    lam_a = _real_scalar(lam)
    if lam_a is None or not np.isfinite(lam_a) or lam_a <= 0:
        raise ValueError(f"`lam` must be a finite length > 0, got {lam!r}.")
    seed = _seed(key)
    n_pre, n_post = pre.shape[0], post.shape[0]
    args = (seed, pre, post, c, 1.0 / lam_a**2, bool(allow_self_connections))
    indptr = np.zeros(n_pre + 1, np.int64)
    _distance_rows(*args, indptr, np.zeros(0, np.int32), False)
    if indptr[-1] > np.iinfo(np.int32).max:
        raise ValueError("distance_prob: more than 2**31 - 1 synapses; split the projection.")
    out = np.empty(int(indptr[-1]), np.int32)
    _distance_rows(*args, indptr, out, True)
    layout = layout_from_pre_major(indptr, out, np.zeros(0, np.int32), n_pre, n_post)
    return CSR(layout=layout, weights=_weights(weight, (layout.n_syn,), per_synapse, dtype))


def grid_positions(shape) -> np.ndarray:
    """Integer grid coordinates, one row per point in C order: shape ``(prod(shape), len(shape))``.

    Point ``k`` is ``np.unravel_index(k, shape)`` (grid units, float64).

    Args:
        shape: points per axis, a tuple of positive ints, e.g. ``(10, 10, 10)``.

    Example:
        >>> bo.grid_positions((2, 3))[:4]
        array([[0., 0.],
               [0., 1.],
               [0., 2.],
               [1., 0.]])
    """
    dims = tuple(shape) if isinstance(shape, tuple | list) else None
    if not dims or any(isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1
                       for n in dims):
        raise ValueError(f"`shape` must be a non-empty tuple of positive ints, got {shape!r}.")
    axes = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in dims), indexing="ij")
    return np.stack([a.reshape(-1) for a in axes], axis=1)
