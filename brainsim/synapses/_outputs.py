"""How a synaptic variable acts on the postsynaptic neuron: as a conductance or a current."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim._validation import as_param, check_finite, check_positive
from brainsim.neurons import Drive


class Conductance(eqx.Module):
    """Conductance-based output: current `g (E - v)` (pA) for `g` in nS and `E` in mV.

    Attributes:
        E: reversal potential (mV).

    Examples:
        >>> from brainsim.synapses import Conductance
        >>> Conductance(E=0.0).drive(g=2.0, v=-60.0).current(-60.0)
        Array(120., dtype=float32, weak_type=True)
    """

    E: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)

    def __check_init__(self):
        check_finite("E", self.E)

    def drive(self, g: Float[Array, " n"], v: Float[Array, " n"]) -> Drive:
        """The `Drive` of conductance `g` (nS); exact within the neuron's integrator."""
        return Drive(g=g, g_E=g * self.E)


class Current(eqx.Module):
    """Current-based output: the synaptic variable is a current (pA) added to the neuron.

    Examples:
        >>> from brainsim.synapses import Current
        >>> Current().drive(g=50.0, v=-60.0).current(-60.0)
        50.0
    """

    def drive(self, g: Float[Array, " n"], v: Float[Array, " n"]) -> Drive:
        """The `Drive` of a current `g` (pA)."""
        return Drive(I=g)


class NMDA(eqx.Module):
    """NMDA output: conductance with the magnesium block of Jahr & Stevens (1990).

    Current `g B(v) (E - v)` with `B(v) = 1 / (1 + [Mg] exp(-0.062 v) / 3.57)`; the block is
    evaluated at the potential at the start of the step.

    Attributes:
        E: reversal potential (mV), default 0.
        mg: extracellular magnesium concentration (mM, >= 0), default 1.

    Examples:
        >>> from brainsim.synapses import NMDA
        >>> round(float(NMDA().block(-60.0)), 4)
        0.0796

    Reference: Jahr & Stevens (1990), J. Neurosci. 10:3178.
    """

    E: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    mg: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)

    def __check_init__(self):
        check_finite("E", self.E)
        check_positive("mg", self.mg, allow_zero=True)

    def block(self, v: Float[Array, " n"]) -> Float[Array, " n"]:
        """Unblocked fraction `B(v)` (dimensionless) at potential `v` (mV)."""
        return 1.0 / (1.0 + self.mg * jnp.exp(-0.062 * jnp.asarray(v)) / 3.57)

    def drive(self, g: Float[Array, " n"], v: Float[Array, " n"]) -> Drive:
        """The `Drive` of NMDA conductance `g` (nS) at potential `v` (mV)."""
        g_open = g * self.block(v)
        return Drive(g=g_open, g_E=g_open * self.E)
