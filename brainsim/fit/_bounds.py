"""Bounded parameters through smooth transforms: a scaled sigmoid or a shifted softplus."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


def check_bounds(name: str, low: float | None, high: float | None) -> None:
    """`ValueError` unless `low` and `high` are `None` or finite with `low < high`."""
    for side, bound in (("low", low), ("high", high)):
        if bound is not None and not np.isfinite(bound):
            raise ValueError(
                f"`{name}`: the {side} bound must be finite or None (unbounded), got {bound!r}."
            )
    if low is not None and high is not None and not low < high:
        raise ValueError(f"`{name}`: the bounds must have low < high, got ({low}, {high}).")


def check_inside(name: str, value, low: float | None, high: float | None) -> None:
    """`ValueError` unless every entry of a concrete `value` lies strictly inside the bounds."""
    if isinstance(value, jax.core.Tracer):
        return
    array = np.asarray(value)
    below = low is not None and np.any(array <= low)
    above = high is not None and np.any(array >= high)
    if below or above or not np.all(np.isfinite(array)):
        raise ValueError(
            f"`{name}` = {array} is not strictly inside its bounds ({low}, {high}): a smooth "
            "transform only reaches the open interval. Start from a value inside, or give wider "
            "bounds."
        )


def to_value(theta, low: float | None, high: float | None):
    """The constrained value of the unconstrained `theta` (see `Bounded`)."""
    if low is not None and high is not None:
        return low * jax.nn.sigmoid(-theta) + high * jax.nn.sigmoid(theta)  # accurate at both ends
    if low is not None:
        return low + jax.nn.softplus(theta)
    if high is not None:
        return high - jax.nn.softplus(theta)
    return theta


def _inverse_softplus(y):
    """`x` with `softplus(x) = y > 0`, accurate for small and large `y`."""
    return y + jnp.log(-jnp.expm1(-y))


def to_theta(value, low: float | None, high: float | None):
    """The unconstrained `theta` of a `value` strictly inside the bounds (inverse of `to_value`)."""
    if low is not None and high is not None:
        return jnp.log(value - low) - jnp.log(high - value)
    if low is not None:
        return _inverse_softplus(value - low)
    if high is not None:
        return _inverse_softplus(high - value)
    return value


class Bounded(eqx.Module):
    """A parameter kept inside `(low, high)` by a smooth transform of an unconstrained `theta`.

    | bounds | `value(theta)` | `theta(value)` |
    |---|---|---|
    | `low`, `high` | `low σ(-theta) + high σ(theta)` | `log((value - low) / (high - value))` |
    | `low` only | `low + softplus(theta)` | `softplus⁻¹(value - low)` |
    | `high` only | `high - softplus(theta)` | `softplus⁻¹(high - value)` |
    | neither | `theta` | `value` |

    with `σ` the logistic function (`low σ(-θ) + high σ(θ) = low + (high - low) σ(θ)`, written
    to stay accurate near either bound) and `softplus⁻¹(y) = y + log(1 - exp(-y))`. Gradient steps
    on `theta` never leave the bounds, and unlike a clamp the gradient never vanishes at a bound
    abruptly (it decays smoothly as the value approaches it).

    Args:
        value: initial value (the parameter's unit, e.g. ms for `tau_m`), strictly inside the
            bounds; a scalar or an array.
        low: lower bound (same unit), or `None`.
        high: upper bound (same unit), or `None`.

    Examples:
        >>> import jax
        >>> from brainsim.fit import Bounded
        >>> p = Bounded(-65.0, low=-100.0, high=0.0)
        >>> round(float(p.value), 4)
        -65.0
        >>> round(float(jax.grad(lambda p: p.value)(p).theta), 4)   # (high - low) σ (1 - σ)
        22.75

    Reference: Deistler et al. (2024), *Jaxley: differentiable simulation enables large-scale
    training of detailed biophysical models of neural dynamics*, bioRxiv (sigmoid and softplus
    parameter transforms); Carpenter et al. (2017), *Stan*, J. Stat. Softw. 76 (constrained
    parameters by change of variables).
    """

    theta: Float[Array, "*shape"]
    low: float | None = eqx.field(static=True)
    high: float | None = eqx.field(static=True)

    def __init__(
        self,
        value: Float[ArrayLike, "*shape"],
        low: float | None = None,
        high: float | None = None,
    ):
        low = None if low is None else float(low)
        high = None if high is None else float(high)
        check_bounds("value", low, high)
        value = jnp.asarray(value)
        if not jnp.issubdtype(value.dtype, jnp.floating):
            value = value.astype(jnp.result_type(float))
        check_inside("value", value, low, high)
        self.low, self.high = low, high
        self.theta = to_theta(value, low, high)

    @property
    def value(self) -> Float[Array, "*shape"]:
        """The constrained value (see the table above)."""
        return to_value(self.theta, self.low, self.high)
