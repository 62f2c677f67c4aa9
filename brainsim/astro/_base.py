"""What every astrocyte model shares: the base class and the population check of couplings."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax

from brainsim._validation import check_broadcasts


class Astrocyte(eqx.Module):
    """Base class of astrocyte models.

    Subclasses are equinox Modules whose array fields are parameters (scalars or one value per
    cell) and which implement `init(n, key=None) -> state` and
    `step(state, inputs, *, t, dt) -> (state, releases)`, like neuron models, so that they live
    in a `Network` as populations. Couplings (`GapJunctions`, tripartite synapses) check that
    the population they address is an `Astrocyte`.
    """

    def _check_shapes(self, n: int) -> None:
        """Raise unless `n` is a positive int and every parameter broadcasts to `n` cells."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` (number of astrocytes) must be a positive int, got {n!r}.")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, jax.Array):
                check_broadcasts(field.name, value, n)


def check_astrocyte_population(name: str, models: dict, who: str) -> None:
    """Raise a `ValueError` unless `name` is a population of astrocytes in `models`."""
    if name not in models:
        raise ValueError(f"{who}: population {name!r} is not one of {sorted(models)}.")
    if not isinstance(models[name], Astrocyte):
        raise ValueError(
            f"{who}: population {name!r} is a {type(models[name]).__name__}, not an astrocyte "
            "population (a subclass of brainsim.astro.Astrocyte)."
        )
