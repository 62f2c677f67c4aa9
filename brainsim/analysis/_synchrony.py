"""Synchrony: the Golomb–Rinzel χ of a population, and the spike time tiling coefficient of
a pair of spike trains."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from brainsim.analysis._spikes import check_time, events, window


def chi(traces: Float[ArrayLike, " T n"]) -> Float[Array, ""]:
    """Golomb–Rinzel synchrony χ of a population's traces (membrane potentials, or spike
    trains smoothed into rates).

        χ² = var_t( mean_i x_i(t) ) / mean_i var_t( x_i(t) )

    1 when all neurons follow the same trace, about `1/sqrt(n)` for `n` independent ones
    (asynchronous state), 0 when the population average is constant. JAX, differentiable.

    Args:
        traces: shape `(T, n)`, one column per neuron (e.g. `result["v"]`, mV).

    Returns:
        χ (dimensionless, in [0, 1]); nan if no neuron varies.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import chi
        >>> t = np.linspace(0.0, 1.0, 200)[:, None]
        >>> float(chi(np.sin(2 * np.pi * 5 * t) * np.ones((1, 4))))     # identical traces
        1.0

    Reference: Golomb & Rinzel (1993), Phys. Rev. E 48:4810; Golomb (2007), Scholarpedia
    2(1):1347.
    """
    x = jnp.asarray(traces)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"`traces` must have shape (T, n) with T >= 2 samples, got {x.shape}.")
    return jnp.sqrt(x.mean(1).var() / x.var(0).mean())


def _covered(times: np.ndarray, dt: float, t_start: float, t_stop: float) -> float:
    """Fraction of `[t_start, t_stop]` within `dt` of a spike (the union of the tiles)."""
    tiles = np.minimum(np.diff(times), 2 * dt).sum()
    tiles += min(times[0] - t_start, dt) + min(t_stop - times[-1], dt)
    return tiles / (t_stop - t_start)


def _within(times: np.ndarray, other: np.ndarray, dt: float) -> float:
    """Fraction of `times` within `dt` (inclusive) of a spike of `other` (sorted)."""
    at = np.searchsorted(other, times)
    before = np.abs(times - other[np.maximum(at - 1, 0)])
    after = np.abs(other[np.minimum(at, other.size - 1)] - times)
    return float(np.mean(np.minimum(before, after) <= dt))


def spike_time_tiling(a, b, *, dt: float = 5.0, name: str = "spikes",
                      t_start: float | None = None, t_stop: float | None = None) -> float:
    """Spike time tiling coefficient (STTC) of two spike trains.

        STTC = ½ [(P_A - T_B) / (1 - P_A T_B) + (P_B - T_A) / (1 - P_B T_A)]

    `T_A`: fraction of the recording within `±dt` of a spike of A; `P_A`: fraction of A's
    spikes within `±dt` (inclusive) of a spike of B. 1 for identical trains, about 0 for
    independent ones whatever their rates, -1 for trains that avoid each other. A term whose
    denominator vanishes (`P_A T_B = 1`) counts as 1. Same as Elephant's
    `spike_time_tiling_coefficient` (which also counts spikes up to 10⁻⁵ of their time in
    seconds beyond `dt` as within it). Host side (numpy).

    Args:
        a (SpikeEvents | RunResult | tuple | Array): the first train: a 1-d array of spike times
            (ms), or any form `spike_counts` accepts (all neurons of it pooled).
        b (SpikeEvents | RunResult | tuple | Array): the second train, in the same forms as `a`.
        dt: coincidence window (ms, > 0).
        name: as for `spike_counts`.
        t_start: as for `spike_counts` (one range for both; spikes outside it are dropped).
        t_stop: as for `spike_counts` (one range for both; spikes outside it are dropped).

    Returns:
        STTC (dimensionless, in [-1, 1]); nan if a train has no spike.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import spike_time_tiling
        >>> a = np.array([100.0, 300.0, 500.0])
        >>> spike_time_tiling(a, a + 2.0, dt=5.0, t_stop=1000.0)
        1.0

    Reference: Cutts & Eglen (2014), J. Neurosci. 34:14288.
    """
    dt = check_time("dt", dt)
    t_start, t_stop = window(a, t_start, t_stop)
    trains = []
    for spikes in (a, b):
        times = np.sort(events(spikes, name)[0])
        trains.append(times[(times >= t_start) & (times <= t_stop)])
    ta, tb = trains
    if ta.size == 0 or tb.size == 0:
        return float("nan")
    cover_a, cover_b = _covered(ta, dt, t_start, t_stop), _covered(tb, dt, t_start, t_stop)
    near_a, near_b = _within(ta, tb, dt), _within(tb, ta, dt)

    def term(p, cover):
        return 1.0 if p * cover == 1 else (p - cover) / (1 - p * cover)

    return float(0.5 * term(near_a, cover_b) + 0.5 * term(near_b, cover_a))
