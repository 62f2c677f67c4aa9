"""Index layout shared by all sparse connectivity types: a pre-major and a post-major view.

A synapse is identified by its *storage index* ``k`` into the weight array. The pre-major
view lists, for each presynaptic neuron ``i``, the positions ``s`` in
``pre_indptr[i]:pre_indptr[i + 1]``, each with its postsynaptic target ``pre_post[s]`` and
storage index ``pre_syn[s]`` (an empty ``pre_syn`` means ``k = s``). The post-major view is the
same for each postsynaptic neuron (its incoming synapses), with ``post_pre`` and ``post_syn``.
All arrays are int32. Both views are built once, on the host, when a connectivity is made.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Int
from numba import njit


class Layout(eqx.Module):
    """Pre-major and post-major index views of one sparse connectivity (int32, host-built)."""

    pre_indptr: Int[Array, " n_pre_plus_1"]
    pre_post: Int[Array, " n_syn"]
    pre_syn: Int[Array, " n_syn_or_0"]
    post_indptr: Int[Array, " n_post_plus_1"]
    post_pre: Int[Array, " n_syn"]
    post_syn: Int[Array, " n_syn_or_0"]
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)

    @property
    def n_syn(self) -> int:
        return int(self.pre_post.shape[0])

    def view(self, transpose: bool):
        """``(indptr, targets, storage, n_rows, n_cols)`` of the pre-major view, or post-major."""
        if transpose:
            return self.post_indptr, self.post_pre, self.post_syn, self.n_post, self.n_pre
        return self.pre_indptr, self.pre_post, self.pre_syn, self.n_pre, self.n_post

    def swapped(self) -> Layout:
        """The layout of the transposed connectivity (same storage indices)."""
        return Layout(
            self.post_indptr, self.post_pre, self.post_syn,
            self.pre_indptr, self.pre_post, self.pre_syn, self.n_post, self.n_pre,
        )  # fmt: skip


@njit(cache=True)
def _transpose_counting_sort(indptr, targets, storage, n_cols):
    n_rows = indptr.shape[0] - 1
    n = targets.shape[0]
    t_indptr = np.zeros(n_cols + 1, dtype=np.int32)
    for s in range(n):
        t_indptr[targets[s] + 1] += 1
    for c in range(n_cols):
        t_indptr[c + 1] += t_indptr[c]
    fill = t_indptr[:-1].copy()
    t_rows = np.empty(n, dtype=np.int32)
    t_storage = np.empty(n, dtype=np.int32)
    has_storage = storage.shape[0] > 0
    for r in range(n_rows):
        for s in range(indptr[r], indptr[r + 1]):
            c = targets[s]
            p = fill[c]
            t_rows[p] = r
            t_storage[p] = storage[s] if has_storage else s
            fill[c] = p + 1
    return t_indptr, t_rows, t_storage


def _is_identity(storage: np.ndarray) -> bool:
    return bool(storage.shape[0] == 0 or np.array_equal(storage, np.arange(storage.shape[0])))


def transposed_view(indptr, targets, storage, n_cols):
    """Counting-sort transpose of a row view: ``(t_indptr, t_rows, t_storage)`` (host numpy).

    Within each column the entries keep row order, so the result is deterministic.
    Memory: the outputs plus ``n_cols`` counters.
    """
    t_indptr, t_rows, t_storage = _transpose_counting_sort(
        np.asarray(indptr, np.int32), np.asarray(targets, np.int32),
        np.asarray(storage, np.int32), int(n_cols),
    )  # fmt: skip
    if _is_identity(t_storage):
        t_storage = np.zeros(0, np.int32)
    return t_indptr, t_rows, t_storage


def layout_from_pre_major(indptr, post, storage, n_pre: int, n_post: int) -> Layout:
    """Layout from a pre-major view given as host arrays (the post-major view is derived)."""
    indptr = np.asarray(indptr, np.int32)
    post = np.asarray(post, np.int32)
    storage = np.asarray(storage, np.int32)
    if _is_identity(storage):
        storage = np.zeros(0, np.int32)
    t_indptr, t_pre, t_storage = transposed_view(indptr, post, storage, n_post)
    arrays = (indptr, post, storage, t_indptr, t_pre, t_storage)
    return Layout(*(jax.numpy.asarray(a) for a in arrays), n_pre, n_post)


def layout_from_post_major(indptr, pre, storage, n_pre: int, n_post: int) -> Layout:
    """Layout from a post-major view (each post neuron's incoming synapses)."""
    return layout_from_pre_major(indptr, pre, storage, n_post, n_pre).swapped()
