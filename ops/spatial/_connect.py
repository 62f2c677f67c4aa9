"""``connect``: one builder for every spatial rule, mask, kernel, weight and delay."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from jaxtyping import Float

from .._builders import _seed, _weights
from .._connectivity import CSR
from .._layout import layout_from_pre_major
from ._delays import delay_steps as _delay_steps
from ._kernels import check_probability, evaluate
from ._layers import Layer, free
from ._rules import (
    FixedInDegree,
    FixedOutDegree,
    FixedTotalNumber,
    PairwiseBernoulli,
    bernoulli_keep,
    weighted_draws,
)
from ._search import Search

_STREAMS = {"bernoulli": 0, "out": 0x27D4EB2F, "in": 0x165667B1, "total": 0x2545F491}


class SpatialConnection(NamedTuple):
    """What :func:`connect` made: the connectivity, each synapse's distance and delay.

    Attributes:
        conn: :class:`~brainsim_ops.CSR` (rows presynaptic, columns ascending in a row);
            weights scalar or one per synapse.
        distance: distance of each synapse, shape ``(n_syn,)`` (length unit of the layers;
            the shortest one on a periodic layer), in the synapse order of ``conn``.
        delay: delay of each synapse in ms, shape ``(n_syn,)``, or None if none was given.
    """

    conn: CSR
    distance: Float[np.ndarray, " n_syn"]
    delay: Float[np.ndarray, " n_syn"] | None

    def delay_steps(self, dt: float) -> np.ndarray:
        """Per-synapse delays in steps of ``dt`` ms, for ``Projection(delay_steps=...)``.

        Rounded to the nearest step; a delay under one step raises (see
        :func:`delay_steps`).
        """
        if self.delay is None:
            raise ValueError("this connection has no delays: pass `delays=` to connect.")
        return _delay_steps(self.delay, dt)


def _layer(value, name: str) -> Layer:
    if isinstance(value, Layer):
        return value
    try:
        return free(value)
    except (TypeError, ValueError) as error:
        raise type(error)(f"`{name}`: {error}") from error


def _shared_region(pre: Layer, post: Layer) -> Layer:
    if pre.dim != post.dim:
        raise ValueError(
            f"`pre` and `post` must have the same dimension, got {pre.dim}-D and {post.dim}-D."
        )
    if pre.periodic or post.periodic:
        same = (pre.periodic == post.periodic and np.allclose(pre.extent, post.extent)
                and np.allclose(pre.center, post.center))
        if not same:
            raise ValueError(
                "periodic boundaries need both layers periodic with the same `extent` and "
                f"`center`; got extent {pre.extent.tolist()} / {post.extent.tolist()}, center "
                f"{pre.center.tolist()} / {post.center.tolist()}."
            )
        return pre
    lower = np.minimum(pre.lower, post.lower)
    upper = np.maximum(pre.lower + pre.extent, post.lower + post.extent)
    return Layer(np.zeros((0, pre.dim)), upper - lower, (upper + lower) / 2, False)


def _bernoulli(seed, search, rule, allow_autapses):
    rows, cols, dists = [], [], []
    for r0, r1, counts, c, d in search.blocks():
        p = evaluate(rule.p, d, "p")
        check_probability(p, d, "p", upper=True)
        keep = np.empty(c.shape[0], np.bool_)
        bernoulli_keep(seed, r0, counts, c, p, allow_autapses, keep)
        rows.append(np.repeat(np.arange(r0, r1), counts)[keep])
        cols.append(c[keep])
        dists.append(d[keep])
    return rows, cols, dists


def _weighted(seed, search, p, k, allow_autapses, allow_multapses, row_name, col_name):
    rows, cols, dists = [], [], []
    for r0, r1, counts, c, d in search.blocks():
        w = evaluate(p, d, "p")
        check_probability(w, d, "p", upper=False)
        out = np.empty(int(k[r0:r1].sum()), np.int64)
        bad = weighted_draws(seed, r0, counts, c, w, k, allow_autapses, allow_multapses, out)
        if bad >= 0:
            distinct = "" if allow_multapses else " distinct"
            raise ValueError(
                f"{row_name} neuron {bad} has fewer than {k[bad]}{distinct} {col_name} partners "
                "with p > 0 inside the mask; widen the mask, lower the degree"
                f"{'' if allow_multapses else ' or allow multapses'}."
            )
        rows.append(np.repeat(np.arange(r0, r1), k[r0:r1]))
        cols.append(c[out])
        dists.append(d[out])
    return rows, cols, dists


def _total_counts(seed, search, rule, allow_autapses, allow_multapses) -> np.ndarray:
    """Synapses per presynaptic neuron: multinomial in the row weights (multapses) or
    multivariate hypergeometric in the rows' candidate counts (distinct pairs)."""
    if not allow_multapses and callable(rule.p):
        raise ValueError(
            "FixedTotalNumber without multapses draws distinct pairs uniformly: give a constant "
            "`p`, or allow multapses to weight pairs by a kernel."
        )
    n_rows = search.rows.shape[0]
    mass = np.zeros(n_rows)
    for r0, r1, counts, c, d in search.blocks():
        w = evaluate(rule.p, d, "p")
        check_probability(w, d, "p", upper=False)
        row = np.repeat(np.arange(r0, r1), counts)
        if not allow_autapses:
            w = np.where(c == row, 0.0, w)
        mass += np.bincount(row, weights=w if allow_multapses else (w > 0), minlength=n_rows)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    total = mass.sum()
    if rule.n > 0 and total <= 0:
        raise ValueError("FixedTotalNumber: no pair inside the mask has p > 0.")
    if allow_multapses:
        return rng.multinomial(rule.n, mass / total) if rule.n else np.zeros(n_rows, np.int64)
    if rule.n > total:
        raise ValueError(f"FixedTotalNumber: `n` = {rule.n} exceeds the {int(total)} distinct "
                         "pairs inside the mask; allow multapses or lower `n`.")
    return rng.multivariate_hypergeometric(mass.astype(np.int64), rule.n)


def connect(key, pre, post, rule, *, mask=None, allow_autapses: bool = True,
            allow_multapses: bool = True, weights=1.0, delays=None, per_synapse: bool = False,
            dtype=None) -> SpatialConnection:
    """Connect two layers by a spatial rule: mask, distance kernel, weights and delays.

    For every neuron the candidate partners are those whose displacement ``post - pre``
    (shortest on a periodic layer) lies inside ``mask`` (all neurons without one); the
    ``rule`` then draws among them by the distance kernel ``rule.p``:

    - :class:`PairwiseBernoulli`: each candidate pair with probability ``p(d)``;
    - :class:`FixedInDegree` / :class:`FixedOutDegree`: ``k`` partners per post / pre neuron,
      drawn with probability ``∝ p(d)``;
    - :class:`FixedTotalNumber`: ``n`` pairs in all, drawn with probability ``∝ p(d)``.

    The build never makes an ``n_pre x n_post`` array: candidates are found through a cell
    grid over the layer and handled in blocks of rows, so time is proportional to the number
    of pairs inside the mask and memory to the number of synapses.

    Args:
        key (PRNGKeyArray): ``jax.random`` key (same key and arguments give the same
            connectivity).
        pre (Layer | Array): the presynaptic :class:`Layer` (or ``(n, d)`` coordinates, made
            into a free layer).
        post (Layer | Array): the postsynaptic layer, as ``pre``; the same object as ``pre``
            for a recurrent projection.
        rule (PairwiseBernoulli | FixedInDegree | FixedOutDegree | FixedTotalNumber): the
            connection rule.
        mask (Circular | Annulus | Rectangular | Box | None): the region of the candidate
            partners, or None (all neurons).
        allow_autapses: allow ``i -> i`` (index equality: only meaningful when ``pre`` and
            ``post`` are the same population).
        allow_multapses: allow repeated pairs in the degree and total-number rules (the
            Bernoulli rule never repeats a pair).
        weights (float | Callable): a number (one weight for all, stored once unless
            ``per_synapse``) or a kernel of distance giving each synapse's weight (stored per
            synapse).
        delays (float | Callable | None): None, a number or a kernel of distance, in ms (e.g.
            ``Linear(intercept=0.5, slope=0.01)``: 0.5 ms plus 10 µs per length unit).
        per_synapse: store one weight per synapse even for a number.
        dtype (jax.typing.DTypeLike | None): weight dtype (default: JAX's default float).

    Returns:
        A :class:`SpatialConnection` ``(conn, distance, delay)``.

    Examples:
        >>> layer = grid((20, 20), extent=(1.0, 1.0), periodic=True)
        >>> c = connect(jax.random.key(0), layer, layer,
        ...             PairwiseBernoulli(Gaussian(sigma=0.1, amplitude=0.5)),
        ...             mask=Circular(0.3), allow_autapses=False,
        ...             delays=Linear(intercept=1.0, slope=2.0))
        >>> c.conn.n_pre, int(c.delay_steps(dt=0.1).min()) >= 10
        (400, True)

    Reference: Senk et al. (2022), PLoS Comput. Biol. 18:e1010086 (the rules);
    NEST 3 spatially-structured networks (masks, kernels, periodic layers).
    """
    pre_layer, post_layer = _layer(pre, "pre"), _layer(post, "post")
    region = _shared_region(pre_layer, post_layer)
    seed = _seed(key)
    n_pre, n_post = pre_layer.n, post_layer.n
    recurrent = pre_layer is post_layer or (
        n_pre == n_post and np.array_equal(pre_layer.positions, post_layer.positions))
    if isinstance(rule, PairwiseBernoulli):
        if rule.symmetric and (not recurrent or allow_autapses):
            raise ValueError(
                "symmetric pairs connect a population to itself: pass the same layer as `pre` "
                "and `post` and allow_autapses=False."
            )
        search = Search(pre_layer.positions, post_layer.positions, region, mask, sign=1,
                        upper_only=rule.symmetric)
        rows, cols, dists = _bernoulli(seed ^ np.uint64(_STREAMS["bernoulli"]), search, rule,
                                       allow_autapses)
        if rule.symmetric:
            rows, cols = rows + cols, cols + rows
            dists = dists + dists
    elif isinstance(rule, FixedOutDegree | FixedTotalNumber):
        search = Search(pre_layer.positions, post_layer.positions, region, mask, sign=1)
        if isinstance(rule, FixedOutDegree):
            k, stream = np.full(n_pre, rule.k, np.int64), "out"
        else:
            k = _total_counts(seed ^ np.uint64(_STREAMS["total"]), search, rule,
                              allow_autapses, allow_multapses)
            stream = "total"
        rows, cols, dists = _weighted(seed ^ np.uint64(_STREAMS[stream]), search, rule.p, k,
                                      allow_autapses, allow_multapses, "presynaptic",
                                      "postsynaptic")
    elif isinstance(rule, FixedInDegree):
        search = Search(post_layer.positions, pre_layer.positions, region, mask, sign=-1)
        k = np.full(n_post, rule.k, np.int64)
        cols, rows, dists = _weighted(seed ^ np.uint64(_STREAMS["in"]), search, rule.p, k,
                                      allow_autapses, allow_multapses, "postsynaptic",
                                      "presynaptic")
    else:
        raise TypeError(
            "`rule` must be PairwiseBernoulli, FixedInDegree, FixedOutDegree or "
            f"FixedTotalNumber, got {rule!r}."
        )
    pre_idx = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    post_idx = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    distance = np.concatenate(dists) if dists else np.zeros(0)
    if pre_idx.shape[0] > np.iinfo(np.int32).max:
        raise ValueError("connect: more than 2**31 - 1 synapses; split the projection.")
    order = np.lexsort((post_idx, pre_idx))
    pre_idx, post_idx, distance = pre_idx[order], post_idx[order], distance[order]
    indptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(np.bincount(pre_idx, minlength=n_pre), out=indptr[1:])
    layout = layout_from_pre_major(indptr, post_idx, np.zeros(0, np.int32), n_pre, n_post)
    if callable(weights):
        w = _weights(evaluate(weights, distance, "weights"), (layout.n_syn,), True, dtype)
    else:
        w = _weights(weights, (layout.n_syn,), per_synapse, dtype)
    delay = None
    if delays is not None:
        delay = evaluate(delays, distance, "delays")
        if np.any(delay < 0):
            i = int(np.argmin(delay))
            raise ValueError(f"`delays` gives {delay[i]:.6g} ms at distance {distance[i]:.6g}; "
                             "delays must be >= 0 ms.")
    distance.setflags(write=False)
    return SpatialConnection(CSR(layout=layout, weights=w), distance, delay)
