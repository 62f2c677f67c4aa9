"""Choose parameters of a model to fit: unconstrained arrays and the map back to the model."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim.fit._bounds import check_bounds, check_inside, to_theta, to_value
from brainsim.fit._default_bounds import default_bounds


def _owner_and_field(model, path: str):
    """The module holding the parameter at the dotted `path` and the field's name."""
    *parents, name = path.split(".")
    owner = model
    for part in parents:
        if not hasattr(owner, part):
            raise ValueError(f"{type(owner).__name__} has no attribute `{part}` (in `{path}`).")
        owner = getattr(owner, part)
    arrays = [
        f.name
        for f in dataclasses.fields(owner)
        if eqx.is_inexact_array(getattr(owner, f.name)) and not f.metadata.get("static", False)
    ] if dataclasses.is_dataclass(owner) else []
    if name not in arrays:
        raise ValueError(
            f"{type(owner).__name__} has no parameter `{name}` (in `{path}`); its parameters "
            f"are: {', '.join(arrays) or 'none'}."
        )
    return owner, name


def _get(model, path: str):
    for part in path.split("."):
        model = getattr(model, part)
    return model


class ParameterMap(eqx.Module):
    """Maps unconstrained parameters (a dict of arrays) to a model with those values.

    Made by `parametrize`. `params` is a dict `{name: theta}` of unconstrained arrays; each
    `value = to_value(theta)` is the smooth transform of `Bounded` for that parameter's
    `bounds[name]`. Calling the map puts the values into a copy of the template model
    (`equinox.tree_at`); the other parameters keep the template's values.

    Attributes:
        model: the template model.
        bounds: `{name: (low, high)}` used for each fitted parameter.

    The map is a pytree (the template's arrays are its leaves, the bounds static), so it can
    be passed into `jax.jit`-compiled functions.

    Examples:
        >>> import brainsim as bs
        >>> from brainsim.fit import parametrize
        >>> params, to_model = parametrize(bs.neurons.LIF(tau_m=20.0), ["tau_m", "v_th"])
        >>> to_model.values(params)["tau_m"]
        Array(20., dtype=float32)
        >>> to_model(to_model.unconstrained({"tau_m": 5.0, "v_th": -45.0})).tau_m
        Array(5., dtype=float32)

    Reference: Deistler et al. (2024), Jaxley, bioRxiv (parameter transforms for fitting).
    """

    model: eqx.Module
    fitted: tuple[tuple[str, tuple[float | None, float | None]], ...] = eqx.field(static=True)

    @property
    def bounds(self) -> dict[str, tuple[float | None, float | None]]:
        """`{name: (low, high)}` of every fitted parameter (same unit as the parameter)."""
        return dict(self.fitted)

    def values(self, params: dict[str, Float[Array, "*shape"]]) -> dict[str, Float[Array, "*s"]]:
        """The constrained value of every fitted parameter (its unit), `{name: value}`."""
        self._check_names(params)
        return {name: to_value(params[name], *bounds) for name, bounds in self.bounds.items()}

    def unconstrained(self, values: dict) -> dict[str, Float[Array, "*shape"]]:
        """The unconstrained `params` of the given values (each strictly inside its bounds).

        Use it to start from other values, e.g. many random starts drawn within the bounds.
        """
        self._check_names(values)
        params = {}
        for name, (low, high) in self.bounds.items():
            value = jnp.asarray(values[name], jnp.result_type(float))
            check_inside(name, value, low, high)
            params[name] = to_theta(value, low, high)
        return params

    def __call__(self, params: dict[str, Float[Array, "*shape"]]) -> eqx.Module:
        """The template model with the fitted parameters set to their constrained values."""
        values = self.values(params)
        names = list(values)
        return eqx.tree_at(
            lambda m: [_get(m, name) for name in names], self.model, [values[n] for n in names]
        )

    def _check_names(self, given) -> None:
        if set(given) != set(self.bounds):
            raise ValueError(
                f"expected the parameters {sorted(self.bounds)}, got {sorted(given)}."
            )


def parametrize(
    model: eqx.Module,
    names: Sequence[str] | Mapping[str, tuple[float | None, float | None] | None],
) -> tuple[dict[str, Float[Array, "*shape"]], ParameterMap]:
    """Unconstrained parameters for fitting some of a model's parameters, and the map back.

    Each named parameter `p` gets bounds `(low, high)` (given, or `default_bounds(model, p)`)
    and the unconstrained `theta_p` of its current value under the transform of `Bounded`
    (scaled sigmoid for two bounds, softplus for one). Gradient descent on the returned
    `params` (e.g. with optax) keeps every value inside its bounds; `jax.vmap` over a leading
    axis of `params` evaluates many starts at once.

    Args:
        model: the template model (an equinox module: a neuron model, a network, ...).
        names: the parameters to fit: a list of field names (default bounds), or a dict
            `{name: (low, high)}` (same units as the parameter; `None` for an open side, or
            `None` instead of the pair for the defaults). Dotted names reach into submodules
            (`"neurons.tau_m"`).

    Returns:
        `(params, to_model)`: `params` a dict `{name: theta}` of unconstrained arrays (the
        shape of each parameter), and `to_model`, a `ParameterMap` (`to_model(params)` is the
        model).

    Raises:
        ValueError: for a name the model does not have (listing the ones it has), for bounds
            with `low >= high`, or for bounds that exclude the parameter's current value.

    Examples:
        >>> import jax, jax.numpy as jnp, optax
        >>> import brainsim as bs
        >>> from brainsim.fit import parametrize
        >>> params, to_model = parametrize(bs.neurons.LIF(), {"tau_m": (1.0, 50.0)})
        >>> loss = lambda p: (to_model(p).tau_m - 30.0) ** 2
        >>> optimiser = optax.adam(0.1)
        >>> state = optimiser.init(params)
        >>> for _ in range(300):
        ...     updates, state = optimiser.update(jax.grad(loss)(params), state)
        ...     params = optax.apply_updates(params, updates)
        >>> round(float(to_model(params).tau_m), 1)
        30.0

    Reference: Deistler et al. (2024), Jaxley, bioRxiv; Rossant et al. (2011), Front.
    Neurosci. 5:9 (fitting model parameters within box bounds).
    """
    if isinstance(names, str):
        raise TypeError(f"`names` must be a list or dict of parameter names, got {names!r}.")
    given = dict(names) if isinstance(names, Mapping) else dict.fromkeys(names)
    if not given:
        raise ValueError("`names` is empty: name at least one parameter to fit.")
    bounds, params = {}, {}
    for name, pair in given.items():
        owner, field = _owner_and_field(model, name)
        if pair is None:
            pair = default_bounds(owner, field)
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise ValueError(f"bounds of `{name}` must be a pair (low, high), got {pair!r}.")
        low, high = (None if b is None else float(b) for b in pair)
        check_bounds(name, low, high)
        value = getattr(owner, field)
        value = value.astype(value.dtype)  # a strongly typed copy: params keep the model's dtype
        check_inside(name, value, low, high)
        bounds[name] = (low, high)
        params[name] = to_theta(value, low, high)
    return params, ParameterMap(model=model, fitted=tuple(bounds.items()))
