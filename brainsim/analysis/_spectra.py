"""Power spectral density of a sampled signal (a population rate, an LFP) by Welch's method."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from brainsim.analysis._spikes import check_time


def power_spectrum(signal: Float[ArrayLike, " *batch T"], dt: float, *, n_segments: int = 8,
                   segment: float | None = None, overlap: float = 0.5
                   ) -> tuple[Float[np.ndarray, " freqs"], Float[Array, " *batch freqs"]]:
    """One-sided power spectral density by Welch's method, along the last axis.

    The signal is cut into segments of `L` samples that overlap by `floor(overlap · L)`; each
    has its mean removed, is multiplied by a (periodic) Hann window `w` and transformed:

        P(f) = 2 |Σ_t w_t x_t e^{-2πi f t dt}|² / (f_s Σ_t w_t²),   averaged over segments

    (not doubled at 0 and at the Nyquist frequency), `f_s = 1000 / dt` Hz. Same as
    `scipy.signal.welch` with its defaults and Elephant's `welch_psd`, including the segment
    length chosen from `n_segments`: `L = floor(T / (n_segments - overlap (n_segments - 1)))`.
    JAX, differentiable in `signal`.

    Args:
        signal: samples every `dt` ms, shape `(..., T)` (a population rate in Hz from
            `population_rate`, an LFP, ...).
        dt: sampling interval (ms, > 0).
        n_segments: number of segments the signal is cut into (int >= 1) when `segment` is
            not given.
        segment: segment length (ms, > 0, at most the signal's length); sets the frequency
            resolution `1000 / segment` Hz.
        overlap: fraction of a segment shared with the next (in [0, 1)).

    Returns:
        `(freqs, psd)`: frequencies (Hz) and the density (signal units² per Hz).

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import power_spectrum
        >>> t = np.arange(10_000) * 0.5                       # 5 s sampled every 0.5 ms
        >>> freqs, psd = power_spectrum(np.sin(2 * np.pi * 40.0 * t / 1000), dt=0.5,
        ...                             segment=500.0)
        >>> float(freqs[np.argmax(psd)])
        40.0

    Reference: Welch (1967), IEEE Trans. Audio Electroacoust. 15:70.
    """
    dt = check_time("dt", dt)
    x = jnp.asarray(signal)
    if x.ndim < 1 or x.shape[-1] < 2:
        raise ValueError(f"`signal` needs at least 2 samples along its last axis, got shape "
                         f"{x.shape}.")
    if not 0 <= overlap < 1:
        raise ValueError(f"`overlap` must lie in [0, 1), got {overlap!r}.")
    samples = x.shape[-1]
    if segment is not None:
        length = round(check_time("segment", segment) / dt)
        if not 2 <= length <= samples:
            raise ValueError(f"`segment` ({segment} ms) must span 2 to {samples} samples of "
                             f"{dt} ms, the signal's length.")
    else:
        if not isinstance(n_segments, int | np.integer) or n_segments < 1:
            raise ValueError(f"`n_segments` must be an int >= 1, got {n_segments!r}.")
        length = int(samples / (n_segments - overlap * (n_segments - 1)))
        if length < 2:
            raise ValueError(f"`n_segments` ({n_segments}) leaves segments of {length} sample(s) "
                             f"of a {samples}-sample signal.")
    step = length - int(length * overlap)
    starts = np.arange((samples - int(length * overlap)) // step) * step
    pieces = x[..., starts[:, None] + np.arange(length)]
    pieces = pieces - pieces.mean(-1, keepdims=True)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)
    rate = 1000.0 / dt
    power = jnp.abs(jnp.fft.rfft(pieces * window, axis=-1)) ** 2 / (rate * np.sum(window**2))
    doubled = np.full(length // 2 + 1, 2.0)
    doubled[0] = 1.0
    if length % 2 == 0:
        doubled[-1] = 1.0
    return np.fft.rfftfreq(length, dt / 1000.0), (power * doubled).mean(-2)
