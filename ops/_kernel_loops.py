"""The numba loops behind the native operators (flat arrays, explicit batch strides).

Each loop visits only the rows whose event is nonzero, so its cost is proportional to the
number of active synapses plus one pass over the event vector (and the output zero-fill).
Layout arguments: ``indptr`` (n_rows + 1), ``idx`` (target of each position), ``syn`` (weight
storage index of each position; empty means "position is the storage index").
A weight array with one entry per batch (``n_w == 1``) is a homogeneous weight.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, inline="always")
def scatter_rows(indptr, idx, syn, w, x, y, n_batch, n_rows, n_out, n_w, w_batched, x_batched):
    """``y[b, idx[s]] += x[b, r] * w[b, syn[s]]`` for every ``s`` in each active row ``r``."""
    for t in range(n_batch * n_out):
        y[t] = 0
    has_syn = syn.size > 0
    for b in range(n_batch):
        xo = b * n_rows if x_batched else 0
        wo = b * n_w if w_batched else 0
        yo = b * n_out
        for r in range(n_rows):
            xv = x[xo + r]
            if xv != 0:
                start = indptr[r]
                end = indptr[r + 1]
                if n_w == 1:
                    v = w[wo] * xv
                    for s in range(start, end):
                        y[yo + idx[s]] += v
                elif has_syn:
                    for s in range(start, end):
                        y[yo + idx[s]] += w[wo + syn[s]] * xv
                else:
                    for s in range(start, end):
                        y[yo + idx[s]] += w[wo + s] * xv


@njit(cache=True, nogil=True, inline="always")
def outer_rows(indptr, idx, syn, x, g, out, n_batch, n_rows, n_cols, n_w, x_batched, g_batched):
    """``out[b, syn[s]] += x[b, r] * g[b, idx[s]]`` for ``s`` in active rows (sum if n_w == 1)."""
    for t in range(n_batch * n_w):
        out[t] = 0
    has_syn = syn.size > 0
    for b in range(n_batch):
        xo = b * n_rows if x_batched else 0
        go = b * n_cols if g_batched else 0
        oo = b * n_w
        for r in range(n_rows):
            xv = x[xo + r]
            if xv != 0:
                start = indptr[r]
                end = indptr[r + 1]
                if n_w == 1:
                    acc = out[oo] * 0
                    for s in range(start, end):
                        acc += g[go + idx[s]]
                    out[oo] += acc * xv
                elif has_syn:
                    for s in range(start, end):
                        out[oo + syn[s]] += g[go + idx[s]] * xv
                else:
                    for s in range(start, end):
                        out[oo + s] += g[go + idx[s]] * xv


@njit(cache=True, nogil=True, inline="always")
def update_rows(
    indptr, idx, syn, w, x, v, scale, bounds, out, copy_in,
    n_batch, n_rows, n_cols, n_w, w_b, x_b, v_b, s_b, bnd_b,
):  # fmt: skip
    """``out[b, k] = clip(w[b, k] + x[b, r] * v[b, idx[s]] * scale[b, k])`` on active rows.

    ``k = syn[s]``; synapses of inactive rows keep ``w``. ``copy_in`` is False when ``out``
    aliases ``w`` (XLA donated the buffer), so only active synapses are touched.
    """
    if copy_in:
        for b in range(n_batch):
            wo = b * n_w if w_b else 0
            oo = b * n_w
            for k in range(n_w):
                out[oo + k] = w[wo + k]
    has_syn = syn.size > 0
    has_scale = scale.size > 0
    for b in range(n_batch):
        xo = b * n_rows if x_b else 0
        vo = b * n_cols if v_b else 0
        so = b * n_w if s_b else 0
        bo = 2 * b if bnd_b else 0
        oo = b * n_w
        lo = bounds[bo]
        hi = bounds[bo + 1]
        for r in range(n_rows):
            xv = x[xo + r]
            if xv != 0:
                for s in range(indptr[r], indptr[r + 1]):
                    k = syn[s] if has_syn else s
                    d = v[vo + idx[s]] * xv
                    if has_scale:
                        d = d * scale[so + k]
                    nw = out[oo + k] + d
                    if nw < lo:
                        nw = lo
                    if nw > hi:
                        nw = hi
                    out[oo + k] = nw
