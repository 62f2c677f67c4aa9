"""The branching factor of a spiking network (Ivanov & Michmizos 2021): spikes caused per
spike received, counted along the synapses in short windows before and after each spike."""

from __future__ import annotations

import numpy as np

import brainsim_ops as bo


def _edges(conn, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (pre, post) pairs of the synapses of `conn` (CSR, ELL, Dense or a matrix)."""
    if isinstance(conn, bo.CSR | bo.ELL):
        layout = conn.layout
        indptr = np.asarray(layout.pre_indptr)
        pre = np.repeat(np.arange(conn.n_pre), np.diff(indptr))
        post = np.asarray(layout.pre_post)
        shape = (conn.n_pre, conn.n_post)
    else:
        if isinstance(conn, bo.Dense):
            matrix = np.asarray(conn.weights if conn.mask is None else conn.mask)
        else:
            try:
                matrix = np.asarray(conn)
            except Exception as error:
                raise TypeError("`conn` must be a brainsim_ops CSR, ELL or Dense, or an "
                                "(n, n) adjacency matrix.") from error
            if matrix.ndim != 2 or matrix.dtype == object:
                raise TypeError("`conn` must be a brainsim_ops CSR, ELL or Dense, or an "
                                f"(n, n) adjacency matrix, got {type(conn).__name__} of shape "
                                f"{matrix.shape}.")
        pre, post = np.nonzero(matrix)
        shape = matrix.shape
    if shape != (n, n):
        raise ValueError(f"`conn` connects {shape[0]} -> {shape[1]} neurons, but `spikes` has "
                         f"{n} neurons: give the synapses among the recorded neurons (n, n).")
    flat = np.unique(pre.astype(np.int64) * n + post)
    return flat // n, flat % n


def _window_sums(spikes: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts of each neuron in `[k - width, k - 1]` and in `[k + 1, k + width]`."""
    steps = spikes.shape[0]
    c = np.zeros((steps + 1, spikes.shape[1]), np.int64)
    np.cumsum(spikes, axis=0, out=c[1:])
    k = np.arange(steps)
    before = c[k] - c[np.maximum(k - width, 0)]
    after = c[np.minimum(k + 1 + width, steps)] - c[np.minimum(k + 1, steps)]
    return before, after


def _gather_sum(values: np.ndarray, src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """`out[:, d] = sum over edges (s, d) of values[:, s]` (exact integer sums)."""
    order = np.argsort(dst, kind="stable")
    cs = np.zeros((values.shape[0], src.shape[0] + 1), np.int64)
    np.cumsum(values[:, src[order]], axis=1, out=cs[:, 1:])
    bounds = np.searchsorted(dst[order], np.arange(n + 1))
    return cs[:, bounds[1:]] - cs[:, bounds[:-1]]


def _one_sample(spikes: np.ndarray, pre, post, width, first, last) -> float:
    n = spikes.shape[1]
    before, after = _window_sums(spikes, width)
    received = _gather_sum(before, pre, post, n)   # presynaptic spikes before each neuron's
    caused = _gather_sum(after, post, pre, n)      # postsynaptic spikes after
    s = spikes[first:last].astype(bool)
    ratio = caused[first:last] / np.maximum(received[first:last], 1)
    count = s.sum(0)
    active = count > 0
    if not np.any(active):
        return float("nan")
    per_neuron = np.where(s, ratio, 0.0).sum(0)[active] / count[active]
    return float(per_neuron.mean())


def branching_factor(spikes, conn, *, window: float = 4.0, t_start: float = 25.0,
                     t_stop: float = 225.0, dt: float = 1.0) -> float:
    """Branching factor of a raster: spikes that follow a spike per spike that preceded it.

    For each spike of neuron `n` at time `t` with `t_start <= t < t_stop`,

        pre  = spikes of n's presynaptic neurons in [t - window, t - dt]
        post = spikes of n's postsynaptic neurons in [t + dt, t + window]
        bf   = post / max(pre, 1)

    `bf` is averaged over the spikes of each neuron, then over the neurons that spiked in the
    range (silent ones skipped), then over the samples. About 1 at the edge of chaos: a spike
    passes on as many spikes as reached it; below 1 activity dies out, above 1 it grows.
    Windows are cut at the ends of the raster (keep `t_start >= window` and
    `t_stop <= duration - window` for whole windows). Synapses are the distinct (pre, post)
    pairs of `conn`; their weights are not used.

    Args:
        spikes (Array): bool or 0/1 raster, shape `(T, n)` (one row per step of `dt` ms, row `k` at
            `k dt` ms) or `(B, T, n)` for `B` samples.
        conn (CSR | ELL | Dense | Array): the synapses among these `n` neurons: a `brainsim_ops`
            CSR, ELL or Dense (`n_pre = n_post = n`), or an `(n, n)` matrix whose nonzero entries
            `[i, j]` are synapses `i -> j`.
        window: window length (ms, a positive multiple of `dt`).
        t_start: start of the range of the spikes counted (ms).
        t_stop: end of the range of the spikes counted (ms).
        dt: raster time step (ms, > 0).

    Returns:
        The branching factor (dimensionless); nan if a sample has no spike in the range.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import branching_factor
        >>> raster = np.zeros((10, 3), bool)
        >>> raster[[2, 5, 6], [0, 1, 2]] = True     # 0 at 2 ms, then 1 and 2 after it
        >>> chain = np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]])   # 0 -> 1, 0 -> 2
        >>> branching_factor(raster, chain, t_start=0, t_stop=10)  # (2 + 0 + 0) / 3
        0.666...

    Reference: Ivanov & Michmizos (2021), NeurIPS 34 (arXiv:2111.01760), section 4; Haldeman &
    Beggs (2005), Phys. Rev. Lett. 94:058101 (branching ratio).
    """
    raster = np.asarray(spikes)
    if raster.ndim not in (2, 3):
        raise ValueError(f"`spikes` must be a (T, n) or (B, T, n) raster, got shape "
                         f"{raster.shape}.")
    if not (raster.dtype == bool or np.issubdtype(raster.dtype, np.number)):
        raise TypeError(f"`spikes` must be bool or 0/1 numbers, got dtype {raster.dtype}.")
    if raster.dtype != bool and not np.all((raster == 0) | (raster == 1)):
        raise ValueError("`spikes` must hold only 0 and 1 (one spike per neuron and step).")
    batch = raster if raster.ndim == 3 else raster[None]
    for name, value in (("dt", dt), ("window", window)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"`{name}` must be a finite time > 0 in ms, got {value!r}.")
    width = int(round(window / dt))
    if abs(width * dt - window) > 1e-9 * max(window, 1.0):
        raise ValueError(f"`window` ({window} ms) must be a multiple of `dt` ({dt} ms).")
    if not (np.isfinite(t_start) and np.isfinite(t_stop)) or t_start >= t_stop:
        raise ValueError(f"`t_start` ({t_start}) must be below `t_stop` ({t_stop}), both in ms.")
    steps = batch.shape[1]
    first = min(max(int(np.ceil(t_start / dt - 1e-9)), 0), steps)
    last = min(max(int(np.ceil(t_stop / dt - 1e-9)), 0), steps)
    pre, post = _edges(conn, batch.shape[2])
    values = [_one_sample(b.astype(np.int64), pre, post, width, first, last) for b in batch]
    return float(np.mean(values))
