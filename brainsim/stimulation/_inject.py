"""Feeding a current source of a `Network` into another population."""

from __future__ import annotations

import equinox as eqx

from brainsim.stimulation._currents import CurrentSource


class Inject(eqx.Module):
    """Inject the current of a current-source population into a population of a `Network`.

    A coupling for `Network(..., couplings=[...])`: in every step, population `target` receives
    the current (pA) that the `source` population (a `brainsim.stimulation` generator or noise)
    holds for that step, added to its other inputs. The source has either as many outputs as
    the target has neurons (one current each) or one output (the same current for all).
    The target receives `I(t)` in the step from `t` to `t + dt`, as with `inputs=generator`.

    Attributes:
        source: name of the current-source population.
        target: name of the population that receives the current.

    Examples:
        >>> import jax, brainsim as bs
        >>> lif = bs.neurons.LIF(tau_m=10.0)
        >>> net = bs.Network(
        ...     {"noise": (bs.stimulation.OUNoise(mean=250.0, std=50.0, tau=5.0), 20),
        ...      "E": (lif, 20)},
        ...     couplings=[bs.stimulation.Inject("noise", "E")])
        >>> result = bs.run(net, net.init(jax.random.key(0)), duration=50.0, dt=0.1,
        ...                 record=["E.spikes"])
    """

    source: str = eqx.field(static=True)
    target: str = eqx.field(static=True)

    def check(self, models: dict, sizes: dict) -> None:
        """Check, when the network is built, that `source` is a current source of a fitting
        size."""
        if self.source not in models:
            raise ValueError(
                f"Inject: source population {self.source!r} is not one of {sorted(models)}."
            )
        if not isinstance(models[self.source], CurrentSource):
            raise TypeError(
                f"Inject: population {self.source!r} is a {type(models[self.source]).__name__}, "
                "not a current source of brainsim.stimulation."
            )
        if sizes[self.source] not in (1, sizes[self.target]):
            raise ValueError(
                f"Inject: source {self.source!r} has {sizes[self.source]} outputs, target "
                f"{self.target!r} has {sizes[self.target]} neurons; give 1 or "
                f"{sizes[self.target]} outputs."
            )

    def drive(self, state: dict):
        """The current (pA) that `target` receives in this step."""
        return state[self.source].I
