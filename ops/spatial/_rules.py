"""Connection rules of the connectivity-concepts reference (Senk et al. 2022), spatially.

Each rule names what is fixed: nothing but the pair probability (:class:`PairwiseBernoulli`),
the in-degree, the out-degree or the total number of synapses. ``p`` is a number or a distance
kernel: the probability of each pair for the Bernoulli rule, and the relative weight with which
a partner inside the mask is drawn for the others (as NEST's ``p`` for ``fixed_indegree``).
The draws of a row use that row's own splitmix64 stream, so the result depends only on the key.
A per-pair draw (Bernoulli; the sampling keys of distinct partners) is the stream's value at the
partner's column index, ``u(r, j)`` — splitmix64 is a counter-based generator, so it is read
directly — which makes the result independent of the order in which candidates are found, and
a masked connection exactly the unmasked one with the pairs outside the mask removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .._builders import _GOLDEN, _next, _row_state, _uniform
from ._kernels import Kernel, _finite


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative int, got {value!r}.")
    return int(value)


def _kernel(p, name: str = "p"):
    if callable(p):
        return p
    x = _finite(p, name)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"`{name}` must be a probability in [0, 1] or a kernel, got {p!r}.")
    return x


@dataclass(frozen=True)
class PairwiseBernoulli:
    """Each pair inside the mask connected independently with probability ``p(d)``.

    Args:
        p: probability, a number in [0, 1] or a kernel of distance (values must lie in
            [0, 1]; a value above 1 raises, naming the distance).
        symmetric: connect ``i -> j`` and ``j -> i`` together (one draw per unordered pair;
            same population only, no autapses); NEST's ``make_symmetric``.

    Examples:
        >>> PairwiseBernoulli(Gaussian(sigma=0.1, amplitude=0.5))
        PairwiseBernoulli(p=Gaussian(sigma=0.1, amplitude=0.5, mean=0.0), symmetric=False)
    """

    p: Kernel = 1.0
    symmetric: bool = False

    def __post_init__(self):
        object.__setattr__(self, "p", _kernel(self.p))
        object.__setattr__(self, "symmetric", bool(self.symmetric))


@dataclass(frozen=True)
class FixedInDegree:
    """Every postsynaptic neuron gets exactly ``k`` synapses from presynaptic ones in its mask,
    each drawn with probability proportional to ``p(d)``.

    Args:
        k: in-degree.
        p: relative weight of a partner at distance ``d`` (a number or a kernel, >= 0).

    Examples:
        >>> FixedInDegree(50, p=Exponential(scale=0.2)).k
        50
    """

    k: int
    p: Kernel = 1.0

    def __post_init__(self):
        object.__setattr__(self, "k", _count(self.k, "k"))


@dataclass(frozen=True)
class FixedOutDegree:
    """Every presynaptic neuron makes exactly ``k`` synapses onto postsynaptic ones in its mask,
    each drawn with probability proportional to ``p(d)``.

    Args:
        k: out-degree.
        p: relative weight of a partner at distance ``d`` (a number or a kernel, >= 0).

    Examples:
        >>> FixedOutDegree(20).k
        20
    """

    k: int
    p: Kernel = 1.0

    def __post_init__(self):
        object.__setattr__(self, "k", _count(self.k, "k"))


@dataclass(frozen=True)
class FixedTotalNumber:
    """Exactly ``n`` synapses among the pairs inside the mask, each pair drawn with probability
    proportional to ``p(d)``.

    With multapses the ``n`` synapses are independent draws; without, ``n`` distinct pairs
    drawn uniformly (only with a constant ``p``).

    Args:
        n: total number of synapses.
        p: relative weight of a pair at distance ``d`` (a number or a kernel, >= 0).

    Examples:
        >>> FixedTotalNumber(1000).n
        1000
    """

    n: int
    p: Kernel = 1.0

    def __post_init__(self):
        object.__setattr__(self, "n", _count(self.n, "n"))


Rule = PairwiseBernoulli | FixedInDegree | FixedOutDegree | FixedTotalNumber


@njit(cache=True, inline="always")
def _uniform_at(row_state, j):
    """Draw ``j`` (0-based) of the stream that starts at ``row_state``: uniform in (0, 1]."""
    _, z = _next(row_state + np.uint64(j) * _GOLDEN)
    return (np.float64(z >> np.uint64(11)) + 1.0) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def bernoulli_keep(seed, r0, counts, cols, p, allow_autapses, keep):
    """Keep candidate ``(r, j)`` if ``u(r, j) <= p``."""
    s = 0
    for i in range(counts.shape[0]):
        r = r0 + i
        state = _row_state(seed, r)
        for _ in range(counts[i]):
            keep[s] = _uniform_at(state, cols[s]) <= p[s] and (allow_autapses or cols[s] != r)
            s += 1


@njit(cache=True)
def weighted_draws(seed, r0, counts, cols, w, k, allow_autapses, allow_multapses, out):
    """``k[r]`` candidates of each row, drawn with probability proportional to ``w``.

    With multapses, independent draws (inverse of the cumulative weights over the candidates
    in column order); without, the weighted sampling without replacement of Efraimidis &
    Spirakis (2006): the ``k`` largest ``log(u(r, j)) / w``. Writes candidate indices to
    ``out``; returns the first row with too few partners (``-1`` if none).
    """
    s = 0
    o = 0
    for i in range(counts.shape[0]):
        r = r0 + i
        n = counts[i]
        state = _row_state(seed, r)
        weight = w[s:s + n].copy()
        if not allow_autapses:
            for m in range(n):
                if cols[s + m] == r:
                    weight[m] = 0.0
        want = k[r]
        if want > 0:
            if allow_multapses:
                order = np.argsort(cols[s:s + n], kind="mergesort")
                cum = np.cumsum(weight[order])
                if n == 0 or cum[n - 1] <= 0.0:
                    return r
                for _ in range(want):
                    state, u = _uniform(state)
                    m = np.searchsorted(cum, (1.0 - u) * cum[n - 1], side="right")
                    out[o] = s + order[min(m, n - 1)]
                    o += 1
            else:
                key = np.full(n, -np.inf)
                positive = 0
                for m in range(n):
                    if weight[m] > 0.0:
                        key[m] = np.log(_uniform_at(state, cols[s + m])) / weight[m]
                        positive += 1
                if positive < want:
                    return r
                chosen = np.sort(np.argsort(-key, kind="mergesort")[:want])
                for m in chosen:
                    out[o] = s + m
                    o += 1
        s += n
    return -1
