"""What every astrocyte model shares: the base class and the population check of couplings."""

from __future__ import annotations

import equinox as eqx


class Astrocyte(eqx.Module):
    """Base class of astrocyte models.

    Subclasses are equinox Modules whose array fields are parameters (scalars or one value per
    cell) and which implement `init(n, key=None) -> state` and
    `step(state, inputs, *, t, dt) -> (state, releases)`, like neuron models, so that they live
    in a `Network` as populations. Couplings (`GapJunctions`, tripartite synapses) check that
    the population they address is an `Astrocyte`.
    """


def check_astrocyte_population(name: str, models: dict, who: str) -> None:
    """Raise a `ValueError` unless `name` is a population of astrocytes in `models`."""
    if name not in models:
        raise ValueError(f"{who}: population {name!r} is not one of {sorted(models)}.")
    if not isinstance(models[name], Astrocyte):
        raise ValueError(
            f"{who}: population {name!r} is a {type(models[name]).__name__}, not an astrocyte "
            "population (a subclass of brainsim.astro.Astrocyte)."
        )
