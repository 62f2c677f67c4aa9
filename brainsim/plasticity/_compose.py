"""Composition of plasticity rules, in the manner of optax: `chain` and `clip`."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param
from brainsim.plasticity._traces import check_bounds, resolve


class Chain(eqx.Module):
    """Rules applied one after another to the same weights (made by `chain`).

    `init(conn)` returns a tuple with the traces of each rule; `update` passes the weights
    returned by one rule to the next, and the same spikes, `dt`, `conn` and `modulator` to all.

    Attributes:
        rules: the rules, in order (each with `init(conn)` and `update(...)`).

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import STDP, chain, clip
        >>> rule = chain(STDP(A_plus=0.5, w_min=-jnp.inf), clip(0.0, 1.0))
        >>> conn = bo.Dense(jnp.full((1, 1), 0.8))
        >>> traces, w = rule.init(conn), conn.weights
        >>> for pre, post in [(1.0, 0.0), (0.0, 1.0)]:
        ...     w, traces = rule.update(traces, w, jnp.array([pre]), jnp.array([post]),
        ...                             dt=1.0, conn=conn)
        >>> float(w[0, 0])
        1.0
    """

    rules: tuple[Any, ...]

    def init(self, conn) -> tuple[Any, ...]:
        """The traces of every rule, as a tuple in rule order."""
        return tuple(rule.init(conn) for rule in self.rules)

    def update(self, traces, weights, pre_spikes, post_spikes, *, dt, conn=None,
               modulator=None) -> tuple[Array, tuple[Any, ...]]:
        """Apply each rule in turn; arguments as in the rules' `update`."""
        if type(traces) is not tuple or len(traces) != len(self.rules):
            raise ValueError(f"`traces` must be the tuple of {len(self.rules)} traces made by "
                             "`Chain.init`.")
        new = []
        for rule, rule_traces in zip(self.rules, traces, strict=True):
            weights, rule_traces = rule.update(rule_traces, weights, pre_spikes, post_spikes,
                                               dt=dt, conn=conn, modulator=modulator)
            new.append(rule_traces)
        return weights, tuple(new)


def chain(*rules) -> Chain:
    """Compose plasticity rules: `chain(a, b)` applies `a`, then `b`, to the weights.

    Examples:
        >>> from brainsim.plasticity import STDP, chain, clip
        >>> rule = chain(STDP(), clip(0.0, 1.0))
    """
    for rule in rules:
        if not (callable(getattr(rule, "init", None)) and callable(getattr(rule, "update", None))):
            raise TypeError(f"every rule needs `init` and `update` methods, got {rule!r}.")
    return Chain(rules=tuple(rules))


class Clip(eqx.Module):
    """Hard weight bounds as a rule: `w ← clip(w, w_min, w_max)` at every call (made by `clip`).

    It has no traces (`init` returns `()`). Unlike the bounds inside the spike-driven rules,
    which apply only to the synapses an event touched, it visits every synapse (synapses
    outside a `Dense` mask are left as they are).

    Attributes:
        w_min, w_max: bounds (units of the weight; `-inf` / `inf`: none).
    """

    w_min: Float[Array, ""] = eqx.field(default=-float("inf"), converter=as_param)
    w_max: Float[Array, ""] = eqx.field(default=float("inf"), converter=as_param)

    def __check_init__(self):
        check_bounds(self.w_min, self.w_max)

    def init(self, conn) -> tuple[()]:
        """No traces."""
        return ()

    def update(self, traces, weights, pre_spikes, post_spikes, *, dt, conn=None,
               modulator=None) -> tuple[Array, tuple[()]]:
        """Clip the weights; spikes, `dt` and `modulator` are ignored."""
        conn, w = resolve(conn, weights)
        clipped = jnp.clip(w, self.w_min, self.w_max)
        if isinstance(conn, bo.Dense) and conn.mask is not None:
            clipped = jnp.where(conn.mask, clipped, w)
        return clipped, traces


def clip(w_min=-float("inf"), w_max=float("inf")) -> Clip:
    """A rule that keeps weights in `[w_min, w_max]`, for `chain(rule, clip(0.0, w_max))`."""
    return Clip(w_min=w_min, w_max=w_max)
