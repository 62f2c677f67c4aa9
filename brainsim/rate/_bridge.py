"""Bridges between rate populations and spiking populations of one `Network`."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param, check_finite, check_positive
from brainsim.network import Projection
from brainsim.neurons import PoissonSource
from brainsim.rate._base import RatePopulation
from brainsim.synapses import Current, Exponential


class RateToSpikes(eqx.Module):
    """Drive Poisson spiking units with the output of a rate population (rate -> spikes).

    A coupling for `Network(..., couplings=[...])`: the target, a
    `brainsim.neurons.PoissonSource`, fires in the step from `t` to `t + dt` with rate
    `λ_i = max(0, offset + scale · X_i(t))` (Hz), where `X_i` is the output of unit `i` of the
    source at the start of the step (one-to-one; a source of one unit drives all), drawn as
    `PoissonSource` does (probability `λ dt` per step). NEST 3.10 has no model of this kind.

    Attributes:
        source: name of the rate population.
        target: name of the `PoissonSource` population.
        scale: rate per unit of output (Hz per unit of `X`); differentiable.
        offset: rate at `X = 0` (Hz).

    Examples:
        >>> import jax, brainsim as bs
        >>> net = bs.Network(
        ...     {"R": (bs.rate.InputNoiseRate(mu=2.0), 50), "P": (bs.neurons.PoissonSource(), 50)},
        ...     couplings=[bs.rate.RateToSpikes("R", "P", scale=10.0)])
        >>> result = bs.run(net, net.init(jax.random.key(0)), duration=20.0, dt=0.1,
        ...                 record=["P.spikes"])
    """

    source: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    scale: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    offset: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)

    def __check_init__(self):
        check_finite("scale", self.scale)
        check_finite("offset", self.offset)

    def check(self, models: dict, sizes: dict) -> None:
        """Check, when the network is built, the kinds and sizes of `source` and `target`."""
        name = f"RateToSpikes {self.source!r}->{self.target!r}"
        if self.source not in models or not isinstance(models[self.source], RatePopulation):
            raise TypeError(f"{name}: `source` must name a brainsim.rate population.")
        if not isinstance(models[self.target], PoissonSource):
            raise TypeError(
                f"{name}: `target` must name a brainsim.neurons.PoissonSource population, got "
                f"{type(models[self.target]).__name__}."
            )
        if sizes[self.source] not in (1, sizes[self.target]):
            raise ValueError(
                f"{name}: the source has {sizes[self.source]} units, the target "
                f"{sizes[self.target]}; give 1 or {sizes[self.target]} source units."
            )

    def drive(self, state: dict) -> Float[Array, " n"]:
        """The rate (Hz) of each target unit in this step."""
        return jnp.maximum(self.offset + self.scale * state[self.source].output, 0.0)


def spike_to_rate(pre: str, post: str, n: int, *, tau: float = 20.0, weight=1.0, conn=None,
                  name: str | None = None) -> Projection:
    """A projection that turns spikes into a rate input (spikes -> rate), in Hz.

    Each spike of a presynaptic neuron adds `weight · 1000 / tau` to an exponentially decaying
    trace (`tau` ms), which reaches the rate population as its input `h` (a current-based
    `Drive`). For a neuron firing at `ν` Hz the trace averages `weight · ν`: it is the firing
    rate filtered by `e^{-t/tau}` (a filtered spike count). By default one-to-one (`n`
    presynaptic neurons to `n` units); give `conn` (a `brainsim_ops` connectivity whose weights
    are in Hz per spike rate unit, e.g. `1.0` to sum rates) to pool neurons instead.

    Args:
        pre: the spiking population.
        post: the rate population.
        n: number of neurons on each side (one-to-one; ignored with `conn`).
        tau: time constant of the filter (ms, > 0).
        weight (float | Array): scale of the rate (per neuron), one-to-one only.
        conn (CSR | ELL | Dense | None): optional connectivity instead of one-to-one (its weights
            are scaled by `1000 / tau`).
        name: name of the projection (default `"pre->post"`).

    Examples:
        >>> import jax, brainsim as bs
        >>> proj = bs.rate.spike_to_rate("P", "R", 10, tau=50.0)
    """
    check_positive("tau", as_param(tau))
    scale = 1000.0 / tau
    if conn is None:
        conn = bo.one_to_one(n, weight=jnp.asarray(weight) * scale)
    else:
        conn = conn.with_weights(conn.weights * scale)
    return Projection(pre, post, conn, Exponential(tau=tau), Current(), name=name)
