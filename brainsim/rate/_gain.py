"""Gain functions of rate neurons: the input nonlinearity `φ(h)` (NEST's `input`)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from brainsim._validation import _concrete, as_param, check_finite, check_positive


class Gain(eqx.Module):
    """Base class of gain functions `φ(h)`: call with the summed input `h` (any shape)."""

    def __call__(self, h: Float[ArrayLike, "*n"]) -> Float[Array, "*n"]:
        raise NotImplementedError


class Linear(Gain):
    """`φ(h) = g · h` (NEST: `lin_rate`).

    Attributes:
        g: gain (dimensionless, finite).

    Examples:
        >>> from brainsim.rate import Linear
        >>> float(Linear(g=2.0)(1.5))
        3.0
    """

    g: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)

    def __check_init__(self):
        check_finite("g", self.g)

    def __call__(self, h):
        return self.g * h


class ThresholdLinear(Gain):
    """`φ(h) = min(max(g · (h - θ), 0), α)` (NEST: `threshold_lin_rate`).

    Attributes:
        g: gain (> 0).
        theta: threshold (same unit as `h`).
        alpha: saturation (> 0; default `inf`, no saturation).

    Examples:
        >>> from brainsim.rate import ThresholdLinear
        >>> [float(x) for x in ThresholdLinear(g=2.0, theta=1.0, alpha=3.0)([0.0, 2.0, 9.0])]
        [0.0, 2.0, 3.0]
    """

    g: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    theta: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)
    alpha: Float[Array, "*n"] = eqx.field(default=float("inf"), converter=as_param)

    def __check_init__(self):
        check_positive("g", self.g)
        check_finite("theta", self.theta)
        alpha = _concrete(self.alpha)
        if alpha is not None and (np.any(np.isnan(alpha)) or np.any(alpha <= 0)):
            raise ValueError(f"`alpha` must be > 0 (or inf), got {alpha}.")

    def __call__(self, h):
        return jnp.minimum(jnp.maximum(self.g * (jnp.asarray(h) - self.theta), 0.0), self.alpha)


class Tanh(Gain):
    """`φ(h) = tanh(g · (h - θ))` (NEST: `tanh_rate`).

    Attributes:
        g: gain (> 0).
        theta: threshold (same unit as `h`).

    Examples:
        >>> from brainsim.rate import Tanh
        >>> float(Tanh(g=1.0, theta=0.0)(0.0))
        0.0
    """

    g: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    theta: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)

    def __check_init__(self):
        check_positive("g", self.g)
        check_finite("theta", self.theta)

    def __call__(self, h):
        return jnp.tanh(self.g * (jnp.asarray(h) - self.theta))


class Sigmoid(Gain):
    """`φ(h) = g / (1 + exp(-β · (h - θ)))` (NEST: `sigmoid_rate`).

    Attributes:
        g: maximum (> 0).
        beta: slope (> 0).
        theta: half-activation point (same unit as `h`).

    Examples:
        >>> from brainsim.rate import Sigmoid
        >>> float(Sigmoid(g=2.0, beta=1.0, theta=1.0)(1.0))
        1.0
    """

    g: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    beta: Float[Array, "*n"] = eqx.field(default=1.0, converter=as_param)
    theta: Float[Array, "*n"] = eqx.field(default=0.0, converter=as_param)

    def __check_init__(self):
        check_positive("g", self.g)
        check_positive("beta", self.beta)
        check_finite("theta", self.theta)

    def __call__(self, h):
        return self.g / (1.0 + jnp.exp(-self.beta * (jnp.asarray(h) - self.theta)))
