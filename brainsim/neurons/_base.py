"""What every point-neuron model shares: the input type, the base class and refractoriness."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from brainsim import integrators
from brainsim._validation import check_broadcasts
from brainsim.surrogate import FastSigmoid, Surrogate


class Drive(NamedTuple):
    """Input to a population: a current that may depend linearly on the membrane potential.

    The total input current is `I(v) = I + g_E - g · v` (pA): `I` is an injected current (pA),
    `g = Σ_k g_k` the summed synaptic conductance (nS) and `g_E = Σ_k g_k E_k` (nS · mV), so that
    `g_E - g v = Σ_k g_k (E_k - v)`. Conductance input enters the model's differential equation,
    so exponential Euler integrates it exactly over the step, as Brian2 does.

    A plain array (or scalar) passed as input to a neuron's `step` means `Drive(I=array)`.
    """

    I: Float[ArrayLike, "*n"] = 0.0
    g: Float[ArrayLike, "*n"] = 0.0
    g_E: Float[ArrayLike, "*n"] = 0.0

    def current(self, v: Float[Array, "*n"]) -> Float[Array, "*n"]:
        """The input current (pA) at membrane potential `v` (mV)."""
        return self.I + self.g_E - self.g * v


def as_drive(inputs, like: Array | None = None) -> Drive:
    """Interpret a step's `inputs`: `None` (no input), an array of currents (pA) or a `Drive`.

    With `like` (the population's membrane potential), each field must be a scalar or have a
    shape that broadcasts to `like.shape` without enlarging it (one value per neuron);
    otherwise a ValueError names the field, its shape and the population's size."""
    if inputs is None:
        drive = Drive()
    elif isinstance(inputs, Drive):
        drive = inputs
    else:
        drive = Drive(I=inputs)
    if like is not None:
        for field, value in zip(Drive._fields, drive, strict=True):
            _check_fits(field, jnp.shape(value), jnp.shape(like))
    return drive


def _check_fits(field: str, shape: tuple, population: tuple) -> None:
    try:
        fits = jnp.broadcast_shapes(shape, population) == population
    except ValueError:
        fits = False
    if not fits:
        what = "`inputs`" if field == "I" else f"`inputs` (Drive.{field})"
        raise ValueError(
            f"{what} of shape {shape} does not fit a population of shape {population}: give a "
            f"scalar or one value per neuron (shape {population})."
        )


class Neuron(eqx.Module):
    """Base class of point-neuron models.

    Subclasses are equinox Modules whose array fields are parameters (scalars or one value per
    neuron) and which implement `init(n, key=None) -> state` and
    `step(state, inputs, *, t, dt) -> (state, spikes)`. `spikes` is a float array of 0.0 / 1.0
    whose gradient flows through the surrogate `spike_fn`.
    """

    @property
    def binary_spikes(self) -> bool:
        """Whether every spike value is 0.0 or 1.0 (a projection then delivers them as bytes,
        see `brainsim_ops.event_matvec(binary=True)`); False for a model emitting counts."""
        return True

    def _check_shapes(self, n: int) -> None:
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` (number of neurons) must be a positive int, got {n!r}.")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if hasattr(value, "shape") and not isinstance(value, Surrogate):
                check_broadcasts(field.name, value, n)

    def _full(self, value, n: int) -> Float[Array, " n"]:
        return jnp.broadcast_to(jnp.asarray(value, jnp.result_type(float)), (n,))


def default_surrogate() -> Surrogate:
    """The default `spike_fn` of the models: SuperSpike's fast sigmoid with α = 10."""
    return FastSigmoid()


def integrate(method: str, f, y, t, dt):
    """Advance the pytree `y` by one step of `dt` ms with the integrator named `method`."""
    return integrators.get(method)(f, y, t, dt)


def refractory_mask(refractory_left: Float[Array, " n"], dt) -> Float[Array, " n"]:
    """True for neurons still refractory in this step (at least half a step left, in ms)."""
    return refractory_left >= 0.5 * dt


def next_refractory(refractory_left, spikes, t_ref, dt) -> Float[Array, " n"]:
    """Count the refractory time (ms) down by one step, and restart it at `t_ref` on a spike."""
    left = jnp.maximum(refractory_left - dt, 0.0)
    return jnp.where(spikes > 0, t_ref, left)
