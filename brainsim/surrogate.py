"""Surrogate-gradient Heaviside functions.

The forward pass of every surrogate is the exact step `H(x) = 1[x > 0]`, returned as 0.0 / 1.0 in
the dtype of `x`; the backward pass replaces `dH/dx` by the derivative `σ'(x)` of a smooth
function. The same object therefore simulates (exact spikes) and trains (useful gradients).

| class | σ'(x) | default |
|---|---|---|
| `Sigmoid` | `α s(αx) (1 - s(αx))`, s the logistic function | α = 4 |
| `FastSigmoid` | `1 / (1 + α|x|)²` (SuperSpike, Zenke & Ganguli 2018) | α = 10 |
| `Arctan` | `α / (2 (1 + (π α x / 2)²))` | α = 2 |
| `Triangle` | `γ max(0, 1 - |x| / w)` (Bellec et al. 2018) | γ = 0.3, w = 1 |
| `Gaussian` | `exp(-x² / 2σ²) / (σ √(2π))` | σ = 0.5 |

Examples:
    >>> import jax, jax.numpy as jnp
    >>> from brainsim.surrogate import FastSigmoid
    >>> spike = FastSigmoid(alpha=10.0)
    >>> spike(jnp.array([-0.1, 0.2]))
    Array([0., 1.], dtype=float32)
    >>> float(jax.grad(lambda x: spike(x))(0.0))
    1.0
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from brainsim._validation import as_param, check_positive

__all__ = ["Surrogate", "Sigmoid", "FastSigmoid", "Arctan", "Triangle", "Gaussian", "heaviside"]


class Surrogate(eqx.Module):
    """Base class: a Heaviside step with exact forward and surrogate backward pass.

    Subclasses implement `derivative(x)`, the surrogate `σ'(x)`. Their sharpness parameters are
    array fields, so they can be swept with `vmap` (their own gradient is zero: the forward pass
    does not depend on them).
    """

    def derivative(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        raise NotImplementedError

    def __call__(self, x: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
        return heaviside(x, self)


@jax.custom_jvp
def heaviside(x: Float[ArrayLike, "*shape"], surrogate: Surrogate) -> Float[Array, "*shape"]:
    """Exact step `1[x > 0]` whose derivative with respect to `x` is `surrogate.derivative(x)`.

    Args:
        x: distance to threshold (dimensionless, or in whatever scale the caller normalises).
        surrogate: the `Surrogate` whose derivative is used in the backward pass.

    Returns:
        0.0 / 1.0 in the floating dtype of `x`.
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return (x > 0).astype(x.dtype)


@heaviside.defjvp
def _heaviside_jvp(primals, tangents):
    x, surrogate = primals
    x_dot, _ = tangents
    out = heaviside(x, surrogate)
    return out, surrogate.derivative(jnp.asarray(x, out.dtype)).astype(out.dtype) * x_dot


class Sigmoid(Surrogate):
    """Logistic surrogate: `σ'(x) = α s(αx)(1 - s(αx))`.

    Attributes:
        alpha: sharpness (dimensionless, > 0); default 4.
    """

    alpha: Float[Array, ""] = eqx.field(default=4.0, converter=as_param)

    def __check_init__(self):
        check_positive("alpha", self.alpha)

    def derivative(self, x):
        s = jax.nn.sigmoid(self.alpha * x)
        return self.alpha * s * (1.0 - s)


class FastSigmoid(Surrogate):
    """SuperSpike fast-sigmoid surrogate (Zenke & Ganguli 2018): `σ'(x) = 1 / (1 + α|x|)²`.

    Attributes:
        alpha: sharpness (dimensionless, > 0); default 10.
    """

    alpha: Float[Array, ""] = eqx.field(default=10.0, converter=as_param)

    def __check_init__(self):
        check_positive("alpha", self.alpha)

    def derivative(self, x):
        return 1.0 / (1.0 + self.alpha * jnp.abs(x)) ** 2


class Arctan(Surrogate):
    """Arctan surrogate (SpikingJelly's default): `σ'(x) = α / (2 (1 + (π α x / 2)²))`.

    Attributes:
        alpha: sharpness (dimensionless, > 0); default 2.
    """

    alpha: Float[Array, ""] = eqx.field(default=2.0, converter=as_param)

    def __check_init__(self):
        check_positive("alpha", self.alpha)

    def derivative(self, x):
        return self.alpha / (2.0 * (1.0 + (math.pi * self.alpha * x / 2.0) ** 2))


class Triangle(Surrogate):
    """Piecewise-linear surrogate (Bellec et al. 2018): `σ'(x) = γ max(0, 1 - |x| / w)`.

    Attributes:
        gamma: peak height (dimensionless, > 0); default 0.3.
        width: half width of the support (same scale as x, > 0); default 1.
    """

    gamma: Float[Array, ""] = eqx.field(default=0.3, converter=as_param)
    width: Float[Array, ""] = eqx.field(default=1.0, converter=as_param)

    def __check_init__(self):
        check_positive("gamma", self.gamma)
        check_positive("width", self.width)

    def derivative(self, x):
        return self.gamma * jnp.maximum(0.0, 1.0 - jnp.abs(x) / self.width)


class Gaussian(Surrogate):
    """Gaussian surrogate: `σ'(x) = exp(-x² / 2σ²) / (σ √(2π))`.

    Attributes:
        sigma: standard deviation (same scale as x, > 0); default 0.5.
    """

    sigma: Float[Array, ""] = eqx.field(default=0.5, converter=as_param)

    def __check_init__(self):
        check_positive("sigma", self.sigma)

    def derivative(self, x):
        return jnp.exp(-(x**2) / (2.0 * self.sigma**2)) / (self.sigma * math.sqrt(2.0 * math.pi))
