"""Distance-dependent connectivity of liquid state machines, and integer grid coordinates.

``P_ij = C exp(-(D_ij / lam)^2)`` with ``D_ij`` the Euclidean distance between presynaptic
neuron ``i`` and postsynaptic neuron ``j`` (the rule of Maass, Natschläger & Markram 2002):
the pairwise Bernoulli rule of :mod:`brainsim_ops.spatial` with a Gaussian kernel of
``sigma = lam / sqrt(2)``, no mask and no periodic boundary.
"""

from __future__ import annotations

import numpy as np

from ._connectivity import CSR
from .spatial import Gaussian, PairwiseBernoulli, connect, free


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
    ~10^4 x 10^4 neurons (use :func:`brainsim_ops.spatial.connect` with a mask beyond).

    Args:
        key (PRNGKeyArray): ``jax.random`` key (same key and arguments give the same
            structure).
        pre_positions (Float[Array, 'n_pre d']): coordinates of the presynaptic neurons, shape
            ``(n_pre, d)`` (µm, or grid units; any unit shared with ``lam``).
        post_positions (Float[Array, 'n_post d']): coordinates of the postsynaptic neurons, shape
            ``(n_post, d)``.
        C: connection probability at distance 0, in [0, 1].
        lam: length constant λ (same unit as the positions, > 0).
        weight (float | Float[Array, 'n_syn']): scalar weight (stored once, unless ``per_synapse``),
            or ``(n_syn,)`` array.
        allow_self_connections: if False, no synapse ``i -> i`` (index equality: pass the same
            population twice; between two different populations pass True).
        per_synapse: store one weight per synapse (needed for plasticity / learning).
        dtype (jax.typing.DTypeLike | None): weight dtype (default: JAX's default float).

    Returns:
        A :class:`CSR` (rows are presynaptic neurons, columns ascending within a row).

    Examples:
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
    rule = PairwiseBernoulli(Gaussian(sigma=lam_a / np.sqrt(2.0), amplitude=c))
    return connect(key, free(pre), free(post), rule,
                   allow_autapses=bool(allow_self_connections), weights=weight,
                   per_synapse=per_synapse, dtype=dtype).conn


def grid_positions(shape) -> np.ndarray:
    """Integer grid coordinates, one row per point in C order: shape ``(prod(shape), len(shape))``.

    Point ``k`` is ``np.unravel_index(k, shape)`` (grid units, float64).

    Args:
        shape (tuple[int, ...]): points per axis, a tuple of positive ints, e.g. ``(10, 10, 10)``.

    Examples:
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
