"""The global stage of a fit: ranges to sample parameters from, and uniform random candidates."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim.fit._parametrize import ParameterMap

_SPREAD = 4.0  # a one-sided range spans (1/4 .. 4) x the template's distance to its bound
_MARGIN = 1e-4  # candidates keep this fraction of the range away from its ends


def search_ranges(
    to_model: ParameterMap, template_values: Mapping, search: Mapping | None = None
) -> dict[str, tuple[float, float]]:
    """The `(low, high)` range each fitted parameter is sampled from in the global stage.

    Per parameter, in order of precedence: the range given in `search`; its bounds when both
    are finite; for a one-sided bound `b`, `b + (v - b)·[1/4, 4]` around the template's value
    `v` (e.g. `tau_m` = 10 ms with bounds `(0, None)` gives `(2.5, 40)` ms). A parameter without
    bounds needs a range in `search`.

    Args:
        to_model: the parameter map of the fit (`parametrize`).
        template_values: the template's value of each parameter.
        search: `{name: (low, high)}` overriding the derived ranges (the parameter's unit).

    Returns:
        `{name: (low, high)}`, each range inside the parameter's bounds.

    Raises:
        ValueError: for a name in `search` that is not fitted, a range that is not finite with
            `low < high` or leaves the bounds, or an unbounded parameter without a range.

    Examples:
        >>> import brainsim as bs
        >>> from brainsim.fit import parametrize
        >>> from brainsim.fit._search import search_ranges
        >>> _, to_model = parametrize(bs.neurons.LIF(), ["tau_m", "v_th"])
        >>> search_ranges(to_model, {"tau_m": 10.0, "v_th": -50.0})
        {'tau_m': (2.5, 40.0), 'v_th': (-100.0, 0.0)}
    """
    search = dict(search or {})
    unknown = set(search) - set(to_model.bounds)
    if unknown:
        raise ValueError(
            f"`search` names {sorted(unknown)}, which are not fitted; fitted: "
            f"{sorted(to_model.bounds)}."
        )
    ranges = {}
    for name, (low, high) in to_model.bounds.items():
        value = np.asarray(template_values[name], dtype=float)
        if name in search:
            lo, hi = map(float, search[name])
        elif low is not None and high is not None:
            lo, hi = low, high
        elif low is not None:
            lo, hi = low + (value.min() - low) / _SPREAD, low + (value.max() - low) * _SPREAD
        elif high is not None:
            lo, hi = high - (high - value.min()) * _SPREAD, high - (high - value.max()) / _SPREAD
        else:
            raise ValueError(
                f"`{name}` has no bounds, so the global search has no range to sample it from: "
                f"give one, e.g. search={{{name!r}: (low, high)}}, or bounds in `names`."
            )
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"the search range of `{name}` must be finite with low < high, "
                             f"got ({lo}, {hi}).")
        if (low is not None and lo < low) or (high is not None and hi > high):
            raise ValueError(
                f"the search range ({lo}, {hi}) of `{name}` leaves its bounds ({low}, {high})."
            )
        ranges[name] = (float(lo), float(hi))
    return ranges


def sample_uniform(
    key: PRNGKeyArray,
    ranges: Mapping[str, tuple[float, float]],
    shapes: Mapping[str, tuple[int, ...]],
    n: int,
) -> dict[str, Float[Array, " n *shape"]]:
    """`n` parameter sets, each value uniform in its range (a margin of 1e-4 of the range
    away from its ends, so that values on a bound stay strictly inside it).

    Examples:
        >>> import jax
        >>> from brainsim.fit._search import sample_uniform
        >>> x = sample_uniform(jax.random.key(0), {"tau_m": (5.0, 50.0)}, {"tau_m": ()}, 1000)
        >>> x["tau_m"].shape, bool((x["tau_m"] > 5.0).all() & (x["tau_m"] < 50.0).all())
        ((1000,), True)
    """
    keys = jax.random.split(key, len(ranges))
    samples = {}
    for k, (name, (lo, hi)) in zip(keys, ranges.items(), strict=True):
        u = jax.random.uniform(
            k, (n, *shapes[name]), jnp.result_type(float), _MARGIN, 1.0 - _MARGIN
        )
        samples[name] = lo + (hi - lo) * u
    return samples
