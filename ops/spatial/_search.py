"""Candidate search: for each row neuron, the column neurons inside the mask, with distances.

The column neurons are sorted into a grid of cells about a quarter of the mask's width; a row
neuron visits only the cells that overlap the mask's bounding box around it (wrapping around on
a periodic layer) and tests each member exactly. Rows are processed in blocks whose candidates
fit a fixed buffer, so memory stays bounded whatever the number of pairs, and no dense
``n_pre x n_post`` array is ever made. Within a row, candidates come cell by cell (ascending
within a cell, all columns in order without a mask); the random draws that follow are tied to
the column, not to this order.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numba import njit

from ._masks import SHELL, mask_arrays

_BUFFER = 1 << 22


@njit(cache=True, inline="always")
def _distance(a, b, extent, periodic):
    d2 = 0.0
    for k in range(3):
        x = b[k] - a[k]
        if periodic:
            x -= extent[k] * np.round(x / extent[k])
        d2 += x * x
    return np.sqrt(d2)


@njit(cache=True)
def _gather(r0, rows, cols, lower, extent, periodic, n_cells, cell_size, cell_ptr, members,
            kind, m_lo, m_hi, r_in2, r_out2, sign, upper_only, counts, out_cols, out_dist):
    """Fill candidates of rows ``r0, r0 + 1, ...`` while a whole row still fits the buffer.

    Returns ``(r1, total)``: rows ``r0 .. r1 - 1`` are done, ``counts[r]`` holds each one's
    number of candidates, ``out_cols[:total]``/``out_dist[:total]`` their columns and distances.
    """
    n_rows, n_cols = rows.shape[0], cols.shape[0]
    cap = out_cols.shape[0]
    total = 0
    r = r0
    c0 = np.zeros(3, np.int64)
    span = np.ones(3, np.int64)
    while r < n_rows and total + n_cols <= cap:
        start = total
        if kind < 0:
            for j in range(r + 1 if upper_only else 0, n_cols):
                out_cols[total] = j
                out_dist[total] = _distance(rows[r], cols[j], extent, periodic)
                total += 1
        else:
            empty = False
            for a in range(3):
                # widened by 1e-9 of the extent: a partner exactly on the mask's edge is never
                # lost to rounding in its cell index (the exact test below decides)
                slack = 1e-9 * extent[a]
                lo = rows[r, a] + min(sign * m_lo[a], sign * m_hi[a]) - lower[a] - slack
                hi = rows[r, a] + max(sign * m_lo[a], sign * m_hi[a]) - lower[a] + slack
                first = np.int64(np.floor(lo / cell_size[a]))
                last = np.int64(np.floor(hi / cell_size[a]))
                if periodic:
                    if last - first + 1 >= n_cells[a]:
                        first, last = 0, n_cells[a] - 1
                else:
                    first, last = max(first, 0), min(last, n_cells[a] - 1)
                if first > last:
                    empty = True
                c0[a] = first
                span[a] = last - first + 1
            if not empty:
                for i0 in range(span[0]):
                    for i1 in range(span[1]):
                        for i2 in range(span[2]):
                            a0 = (c0[0] + i0) % n_cells[0]
                            a1 = (c0[1] + i1) % n_cells[1]
                            a2 = (c0[2] + i2) % n_cells[2]
                            cell = (a0 * n_cells[1] + a1) * n_cells[2] + a2
                            for m in range(cell_ptr[cell], cell_ptr[cell + 1]):
                                j = members[m]
                                if upper_only and j <= r:
                                    continue
                                d2 = 0.0
                                inside = True
                                for a in range(3):
                                    x = cols[j, a] - rows[r, a]
                                    if periodic:
                                        x -= extent[a] * np.round(x / extent[a])
                                    x *= sign
                                    if x < m_lo[a] or x > m_hi[a]:
                                        inside = False
                                    d2 += x * x
                                if not inside:
                                    continue
                                if kind == SHELL and (d2 < r_in2 or d2 > r_out2):
                                    continue
                                out_cols[total] = j
                                out_dist[total] = np.sqrt(d2)
                                total += 1
        counts[r] = total - start
        r += 1
    return r, total


def _pad(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.pad(x, ((0, 0), (0, 3 - x.shape[1]))))


class Search:
    """Candidate pairs between ``rows`` and ``cols`` positions of one region, in row blocks.

    ``sign = +1`` when rows are presynaptic (the mask tests ``col - row``), ``-1`` when rows
    are postsynaptic (it tests ``row - col``): the mask always sees ``post - pre``.
    """

    def __init__(self, rows, cols, layer, mask, *, sign: int, upper_only: bool = False,
                 buffer: int = _BUFFER):
        dim = layer.dim
        self.rows, self.cols = _pad(rows), _pad(cols)
        self.lower = np.concatenate([layer.lower, np.zeros(3 - dim)])
        self.extent = np.concatenate([layer.extent, np.ones(3 - dim)])
        self.periodic = layer.periodic
        self.kind, self.m_lo, self.m_hi, inner, outer = mask_arrays(mask, dim)
        self.r_in2, self.r_out2 = inner * inner, outer * outer
        self.sign, self.upper_only = sign, upper_only
        n_cols = self.cols.shape[0]
        if self.kind < 0:
            n_cells = np.ones(3, np.int64)
        else:
            per_axis = int(np.ceil((2 * max(n_cols, 1)) ** (1 / dim)))
            width = np.maximum(self.m_hi - self.m_lo, 1e-300)
            n_cells = np.clip(np.floor(4 * self.extent / width), 1, per_axis).astype(np.int64)
            n_cells[dim:] = 1
        self.n_cells = n_cells
        self.cell_size = self.extent / n_cells
        index = np.clip(np.floor((self.cols - self.lower) / self.cell_size), 0, n_cells - 1)
        cell = ((index[:, 0] * n_cells[1] + index[:, 1]) * n_cells[2] + index[:, 2])
        self.members = np.argsort(cell.astype(np.int64), kind="stable").astype(np.int64)
        self.cell_ptr = np.zeros(int(n_cells.prod()) + 1, np.int64)
        np.cumsum(np.bincount(cell.astype(np.int64), minlength=int(n_cells.prod())),
                  out=self.cell_ptr[1:])
        self.capacity = max(buffer, n_cols)

    def blocks(self) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(r0, r1, counts, cols, distances)`` for consecutive blocks of rows."""
        n_rows = self.rows.shape[0]
        counts = np.zeros(n_rows, np.int64)
        out_cols = np.empty(self.capacity, np.int64)
        out_dist = np.empty(self.capacity, np.float64)
        r = 0
        while r < n_rows:
            r1, total = _gather(
                r, self.rows, self.cols, self.lower, self.extent, self.periodic, self.n_cells,
                self.cell_size, self.cell_ptr, self.members, self.kind, self.m_lo, self.m_hi,
                self.r_in2, self.r_out2, self.sign, self.upper_only, counts, out_cols,
                out_dist)  # fmt: skip
            yield r, r1, counts[r:r1], out_cols[:total], out_dist[:total]
            r = r1
