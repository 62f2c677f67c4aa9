"""A weighted sum of losses that share their arguments."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


class WeightedSum(eqx.Module):
    """`L(*args) = Σ_k w_k L_k(*args)`: losses on the same arguments, weighted (made by
    `weighted_sum`).

    Each term is called with the same arguments, typically the simulated run (or its traces
    and spikes) and the data, so write each as a small function or a `functools.partial` of the
    losses of `brainsim.fit`. Weights convert units: a trace MSE in mV² and a spike-count
    error in spikes² need weights that make their scales comparable.

    Attributes:
        terms: `((name, weight, loss), ...)`.

    Examples:
        >>> from brainsim.fit import weighted_sum
        >>> total = weighted_sum(square=(2.0, lambda x: x**2), identity=(0.5, lambda x: x))
        >>> float(total(3.0)), total.parts(3.0)
        (19.5, {'square': 9.0, 'identity': 3.0})

    Reference: Druckmann et al. (2007), *A novel multiple objective optimization framework for
    constraining conductance-based neuron models by experimental data*, Front. Neurosci. 1:7.
    """

    terms: tuple[tuple[str, float, Callable], ...] = eqx.field(static=True)

    def __check_init__(self):
        if not self.terms:
            raise ValueError("give at least one loss term, as name=(weight, loss).")
        for name, weight, loss in self.terms:
            if not (np.isfinite(weight) and weight >= 0):
                raise ValueError(f"the weight of `{name}` must be finite and >= 0, got {weight}.")
            if not callable(loss):
                raise TypeError(f"the loss of `{name}` must be callable, got {loss!r}.")

    def parts(self, *args, **kwargs) -> dict[str, Float[Array, ""]]:
        """The value of each term, unweighted, `{name: L_k(*args, **kwargs)}` (for logging)."""
        return {name: loss(*args, **kwargs) for name, _, loss in self.terms}

    def __call__(self, *args, **kwargs) -> Float[Array, ""]:
        """The weighted sum `Σ_k w_k L_k(*args, **kwargs)`."""
        parts = self.parts(*args, **kwargs)
        return sum(weight * jnp.asarray(parts[name]) for name, weight, _ in self.terms)


def weighted_sum(**terms: tuple[float, Callable]) -> WeightedSum:
    """Combine losses into `L = Σ_k w_k L_k`, each term given as `name=(weight, loss)`.

    Args:
        **terms: `name=(w_k, L_k)`: a weight (>= 0, in 1 / the loss's unit, e.g. 1/mV²) and a
            loss function; all losses take the same arguments.

    Returns:
        A `WeightedSum` (callable; `.parts(...)` gives each unweighted term).

    Examples:
        >>> import functools
        >>> import jax.numpy as jnp
        >>> from brainsim.fit import spike_count_loss, trace_mse, weighted_sum
        >>> v_data, times = jnp.full(100, -70.0), jnp.array([50.0])
        >>> loss = weighted_sum(
        ...     trace=(1.0, lambda v, s: trace_mse(v, v_data, dt=1.0)),
        ...     count=(10.0, lambda v, s: spike_count_loss(s, times, dt=1.0)),
        ... )
        >>> float(loss(jnp.full(100, -71.0), jnp.zeros(100)))   # 1 mV² + 10 · 1 spike²
        11.0

    Reference: Druckmann et al. (2007), Front. Neurosci. 1:7 (combining feature errors).
    """
    return WeightedSum(tuple((name, float(w), loss) for name, (w, loss) in terms.items()))
