"""Statistics of binned spike counts: Fano factor, pairwise correlation coefficients and
cross-correlograms (JAX, differentiable through the counts of a traced run)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from brainsim.analysis._spikes import check_time, counts


def fano_factor(spikes, bin_size: float, *, name: str = "spikes", t_start: float | None = None,
                t_stop: float | None = None) -> Float[Array, " n"]:
    """Fano factor of each neuron's spike counts in consecutive windows of `bin_size` ms.

        F = var(c) / mean(c)          (variance over the windows, ddof = 0)

    1 for a Poisson process (its expectation with ddof = 0 is `1 - 1/K` for `K` windows).
    Elephant's `fanofactor` on the windows given as separate trains is the same.

    Args:
        spikes (SpikeEvents | RunResult | tuple | Array): `SpikeEvents`, a `RunResult` (its spike
            variable `name`), a tuple `(times, indices, n)` (ms, neuron index, number of neurons) or
            a 1-d array of the spike times (ms) of one neuron.
        bin_size: counting window (ms, > 0).
        name: as for `spike_counts`.
        t_start: as for `spike_counts`.
        t_stop: as for `spike_counts`.

    Returns:
        F of each neuron (dimensionless); nan for a neuron without spikes.

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import fano_factor
        >>> fano_factor(np.array([1.0, 2.0, 3.0, 15.0]), 10.0, t_stop=20.0)  # counts 3, 1
        Array([0.5], dtype=float32)

    Reference: Fano (1947), Phys. Rev. 72:26; Teich et al. (1997), J. Opt. Soc. Am. A 14:529.
    """
    table, _ = counts(spikes, bin_size, name, t_start, t_stop)
    mean = table.mean(0)
    return jnp.where(mean > 0, table.var(0) / jnp.where(mean > 0, mean, 1), jnp.nan)


def correlation_matrix(spikes, bin_size: float, *, name: str = "spikes",
                       t_start: float | None = None, t_stop: float | None = None
                       ) -> Float[Array, "n n"]:
    """Pearson correlation coefficients of the neurons' spike counts in bins of `bin_size` ms.

        C_ij = cov(c_i, c_j) / sqrt(var(c_i) var(c_j))

    Same as Elephant's `correlation_coefficient` of a `BinnedSpikeTrain` (`binary=False`).
    Arguments as for `fano_factor`.

    Returns:
        `(n, n)` matrix with ones on the diagonal; nan in the rows and columns of neurons whose
        count never changes (e.g. silent ones).

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import correlation_matrix
        >>> c = correlation_matrix((np.array([1.0, 1.5, 11.0, 21.0]), np.array([0, 1, 1, 0]), 2),
        ...                        10.0, t_stop=30.0)
        >>> c.round(3).tolist()                        # counts (1, 0, 1) and (1, 1, 0)
        [[1.0, -0.5], [-0.5, 1.0]]

    Reference: Cohen & Kohn (2011), Nat. Neurosci. 14:811 (spike-count correlations).
    """
    table, _ = counts(spikes, bin_size, name, t_start, t_stop)
    centred = table - table.mean(0)
    covariance = centred.T @ centred
    scale = jnp.sqrt(jnp.diag(covariance))
    return covariance / (scale[:, None] * scale[None, :])


def cross_correlogram(reference, target, bin_size: float, max_lag: float, *,
                      name: str = "spikes", t_start: float | None = None,
                      t_stop: float | None = None
                      ) -> tuple[Float[np.ndarray, " lags"], Float[Array, " lags"]]:
    """Cross-correlogram: how often `target` fires `lag` ms after `reference`.

        CCH(k) = Σ_t r_t · g_{t+k},     k = -K..K,   K = round(max_lag / bin_size)

    where `r` and `g` are the spike counts in bins of `bin_size` ms (summed over the neurons of
    each argument), so a peak at a positive lag means `target` follows `reference`. Same as
    Elephant's `cross_correlation_histogram` (`window=[-K, K]`, no border correction). Computed
    with an FFT in JAX.

    Args:
        reference (SpikeEvents | RunResult | tuple | Array): spikes in any form `spike_counts`
            accepts (typically the 1-d spike times of one neuron, or a population).
        target (SpikeEvents | RunResult | tuple | Array): spikes in any form `spike_counts` accepts,
            like `reference`.
        bin_size: bin width (ms, > 0).
        max_lag: largest lag shown (ms, >= 0).
        name: as for `spike_counts`.
        t_start: as for `spike_counts` (one range for both).
        t_stop: as for `spike_counts` (one range for both).

    Returns:
        `(lags, cch)`: lags (ms, `k · bin_size`) and coincidence counts (whole numbers up to
        the FFT's rounding, ~1e-6 relative in float32).

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import cross_correlogram
        >>> a = np.array([10.0, 30.0, 50.0])
        >>> lags, cch = cross_correlogram(a, a + 3.0, 1.0, 5.0, t_stop=60.0)
        >>> float(lags[np.argmax(cch)])
        3.0
    """
    max_lag = check_time("max_lag", max_lag, allow_zero=True)
    check_time("bin_size", bin_size)
    r_table, _ = counts(reference, bin_size, name, t_start, t_stop)
    g_table, _ = counts(target, bin_size, name, t_start, t_stop)
    r, g = r_table.sum(1), g_table.sum(1)
    k = round(max_lag / float(bin_size))
    if k >= r.shape[0]:
        raise ValueError(f"`max_lag` ({max_lag} ms) must be shorter than the analysed range "
                         f"({r.shape[0]} bins of {bin_size} ms).")
    size = 2 ** math.ceil(math.log2(2 * r.shape[0]))
    spectrum = jnp.conj(jnp.fft.rfft(r, size)) * jnp.fft.rfft(g, size)
    circular = jnp.fft.irfft(spectrum, size)
    cch = jnp.concatenate([circular[size - k:], circular[:k + 1]])
    return np.arange(-k, k + 1) * float(bin_size), cch
