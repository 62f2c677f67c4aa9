"""Reproducible connectivity builders (host-side numba, chunk-free streaming by row).

Random structure comes from a 64-bit seed drawn from the ``jax.random`` key; each row has its
own splitmix64 stream seeded from ``(seed, row)``, so the result depends only on the key and
the arguments (not on numpy's global RNG or on the machine). Rows are generated twice (count,
then fill), so the peak memory is the final int32 arrays (4 bytes per synapse for the
pre-major indices plus 8 for the cached post-major view) plus O(n) counters.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from numba import njit

from ._connectivity import CSR, ELL, Dense, _check_count, _check_size, as_weights
from ._layout import layout_from_pre_major

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _next(state):
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _row_state(seed, row):
    state, _ = _next(seed ^ (np.uint64(row + 1) * np.uint64(0xD1B54A32D192ED03)))
    return state


@njit(cache=True, inline="always")
def _uniform(state):
    """Uniform in (0, 1]."""
    state, z = _next(state)
    return state, (np.float64(z >> np.uint64(11)) + 1.0) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _prob_rows(seed, n_rows, n_cols, p, allow_self, indptr, out, fill):
    """Bernoulli(p) columns of each row, ascending, by geometric skipping (O(synapses))."""
    total = 0
    log_q = np.log1p(-p) if p < 1.0 else 0.0
    for r in range(n_rows):
        if fill:
            total = indptr[r]
        else:
            indptr[r] = total
        state = _row_state(seed, r)
        c = -1
        while True:
            if p >= 1.0:
                c += 1
            else:
                state, u = _uniform(state)
                step = np.floor(np.log(u) / log_q)
                if step > n_cols:
                    break
                c += 1 + np.int64(step)
            if c >= n_cols:
                break
            if c == r and not allow_self:
                continue
            if fill:
                out[total] = c
            total += 1
    if not fill:
        indptr[n_rows] = total


@njit(cache=True)
def _degree_rows(seed, n_rows, n_cols, k, allow_self, out):
    """``k`` distinct columns per row (ascending) by rejection with a reusable marker array."""
    mark = np.zeros(n_cols, dtype=np.uint8)
    row = np.empty(max(k, n_cols - k) + 1, dtype=np.int64)
    for r in range(n_rows):
        state = _row_state(seed, r)
        excluded = r if (not allow_self and r < n_cols) else -1
        available = n_cols - (1 if excluded >= 0 else 0)
        complement = k > available // 2
        want = available - k if complement else k
        got = 0
        while got < want:
            state, z = _next(state)
            c = np.int64(z % np.uint64(n_cols))
            if c == excluded or mark[c]:
                continue
            mark[c] = 1
            row[got] = c
            got += 1
        base = r * k
        if complement:
            m = 0
            for c in range(n_cols):
                if mark[c] == 0 and c != excluded:
                    out[base + m] = c
                    m += 1
        else:
            chosen = np.sort(row[:got])
            for m in range(k):
                out[base + m] = chosen[m]
        for m in range(got):
            mark[row[m]] = 0


def _seed(key) -> np.uint64:
    if isinstance(key, jax.core.Tracer):
        raise TypeError("`key` must be concrete: build connectivity outside jit.")
    try:
        bits = np.asarray(jax.random.bits(key, (2,), jnp.uint32), np.uint64)
    except Exception as error:
        raise TypeError(f"`key` must be a jax.random key, got {key!r}.") from error
    return np.uint64((int(bits[0]) << 32) | int(bits[1]))


def _weights(weight, n: tuple[int, ...], per_synapse: bool, dtype):
    w = as_weights(weight, n, name="weight", dtype=dtype)
    return jnp.broadcast_to(w, n) if per_synapse and w.ndim == 0 else w


def fixed_prob(key, n_pre: int, n_post: int, p: float, *, weight=1.0,
               allow_self_connections: bool = True, per_synapse: bool = False,
               dtype=None) -> CSR:
    """Each pair ``(i, j)`` connected independently with probability ``p`` (CSR).

    Args:
        key (PRNGKeyArray): ``jax.random`` key (same key and arguments give the same
            structure).
        n_pre: size of the presynaptic population.
        n_post: size of the postsynaptic population.
        p: connection probability in [0, 1].
        weight (float | ArrayLike): scalar weight (stored once), or ``(n_syn,)`` array if you
            know ``n_syn``.
        allow_self_connections: if False, no synapse ``i -> i`` (for recurrent projections).
        per_synapse: store one weight per synapse (needed for plasticity / learning).
        dtype (DTypeLike | None): weight dtype (default: JAX's default float).

    Examples:
        >>> conn = bo.fixed_prob(jax.random.key(0), 3200, 4000, 0.02, weight=0.6)
    """
    n_pre, n_post = _check_size(n_pre, "n_pre"), _check_size(n_post, "n_post")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"`p` must be a probability in [0, 1], got {p!r}.")
    seed = _seed(key)
    indptr = np.zeros(n_pre + 1, np.int64)
    _prob_rows(seed, n_pre, n_post, float(p), allow_self_connections, indptr,
               np.zeros(0, np.int32), False)
    if indptr[-1] > np.iinfo(np.int32).max:
        raise ValueError("fixed_prob: more than 2**31 - 1 synapses; split the projection.")
    out = np.empty(int(indptr[-1]), np.int32)
    _prob_rows(seed, n_pre, n_post, float(p), allow_self_connections, indptr, out, True)
    layout = layout_from_pre_major(indptr, out, np.zeros(0, np.int32), n_pre, n_post)
    return CSR(layout=layout, weights=_weights(weight, (layout.n_syn,), per_synapse, dtype))


def _fixed_degree(key, n_rows, n_cols, k, allow_self, name_rows, name_cols):
    n_rows, n_cols = _check_size(n_rows, name_rows), _check_size(n_cols, name_cols)
    k = _check_count(k, "k")
    available = n_cols - (1 if not allow_self and n_rows > 0 and n_cols > 0 else 0)
    if k > available:
        raise ValueError(f"`k` = {k} exceeds the {available} available partners per neuron.")
    if n_rows * k > np.iinfo(np.int32).max:
        raise ValueError("more than 2**31 - 1 synapses; split the projection.")
    out = np.empty(n_rows * k, np.int32)
    _degree_rows(_seed(key), n_rows, n_cols, k, allow_self, out)
    return out.reshape(n_rows, k), k


def fixed_out_degree(key, n_pre: int, n_post: int, k: int, *, weight=1.0,
                     allow_self_connections: bool = True, per_synapse: bool = False,
                     dtype=None) -> ELL:
    """Each presynaptic neuron projects to exactly ``k`` distinct postsynaptic neurons.

    Returns an :class:`ELL` with ``rows="pre"`` (indices shape ``(n_pre, k)``, ascending).

    Examples:
        >>> conn = bo.fixed_out_degree(jax.random.key(1), 3200, 4000, 80, weight=0.6)
    """
    idx, k = _fixed_degree(key, n_pre, n_post, k, allow_self_connections, "n_pre", "n_post")
    empty = np.zeros(0, np.int32)
    layout = layout_from_pre_major(np.arange(n_pre + 1, dtype=np.int64) * k, idx.reshape(-1),
                                   empty, n_pre, n_post)
    return ELL(layout=layout, rows="pre", k=k,
               weights=_weights(weight, (n_pre, k), per_synapse, dtype))


def fixed_in_degree(key, n_pre: int, n_post: int, k: int, *, weight=1.0,
                    allow_self_connections: bool = True, per_synapse: bool = False,
                    dtype=None) -> ELL:
    """Each postsynaptic neuron receives exactly ``k`` synapses from distinct presynaptic ones.

    Returns an :class:`ELL` with ``rows="post"`` (indices shape ``(n_post, k)``); forward
    products are still event-driven over presynaptic events (pre-major view is cached).

    Examples:
        >>> conn = bo.fixed_in_degree(jax.random.key(2), 4000, 4000, 80, weight=0.1)
    """
    idx, k = _fixed_degree(key, n_post, n_pre, k, allow_self_connections, "n_post", "n_pre")
    return ELL(idx, 1.0, n_cols=n_pre, rows="post").with_weights(
        _weights(weight, (n_post, k), per_synapse, dtype))


def from_edges(pre, post, weights=1.0, *, n_pre: int, n_post: int, dtype=None) -> CSR:
    """CSR from an edge list; repeated ``(pre, post)`` pairs stay separate synapses.

    Edges are stably sorted by ``pre``; ``weights`` (scalar or one per edge) follow, with the
    gather differentiable when ``weights`` is traced.

    Examples:
        >>> conn = bo.from_edges([0, 0, 2], [1, 2, 0], [0.1, 0.2, 0.3], n_pre=3, n_post=3)
    """
    n_pre, n_post = _check_size(n_pre, "n_pre"), _check_size(n_post, "n_post")
    pre_a = np.asarray(pre)
    post_a = np.asarray(post)
    for name, arr in (("pre", pre_a), ("post", post_a)):
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"`{name}` must be a 1-D integer array, got {arr.dtype}{arr.shape}.")
    if pre_a.shape != post_a.shape:
        raise ValueError(f"`pre` and `post` differ in length: {pre_a.shape} vs {post_a.shape}.")
    for name, arr, n in (("pre", pre_a, n_pre), ("post", post_a, n_post)):
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValueError(f"`{name}` holds indices outside [0, {n}).")
    order = np.argsort(pre_a, kind="stable")
    indptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre_a, minlength=n_pre), out=indptr[1:])
    layout = layout_from_pre_major(indptr, post_a[order], np.zeros(0, np.int32), n_pre, n_post)
    w = as_weights(weights, (layout.n_syn,), dtype=dtype)
    return CSR(layout=layout, weights=w if w.ndim == 0 else w[order])


def all_to_all(n_pre: int, n_post: int, weight=1.0, *, allow_self_connections: bool = True,
               dtype=None) -> Dense:
    """Every pair connected: a :class:`Dense` matrix (masked diagonal if no self-connections).

    Examples:
        >>> conn = bo.all_to_all(100, 100, 0.1, allow_self_connections=False)
    """
    n_pre, n_post = _check_size(n_pre, "n_pre"), _check_size(n_post, "n_post")
    w = as_weights(weight, (n_pre, n_post), name="weight", dtype=dtype)
    w = jnp.broadcast_to(w, (n_pre, n_post))
    if allow_self_connections:
        return Dense(w)
    mask = ~jnp.eye(n_pre, n_post, dtype=bool)
    return Dense(jnp.where(mask, w, 0), mask)


def one_to_one(n: int, weight=1.0, *, dtype=None) -> CSR:
    """Neuron ``i`` -> neuron ``i`` (weight scalar or ``(n,)``).

    Examples:
        >>> conn = bo.one_to_one(10, 2.0)
    """
    n = _check_size(n, "n")
    ar = np.arange(n + 1, dtype=np.int32)
    layout = layout_from_pre_major(ar, ar[:-1], np.zeros(0, np.int32), n, n)
    return CSR(layout=layout, weights=as_weights(weight, (n,), name="weight", dtype=dtype))
