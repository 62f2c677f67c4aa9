"""Tripartite connectivity: neuron pairs with Bernoulli synapses, some paired with an astrocyte
from a pool per target neuron (NEST's ``tripartite_bernoulli_with_pool``).

Primary synapses ``pre -> post`` are drawn like :func:`fixed_prob`. Each primary synapse is then
paired, with probability ``p_third_if_primary``, with one astrocyte chosen from its target's
pool; a paired synapse adds one ``pre -> astrocyte`` synapse (``third_in``) and one
``astrocyte -> post`` synapse (``third_out``). As in the other builders, the structure is drawn
on the host by numba kernels from 64-bit seeds taken from the ``jax.random`` key (one splitmix64
stream per row), so it depends only on the key and the arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ._builders import _next, _prob_rows, _row_state, _seed, _uniform, _weights
from ._builders import from_edges as _from_edges
from ._connectivity import CSR, _check_size
from ._layout import layout_from_pre_major

_POOL_TYPES = ("random", "block")
_STREAM_POOL = np.uint64(0x6A09E667F3BCC909)  # independent streams for the pools...
_STREAM_PAIR = np.uint64(0xBB67AE8584CAA73B)  # ... and for the pairing draws


class Tripartite(NamedTuple):
    """The three connectivities of a tripartite rule and the astrocyte of each synapse.

    Attributes:
        primary: neuron -> neuron synapses, a :class:`CSR` ``(n_pre, n_post)``.
        third_in: neuron -> astrocyte synapses, one per paired primary synapse, a :class:`CSR`
            ``(n_pre, n_astro)`` (repeated pairs are separate synapses, as in NEST).
        third_out: astrocyte -> neuron synapses, one per paired primary synapse, a
            :class:`CSR` ``(n_astro, n_post)``.
        astrocyte: the astrocyte paired with each primary synapse (storage order of
            ``primary``), ``-1`` for none; int32 numpy array of shape ``(primary.n_syn,)``
            (the ``astrocyte_index`` of ``brainsim.astro.TripartiteRelease``).
        pools: each target neuron's astrocyte pool, int32 ``(n_post, pool_size)``.
    """

    primary: CSR
    third_in: CSR
    third_out: CSR
    astrocyte: np.ndarray
    pools: np.ndarray


@njit(cache=True)
def _random_pools(seed, n_post, n_astro, pool_size, out):
    """``pool_size`` distinct astrocytes per target (Floyd's sampling), ascending."""
    mark = np.zeros(n_astro, dtype=np.uint8)
    for j in range(n_post):
        state = _row_state(seed, j)
        got = 0
        for top in range(n_astro - pool_size, n_astro):
            state, z = _next(state)
            pick = np.int64(z % np.uint64(top + 1))
            if mark[pick]:
                pick = top
            mark[pick] = 1
            out[j, got] = pick
            got += 1
        out[j].sort()
        for m in range(pool_size):
            mark[out[j, m]] = 0


@njit(cache=True)
def _pair(seed, indptr, indices, pools, p, out):
    """Astrocyte of each primary synapse (``-1`` unpaired): Bernoulli(p), then uniform in the
    target's pool (its only member when the pool has one)."""
    pool_size = pools.shape[1]
    for r in range(indptr.shape[0] - 1):
        state = _row_state(seed, r)
        for s in range(indptr[r], indptr[r + 1]):
            state, u = _uniform(state)
            if u > p:  # u in (0, 1]: P(u <= p) = p
                out[s] = -1
                continue
            k = 0
            if pool_size > 1:
                state, v = _uniform(state)
                k = min(np.int64((1.0 - v) * pool_size), pool_size - 1)
            out[s] = pools[indices[s], k]


def _pools(seed, n_post: int, n_astro: int, pool_size: int, pool_type: str) -> np.ndarray:
    if pool_type == "random":
        pools = np.empty((n_post, pool_size), np.int32)
        _random_pools(seed ^ _STREAM_POOL, n_post, n_astro, pool_size, pools)
        return pools
    if pool_size > 1:
        return (np.arange(n_post, dtype=np.int64)[:, None] * pool_size
                + np.arange(pool_size)[None, :]).astype(np.int32)  # fmt: skip
    per_astrocyte = n_post // n_astro
    return (np.arange(n_post) // per_astrocyte).astype(np.int32)[:, None]


def tripartite_bernoulli_with_pool(
    key, n_pre: int, n_post: int, n_astro: int, p_primary: float,
    p_third_if_primary: float = 1.0, pool_size: int | None = None,
    pool_type: str = "random", *, weight_primary=1.0, weight_third_in=1.0,
    weight_third_out=1.0, allow_self_connections: bool = True, per_synapse: bool = False,
    dtype=None,
) -> Tripartite:  # fmt: skip
    """NEST's tripartite rule: Bernoulli neuron pairs, each synapse paired with probability
    ``p_third_if_primary`` with one astrocyte of its target's pool.

    1. Each pair ``(i, j)`` gets a primary synapse with probability ``p_primary``.
    2. Each primary synapse is paired with an astrocyte with probability
       ``p_third_if_primary``; the astrocyte is drawn uniformly from target ``j``'s pool (its
       only member when ``pool_size == 1``).
    3. A paired synapse ``i -> j`` with astrocyte ``a`` adds ``i -> a`` (``third_in``) and
       ``a -> j`` (``third_out``).

    Pools (one per target neuron, fixed before any pairing): ``"random"``: ``pool_size``
    distinct astrocytes drawn uniformly; ``"block"``: contiguous, non-overlapping blocks —
    with ``pool_size == 1``, target ``j`` has astrocyte ``j // (n_post // n_astro)`` (needs
    ``n_post`` a multiple of ``n_astro``), otherwise astrocytes
    ``j·pool_size ... j·pool_size + pool_size − 1`` (needs ``n_post·pool_size == n_astro``).

    NEST 3.10 calls it with ``nest.TripartiteConnect(pre, post, astro, {"rule":
    "pairwise_bernoulli", "p": p_primary}, {"rule": "third_factor_bernoulli_with_pool", "p":
    p_third_if_primary, "pool_size": ..., "pool_type": ...}, syn_specs)``; its defaults are
    ``p_third_if_primary = 1``, ``pool_size = n_astro``, ``pool_type = "random"``, as here.
    The statistics are NEST's; the random streams are not (the same key gives the same
    structure here, not NEST's).

    Args:
        key (PRNGKeyArray): ``jax.random`` key (same key and arguments give the same
            structure).
        n_pre: number of presynaptic neurons (sources of primary synapses).
        n_post: number of postsynaptic neurons (targets of primary synapses).
        n_astro: number of astrocytes (>= 1).
        p_primary: probability of a primary synapse per pair, in [0, 1].
        p_third_if_primary: probability that a primary synapse is paired, in [0, 1].
        pool_size: astrocytes per target's pool, in [1, n_astro] (default ``n_astro``).
        pool_type: ``"random"`` or ``"block"``.
        weight_primary (float | Array): weight of the primary synapses (a scalar, or one
            per synapse).
        weight_third_in (float | Array): weight of the neuron → astrocyte connections.
        weight_third_out (float | Array): weight of the astrocyte → neuron connections.
        allow_self_connections: if False, no primary synapse ``i -> i`` (index equality: for
            a recurrent projection onto the same population).
        per_synapse: store one primary weight per synapse (needed for plasticity).
        dtype (jax.typing.DTypeLike | None): weight dtype (default: JAX's default float).

    Returns:
        A :class:`Tripartite` ``(primary, third_in, third_out, astrocyte, pools)``.

    Examples:
        >>> net = bo.tripartite_bernoulli_with_pool(jax.random.key(0), 100, 100, 50, 0.1,
        ...                                         0.5, pool_size=10)
        >>> net.primary.n_syn, net.third_in.n_syn == net.third_out.n_syn
        (1002, True)
    """
    n_pre, n_post = _check_size(n_pre, "n_pre"), _check_size(n_post, "n_post")
    n_astro = _check_size(n_astro, "n_astro")
    if n_astro < 1:
        raise ValueError("`n_astro` must be >= 1 (the rule pairs synapses with astrocytes).")
    for name, p in (("p_primary", p_primary), ("p_third_if_primary", p_third_if_primary)):
        if isinstance(p, bool) or np.ndim(p) != 0 or not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"`{name}` must be a probability in [0, 1], got {p!r}.")
    pool_size = n_astro if pool_size is None else pool_size
    if isinstance(pool_size, bool) or not isinstance(pool_size, int | np.integer) or not (
        1 <= pool_size <= n_astro
    ):
        raise ValueError(f"`pool_size` must be an int in [1, n_astro = {n_astro}], got "
                         f"{pool_size!r}.")  # fmt: skip
    pool_size = int(pool_size)
    if pool_type not in _POOL_TYPES:
        raise ValueError(f"`pool_type` must be one of {_POOL_TYPES}, got {pool_type!r}.")
    if pool_type == "block" and not (
        n_post * pool_size == n_astro or (pool_size == 1 and n_post % n_astro == 0)
    ):
        raise ValueError(
            f"pool_type='block' does not fit n_post = {n_post}, n_astro = {n_astro}, pool_size "
            f"= {pool_size}: with pool_size == 1, n_post must be a multiple of n_astro; "
            "otherwise n_post * pool_size must equal n_astro. Use pool_type='random'."
        )
    seed = _seed(key)
    indptr = np.zeros(n_pre + 1, np.int64)
    _prob_rows(seed, n_pre, n_post, float(p_primary), allow_self_connections, indptr,
               np.zeros(0, np.int32), False)  # fmt: skip
    if indptr[-1] > np.iinfo(np.int32).max:
        raise ValueError("tripartite_bernoulli_with_pool: more than 2**31 - 1 synapses.")
    indices = np.empty(int(indptr[-1]), np.int32)
    _prob_rows(seed, n_pre, n_post, float(p_primary), allow_self_connections, indptr,
               indices, True)  # fmt: skip
    layout = layout_from_pre_major(indptr, indices, np.zeros(0, np.int32), n_pre, n_post)
    primary = CSR(layout=layout, weights=_weights(weight_primary, (layout.n_syn,), per_synapse,
                                                  dtype))  # fmt: skip
    pools = _pools(seed, n_post, n_astro, pool_size, pool_type)
    astrocyte = np.empty(indices.shape[0], np.int32)
    _pair(seed ^ _STREAM_PAIR, indptr, indices, pools, float(p_third_if_primary), astrocyte)
    paired = np.nonzero(astrocyte >= 0)[0]
    pre_of = np.repeat(np.arange(n_pre, dtype=np.int32), np.diff(indptr))[paired]
    third_in = _from_edges(pre_of, astrocyte[paired], weight_third_in, n_pre=n_pre,
                           n_post=n_astro, dtype=dtype)  # fmt: skip
    third_out = _from_edges(astrocyte[paired], indices[paired], weight_third_out,
                            n_pre=n_astro, n_post=n_post, dtype=dtype)  # fmt: skip
    return Tripartite(primary, third_in, third_out, astrocyte, pools)
