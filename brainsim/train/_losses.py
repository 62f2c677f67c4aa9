"""Losses and regularisers for spiking networks, on recordings with a leading time axis.

Every function takes arrays shaped `(T, *batch, n)` (time first, as `brainsim.run` records
them) and returns a scalar averaged over the batch and the units, ready for `jax.grad`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int


def _cross_entropy(logits: Float[Array, "*batch C"], labels: Int[Array, "*batch"]):
    if jnp.shape(labels) != logits.shape[:-1]:
        raise ValueError(
            f"`labels` must have shape {logits.shape[:-1]} (the outputs without time and class "
            f"axes), got {jnp.shape(labels)}."
        )
    log_p = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(log_p, jnp.asarray(labels)[..., None], axis=-1)[..., 0]
    return -jnp.mean(picked)


def max_over_time_cross_entropy(
    outputs: Float[Array, "T *batch C"], labels: Int[Array, "*batch"]
) -> Float[Array, ""]:
    """Softmax cross-entropy of the maximum over time of each output (e.g. readout potentials).

    `logits_c = max_t y_c(t)`, `L = -mean_batch log softmax(logits)_label`.

    Args:
        outputs: readout outputs over time, `(T, *batch, C)` (C classes).
        labels: integer class per sample, `(*batch)`.

    Returns:
        The mean cross-entropy (nats).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.train import max_over_time_cross_entropy
        >>> y = jnp.array([[0.0, 1.0], [2.0, 0.0]])        # T = 2 steps, 2 classes
        >>> round(float(max_over_time_cross_entropy(y, jnp.array(0))), 4)
        0.3133

    Reference: Cramer et al. (2022), *The Heidelberg spiking data sets for the systematic
    evaluation of spiking neural networks*, IEEE TNNLS.
    """
    return _cross_entropy(jnp.max(outputs, axis=0), labels)


def sum_over_time_cross_entropy(
    outputs: Float[Array, "T *batch C"], labels: Int[Array, "*batch"]
) -> Float[Array, ""]:
    """Softmax cross-entropy of the sum over time of each output (spike counts or potentials).

    `logits_c = Σ_t y_c(t)`, `L = -mean_batch log softmax(logits)_label`. With spikes as outputs
    the logits are spike counts (the rate-coded readout).

    Args:
        outputs: outputs over time, `(T, *batch, C)`.
        labels: integer class per sample, `(*batch)`.

    Returns:
        The mean cross-entropy (nats).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.train import sum_over_time_cross_entropy
        >>> spikes = jnp.array([[1.0, 0.0], [1.0, 1.0]])
        >>> round(float(sum_over_time_cross_entropy(spikes, jnp.array(0))), 4)
        0.3133

    Reference: Neftci, Mostafa & Zenke (2019), *Surrogate gradient learning in spiking neural
    networks*, IEEE Signal Processing Magazine.
    """
    return _cross_entropy(jnp.sum(outputs, axis=0), labels)


def spike_count_loss(
    spikes: Float[Array, "T *batch n"], target_counts: Float[Array, "*batch n"]
) -> Float[Array, ""]:
    """Mean squared error between spike counts and target counts.

    `L = mean_{batch, n} (Σ_t s_n(t) - c_n)²` (spikes²).

    Args:
        spikes: spikes over time, `(T, *batch, n)`.
        target_counts: target number of spikes of each neuron, `(*batch, n)` (broadcasts).

    Returns:
        The mean squared count error.

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.train import spike_count_loss
        >>> float(spike_count_loss(jnp.ones((3, 2)), jnp.array([3.0, 1.0])))
        2.0

    Reference: Shrestha & Orchard (2018), *SLAYER: spike layer error reassignment in time*,
    NeurIPS (spike-count loss).
    """
    return jnp.mean((jnp.sum(spikes, axis=0) - target_counts) ** 2)


def van_rossum_loss(
    spikes: Float[Array, "T *batch n"],
    target: Float[Array, "T *batch n"],
    *,
    tau: float,
    dt: float,
) -> Float[Array, ""]:
    """Squared van Rossum distance between spike trains, averaged over trains.

    Each train is filtered with the causal exponential kernel `exp(-t / tau)`:
    `f(t_n) = f(t_{n-1}) exp(-dt / tau) + s(t_n)`, and
    `D² = (1 / tau) ∫ (f_spikes - f_target)² dt ≈ (dt / tau) Σ_n (f_spikes - f_target)²(t_n)`.
    One spike against none gives `D² ≈ 1/2` for runs much longer than `tau`.

    Args:
        spikes: spikes over time, `(T, *batch, n)`.
        target: target spikes, same shape (or broadcastable).
        tau: kernel time constant (ms, > 0).
        dt: time step (ms, > 0).

    Returns:
        `mean_{batch, n} D²` (dimensionless).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.train import van_rossum_loss
        >>> s = jnp.zeros((2000, 1)).at[10, 0].set(1.0)
        >>> round(float(van_rossum_loss(s, jnp.zeros_like(s), tau=10.0, dt=0.1)), 1)
        0.5

    Reference: van Rossum (2001), *A novel spike distance*, Neural Computation 13.
    """
    if not tau > 0 or not dt > 0:
        raise ValueError(f"`tau` and `dt` must be positive (ms), got tau={tau!r}, dt={dt!r}.")
    decay = jnp.exp(-dt / tau)
    difference = spikes - target

    def filter_step(f, s):
        f = f * decay + s
        return f, f

    _, filtered = jax.lax.scan(filter_step, jnp.zeros_like(difference[0]), difference)
    return dt / tau * jnp.mean(jnp.sum(filtered**2, axis=0))


def rate_regularizer(
    spikes: Float[Array, "T *batch n"],
    *,
    dt: float,
    low: float | None = None,
    high: float | None = None,
) -> Float[Array, ""]:
    """Penalty on firing rates outside `[low, high]` Hz.

    With `r = 1000 Σ_t s(t) / (T dt)` the rate of each train (Hz),
    `L = mean_{batch, n} (max(0, r - high)² + max(0, low - r)²)` (Hz²). Lower bounds keep
    neurons from going silent, upper bounds keep activity sparse.

    Args:
        spikes: spikes over time, `(T, *batch, n)`.
        dt: time step (ms, > 0).
        low: lower rate bound (Hz), or `None` for none.
        high: upper rate bound (Hz), or `None` for none.

    Returns:
        The mean squared excess rate (Hz²).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.train import rate_regularizer
        >>> spikes = jnp.zeros((1000, 2)).at[::10, 0].set(1.0)   # 100 Hz and 0 Hz at dt=1 ms
        >>> round(float(rate_regularizer(spikes, dt=1.0, low=5.0, high=50.0)), 1)   # (50² + 5²) / 2
        1262.5

    Reference: Zenke & Vogels (2021), *The remarkable robustness of surrogate gradient learning
    for instilling complex function in spiking neural networks*, Neural Computation 33.
    """
    if not dt > 0:
        raise ValueError(f"`dt` must be positive (ms), got {dt!r}.")
    if low is None and high is None:
        raise ValueError("give a lower bound `low`, an upper bound `high` (Hz), or both.")
    rate = 1000.0 * jnp.sum(spikes, axis=0) / (spikes.shape[0] * dt)
    penalty = jnp.zeros_like(rate)
    if high is not None:
        penalty = penalty + jax.nn.relu(rate - high) ** 2
    if low is not None:
        penalty = penalty + jax.nn.relu(low - rate) ** 2
    return jnp.mean(penalty)
