"""Decoding bit-packed spike recordings on the host."""

from __future__ import annotations

import numpy as np
from jaxtyping import Int, UInt8
from numba import njit

_ONES = np.array([bin(byte).count("1") for byte in range(256)], np.int64)


@njit(cache=True, nogil=True)
def _set_bits(packed, ones):
    """The (row, bit) of every set bit of `packed` (2-D, C order, `np.packbits` bit order):
    silent 8-byte words are skipped, so the cost follows the spikes plus one fast scan."""
    width = packed.shape[1]
    flat = packed.reshape(-1)
    n_words = flat.size // 8
    words = flat[: n_words * 8].view(np.uint64)
    count = 0
    for k in range(n_words):
        if words[k] != 0:
            for j in range(8 * k, 8 * k + 8):
                count += ones[flat[j]]
    for j in range(n_words * 8, flat.size):
        count += ones[flat[j]]
    rows = np.empty(count, np.int64)
    cols = np.empty(count, np.int64)
    i = 0
    for k in range(n_words + 1):
        lo = 8 * k
        if k < n_words:
            if words[k] == 0:
                continue
            hi = lo + 8
        else:
            hi = flat.size
        for j in range(lo, hi):
            byte = flat[j]
            if byte != 0:
                row = j // width
                col = (j - row * width) * 8
                for bit in range(8):
                    if (byte >> (7 - bit)) & 1:
                        rows[i] = row
                        cols[i] = col + bit
                        i += 1
    return rows, cols


def unpack_spike_bits(
    packed: UInt8[np.ndarray, "steps bytes"],
) -> tuple[Int[np.ndarray, " events"], Int[np.ndarray, " events"]]:
    """`(steps, neurons)` of the set bits of `packed` (`(steps, bytes)`, `np.packbits` order),
    in time then neuron order: what `np.nonzero(np.unpackbits(packed, axis=1))` gives, at
    about a quarter of its cost (12 against 53 ms for 200 steps of 320 000 neurons at 0.2 %
    spikes per step; `brainsim.run` decodes every streamed chunk with it)."""
    packed = np.ascontiguousarray(packed, np.uint8)
    if packed.ndim != 2:
        raise ValueError(f"`packed` must be 2-D (steps, bytes), got shape {packed.shape}.")
    return _set_bits(packed, _ONES)
