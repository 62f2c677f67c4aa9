"""The coincidence factor Γ (Kistler et al. 1997; Jolivet et al. 2008) and its error variant."""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike, Float


def _train(name: str, times) -> np.ndarray:
    """A recorded or simulated train as sorted finite times (ms); `inf` padding dropped."""
    times = np.asarray(times, dtype=float)
    if times.ndim != 1:
        raise ValueError(f"`{name}` must be one train of shape (k,), got shape {times.shape}.")
    if np.any(np.isnan(times)):
        raise ValueError(f"`{name}` holds NaN; pad spike trains with `inf`.")
    return np.sort(times[np.isfinite(times)])


def count_coincidences(a: np.ndarray, b: np.ndarray, delta: float) -> int:
    """Largest number of one-to-one pairs `(a_i, b_j)` with `|a_i - b_j| <= delta` (sorted trains).

    A greedy sweep is optimal here: walk through `a` in time order and pair each spike with the
    earliest unpaired spike of `b` within `delta` (spikes of `b` more than `delta` before it can
    pair with no later spike of `a`).
    """
    j, pairs = 0, 0
    for t in a:
        while j < len(b) and b[j] < t - delta:
            j += 1
        if j < len(b) and b[j] <= t + delta:
            pairs += 1
            j += 1
    return pairs


def _check_window(duration, delta):
    if not (np.isfinite(duration) and duration > 0):
        raise ValueError(f"`duration` must be a finite time > 0 (ms), got {duration!r}.")
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"`delta` must be a finite time > 0 (ms), got {delta!r}.")


def coincidence_factor(
    model_times: Float[ArrayLike, " k"],
    data_times: Float[ArrayLike, " m"],
    *,
    duration: float,
    delta: float = 4.0,
) -> float:
    """The coincidence factor Γ between a model's and a recorded spike train.

    `Γ = (N_coinc - 2 ν Δ N_data) / (½ (N_data + N_model)) · 1 / (1 - 2 ν Δ)`, with
    `N_coinc` the number of data spikes with a model spike within `±Δ` (pairs one-to-one, so
    `N_coinc <= min(N_data, N_model)`), `ν = N_model / T` the model's rate and `T` the duration.
    `2 ν Δ N_data` is the number of coincidences expected from a Poisson train of rate `ν`:
    Γ = 1 for identical trains, ≈ 0 in expectation for a Poisson model, negative for fewer
    coincidences than chance. In the example below one of three data spikes coincides:
    `ν = 0.02 /ms`, `2 ν Δ = 0.16`, `Γ = (1 - 0.48) / 2.5 / 0.84 ≈ 0.248`.

    Args:
        model_times: model spike times (ms), `(k,)` (`inf` padding is ignored).
        data_times: recorded spike times (ms), `(m,)`.
        duration: length `T` of the recording compared (ms, > 0).
        delta: coincidence window `Δ` (ms, > 0); 4 ms is the usual choice.

    Returns:
        Γ (dimensionless, <= 1).

    Raises:
        ValueError: when both trains are empty or `2 ν Δ >= 1` (the model fires so fast that
            chance alone fills the windows: Γ is undefined).

    Examples:
        >>> from brainsim.fit import coincidence_factor
        >>> round(coincidence_factor([10.0, 50.0, 90.0], [10.0, 50.0, 90.0], duration=100.0), 9)
        1.0
        >>> round(coincidence_factor([12.0, 70.0], [10.0, 50.0, 90.0], duration=100.0), 3)
        0.248

    References: Kistler, Gerstner & van Hemmen (1997), Neural Comput. 9:1015; Jolivet, Kobayashi,
    Rauch, Naud, Shinomoto & Gerstner (2008), *A benchmark test for a quantitative assessment of
    simple neuron models*, J. Neurosci. Methods 169:417.
    """
    _check_window(duration, delta)
    model, data = _train("model_times", model_times), _train("data_times", data_times)
    if model.size + data.size == 0:
        raise ValueError("Γ is undefined for two empty spike trains.")
    rate = model.size / duration
    if 2 * rate * delta >= 1:
        raise ValueError(
            f"Γ is undefined when 2 ν Δ >= 1 (model rate ν = {1000 * rate:.1f} Hz, Δ = {delta} "
            "ms): chance alone fills every window; use a smaller `delta`."
        )
    coincidences = count_coincidences(data, model, delta)
    expected = 2 * rate * delta * data.size
    return float(
        (coincidences - expected) / (0.5 * (data.size + model.size)) / (1 - 2 * rate * delta)
    )


def gamma_error(
    model_times: Float[ArrayLike, " k"],
    data_times: Float[ArrayLike, " m"],
    *,
    duration: float,
    delta: float = 4.0,
) -> float:
    """brian2modelfitting's error from Γ: `1 - Γ + 2 |r_data - r_model| / r_data`.

    `r = N / T` are the rates of the two trains; the second term penalises a model whose rate
    is off even when its spikes coincide with the data's. 0 for identical trains.

    Args:
        model_times: model spike times (ms), `(k,)`.
        data_times: recorded spike times (ms), `(m,)`, at least one spike.
        duration: length `T` of the recording compared (ms, > 0).
        delta: coincidence window `Δ` (ms, > 0).

    Returns:
        The error (dimensionless, >= 0).

    Examples:
        >>> from brainsim.fit import gamma_error
        >>> abs(round(gamma_error([10.0, 50.0, 90.0], [10.0, 50.0, 90.0], duration=100.0), 9))
        0.0
        >>> round(gamma_error([12.0, 70.0], [10.0, 50.0, 90.0], duration=100.0), 3)  # 1-Γ+2/3
        1.419

    Reference: Teska, Rossant, Stimberg & Goodman (2020), brian2modelfitting
    (`GammaFactor(rate_correction=True)`); Jolivet et al. (2008), J. Neurosci. Methods 169:417.
    """
    data = _train("data_times", data_times)
    if data.size == 0:
        raise ValueError("the Γ error is undefined for a recorded train without spikes.")
    gamma = coincidence_factor(model_times, data, duration=duration, delta=delta)
    n_model = _train("model_times", model_times).size
    return float(1 - gamma + 2 * abs(data.size - n_model) / data.size)
