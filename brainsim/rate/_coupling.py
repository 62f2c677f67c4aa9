"""Rate couplings between populations of a `Network`, instantaneous or delayed."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param, check_finite
from brainsim.rate._base import RatePopulation, delayed_output
from brainsim.rate._gain import Gain


def _delay_steps(delay, dt) -> int:
    if delay is None or delay == 0:
        return 0
    if dt is None:
        raise ValueError("`dt` (ms) is needed to convert `delay` (ms) to steps.")
    if not (isinstance(delay, int | float) and delay > 0 and dt > 0):
        raise ValueError(f"`delay` must be a number of ms >= 0, got {delay!r}.")
    steps = round(delay / dt)
    if abs(steps * dt - delay) > 1e-6 * dt:
        raise ValueError(f"`delay` = {delay} ms is not a whole multiple of dt = {dt} ms.")
    return steps


class RateCoupling(eqx.Module):
    """Rate input from population `source` to population `target` of a `Network`.

    The target receives `h_i = Σ_j w_ij ψ(X_j(t - d))` in the step from `t` to `t + dt`, where
    `X_j` is the `output` of the source's unit `j` (a rate population's state) and `ψ` is `gain`
    (identity when None; give the target's gain for NEST's `linear_summation=False`). Without a
    delay (NEST: `rate_connection_instantaneous`) `X_j(t)` is the source's output at the start
    of the step; with `delay` `d` (NEST: `rate_connection_delayed`) it is the output `d / dt`
    steps earlier, read from the source's ring of past outputs, so the source model must keep
    `history >= d / dt` steps (checked when the network is built). In the first `d / dt` steps
    the coupling gives `h = 0` (nothing has arrived yet, as in NEST).

    Args:
        source: name of the sending population (a `brainsim.rate` population).
        target: name of the receiving population (a rate population, or a
            `brainsim.neurons.PoissonSource` whose input is its rate in Hz, see `RateToSpikes`).
        weights (float | Array | CSR | ELL): a scalar or a vector (one-to-one: `h_i = w_i X_i`; the
            source has 1 or `n_target` units), a matrix `(n_target, n_source)` (`w_ij` from `j` to
            `i`), or a sparse `brainsim_ops` connectivity from source to target (`fixed_in_degree`,
            ...; the product runs through `brainsim_ops.event_matvec` with graded rates, at a cost
            proportional to the synapses); differentiable.
        delay (float): delay in ms (default 0: instantaneous); a whole multiple of `dt`.
        dt (float | None): the run's time step (ms), needed with `delay`.
        gain (Callable | None): optional nonlinearity `ψ` applied to each presynaptic output before
            weighting.

    Examples:
        >>> import jax, brainsim as bs
        >>> unit = bs.rate.InputNoiseRate(tau=10.0, mu=1.0, history=20)
        >>> net = bs.Network({"A": (unit, 2), "B": (unit, 2)},
        ...                  couplings=[bs.rate.RateCoupling("A", "B", 0.5, delay=2.0, dt=0.1)])
        >>> result = bs.run(net, net.init(), duration=10.0, dt=0.1, record=["B.rate"])
    """

    source: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    weights: Float[Array, ...] | None
    conn: Any
    delay_steps: int = eqx.field(static=True)
    gain: Gain | None

    def __init__(self, source: str, target: str, weights=1.0, *, delay=None, dt=None, gain=None):
        for label, value in (("source", source), ("target", target)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"`{label}` must be a population name, got {value!r}.")
        if hasattr(weights, "n_pre") and hasattr(weights, "todense"):
            self.conn, weights = weights, None
        else:
            self.conn, weights = None, as_param(weights)
            check_finite("weights", weights)
            if weights.ndim > 2:
                raise ValueError(
                    "`weights` must be a scalar, a vector, a (n_target, n_source) matrix or a "
                    f"brainsim_ops connectivity, got shape {weights.shape}."
                )
        if gain is not None and not isinstance(gain, Gain):
            raise TypeError(f"`gain` must be a brainsim.rate gain function, got {gain!r}.")
        self.source, self.target, self.weights, self.gain = source, target, weights, gain
        self.delay_steps = _delay_steps(delay, dt)

    def check(self, models: dict, sizes: dict) -> None:
        """Check, when the network is built, the source, the weights' shape and the history."""
        name = f"RateCoupling {self.source!r}->{self.target!r}"
        if self.source not in models:
            raise ValueError(f"{name}: source {self.source!r} is not one of {sorted(models)}.")
        source = models[self.source]
        if not isinstance(source, RatePopulation):
            raise TypeError(
                f"{name}: source {self.source!r} is a {type(source).__name__}, not a "
                "brainsim.rate population (spikes reach rate populations through a Projection, "
                "see brainsim.rate.spike_to_rate)."
            )
        n_source, n_target = sizes[self.source], sizes[self.target]
        if self.conn is not None:
            if (self.conn.n_pre, self.conn.n_post) != (n_source, n_target):
                raise ValueError(
                    f"{name}: the connectivity is {self.conn.n_pre} -> {self.conn.n_post}, but "
                    f"the populations have {n_source} -> {n_target} units."
                )
            shape = (n_target, n_source)
        else:
            shape = self.weights.shape
        if len(shape) == 2 and shape != (n_target, n_source):
            raise ValueError(
                f"{name}: `weights` has shape {shape}, expected (n_target, n_source) = "
                f"({n_target}, {n_source})."
            )
        if len(shape) < 2 and shape not in ((), (1,), (n_target,)):
            raise ValueError(
                f"{name}: one-to-one `weights` of shape {shape} do not fit the target's "
                f"{n_target} units."
            )
        if len(shape) < 2 and n_source not in (1, n_target):
            raise ValueError(
                f"{name}: one-to-one coupling needs a source of 1 or {n_target} units, got "
                f"{n_source}; give a (n_target, n_source) weight matrix."
            )
        if self.delay_steps > source.history:
            raise ValueError(
                f"{name}: the delay of {self.delay_steps} steps needs the source model to keep "
                f"`history={self.delay_steps}` steps (it keeps {source.history})."
            )

    def drive(self, state: dict) -> Float[Array, " n"]:
        """The summed input `h` that `target` receives in this step."""
        source = state[self.source]
        x = source.output if self.delay_steps == 0 else delayed_output(source, self.delay_steps)
        if self.gain is not None:
            x = self.gain(x)
        if self.conn is not None:
            h = bo.event_matvec(x, self.conn)
        elif self.weights.ndim == 2:
            h = self.weights @ x
        else:
            h = self.weights * x
        if self.delay_steps == 0:
            return h
        return jnp.where(source.head >= self.delay_steps, h, 0.0)

