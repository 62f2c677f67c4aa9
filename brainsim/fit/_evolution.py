"""The global stage of a fit as an evolution strategy (evosax), over the search box."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from brainsim._progress import progress_bar

_MARGIN = 1e-4  # candidates keep this fraction of the range away from its ends


def evosax_strategies() -> list[str]:
    """Names of the evosax algorithms `fit_model(strategy=...)` accepts (distribution-based:
    they keep a search distribution with a mean, e.g. `"CMA_ES"`, `"Sep_CMA_ES"`, `"SNES"`)."""
    import evosax.algorithms

    return list(evosax.algorithms.distribution_based_algorithms)


def evolve(
    strategy: str,
    key: PRNGKeyArray,
    ranges: Mapping[str, tuple[float, float]],
    template_values: Mapping,
    score: Callable[[dict], np.ndarray],
    *,
    n_samples: int,
    population: int,
    std_init: float = 0.3,
    progress: bool = False,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Search the box `ranges` with an evosax strategy, `population` candidates a generation.

    Every value is searched as its position `u = (value - low) / (high - low)` in its range
    (clipped to the box), so one step size suits parameters of any unit. The search starts
    from the template (`template_values`) with a spread `std_init` (in ranges) and runs
    `ceil(n_samples / population)` generations; `score(values)` returns the losses of a
    generation (`values`: `{name: (population, *shape)}`), which the strategy minimises.

    Returns:
        Every candidate evaluated (`{name: (generations · population, *shape)}`, in the
        parameter's unit) and its loss (non-finite losses as `inf`).

    Raises:
        ImportError: without evosax (`pip install evosax`, or the `fit` extra).
        ValueError: for a strategy evosax does not have among its distribution-based ones.
    """
    try:
        import evosax.algorithms
    except ImportError as error:
        raise ImportError(
            f"strategy={strategy!r} needs evosax: `pip install evosax` (or brainsim[fit])."
        ) from error
    algorithms = evosax.algorithms.distribution_based_algorithms
    if strategy not in algorithms:
        raise ValueError(
            f"`strategy` must be 'random' or one of evosax's distribution-based algorithms "
            f"{sorted(algorithms)}, got {strategy!r}."
        )
    names = list(ranges)
    shapes = {name: np.shape(template_values[name]) for name in names}
    sizes = [math.prod(shapes[name]) for name in names]
    low = np.repeat([ranges[name][0] for name in names], sizes)
    high = np.repeat([ranges[name][1] for name in names], sizes)
    start = np.concatenate([np.ravel(template_values[name]) for name in names])
    start = np.clip((start - low) / (high - low), _MARGIN, 1 - _MARGIN)

    es = algorithms[strategy](population_size=population, solution=jnp.zeros(start.size))
    params = es.default_params.replace(std_init=jnp.asarray(std_init))
    key, init_key = jax.random.split(key)
    state = es.init(init_key, jnp.asarray(start, jnp.float32), params)
    ask, tell = jax.jit(es.ask), jax.jit(es.tell)

    def to_values(u):
        x = low + (high - low) * np.clip(np.asarray(u, dtype=float), _MARGIN, 1 - _MARGIN)
        split = np.split(x, np.cumsum(sizes)[:-1], axis=1)
        return {name: part.reshape((len(x), *shapes[name]))
                for name, part in zip(names, split, strict=True)}

    generations = -(-n_samples // population)
    tried, losses = [], []
    for _ in progress_bar(range(generations), desc=f"fit: {strategy}", unit="generation",
                  disable=not progress):
        key, ask_key, tell_key = jax.random.split(key, 3)
        u, state = ask(ask_key, state, params)
        values = to_values(u)
        loss = np.asarray(score(values), dtype=float)
        loss = np.where(np.isfinite(loss), loss, np.inf)
        # the strategy sees the clipped candidates it was scored on, and failed ones scored
        # just above the worst finite loss (inf would poison its weighted means)
        clipped = jnp.asarray(np.clip(np.asarray(u), _MARGIN, 1 - _MARGIN), jnp.float32)
        worst = loss[np.isfinite(loss)].max(initial=0.0)
        shaped = np.where(np.isfinite(loss), loss, worst + 1)
        state, _ = tell(tell_key, clipped, jnp.asarray(shaped, jnp.float32), state, params)
        tried.append(values)
        losses.append(loss)
    candidates = {name: np.concatenate([v[name] for v in tried]) for name in names}
    return candidates, np.concatenate(losses)
