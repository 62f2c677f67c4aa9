"""Inter-spike interval statistics: CV, CV2 and local variation (numpy, host side)."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from brainsim.analysis._spikes import events


def _intervals(spikes, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """All ISIs (ms), the neuron of each, and the number of neurons."""
    times, indices, n = events(spikes, name)
    order = np.lexsort((times, indices))
    times, indices = times[order], indices[order]
    same = indices[1:] == indices[:-1]
    return np.diff(times)[same], indices[1:][same], n


def inter_spike_intervals(spikes, *, name: str = "spikes") -> list[Float[np.ndarray, " k"]]:
    """The intervals between consecutive spikes of each neuron (ms), one array per neuron.

    Args:
        spikes (SpikeEvents | RunResult | tuple | Array): `SpikeEvents`, a `RunResult` (its spike
            variable `name`), a tuple `(times, indices, n)` (ms, neuron index, number of neurons) or
            a 1-d array of the spike times (ms) of one neuron.
        name: the spike variable of a `RunResult`.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import inter_spike_intervals
        >>> inter_spike_intervals((np.array([1.0, 2.0, 4.0, 5.0]), np.array([0, 1, 0, 0]), 2))
        [array([3., 1.]), array([], dtype=float64)]
    """
    isi, owner, n = _intervals(spikes, name)
    return np.split(isi, np.cumsum(np.bincount(owner, minlength=n))[:-1])


def _per_neuron(values, owner, n, enough):
    total = np.bincount(owner, values, minlength=n)
    number = np.bincount(owner, minlength=n)
    return np.where(enough, total / np.maximum(number, 1), np.nan)


def _checked_min(min_intervals: int, least: int) -> int:
    if not isinstance(min_intervals, int | np.integer) or min_intervals < least:
        raise ValueError(f"`min_intervals` must be an int >= {least}, got {min_intervals!r}.")
    return int(min_intervals)


def cv(spikes, *, min_intervals: int = 2, name: str = "spikes") -> Float[np.ndarray, " n"]:
    """Coefficient of variation of each neuron's inter-spike intervals.

        CV = std(ISI) / mean(ISI)      (population standard deviation, ddof = 0)

    1 for a Poisson process, 0 for a clock; Elephant's `cv(isi(train))` is the same.

    Args:
        spikes (SpikeEvents | RunResult | tuple | Array): as for `inter_spike_intervals`.
        min_intervals: neurons with fewer intervals get nan (int, >= 2).
        name: the spike variable of a `RunResult`.

    Returns:
        CV of each neuron (dimensionless), nan where there are too few intervals; average with
        `np.nanmean`.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import cv
        >>> cv(np.array([0.0, 10.0, 30.0]))          # ISIs 10 and 20: std 5 / mean 15
        array([0.333...])

    Reference: Softky & Koch (1993), J. Neurosci. 13:334.
    """
    isi, owner, n = _intervals(spikes, name)
    enough = np.bincount(owner, minlength=n) >= _checked_min(min_intervals, 2)
    mean = _per_neuron(isi, owner, n, enough)
    square = _per_neuron((isi - mean[owner]) ** 2, owner, n, enough)
    return np.sqrt(square) / mean


def _pairs(spikes, name, min_intervals):
    """Consecutive ISI pairs `(I_k, I_{k+1})` of each neuron, the owner, n, and who has enough."""
    isi, owner, n = _intervals(spikes, name)
    same = owner[1:] == owner[:-1]
    enough = np.bincount(owner, minlength=n) >= _checked_min(min_intervals, 2)
    return isi[:-1][same], isi[1:][same], owner[1:][same], n, enough


def cv2(spikes, *, min_intervals: int = 2, name: str = "spikes") -> Float[np.ndarray, " n"]:
    """CV2 of each neuron: the local coefficient of variation of consecutive intervals.

        CV2 = mean_k  2 |I_{k+1} - I_k| / (I_{k+1} + I_k)

    1 for a Poisson process, and (unlike CV) insensitive to slow changes of the rate. Same as
    Elephant's `cv2`. Arguments and returns as for `cv`.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import cv2
        >>> cv2(np.array([0.0, 10.0, 30.0]))         # 2 · 10 / 30
        array([0.666...])

    Reference: Holt et al. (1996), J. Neurophysiol. 75:1806.
    """
    first, second, owner, n, enough = _pairs(spikes, name, min_intervals)
    local = 2 * np.abs(second - first) / (second + first)
    return _per_neuron(local, owner, n, enough)


def lv(spikes, *, min_intervals: int = 2, name: str = "spikes") -> Float[np.ndarray, " n"]:
    """Local variation of each neuron's consecutive intervals.

        LV = mean_k  3 (I_k - I_{k+1})² / (I_k + I_{k+1})²

    1 for a Poisson process, 0 for a clock, 3 at most (bursts). Same as Elephant's `lv`.
    Arguments and returns as for `cv`.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import lv
        >>> lv(np.array([0.0, 10.0, 30.0]))          # 3 · 10² / 30²
        array([0.333...])

    Reference: Shinomoto, Shima & Tanji (2003), Neural Comput. 15:2823.
    """
    first, second, owner, n, enough = _pairs(spikes, name, min_intervals)
    local = 3 * (first - second) ** 2 / (first + second) ** 2
    return _per_neuron(local, owner, n, enough)
