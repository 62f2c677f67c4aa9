"""The numba loops behind the native operators (flat arrays, explicit batch strides).

Each loop visits only the rows whose event is nonzero, so its cost is proportional to the
number of active synapses plus one pass over the event vector (and the output zero-fill).
Layout arguments: ``indptr`` (n_rows + 1), ``idx`` (target of each position), ``syn`` (weight
storage index of each position; empty means "position is the storage index").
A weight array with one entry per batch (``n_w == 1``) is a homogeneous weight.

Every loop walks the active rows with one skeleton, :func:`row_walker`, given a row action
``row(ctx, start, end, xv)`` that applies event value ``xv`` to the positions
``start <= s < end`` of one row (``ctx``: a tuple of the arrays and offsets it needs, the
output array first). Rows are found with :func:`next_active`, which skips blocks of silent
events a 64-bit word at a time, so the pass over the event vector costs a few hundredths of a
nanosecond per neuron.

Compile time (cold numba cache) decides how the pieces are compiled. The walkers and the loops
are inlined by numba (``inline="always"``) into the handler's kernel, one function per dtype
signature. The row actions and :func:`next_active` stay separate functions, compiled once
per value dtype (the walker converts the event to it) and marked ``forceinline`` (LLVM's
``alwaysinline``: no call per active row): numba re-types an inlined function at every call
site (four for the scatter walker), and each level of separately compiled functions
re-optimises all the code below it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload
from numba.np.numpy_support import as_dtype

# Events arrive as bool (uint8 bytes) or in the values' dtype. Explicit signatures: a constant
# row number at a call site does not make a specialisation of its own.
_EVENT_DTYPES = (types.uint8, types.float32, types.float64)
_WORDS = types.Array(types.uint64, 1, "C")


@njit(cache=True, nogil=True, inline="always")
def event_words(x):
    """The bytes of the events ``x`` as 64-bit words (the whole words; a tail of fewer than 8
    bytes is left out), for :func:`next_active` to skip silent events a word at a time."""
    raw = x.view(np.uint8)
    return raw[: raw.size // 8 * 8].view(np.uint64)


@njit([types.int64(types.Array(t, 1, "C"), _WORDS, types.int64, types.int64, types.int64)
       for t in _EVENT_DTYPES], cache=True, nogil=True, forceinline=True)
def next_active(x, words, xo, r, n_rows):
    """The first row ``q >= r`` with ``x[xo + q] != 0``, or ``n_rows`` if there is none.

    ``words`` is :func:`event_words` of ``x``. Silent events are skipped a 64-bit word (8 bool
    events, 2 float32) at a time, four words per test, and a word with a bit set is then read
    event by event. (A -0.0 event has a bit set; the event test then skips it.)
    """
    per = 8 // x.itemsize
    end = xo + n_rows
    last = min(end // per, words.size)  # the whole words before `end`
    q = xo + r
    while q < end:
        if q % per == 0:
            k = q // per
            while k + 4 <= last and (words[k] | words[k + 1] | words[k + 2] | words[k + 3]) == 0:
                k += 4
            while k < last and words[k] == 0:
                k += 1
            q = max(q, k * per)
            if q >= end:
                break
        stop = min((q // per + 1) * per, end)
        while q < stop:
            if x[q] != 0:
                return q - xo
            q += 1
    return n_rows


def as_value(xv, out):
    """The event value ``xv`` in the dtype of the array ``out`` (a row action's input)."""
    return out.dtype.type(xv)


@overload(as_value, inline="always")
def _as_value(xv, out):
    kind = as_dtype(out.dtype).type
    return lambda xv, out: kind(xv)


@njit(cache=True, nogil=True, inline="always")
def _row_bounds(indptr, r, n_rows):
    """``(indptr[r], indptr[r + 1])``, or an empty range when ``r`` is past the last row."""
    if r >= n_rows:
        return 0, 0
    return indptr[r], indptr[r + 1]


def row_walker(row, ahead=1):
    """``walk(ctx, indptr, x, xo, n_rows)``: ``row(ctx, start, end, xv)`` per active row ``r``.

    Rows ``r`` with ``x[xo + r] != 0`` are visited in increasing order, ``start, end`` being
    ``indptr[r], indptr[r + 1]`` and ``xv`` the event ``x[xo + r]`` in the dtype of the output
    array ``ctx[0]``. With ``ahead=4`` rows are taken four at a time and their row pointers
    read before any of them is applied: in large networks these reads miss the cache, and
    independent misses overlap (twice as fast at 320 000 neurons). ``ahead`` is a constant of
    the generated function, so numba compiles only the chosen branch.
    """
    if ahead not in (1, 4):
        raise ValueError(f"`ahead` must be 1 or 4, got {ahead!r}")

    @njit(nogil=True, inline="always")
    def walk(ctx, indptr, x, xo, n_rows):
        words = event_words(x)
        r0 = next_active(x, words, xo, 0, n_rows)
        while r0 < n_rows:
            if ahead == 1:
                row(ctx, indptr[r0], indptr[r0 + 1], as_value(x[xo + r0], ctx[0]))
                r0 = next_active(x, words, xo, r0 + 1, n_rows)
                continue
            r1 = next_active(x, words, xo, r0 + 1, n_rows)
            r2 = next_active(x, words, xo, r1 + 1, n_rows)
            r3 = next_active(x, words, xo, r2 + 1, n_rows)
            s0, e0 = _row_bounds(indptr, r0, n_rows)
            s1, e1 = _row_bounds(indptr, r1, n_rows)
            s2, e2 = _row_bounds(indptr, r2, n_rows)
            s3, e3 = _row_bounds(indptr, r3, n_rows)
            row(ctx, s0, e0, as_value(x[xo + r0], ctx[0]))
            if r1 < n_rows:
                row(ctx, s1, e1, as_value(x[xo + r1], ctx[0]))
            if r2 < n_rows:
                row(ctx, s2, e2, as_value(x[xo + r2], ctx[0]))
            if r3 < n_rows:
                row(ctx, s3, e3, as_value(x[xo + r3], ctx[0]))
            r0 = next_active(x, words, xo, r3 + 1, n_rows)

    walk.__name__ = walk.__qualname__ = f"walk_{row.__name__.strip('_')}_{ahead}"
    return walk


@njit(cache=True, nogil=True)
def _copy_batches(src, out, n_batch, size, src_batched):
    """``out[b] = src[b]`` (``src[0]`` if not batched) for each batch entry, ``size`` each."""
    for b in range(n_batch):
        so = b * size if src_batched else 0
        oo = b * size
        for t in range(size):
            out[oo + t] = src[so + t]


# ---------------------------------------------------------------- row actions


@njit(cache=True, nogil=True, forceinline=True)
def _scatter_row(ctx, start, end, xv):
    """``y[yo + idx[s]] += xv * w[wo + syn[s]]``; ``ctx = (y, idx, syn, w, yo, wo, n_w)``."""
    y, idx, syn, w, yo, wo, n_w = ctx
    if n_w == 1:
        v = w[wo] * xv
        for s in range(start, end):
            y[yo + idx[s]] += v
    elif syn.size > 0:
        for s in range(start, end):
            y[yo + idx[s]] += w[wo + syn[s]] * xv
    else:
        for s in range(start, end):
            y[yo + idx[s]] += w[wo + s] * xv


@njit(cache=True, nogil=True, forceinline=True)
def _outer_row(ctx, start, end, xv):
    """``out[oo + syn[s]] += xv * g[go + idx[s]]`` (into ``out[oo]`` if ``n_w == 1``).

    ``ctx = (out, idx, syn, g, go, oo, n_w)``.
    """
    out, idx, syn, g, go, oo, n_w = ctx
    if n_w == 1:
        acc = out[oo] * 0
        for s in range(start, end):
            acc += g[go + idx[s]]
        out[oo] += acc * xv
    elif syn.size > 0:
        for s in range(start, end):
            out[oo + syn[s]] += g[go + idx[s]] * xv
    else:
        for s in range(start, end):
            out[oo + s] += g[go + idx[s]] * xv


@njit(cache=True, nogil=True, forceinline=True)
def _update_row(ctx, start, end, xv):
    """``out[oo + k] = clip(out[oo + k] + xv * v[vo + idx[s]] * scale[so + k], lo, hi)``.

    ``k = syn[s]`` (or ``s``); ``ctx = (out, idx, syn, v, scale, vo, so, oo, lo, hi)``.
    """
    out, idx, syn, v, scale, vo, so, oo, lo, hi = ctx
    has_syn = syn.size > 0
    has_scale = scale.size > 0
    for s in range(start, end):
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


@njit(cache=True, nogil=True, inline="always")
def _slot(base, dk, n_slots):
    """``(base + dk) mod n_slots`` for ``0 <= base < n_slots``; one compare when ``dk`` is valid."""
    sl = base + dk
    if sl >= n_slots:
        sl -= n_slots
    if sl < 0 or sl >= n_slots:
        sl = sl % n_slots  # out-of-range delay: Python (floor) modulo, like the pure form
    return sl


@njit(cache=True, nogil=True, forceinline=True)
def _delayed_row(ctx, start, end, xv):
    """``out[oo + slot_k * n_post + idx[s]] += xv * w[wo + k]``, ``slot_k = (base + d_k) % L``.

    ``k = syn[s]`` (or ``s``), ``d_k = delay[k]``;
    ``ctx = (out, idx, syn, delay, w, oo, wo, base, n_slots, n_post, n_w)``.
    """
    out, idx, syn, delay, w, oo, wo, base, n_slots, n_post, n_w = ctx
    if n_w == 1:
        v = w[wo] * xv
        if syn.size > 0:
            for s in range(start, end):
                sl = _slot(base, delay[syn[s]], n_slots)
                out[oo + sl * n_post + idx[s]] += v
        else:
            for s in range(start, end):
                sl = _slot(base, delay[s], n_slots)
                out[oo + sl * n_post + idx[s]] += v
    elif syn.size > 0:
        for s in range(start, end):
            k = syn[s]
            sl = _slot(base, delay[k], n_slots)
            out[oo + sl * n_post + idx[s]] += w[wo + k] * xv
    else:
        for s in range(start, end):
            sl = _slot(base, delay[s], n_slots)
            out[oo + sl * n_post + idx[s]] += w[wo + s] * xv


@njit(cache=True, nogil=True, forceinline=True)
def _delayed_outer_row(ctx, start, end, xv):
    """``out[oo + k] += xv * g[go + slot_k * n_post + idx[s]]`` (into ``out[oo]`` if n_w == 1).

    ``ctx = (out, idx, syn, delay, g, go, oo, base, n_slots, n_post, n_w)``.
    """
    out, idx, syn, delay, g, go, oo, base, n_slots, n_post, n_w = ctx
    has_syn = syn.size > 0
    homog = delay.size == 1
    acc = out[oo] * 0
    for s in range(start, end):
        k = syn[s] if has_syn else s
        dk = delay[0] if homog else delay[k]
        val = g[go + _slot(base, dk, n_slots) * n_post + idx[s]]
        if n_w == 1:
            acc += val
        else:
            out[oo + k] += val * xv
    if n_w == 1:
        out[oo] += acc * xv


_walk_scatter = row_walker(_scatter_row, ahead=4)
_walk_scatter_slot = row_walker(_scatter_row)
_walk_outer = row_walker(_outer_row)
_walk_update = row_walker(_update_row)
_walk_delayed = row_walker(_delayed_row)
_walk_delayed_outer = row_walker(_delayed_outer_row)


# ---------------------------------------------------------------- the loops of the handlers


@njit(cache=True, nogil=True, inline="always")
def scatter_rows(indptr, idx, syn, w, x, y, n_batch, n_rows, n_out, n_w, w_batched, x_batched,
                 clear=True):
    """``y[b, idx[s]] += x[b, r] * w[b, syn[s]]`` for every ``s`` in each active row ``r``,
    onto zeros (``clear``) or onto what ``y`` holds.

    Rows are read four ahead (see :func:`row_walker`).
    """
    if clear:
        for t in range(n_batch * n_out):
            y[t] = 0
    for b in range(n_batch):
        ctx = (y, idx, syn, w, b * n_out, b * n_w if w_batched else 0, n_w)
        _walk_scatter(ctx, indptr, x, b * n_rows if x_batched else 0, n_rows)


@njit(cache=True, nogil=True, inline="always")
def outer_rows(indptr, idx, syn, x, g, out, n_batch, n_rows, n_cols, n_w, x_batched, g_batched):
    """``out[b, syn[s]] += x[b, r] * g[b, idx[s]]`` for ``s`` in active rows (sum if n_w == 1)."""
    for t in range(n_batch * n_w):
        out[t] = 0
    for b in range(n_batch):
        ctx = (out, idx, syn, g, b * n_cols if g_batched else 0, b * n_w, n_w)
        _walk_outer(ctx, indptr, x, b * n_rows if x_batched else 0, n_rows)


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
        _copy_batches(w, out, n_batch, n_w, w_b)
    for b in range(n_batch):
        bo = 2 * b if bnd_b else 0
        ctx = (out, idx, syn, v, scale, b * n_cols if v_b else 0, b * n_w if s_b else 0,
               b * n_w, bounds[bo], bounds[bo + 1])
        _walk_update(ctx, indptr, x, b * n_rows if x_b else 0, n_rows)


@njit(cache=True, nogil=True, inline="always")
def delayed_rows(
    indptr, idx, syn, delay, w, x, ring, step, out, copy_in,
    n_batch, n_rows, n_slots, n_post, n_w, w_b, x_b, r_b, s_b,
):  # fmt: skip
    """``out[b, (step_b + d_k) % L, idx[s]] += x[b, r] * w[b, k]`` on active rows ``r``.

    ``out`` starts as ``ring`` (copied unless it aliases ``ring``); ``k = syn[s]`` (or ``s``),
    ``d_k = delay[k]`` (``delay[0]`` if homogeneous: a plain scatter into one slot). Flat
    arrays, ``L * n_post`` per batch.
    """
    lc = n_slots * n_post
    if copy_in:
        _copy_batches(ring, out, n_batch, lc, r_b)
    for b in range(n_batch):
        xo = b * n_rows if x_b else 0
        wo = b * n_w if w_b else 0
        oo = b * lc
        base = step[b if s_b else 0] % n_slots
        if delay.size == 1:
            yo = oo + _slot(base, delay[0], n_slots) * n_post
            _walk_scatter_slot((out, idx, syn, w, yo, wo, n_w), indptr, x, xo, n_rows)
        else:
            ctx = (out, idx, syn, delay, w, oo, wo, base, n_slots, n_post, n_w)
            _walk_delayed(ctx, indptr, x, xo, n_rows)


@njit(cache=True, nogil=True, inline="always")
def delayed_outer_rows(
    indptr, idx, syn, delay, x, g, step, out,
    n_batch, n_rows, n_slots, n_post, n_w, x_b, g_b, s_b,
):  # fmt: skip
    """``out[b, k] += x[b, r] * g[b, (step_b + d_k) % L, idx[s]]`` on active rows.

    Summed into ``out[b, 0]`` if ``n_w == 1`` (homogeneous weight).
    """
    for t in range(n_batch * n_w):
        out[t] = 0
    lc = n_slots * n_post
    for b in range(n_batch):
        base = step[b if s_b else 0] % n_slots
        ctx = (out, idx, syn, delay, g, b * lc if g_b else 0, b * n_w, base, n_slots, n_post,
               n_w)
        _walk_delayed_outer(ctx, indptr, x, b * n_rows if x_b else 0, n_rows)


@njit(cache=True, nogil=True, inline="always")
def ring_pop_loop(ring, out, cur, copy_in, slot, n_post):
    """``cur = ring[slot]``; ``out = ring`` with row ``slot`` zeroed (flat ``(L * n_post,)``)."""
    if copy_in:
        for t in range(ring.size):
            out[t] = ring[t]
    o = slot * n_post
    for j in range(n_post):
        cur[j] = out[o + j]
        out[o + j] = 0


@njit(cache=True, nogil=True, inline="always")
def copy_values(x, y, n):
    """``y[:n] = x[:n]``."""
    for i in range(n):
        y[i] = x[i]


@njit(cache=True, nogil=True, inline="always")
def scale_onto(y0, scale, y, n_batch, n, y0_batched, scale_batched, per_column, in_place):
    """``y[b, j] = scale[b, j] * y0[b, j]`` (batch and column of ``scale``/``y0`` broadcast).

    ``in_place``: ``y0`` is ``y``'s buffer with the same batch; the loops then read ``y`` itself,
    which the compiler vectorizes (it cannot rule out a partial overlap of two arrays).
    """
    for b in range(n_batch):
        o0 = b * n if y0_batched else 0
        os_ = (b if scale_batched else 0) * (n if per_column else 1)
        oy = b * n
        if in_place:
            if per_column:
                for j in range(n):
                    y[oy + j] *= scale[os_ + j]
            else:
                s = scale[os_]
                for j in range(n):
                    y[oy + j] *= s
        elif per_column:
            for j in range(n):
                y[oy + j] = scale[os_ + j] * y0[o0 + j]
        else:
            s = scale[os_]
            for j in range(n):
                y[oy + j] = s * y0[o0 + j]
