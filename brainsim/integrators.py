"""Fixed-step integrators over pytrees of state.

Every integrator advances `dy/dt = f(t, y)` by one step `dt` (ms) and has the signature
`integrator(f, y, t, dt) -> y_next`, where `y` is any pytree of arrays and `f` returns a pytree of
the same structure.

- `euler`: forward Euler, first order.
- `exp_euler`: exponential Euler, first order, exact for equations that are linear in their own
  variable. Each variable `y_k` is advanced as `y_k + dt · f_k · φ₁(B_k dt)` with
  `B_k = ∂f_k/∂y_k` (found with a forward-mode derivative) and `φ₁(z) = (eᶻ - 1)/z`; for
  `f_k = A + B y_k` this is the exact solution `y∞ + (y_k - y∞) e^{B dt}` with the other variables
  frozen over the step, as in Brian2's `exponential_euler`. It assumes the state is element-wise
  (neuron `i`'s derivative depends only on neuron `i`'s variables), as for every point neuron.
- `rk4`: classic fourth-order Runge-Kutta.

`exact_decay` and `relax` are the exact propagators of linear decays.

Examples:
    >>> import jax.numpy as jnp
    >>> from brainsim import integrators
    >>> f = lambda t, v: (-65.0 - v) / 10.0          # tau dv/dt = v_rest - v
    >>> v1 = integrators.exp_euler(f, jnp.array(-50.0), 0.0, 0.1)
    >>> bool(jnp.allclose(v1, integrators.relax(-50.0, -65.0, 10.0, 0.1)))
    True
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PyTree

__all__ = ["euler", "exp_euler", "rk4", "exact_decay", "relax", "get"]

Derivative = Callable[[ArrayLike, PyTree], PyTree]


def euler(f: Derivative, y: PyTree, t: ArrayLike, dt: ArrayLike) -> PyTree:
    """One forward-Euler step: `y + dt · f(t, y)`."""
    dy = f(t, y)
    return jax.tree.map(lambda a, b: a + dt * b, y, dy)


def rk4(f: Derivative, y: PyTree, t: ArrayLike, dt: ArrayLike) -> PyTree:
    """One classic fourth-order Runge-Kutta step."""

    def shifted(k, scale):
        return jax.tree.map(lambda a, b: a + scale * dt * b, y, k)

    k1 = f(t, y)
    k2 = f(t + dt / 2, shifted(k1, 0.5))
    k3 = f(t + dt / 2, shifted(k2, 0.5))
    k4 = f(t + dt, shifted(k3, 1.0))
    return jax.tree.map(
        lambda a, b1, b2, b3, b4: a + dt / 6 * (b1 + 2 * b2 + 2 * b3 + b4), y, k1, k2, k3, k4
    )


_MAX_GROWTH_EXPONENT = 50.0


def _phi1(z: Float[Array, "*s"]) -> Float[Array, "*s"]:
    """`(e^z - 1) / z`, accurate near zero and with a finite gradient there.

    For `|z| < 0.02` a Taylor polynomial (truncation error below `z⁶/5040 ≈ 1e-14`), elsewhere
    `(exp(z) - 1) / z` (rounding error about `eps / |z|`, at most 1e-14 in float64). Both are
    cheaper than `expm1` on XLA's CPU backend, which matters because every conductance-based
    neuron evaluates this once per step. `z` is capped at 50: a variable growing by more than
    e^50 in one step is in run-away (the upstroke of an exponential integrate-and-fire spike),
    where only finiteness matters.
    """
    z = jnp.minimum(z, _MAX_GROWTH_EXPONENT)
    small = jnp.abs(z) < 0.02
    z_safe = jnp.where(small, 1.0, z)
    series = 1.0 + z * (1 / 2 + z * (1 / 6 + z * (1 / 24 + z * (1 / 120 + z / 720))))
    return jnp.where(small, series, (jnp.exp(z_safe) - 1.0) / z_safe)


def exp_euler(f: Derivative, y: PyTree, t: ArrayLike, dt: ArrayLike) -> PyTree:
    """One exponential-Euler step (see the module docstring)."""
    leaves, treedef = jax.tree.flatten(y)
    dy = jax.tree.leaves(f(t, y))
    new = []
    for k, (y_k, dy_k) in enumerate(zip(leaves, dy, strict=True)):
        # The rate B_k = ∂f_k/∂y_k: only y_k is differentiated (the others are constants), so
        # the derivative costs one forward pass through f_k, not through all of f.
        def f_k(x, k=k):
            return jax.tree.leaves(
                f(t, jax.tree.unflatten(treedef, [*leaves[:k], x, *leaves[k + 1 :]]))
            )[k]

        _, rate = jax.jvp(f_k, (y_k,), (jnp.ones_like(y_k),))
        new.append(y_k + dt * dy_k * _phi1(rate * dt))
    return jax.tree.unflatten(treedef, new)


def exact_decay(x: Float[ArrayLike, "*s"], tau: Float[ArrayLike, "*s"], dt) -> Float[Array, "*s"]:
    """Exact solution of `tau dx/dt = -x` over one step: `x · exp(-dt / tau)` (tau, dt in ms)."""
    return x * jnp.exp(-dt / tau)


def relax(
    x: Float[ArrayLike, "*s"], x_inf: Float[ArrayLike, "*s"], tau: Float[ArrayLike, "*s"], dt
) -> Float[Array, "*s"]:
    """Exact solution of `tau dx/dt = x_inf - x` over one step (tau, dt in ms)."""
    return x_inf + (x - x_inf) * jnp.exp(-dt / tau)


_METHODS: dict[str, Callable] = {"euler": euler, "exp_euler": exp_euler, "rk4": rk4}


def get(method: str) -> Callable:
    """Return the integrator named `method` (`"euler"`, `"exp_euler"` or `"rk4"`)."""
    try:
        return _METHODS[method]
    except KeyError:
        raise ValueError(f"`method` must be one of {sorted(_METHODS)}, got {method!r}.") from None
