"""Growth curves of synaptic elements: how fast a neuron grows or retracts elements given its
calcium, the homeostatic rules of Butz & van Ooyen structural plasticity."""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim._validation import as_param, check_less, check_positive


class GrowthCurve(eqx.Module):
    """A growth curve: `dz/dt = nu · f(Ca)` (elements/ms) of a neuron's synaptic elements `z`.

    `f` is positive below the target calcium `eps` and negative above it, so a neuron grows
    elements (and, through them, synapses) while it is less active than its target and loses
    them while it is more active.
    """

    nu: eqx.AbstractVar[Float[Array, "*n"]]

    @abc.abstractmethod
    def rate(self, calcium: Float[Array, " n"]) -> Float[Array, " n"]:
        """`dz/dt` (elements/ms) at calcium `calcium` (one value per neuron)."""


class GaussianGrowth(GrowthCurve):
    """Gaussian growth curve (Butz & van Ooyen 2013, NEST's `gaussian`).

        dz/dt = nu (2 exp(-((Ca - xi) / zeta)²) - 1),   xi = (eta + eps) / 2,
        zeta = (eps - eta) / (2 sqrt(ln 2))

    Elements grow for `eta < Ca < eps` (fastest at `xi`), retract outside; `dz/dt = 0` at
    `Ca = eta` and `Ca = eps`, so `eps` is the activity a neuron settles at.

    Attributes:
        nu: growth rate (elements/ms, >= 0).
        eta: calcium below which elements retract (same unit as the calcium, dimensionless in
            NEST; < eps).
        eps: target calcium (> eta).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.plasticity import GaussianGrowth
        >>> curve = GaussianGrowth(nu=1e-4, eta=0.0, eps=0.05)
        >>> round(float(curve.rate(jnp.array(0.025))), 8)   # fastest growth: nu (elements/ms)
        0.0001

    Reference: Butz & van Ooyen (2013), *A simple rule for dendritic spine and axonal bouton
    formation can account for cortical reorganization after focal retinal lesions*, PLoS
    Comput. Biol. 9:e1003259.
    """

    nu: Float[Array, "*n"] = eqx.field(default=1e-4, converter=as_param)
    eta: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    eps: Float[Array, "*n"] = eqx.field(default=0.05, converter=as_param)

    def __check_init__(self):
        check_positive("nu", self.nu, allow_zero=True)
        check_less("eta", self.eta, "eps", self.eps)

    def rate(self, calcium):
        xi = 0.5 * (self.eta + self.eps)
        zeta = (self.eps - self.eta) / (2.0 * math.sqrt(math.log(2.0)))
        return self.nu * (2.0 * jnp.exp(-(((calcium - xi) / zeta) ** 2)) - 1.0)


class LinearGrowth(GrowthCurve):
    """Linear growth curve (NEST's `linear`): `dz/dt = nu (1 - Ca / eps)`.

    Attributes:
        nu: growth rate at zero calcium (elements/ms, >= 0).
        eps: target calcium (> 0).

    Examples:
        >>> from brainsim.plasticity import LinearGrowth
        >>> curve = LinearGrowth(nu=1e-4, eps=0.05)

    Reference: van Ooyen & van Pelt (1994), *Activity-dependent outgrowth of neurons and
    overshoot phenomena in developing neural networks*, J. Theor. Biol. 167:27-43.
    """

    nu: Float[Array, "*n"] = eqx.field(default=1e-4, converter=as_param)
    eps: Float[Array, "*n"] = eqx.field(default=0.05, converter=as_param)

    def __check_init__(self):
        check_positive("nu", self.nu, allow_zero=True)
        check_positive("eps", self.eps)

    def rate(self, calcium):
        return self.nu * (1.0 - calcium / self.eps)


class SigmoidGrowth(GrowthCurve):
    """Sigmoidal growth curve (NEST's `sigmoid`): `dz/dt = nu (2 / (1 + exp((Ca - eps)/psi)) - 1)`.

    Attributes:
        nu: growth rate (elements/ms, >= 0).
        eps: target calcium.
        psi: width of the transition (calcium, > 0).

    Examples:
        >>> from brainsim.plasticity import SigmoidGrowth
        >>> curve = SigmoidGrowth(nu=1e-4, eps=0.05, psi=0.01)
    """

    nu: Float[Array, "*n"] = eqx.field(default=1e-4, converter=as_param)
    eps: Float[Array, "*n"] = eqx.field(default=0.05, converter=as_param)
    psi: Float[Array, "*n"] = eqx.field(default=0.01, converter=as_param)

    def __check_init__(self):
        check_positive("nu", self.nu, allow_zero=True)
        check_positive("psi", self.psi)

    def rate(self, calcium):
        return self.nu * (2.0 / (1.0 + jnp.exp((calcium - self.eps) / self.psi)) - 1.0)
