"""Leaky-integrator readout: a non-spiking output population whose potential is the output."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_broadcasts, check_positive
from brainsim.integrators import relax


class ReadoutState(NamedTuple):
    """State of a `LeakyReadout` population.

    Attributes:
        v: readout potential (mV), shape `(n,)`.
    """

    v: Float[Array, " n"]


class LeakyReadout(eqx.Module):
    """Leaky integrator without threshold, used as the output layer of a trained network.

    `tau_m dv/dt = -v + R I`, integrated exactly over each step with the input current `I`
    (pA) held constant: `v(t + dt) = R I + (v(t) - R I) exp(-dt / tau_m)`. The step outputs
    `v(t + dt)`, which losses such as `max_over_time_cross_entropy` read as logits.

    Same contract as the neuron models (`init(n, key)`, `step(state, inputs, *, t, dt)`), so it
    runs with `brainsim.run` and sits at the end of a `brainsim.train.Sequential`.

    Attributes:
        tau_m: membrane time constant (ms, > 0), scalar or one per output.
        R: resistance (GΩ = mV/pA, > 0): `R · 1 pA` is a drive in mV.

    Examples:
        >>> import brainsim as bs
        >>> readout = bs.train.LeakyReadout(tau_m=20.0, R=0.1)
        >>> state, v = readout.step(readout.init(2), 100.0, t=0.0, dt=1.0)
        >>> [round(float(x), 3) for x in v]       # R I (1 - exp(-dt / tau_m)) mV
        [0.488, 0.488]

    Reference: Zenke & Ganguli (2018), *SuperSpike*, Neural Computation 30 (readout units);
    Cramer et al. (2022), *The Heidelberg spiking data sets*, IEEE TNNLS (max-over-time readout).
    """

    tau_m: Float[Array, "*n"] = eqx.field(default=20.0, converter=as_param)
    R: Float[Array, "*n"] = eqx.field(default=0.1, converter=as_param)

    def __check_init__(self):
        check_positive("tau_m", self.tau_m)
        check_positive("R", self.R)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> ReadoutState:
        """`n` readout units at `v = 0` (the key is accepted for the common contract, unused)."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` (number of readout units) must be a positive int, got {n!r}.")
        for name in ("tau_m", "R"):
            value = getattr(self, name)
            if hasattr(value, "shape"):
                check_broadcasts(name, value, n)
        return ReadoutState(v=jnp.zeros((n,), jnp.result_type(float)))

    def step(
        self, state: ReadoutState, inputs=None, *, t, dt
    ) -> tuple[ReadoutState, Float[Array, " n"]]:
        """Advance by `dt` ms with input current `inputs` (pA); returns the new potential (mV)."""
        current = 0.0 if inputs is None else inputs
        v = relax(state.v, self.R * current, self.tau_m, dt)
        return ReadoutState(v=v), v
