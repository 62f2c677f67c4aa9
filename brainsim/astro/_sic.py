"""The slow inward current from astrocytes to neurons (NEST's `sic_connection`)."""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim.astro._base import Astrocyte, check_astrocyte_population
from brainsim.neurons import Drive


class SlowInwardCurrent(eqx.Module):
    """Slow inward current (SIC) from an astrocyte population onto neurons (a `Network`
    coupling), as NEST's `sic_connection` delivers it.

    Neuron `j` receives `I_j = Σ_i w_ij SIC_i(t − d)` (pA): the SIC of each astrocyte `i`
    connected to it (`SIC_i` in pA per unit weight, from `AstrocyteLR1994`) times the
    connection's weight `w_ij` (dimensionless, NEST's `sic_connection` weight), held over the
    step as an input current `Drive(I=...)`. The SIC is the one the astrocyte computed
    `delay_steps` steps before the current one; with `delay_steps = d` this is NEST's
    `sic_connection` of delay `d · dt` (NEST's default delay is 1 ms, and at least one step;
    `delay_steps=0` is the SIC of the Ca²⁺ at the start of the step). The astrocyte model
    must keep that much history: `AstrocyteLR1994(max_sic_delay >= delay_steps)`.

    A target population whose state offers `as_current_input(I)` (as `AEIFCondAlphaAstro`'s
    does) receives the current in its own input type, so that it adds to the spikes of its
    projections; other neurons receive a `Drive`.

    Attributes:
        source: name of the astrocyte population (an `AstrocyteLR1994`, or another
            `brainsim.astro.Astrocyte` whose state has a `sic` history).
        target: name of the neuron population.
        conn: connectivity astrocytes → neurons (`n_pre` = astrocytes, `n_post` = neurons),
            weights dimensionless (>= 0 for an inward current); e.g. the `third_out` of
            `brainsim_ops.tripartite_bernoulli_with_pool`.
        delay_steps: delay in steps (int >= 0, static).

    Examples:
        >>> import brainsim as bs, brainsim_ops as bo
        >>> sic = bs.astro.SlowInwardCurrent("A", "E", bo.one_to_one(10, 0.05), delay_steps=10)
        >>> astro = bs.astro.AstrocyteLR1994(max_sic_delay=10)

    Reference: Nadkarni & Jung (2003) Phys. Rev. Lett. 91:268101; NEST 3.10
    `sic_connection`.
    """

    source: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    conn: bo.CSR | bo.ELL | bo.Dense
    delay_steps: int = eqx.field(default=0, static=True)

    def __check_init__(self):
        for label, value in (("source", self.source), ("target", self.target)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"`{label}` must be a population name, got {value!r}.")
        if not hasattr(self.conn, "n_pre") or not hasattr(self.conn, "weights"):
            raise TypeError(
                "`conn` must be a brainsim_ops connectivity (CSR, ELL, Dense) from astrocytes to "
                f"neurons, got {type(self.conn).__name__}."
            )
        if not isinstance(self.delay_steps, int) or self.delay_steps < 0:
            raise ValueError(f"`delay_steps` must be an int >= 0, got {self.delay_steps!r}.")

    def check(self, models: dict, sizes: dict) -> None:
        """Raise unless `source` is an astrocyte population keeping enough SIC history and the
        connectivity matches both population sizes (called by `Network`)."""
        who = f"SlowInwardCurrent({self.source!r} -> {self.target!r})"
        check_astrocyte_population(self.source, models, who)
        if self.target not in models:
            raise ValueError(f"{who}: population {self.target!r} is not one of {sorted(models)}.")
        if isinstance(models[self.target], Astrocyte):
            raise ValueError(
                f"{who}: the target {self.target!r} is an astrocyte population; a slow inward "
                "current goes to neurons."
            )
        history = getattr(models[self.source], "max_sic_delay", None)
        if history is None:
            raise ValueError(
                f"{who}: {type(models[self.source]).__name__} produces no slow inward current "
                "(use brainsim.astro.AstrocyteLR1994)."
            )
        if self.delay_steps > history:
            raise ValueError(
                f"{who}: `delay_steps` = {self.delay_steps}, but the astrocytes keep "
                f"{history} steps of SIC; construct them with max_sic_delay={self.delay_steps}."
            )
        for side, pop, n in (("pre", self.source, self.conn.n_pre),
                             ("post", self.target, self.conn.n_post)):  # fmt: skip
            if sizes[pop] != n:
                raise ValueError(
                    f"{who}: `conn` has n_{side} = {n}, but population {pop!r} has {sizes[pop]}."
                )

    def current(self, sic: Float[Array, " n_astro"]) -> Float[Array, " n_neurons"]:
        """Current into each neuron (pA) for the astrocytes' SIC (pA per unit weight)."""
        return bo.matvec(sic, self.conn)

    def drive(self, state: dict):
        """The input of the target population in a `Network` with state `state`."""
        current = self.current(state[self.source].sic[self.delay_steps])
        as_input = getattr(state[self.target], "as_current_input", None)
        return Drive(I=current) if as_input is None else as_input(current)
