"""Spike-triggered average of a sampled signal."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from brainsim.analysis._spikes import check_time, events


def spike_triggered_average(signal: Float[ArrayLike, " T *channels"], spikes, *, dt: float,
                            window: tuple[float, float], t0: float = 0.0, name: str = "spikes"
                            ) -> tuple[Float[np.ndarray, " lags"], Float[Array, " lags *channels"]]:
    """Average of `signal` around the spikes: `STA(τ) = mean over spikes s of x(t_s + τ)`.

    Sample `k` of `signal` is at `t0 + k dt`. The window `[a, b)` spans `ceil((b - a) / dt)`
    samples, starting at sample `floor((t_s + a - t0) / dt)` for a spike at `t_s`; spikes
    whose window leaves the signal (`t_s + a < t0` or `t_s + b > t0 + T dt`) are skipped. Same
    as Elephant's `spike_triggered_average`. All spikes of `spikes` (every neuron) trigger;
    a `(T, c)` signal is averaged channel by channel. JAX, differentiable in `signal`.

    Args:
        signal: samples every `dt` ms, shape `(T,)` or `(T, channels)`: a recorded trace
            (`result["v"]`, whose sample `k` is at `result.t[k]`), a stimulus, an LFP.
        spikes (SpikeEvents | RunResult | tuple | Array): the triggering spikes: `SpikeEvents`, a
            `RunResult` (its spike variable `name`), `(times, indices, n)` or a 1-d array of spike
            times (ms).
        dt: sampling interval (ms, > 0).
        window: `(a, b)`, the window around each spike (ms, `a < b`; `a < 0` looks back).
        t0: time of sample 0 (ms).
        name: the spike variable of a `RunResult`.

    Returns:
        `(lags, sta)`: lags `a + j dt` (ms) and the average (nan everywhere if no spike fits).

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import spike_triggered_average
        >>> x = np.arange(100.0)                           # x(t) = t / (1 ms), dt = 1 ms
        >>> lags, sta = spike_triggered_average(x, np.array([20.0, 50.0]), dt=1.0,
        ...                                     window=(-2.0, 2.0))
        >>> lags.tolist(), sta.tolist()                    # mean of 18..21 and 48..51
        ([-2.0, -1.0, 0.0, 1.0], [33.0, 34.0, 35.0, 36.0])

    Reference: de Boer & Kuyper (1968), IEEE Trans. Biomed. Eng. 15:169.
    """
    dt = check_time("dt", dt)
    a, b = (float(edge) for edge in window)
    if not (math.isfinite(a) and math.isfinite(b)) or a >= b:
        raise ValueError(f"`window` must be (a, b) in ms with a < b, got {window!r}.")
    x = jnp.asarray(signal)
    if x.ndim not in (1, 2):
        raise ValueError(f"`signal` must have shape (T,) or (T, channels), got {x.shape}.")
    times, _, _ = events(spikes, name)
    width = math.ceil((b - a) / dt - 1e-9)
    end = t0 + x.shape[0] * dt
    used = times[(times + a >= t0) & (times + b <= end)]
    first = np.floor((used + a - t0) / dt).astype(np.int64)
    rows = np.minimum(first[:, None] + np.arange(width), x.shape[0] - 1)
    lags = a + dt * np.arange(width)
    if used.size == 0:
        return lags, jnp.full((width, *x.shape[1:]), jnp.nan)
    return lags, x[rows].sum(0) / used.size
