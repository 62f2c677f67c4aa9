"""Pure-JAX implementations of the three operator kernels (any backend; the test oracle).

Value operands carry a leading batch axis of size 1 (shared) or B. They visit every synapse
(gather + segment_sum / scatter), so their cost is proportional to the number of synapses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rows_of_positions(indptr, n_syn: int):
    """Row of each position of a row view (``indptr`` int32): an O(n_syn) cumulative sum."""
    if n_syn == 0:
        return jnp.zeros(0, jnp.int32)
    marks = jnp.zeros(n_syn, jnp.int32).at[indptr[1:-1]].add(1, mode="drop")
    return jnp.cumsum(marks)


def _map_batch(fn, *operands):
    """Apply ``fn`` per batch entry; operands with leading size 1 are shared."""
    sizes = [a.shape[0] for a in operands]
    if max(sizes) == 1:
        return fn(*(a[0] for a in operands))[None]
    axes = tuple(0 if s > 1 else None for s in sizes)
    args = tuple(a if s > 1 else a[0] for a, s in zip(operands, sizes, strict=True))
    return jax.vmap(fn, in_axes=axes)(*args)


def scatter(indptr, idx, syn, w, x, *, n_out: int):
    """``y[b, idx[s]] += x[b, row(s)] * w[b, syn[s]]`` -> ``(B, n_out)``."""
    n_syn = idx.shape[0]
    rows = rows_of_positions(indptr, n_syn)

    def one(wb, xb):
        xs = xb.astype(wb.dtype)[rows]
        if wb.shape[0] == 1:
            contrib = xs * wb[0]
        else:
            contrib = xs * (wb if syn.shape[0] == 0 else wb[syn])
        return jax.ops.segment_sum(contrib, idx, num_segments=n_out)

    return _map_batch(one, w, x)


def outer(indptr, idx, syn, x, g, *, n_w: int):
    """``out[b, syn[s]] += x[b, row(s)] * g[b, idx[s]]`` -> ``(B, n_w)`` (summed if n_w == 1)."""
    n_syn = idx.shape[0]
    rows = rows_of_positions(indptr, n_syn)

    def one(xb, gb):
        vals = xb.astype(gb.dtype)[rows] * gb[idx]
        if n_w == 1:
            return jnp.sum(vals, keepdims=True)
        if syn.shape[0] == 0:
            return vals
        return jnp.zeros(n_w, gb.dtype).at[syn].add(vals)

    return _map_batch(one, x, g)


def update(indptr, idx, syn, w, x, v, scale, bounds):
    """``w[k] <- clip(w[k] + x[row] * v[idx] * scale[k], lo, hi)`` where ``x[row] != 0``."""
    n_syn = idx.shape[0]
    rows = rows_of_positions(indptr, n_syn)
    has_scale = scale.shape[-1] > 0

    def one(wb, xb, vb, sb, bb):
        xs = xb[rows]
        wk = wb if syn.shape[0] == 0 else wb[syn]
        d = xs.astype(wb.dtype) * vb[idx]
        if has_scale:
            d = d * (sb if syn.shape[0] == 0 else sb[syn])
        new = jnp.where(xs != 0, jnp.clip(wk + d, bb[0], bb[1]), wk)
        return new if syn.shape[0] == 0 else wb.at[syn].set(new)

    return _map_batch(one, w, x, v, scale, bounds)


# ---------------------------------------------------------------- delayed delivery (ring buffer)


def _slots(delay, step, n_slots: int):
    """``(step mod L + delay mod L) mod L`` per synapse (int32; no overflow for any int32)."""
    return jnp.remainder(jnp.remainder(step, n_slots) + jnp.remainder(delay, n_slots), n_slots)


def _delay_of(delay, syn, n_syn: int):
    """Delay of each position from the per-storage delays (size 1 = homogeneous)."""
    if delay.shape[0] == 1:
        return jnp.broadcast_to(delay, (n_syn,))
    return delay if syn.shape[0] == 0 else delay[syn]


def delayed_scatter(indptr, idx, syn, delay, w, x, ring, step):
    """``ring[b, (step_b + d_k) % L, idx[s]] += x[b, row(s)] * w[b, k]``, ``k = syn[s]``.

    ``ring`` is ``(B, L, n_post)``, ``step`` ``(B, 1)`` int32 (leading 1 = shared).
    """
    n_syn = idx.shape[0]
    rows = rows_of_positions(indptr, n_syn)
    d = _delay_of(delay, syn, n_syn)
    n_slots, n_post = ring.shape[1], ring.shape[2]

    def one(wb, xb, rb, sb):
        xs = xb.astype(wb.dtype)[rows]
        if wb.shape[0] == 1:
            contrib = xs * wb[0]
        else:
            contrib = xs * (wb if syn.shape[0] == 0 else wb[syn])
        flat = _slots(d, sb[0], n_slots) * n_post + idx
        return rb.reshape(-1).at[flat].add(contrib.astype(rb.dtype)).reshape(n_slots, n_post)

    return _map_batch(one, w, x, ring, step)


def delayed_outer(indptr, idx, syn, delay, x, g, step, *, n_w: int):
    """``out[b, k] += x[b, row(s)] * g[b, (step_b + d_k) % L, idx[s]]`` -> ``(B, n_w)``."""
    n_syn = idx.shape[0]
    rows = rows_of_positions(indptr, n_syn)
    d = _delay_of(delay, syn, n_syn)
    n_slots, n_post = g.shape[1], g.shape[2]

    def one(xb, gb, sb):
        flat = _slots(d, sb[0], n_slots) * n_post + idx
        vals = xb.astype(gb.dtype)[rows] * gb.reshape(-1)[flat]
        if n_w == 1:
            return jnp.sum(vals, keepdims=True)
        if syn.shape[0] == 0:
            return vals
        return jnp.zeros(n_w, gb.dtype).at[syn].add(vals)

    return _map_batch(one, x, g, step)


def delayed_gather(indptr, idx, syn, delay, w, g, step, *, n_rows: int):
    """``out[b, r] = sum_{s in row r} w[b, k] * g[b, (step_b + d_k) % L, idx[s]]``."""
    n_syn = idx.shape[0]
    rows = rows_of_positions(indptr, n_syn)
    d = _delay_of(delay, syn, n_syn)
    n_slots, n_post = g.shape[1], g.shape[2]

    def one(wb, gb, sb):
        flat = _slots(d, sb[0], n_slots) * n_post + idx
        vals = gb.reshape(-1)[flat]
        if wb.shape[0] == 1:
            vals = vals * wb[0]
        else:
            vals = vals * (wb if syn.shape[0] == 0 else wb[syn])
        return jax.ops.segment_sum(vals, rows, num_segments=n_rows)

    return _map_batch(one, w, g, step)
