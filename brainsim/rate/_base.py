"""What rate populations share: the input they accept and the history of their output.

A rate population's state has an `output` field (what it sends to other populations through
`RateCoupling`, per unit) and, when the model keeps `history > 0` steps, a ring `history` of
its past outputs with the write position `head`, read by delayed couplings.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim._validation import check_broadcasts
from brainsim.neurons import Drive


class RatePopulation(eqx.Module):
    """Base class of rate populations (`InputNoiseRate`, `OutputNoiseRate`, `WilsonCowan`,
    `JansenRit`): `init(n, key=None)`, `step(state, inputs, *, t, dt) -> (state, output)`, a
    state with `output`, and `history` past outputs kept for delayed couplings."""

    history: int = eqx.field(default=0, static=True, kw_only=True)

    def _check_history(self) -> None:
        if not isinstance(self.history, int) or isinstance(self.history, bool) or self.history < 0:
            raise ValueError(
                f"`history` (steps of output kept for delayed couplings) must be an int >= 0, "
                f"got {self.history!r}."
            )

    def _check_shapes(self, n: int) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"`n` (number of units) must be a positive int, got {n!r}.")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if hasattr(value, "shape"):
                check_broadcasts(field.name, value, n)

    def _init_history(self, output: Float[Array, " n"]):
        """An empty ring of `history` past outputs (`None` without history) and its head."""
        if self.history == 0:
            return None, jnp.zeros((), jnp.int32)
        return jnp.zeros((self.history, *output.shape), output.dtype), jnp.zeros((), jnp.int32)

    def _push_history(self, history, head, output):
        """Store this step's `output` (the value at the start of the step) in the ring."""
        if history is None:
            return None, head
        return history.at[head % self.history].set(output), head + 1


def delayed_output(state, delay_steps: int) -> Float[Array, " n"]:
    """The output a population had `delay_steps` (>= 1) steps before the current one."""
    return state.history[(state.head - delay_steps) % state.history.shape[0]]


def rate_input(inputs, n: int, dtype) -> Float[Array, " n"]:
    """The summed input `h` of a step: `None` (0), an array (one value or one per unit), or a
    `Drive` from a current-based spike projection (its `I`)."""
    if inputs is None:
        return jnp.zeros((n,), dtype)
    if isinstance(inputs, Drive):
        for name in ("g", "g_E"):
            value = getattr(inputs, name)
            if not (isinstance(value, int | float) and value == 0):
                raise TypeError(
                    "a rate population takes a current-based input (`Drive.I`, e.g. a Projection "
                    f"with output=Current()), not a conductance (`Drive.{name}`)."
                )
        inputs = inputs.I
    h = jnp.asarray(inputs, dtype)
    if h.shape not in ((), (1,), (n,)):
        raise ValueError(
            f"`inputs` of shape {h.shape} does not fit a rate population of {n} units: give a "
            f"scalar or one value per unit (shape ({n},))."
        )
    return jnp.broadcast_to(h, (n,))
