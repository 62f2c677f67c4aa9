"""Connectivity pytrees: CSR, ELL (fixed in-/out-degree) and Dense.

Index arrays are int32 data built on the host at construction (never differentiated); the
weights are the differentiable leaf: a scalar (homogeneous) or one value per synapse.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ._layout import Layout, layout_from_post_major, layout_from_pre_major


def _concrete_int_array(value, name: str, ndim: int) -> np.ndarray:
    if isinstance(value, jax.core.Tracer):
        raise TypeError(
            f"`{name}` must be a concrete array: build connectivity outside jit/vmap/grad "
            "(index arrays are static data)."
        )
    arr = np.asarray(value)
    if arr.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-D, got shape {arr.shape}.")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"`{name}` must hold integers, got dtype {arr.dtype}.")
    if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(np.int32).max):
        raise ValueError(f"`{name}` must hold non-negative int32 values.")
    return arr.astype(np.int32, copy=False)


def _check_range(arr: np.ndarray, upper: int, name: str, what: str) -> None:
    if arr.size and arr.max() >= upper:
        raise ValueError(
            f"`{name}` holds index {int(arr.max())}, out of range for {what} = {upper}."
        )


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative int, got {value!r}.")
    return int(value)


def _check_size(value, name: str) -> int:
    """A population size: an int >= 1 (an empty population is almost always a mistake)."""
    if _check_count(value, name) == 0:
        raise ValueError(f"`{name}` must be a positive int (a population size), got 0.")
    return int(value)


def as_weights(weights, shape: tuple[int, ...], name: str = "weights", dtype=None) -> Array:
    """Weights as a float array of shape ``()`` or ``shape``; errors name the argument."""
    w = jnp.asarray(weights, dtype=dtype)
    if not jnp.issubdtype(w.dtype, jnp.floating):
        if dtype is None and jnp.issubdtype(w.dtype, jnp.integer | jnp.bool_):
            w = w.astype(jnp.result_type(float))
        else:
            raise TypeError(f"`{name}` must be floating point, got dtype {w.dtype}.")
    if w.shape not in ((), shape):
        raise ValueError(f"`{name}` must be a scalar or have shape {shape}, got {w.shape}.")
    return w


class CSR(eqx.Module):
    """Sparse connectivity in compressed sparse row form (rows = presynaptic neurons).

    Synapse ``s`` of presynaptic neuron ``i`` (``indptr[i] <= s < indptr[i + 1]``) targets
    postsynaptic neuron ``indices[s]`` with weight ``weights[s]`` (or the scalar ``weights``).
    Repeated ``(i, j)`` pairs are separate synapses (their contributions add). A post-major
    view (each post neuron's incoming synapses) is built once at construction and cached in
    ``layout``; it drives the transposed operators and column plasticity.

    Args:
        indptr (Int[Array, 'n_pre+1']): row pointers, int, shape ``(n_pre + 1,)``, starting at 0,
            non-decreasing.
        indices (Int[Array, 'n_syn']): postsynaptic index of each synapse, int, shape ``(n_syn,)``,
            in ``[0, n_post)``.
        weights (float | Float[Array, 'n_syn']): scalar or shape ``(n_syn,)``, floating
            (differentiable). Default 1.
        n_post (int): number of postsynaptic neurons.

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> conn = bo.CSR(jnp.array([0, 2, 3]), jnp.array([0, 2, 1]), 0.5, n_post=3)
        >>> bo.event_matvec(jnp.array([True, False]), conn)   # [0.5, 0. , 0.5]
    """

    layout: Layout
    weights: Float[Array, n_syn] | Float[Array, ""]

    def __init__(self, indptr=None, indices=None, weights=1.0, *, n_post=None, layout=None,
                 dtype=None):
        if layout is None:
            if n_post is None:
                raise ValueError("`n_post` is required (number of postsynaptic neurons).")
            n_post = _check_count(n_post, "n_post")
            indptr = _concrete_int_array(indptr, "indptr", 1)
            indices = _concrete_int_array(indices, "indices", 1)
            if indptr.shape[0] < 1 or indptr[0] != 0:
                raise ValueError("`indptr` must start with 0 and have length n_pre + 1.")
            if np.any(np.diff(indptr) < 0):
                raise ValueError("`indptr` must be non-decreasing.")
            if indptr[-1] != indices.shape[0]:
                raise ValueError(
                    f"`indptr[-1]` = {int(indptr[-1])} must equal len(indices) = "
                    f"{indices.shape[0]}."
                )
            _check_range(indices, n_post, "indices", "n_post")
            layout = layout_from_pre_major(
                indptr, indices, np.zeros(0, np.int32), indptr.shape[0] - 1, n_post
            )
        self.layout = layout
        self.weights = as_weights(weights, (layout.n_syn,), dtype=dtype)

    @property
    def n_pre(self) -> int:
        return self.layout.n_pre

    @property
    def n_post(self) -> int:
        return self.layout.n_post

    @property
    def n_syn(self) -> int:
        return self.layout.n_syn

    @property
    def indptr(self) -> Int[Array, " n_pre_plus_1"]:
        return self.layout.pre_indptr

    @property
    def indices(self) -> Int[Array, " n_syn"]:
        return self.layout.pre_post

    @property
    def synapse_shape(self) -> tuple[int, ...]:
        """Shape of one value per synapse: ``(n_syn,)``."""
        return (self.n_syn,)

    def flat_weights(self) -> Array:
        """Weights by storage index: shape ``()`` or ``(n_syn,)``."""
        return self.weights

    def with_weights(self, weights) -> CSR:
        """The same structure with other weights (scalar or ``(n_syn,)``)."""
        return CSR(layout=self.layout, weights=weights)

    def transpose(self) -> CSR:
        """The reversed projection (post -> pre), sharing this weight storage (no copy).

        ``weights[k]`` still belongs to synapse ``k``; the rows of the result are this
        connectivity's postsynaptic neurons and ``layout.pre_syn`` maps positions to ``k``.
        """
        return CSR(layout=self.layout.swapped(), weights=self.weights)

    def todense(self) -> Float[Array, "n_pre n_post"]:
        """Dense ``(n_pre, n_post)`` matrix (repeated synapses summed). For tests and small nets."""
        return _todense(self.layout, self.weights)


class ELL(eqx.Module):
    """Fixed-degree connectivity: an ``(n_rows, k)`` index array (ELLPACK).

    ``rows="pre"`` (fixed out-degree): row ``i`` lists the ``k`` postsynaptic targets of
    presynaptic neuron ``i``. ``rows="post"`` (fixed in-degree): row ``j`` lists the ``k``
    presynaptic sources of postsynaptic neuron ``j``. Weights: scalar or ``(n_rows, k)``.
    Both directions of the operators are event-driven (the other view is cached in ``layout``).

    Args:
        indices (Int[Array, 'n_rows k']): int, shape ``(n_rows, k)``.
        weights (float | Float[Array, 'n_rows k']): scalar or ``(n_rows, k)`` floating.
            Default 1.
        n_cols (int): size of the other population (``n_post`` if ``rows="pre"``, else
            ``n_pre``).
        rows (str): ``"pre"`` or ``"post"``.

    Examples:
        >>> conn = bo.ELL(jnp.array([[1], [0]]), 2.0, n_cols=2, rows="pre")
        >>> bo.event_matvec(jnp.array([1.0, 0.0]), conn)   # [0., 2.]
    """

    layout: Layout
    weights: Float[Array, "n_rows k"] | Float[Array, ""]
    rows: Literal["pre", "post"] = eqx.field(static=True)
    k: int = eqx.field(static=True)

    def __init__(self, indices=None, weights=1.0, *, n_cols=None, rows="pre", layout=None,
                 k=None, dtype=None):
        if rows not in ("pre", "post"):
            raise ValueError(f"`rows` must be 'pre' or 'post', got {rows!r}.")
        if layout is None:
            if n_cols is None:
                raise ValueError("`n_cols` is required (size of the population indexed).")
            n_cols = _check_count(n_cols, "n_cols")
            idx = _concrete_int_array(indices, "indices", 2)
            _check_range(idx, n_cols, "indices", "n_cols")
            n_rows, k = idx.shape
            indptr = np.arange(n_rows + 1, dtype=np.int64) * k
            if indptr[-1] > np.iinfo(np.int32).max:
                raise ValueError("`indices` has more than 2**31 - 1 synapses.")
            empty = np.zeros(0, np.int32)
            build = layout_from_pre_major if rows == "pre" else layout_from_post_major
            n_pre, n_post = (n_rows, n_cols) if rows == "pre" else (n_cols, n_rows)
            layout = build(indptr.astype(np.int32), idx.reshape(-1), empty, n_pre, n_post)
        self.layout = layout
        self.rows = rows
        self.k = int(k)
        n_rows = layout.n_pre if rows == "pre" else layout.n_post
        self.weights = as_weights(weights, (n_rows, self.k), dtype=dtype)

    @property
    def n_pre(self) -> int:
        return self.layout.n_pre

    @property
    def n_post(self) -> int:
        return self.layout.n_post

    @property
    def n_syn(self) -> int:
        return self.layout.n_syn

    @property
    def indices(self) -> Int[Array, "n_rows k"]:
        flat = self.layout.pre_post if self.rows == "pre" else self.layout.post_pre
        return flat.reshape(-1, self.k)

    @property
    def synapse_shape(self) -> tuple[int, ...]:
        """Shape of one value per synapse: ``(n_rows, k)``."""
        return (self.n_pre if self.rows == "pre" else self.n_post, self.k)

    def flat_weights(self) -> Array:
        return self.weights if self.weights.ndim == 0 else self.weights.reshape(-1)

    def with_weights(self, weights) -> ELL:
        return ELL(layout=self.layout, weights=weights, rows=self.rows, k=self.k)

    def transpose(self) -> CSR:
        """The reversed projection as a CSR sharing this weight storage (flattened)."""
        return CSR(layout=self.layout.swapped(), weights=self.flat_weights())

    def todense(self) -> Float[Array, "n_pre n_post"]:
        return _todense(self.layout, self.flat_weights())


class Dense(eqx.Module):
    """Dense connectivity: a full ``(n_pre, n_post)`` weight matrix, optionally masked.

    ``mask`` (bool, same shape) marks existing synapses; plasticity never changes entries
    outside the mask, and those weights should be 0. Operators use XLA's dense dot.

    Examples:
        >>> conn = bo.Dense(jnp.ones((2, 3)))
        >>> bo.event_matvec(jnp.array([True, True]), conn)   # [2., 2., 2.]
    """

    weights: Float[Array, "n_pre n_post"]
    mask: Bool[Array, "n_pre n_post"] | None = None

    def __init__(self, weights, mask=None, *, dtype=None):
        w = jnp.asarray(weights, dtype=dtype)
        if w.ndim != 2:
            raise ValueError(f"`weights` must be a (n_pre, n_post) matrix, got shape {w.shape}.")
        self.weights = as_weights(w, w.shape, dtype=dtype)
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.shape != w.shape or mask.dtype != jnp.bool_:
                raise ValueError(f"`mask` must be a bool array of shape {w.shape}.")
        self.mask = mask

    @property
    def n_pre(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_post(self) -> int:
        return int(self.weights.shape[1])

    @property
    def synapse_shape(self) -> tuple[int, ...]:
        """Shape of one value per (possible) synapse: ``(n_pre, n_post)``."""
        return (self.n_pre, self.n_post)

    def with_weights(self, weights) -> Dense:
        """The same mask with another ``(n_pre, n_post)`` weight matrix."""
        return Dense(weights, self.mask)

    def transpose(self) -> Dense:
        return Dense(self.weights.T, None if self.mask is None else self.mask.T)

    def todense(self) -> Float[Array, "n_pre n_post"]:
        return self.weights


def _todense(layout: Layout, weights: Array) -> Array:
    indptr, post, syn = (np.asarray(a) for a in (layout.pre_indptr, layout.pre_post,
                                                  layout.pre_syn))
    rows = np.repeat(np.arange(layout.n_pre), np.diff(indptr))
    storage = syn if syn.shape[0] else np.arange(post.shape[0])
    w = jnp.broadcast_to(weights, (layout.n_syn,)) if weights.ndim == 0 else weights[storage]
    return jnp.zeros((layout.n_pre, layout.n_post), w.dtype).at[rows, post].add(w)


Sparse = CSR | ELL
Connectivity = CSR | ELL | Dense
