"""Conformance checks for your own models: the checks every built-in model passes.

brainsim's own neurons, synaptic kinetics and plasticity rules are tested against the model
contracts (`docs/testing.md`): the step is a pure function, `jax.jit` gives the eager result,
`jax.vmap` over a parameter gives the result of a Python loop, gradients match central finite
differences in float64, a second call does not recompile, and bad input raises a `ValueError` or
`TypeError`. The functions here run the same checks on a model you wrote:

- `check_neuron(model, ...)`: a neuron with `init(n, key=None)` and
  `step(state, inputs, *, t, dt) -> (state, spikes)`;
- `check_kinetics(kinetics, ...)`: synaptic kinetics with `init(n)`,
  `step(state, arriving, *, dt) -> state` and `value(state)`;
- `check_plasticity_rule(rule, conn, ...)`: an `(init, update)` plasticity rule.

Each returns the names of the checks it ran, in order, and raises an `AssertionError` whose
message starts with the name of the first check that failed (`"jit: ..."`), so that they can be
called from a test (pytest) or a notebook.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

__all__ = ["check_neuron", "check_kinetics", "check_plasticity_rule"]

_IMPURE_HINT = (
    "a step must be a pure function of its arguments: no global variables, no numpy random "
    "numbers, no Python side effects, no mutation"
)


# ---------------------------------------------------------------------------------------------
# What the three checkers share
# ---------------------------------------------------------------------------------------------


def _host(x) -> np.ndarray:
    """A leaf as a numpy array (random keys as their key data)."""
    if hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    return np.array(x, copy=True)


def _leaves_with_paths(tree) -> list[tuple[str, Any]]:
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return [(jax.tree_util.keystr(path) or "(root)", leaf) for path, leaf in flat]


def _assert_close(check: str, what: str, got, expected, rtol: float, atol: float) -> None:
    """Raise `AssertionError("check: ...")` unless the pytrees `got` and `expected` agree."""
    _assert_same_layout(check, what, got, expected)
    for (path, a), (_, b) in zip(_leaves_with_paths(got), _leaves_with_paths(expected),
                                 strict=True):  # fmt: skip
        a, b = _host(a).astype(np.float64), _host(b).astype(np.float64)
        apart = ~np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if apart.any():
            where = tuple(int(i[0]) for i in np.nonzero(apart)) if a.ndim else ()
            raise AssertionError(
                f"{check}: {what} differ at {path}{list(where) if where else ''}: "
                f"{a[where]!r} vs {b[where]!r} (rtol {rtol}, atol {atol})."
            )


def _assert_same_layout(check: str, what: str, got, expected) -> None:
    """Raise unless the pytrees have the same structure and leaf shapes and dtypes."""
    if jax.tree.structure(got) != jax.tree.structure(expected):
        raise AssertionError(
            f"{check}: {what} have different structures: {jax.tree.structure(got)} vs "
            f"{jax.tree.structure(expected)}."
        )
    for (path, a), (_, b) in zip(_leaves_with_paths(got), _leaves_with_paths(expected),
                                 strict=True):  # fmt: skip
        if jnp.shape(a) != jnp.shape(b) or jnp.result_type(a) != jnp.result_type(b):
            raise AssertionError(
                f"{check}: {what} differ in layout at {path}: shape {jnp.shape(a)} dtype "
                f"{jnp.result_type(a)} vs shape {jnp.shape(b)} dtype {jnp.result_type(b)}."
            )


def _assert_arrays(check: str, what: str, tree) -> None:
    for path, leaf in _leaves_with_paths(tree):
        if not eqx.is_array(leaf):
            raise AssertionError(
                f"{check}: {what} must be a pytree of JAX arrays; {path} is a "
                f"{type(leaf).__name__}."
            )


def _differs(trees: Sequence) -> bool:
    """True if some leaf differs between the pytrees `trees`."""
    first = [_host(x) for x in jax.tree.leaves(trees[0])]
    for other in trees[1:]:
        for a, b in zip(first, jax.tree.leaves(other), strict=True):
            if not np.array_equal(a, _host(b), equal_nan=True):
                return True
    return False


def _with(model, name: str, value):
    """`model` with the array field `name` replaced by `value`."""
    return eqx.tree_at(lambda m: getattr(m, name), model, value)


def _changed(model, name: str):
    """`model` with the field `name` scaled by 1.5: a new value of the same type, dtype and
    weak type (jit compiles again only if the field is static, e.g. a Python number)."""
    return eqx.tree_at(lambda m: getattr(m, name), model, replace_fn=lambda x: x * 1.5)


def _check_parameter(model, name: str, argument: str) -> None:
    if not isinstance(name, str) or not hasattr(model, name):
        raise ValueError(
            f"`{argument}` must name a field of the {type(model).__name__}, got {name!r}."
        )
    if name in {f.name for f in dataclasses.fields(model) if f.metadata.get("static")}:
        raise ValueError(
            f"`{argument}`: {name!r} is a static field of the {type(model).__name__}, not a "
            "parameter; sweep and differentiate array fields."
        )


def _check_values(values) -> Array:
    array = jnp.asarray(values, jnp.result_type(float))
    if array.ndim < 1 or array.shape[0] < 2:
        raise ValueError(
            f"`values` must hold at least two values of the parameter (along the first axis), "
            f"got shape {array.shape}."
        )
    return array


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}.")


def _check_dt(dt) -> None:
    if not isinstance(dt, int | float) or isinstance(dt, bool) or not 0 < dt < float("inf"):
        raise ValueError(f"`dt` must be a positive number of ms, got {dt!r}.")


def _float64(tree):
    """`tree` with its floating leaves (arrays and Python floats) in float64 (inside x64)."""

    def convert(x):
        if isinstance(x, float) or (eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.floating)):
            return jnp.asarray(x, jnp.float64)
        return x

    return jax.tree.map(convert, tree)


def _transformed(check_name: str, function: Callable, *args):
    """`function(*args)`; an exception (e.g. Python control flow on a traced value) becomes an
    AssertionError naming the check."""
    try:
        return function(*args)
    except Exception as error:
        raise AssertionError(
            f"{check_name}: the call fails under jax.{check_name} with {type(error).__name__}: "
            f"{error}"
        ) from error


def _assert_pure(check_name: str, call: Callable[[], Any], arguments) -> None:
    """Two calls give the same result, and the arguments are left as they were."""
    before = [_host(x) for x in jax.tree.leaves(arguments)]
    first, second = call(), call()
    if _differs([first, second]):
        raise AssertionError(
            f"{check_name}: two calls with the same arguments gave different results; "
            f"{_IMPURE_HINT}."
        )
    for (path, leaf), old in zip(_leaves_with_paths(arguments), before, strict=True):
        if not np.array_equal(_host(leaf), old, equal_nan=True):
            raise AssertionError(
                f"{check_name}: the call changed its argument {path} in place; {_IMPURE_HINT}."
            )


def _assert_traced_once(call: Callable, argument_sets: Sequence[tuple]) -> None:
    """`call` under `eqx.filter_jit`, applied to each argument tuple in turn, traces once."""
    traces = []

    def counted(*args):
        traces.append(None)
        return call(*args)

    jitted = eqx.filter_jit(counted)
    for args in argument_sets:
        jax.block_until_ready(jitted(*args))
    if len(traces) > 1:
        raise AssertionError(
            f"recompilation: {len(argument_sets)} calls with arguments of the same shapes traced "
            f"the step {len(traces)} times; the state it returns must have the shapes and dtypes "
            "(and weak types) of the state it got, and parameters must be arrays (a Python "
            "number is a static constant under jit)."
        )


def _assert_bad_inputs_raise(call: Callable[[Any], Any], bad_inputs, describe) -> None:
    for bad in bad_inputs:
        try:
            call(bad)
        except (ValueError, TypeError):
            continue
        except Exception as error:
            raise AssertionError(
                f"bad input: {describe(bad)} raised {type(error).__name__} ({error}); expected a "
                "ValueError or TypeError naming the argument."
            ) from error
        raise AssertionError(
            f"bad input: {describe(bad)} was accepted without an error; check shapes (and "
            "dtypes) and raise a ValueError or TypeError naming the argument."
        )


def _assert_gradient(check_name: str, loss: Callable, params: dict, what: str) -> None:
    """`jax.grad(loss)` at `params` (a dict of float64 arrays) matches central differences."""
    grads = _transformed(check_name, jax.jit(jax.grad(loss)), params)
    jitted = jax.jit(loss)
    for name, value in params.items():
        h = 1e-6 * max(1.0, float(jnp.max(jnp.abs(value))))
        up = {**params, name: value + h}
        down = {**params, name: value - h}
        fd = (float(jitted(up)) - float(jitted(down))) / (2 * h)
        got = float(jnp.sum(grads[name]))
        if abs(fd) < 1e-9:
            raise AssertionError(
                f"{check_name}: `{name}` does not change {what} (finite difference {fd:.3g}); "
                "choose a parameter, or inputs, that it depends on."
            )
        if not np.isclose(got, fd, rtol=1e-5, atol=1e-9):
            raise AssertionError(
                f"{check_name}: d({what})/d{name} = {got!r} by jax.grad but {fd!r} by central "
                "finite differences in float64."
            )


# ---------------------------------------------------------------------------------------------
# Neurons
# ---------------------------------------------------------------------------------------------


def _simulate_neuron(model, state, inputs, steps: int, dt: float):
    """`steps` steps under `lax.scan`: `(final state, outputs (steps, n), states (steps, ...))`."""

    def body(s, k):
        s, out = model.step(s, inputs, t=k * dt, dt=dt)
        return s, (out, s)

    final, (outputs, states) = jax.lax.scan(body, state, jnp.arange(steps))
    return final, outputs, states


def _for_gradient(model):
    """The model without the surrogate's gradient through the reset (spike-free trajectories
    are compared with finite differences, and those exclude it)."""
    if getattr(model, "detach_reset", True) is False:
        return dataclasses.replace(model, detach_reset=True)
    return model


def check_neuron(
    model,
    *,
    inputs: Any,
    quiet_inputs: Any,
    parameter: str,
    values: Float[ArrayLike, " k *n"],
    grad_parameters: Sequence[str] | None = None,
    n: int = 4,
    dt: float = 0.1,
    steps: int = 500,
    bad_inputs: Sequence[Any] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> tuple[str, ...]:
    """Run the checks every brainsim neuron passes on the neuron `model`.

    In order (each failure raises `AssertionError("<check>: what differs")`):

    1. `init`: `model.init(n)` is a pytree of JAX arrays.
    2. `state`: one `step` returns a state with the structure, shapes and dtypes of `init`'s,
       and spikes of shape `(n,)`.
    3. `pure`: two calls of `step` with the same arguments agree and leave them unchanged.
    4. `jit`: 20 steps of `eqx.filter_jit(step)` give the eager steps' states and spikes.
    5. `recompilation`: the jitted step, called again with its own output state and with
       `parameter` changed, is traced once.
    6. `spikes`: over `steps` steps under `inputs` the spikes are 0 or 1 and some neuron fires
       (so that threshold and reset are exercised by the next checks).
    7. `vmap`: `steps` steps under `jax.vmap` over `values` of `parameter` give the spikes and
       states of a Python loop over the values, and the values change the outcome.
    8. `grad`: in float64, the gradient of the mean of the state's variables over `steps` steps
       under `quiet_inputs` (no spike) with respect to each of `grad_parameters` matches central
       finite differences (relative tolerance 1e-5). A model with a `detach_reset` field is
       checked with `detach_reset=True`: without it a surrogate also passes gradient through
       the reset when no spike happens, which a spike-free finite difference does not see.
    9. `bad input`: `step` raises a `ValueError` or `TypeError` for each of `bad_inputs`.

    Args:
        model (equinox.Module): the neuron (an `equinox.Module` with `init(n, key=None)` and
            `step(state, inputs, *, t, dt) -> (state, spikes)`).
        inputs: input of every step (e.g. a current in pA) that makes the neurons fire.
        quiet_inputs: input under which no neuron fires in `steps` steps (gradient check).
        parameter: name of an array field swept with `vmap` (e.g. `"tau_m"`).
        values: at least two values of `parameter` (first axis), in its unit.
        grad_parameters: array fields whose gradient is checked (default: `(parameter,)`).
        n: number of neurons.
        dt: time step (ms).
        steps: steps of the `spikes`, `vmap` and `grad` runs.
        bad_inputs: inputs `step` must refuse (default: an array of `n + 1` values and one of
            shape `(2, n)`, which broadcasts silently unless the model checks it).
        rtol: relative tolerance of the `jit` and `vmap` comparisons.
        atol: absolute tolerance of the `jit` and `vmap` comparisons.

    Returns:
        The names of the checks that passed, in order.

    Raises:
        AssertionError: a check failed; the message starts with its name.
        ValueError: an argument of the check itself is invalid.

    Examples:
        >>> import brainsim as bs
        >>> from brainsim.testing import check_neuron
        >>> check_neuron(bs.neurons.LIF(R=0.1), inputs=300.0, quiet_inputs=100.0,
        ...              parameter="tau_m", values=[8.0, 10.0, 15.0], steps=300)
        ('init', 'state', 'pure', 'jit', 'recompilation', 'spikes', 'vmap', 'grad', 'bad input')
    """
    _check_positive_int("n", n)
    _check_positive_int("steps", steps)
    _check_dt(dt)
    _check_parameter(model, parameter, "parameter")
    values = _check_values(values)
    grad_parameters = (parameter,) if grad_parameters is None else tuple(grad_parameters)
    for name in grad_parameters:
        _check_parameter(model, name, "grad_parameters")
    if bad_inputs is None:
        bad_inputs = (jnp.ones((n + 1,)), jnp.ones((2, n)))

    state = model.init(n)
    _assert_arrays("init", f"model.init({n})", state)

    next_state, spikes = model.step(state, inputs, t=0.0, dt=dt)
    _assert_same_layout("state", "the state from step and the state from init", next_state,
                        state)  # fmt: skip
    if jnp.shape(spikes) != (n,):
        raise AssertionError(f"state: step returned spikes of shape {jnp.shape(spikes)}, "
                             f"expected ({n},).")  # fmt: skip

    _assert_pure("pure", lambda: model.step(state, inputs, t=0.0, dt=dt), (state, inputs))

    step = eqx.filter_jit(lambda m, s, t: m.step(s, inputs, t=t, dt=dt))
    eager, jitted = state, state
    for k in range(20):
        eager, eager_spikes = model.step(eager, inputs, t=k * dt, dt=dt)
        jitted, jitted_spikes = _transformed("jit", step, model, jitted, jnp.asarray(k * dt))
        _assert_close("jit", f"the jitted and eager steps (step {k})", (jitted, jitted_spikes),
                      (eager, eager_spikes), rtol, atol)  # fmt: skip

    other = _changed(model, parameter)
    first, _ = model.step(state, inputs, t=0.0, dt=dt)
    _assert_traced_once(
        lambda m, s, t: m.step(s, inputs, t=t, dt=dt),
        [(model, state, jnp.asarray(0.0)), (model, first, jnp.asarray(dt)),
         (other, first, jnp.asarray(2 * dt))],
    )  # fmt: skip

    simulate = eqx.filter_jit(_simulate_neuron)
    _, outputs, _ = _transformed("jit", simulate, model, state, inputs, steps, dt)
    outputs = np.asarray(outputs)
    if not np.isin(outputs, (0.0, 1.0)).all():
        raise AssertionError("spikes: the spikes must be exactly 0 or 1 in the forward pass "
                             "(use a surrogate from brainsim.surrogate).")  # fmt: skip
    if not outputs.any():
        raise AssertionError(
            f"spikes: no neuron fired in {steps} steps of {dt} ms under `inputs`; give inputs "
            "that make the model fire, so that threshold and reset are checked."
        )

    def run_with(value):
        return simulate(_with(model, parameter, value), state, inputs, steps, dt)[:2]

    batched = _transformed("vmap", jax.jit(jax.vmap(run_with)), values)
    looped = [jax.jit(run_with)(value) for value in values]
    for k, single in enumerate(looped):
        mine = jax.tree.map(lambda x, k=k: x[k], batched)
        _assert_close("vmap", f"the vmapped and looped runs at {parameter} = {values[k]}",
                      mine, single, rtol, atol)  # fmt: skip
    if not _differs(looped):
        raise AssertionError(
            f"vmap: every value of `{parameter}` gave the same spikes and states, so the check "
            "shows nothing; choose values that change the outcome (does the step use the field?)."
        )

    with jax.enable_x64(True):
        base = _float64(_for_gradient(model))
        quiet = _float64(quiet_inputs)
        start = base.init(n)

        def loss(params):
            m = eqx.tree_at(lambda m: [getattr(m, p) for p in params], base,
                            [params[p] for p in params])  # fmt: skip
            _, out, states = _simulate_neuron(m, start, quiet, steps, dt)
            floats = [x for x in jax.tree.leaves(states) if jnp.issubdtype(x.dtype, jnp.floating)]
            return sum(jnp.mean(x) for x in floats) + 0.0 * jnp.sum(out)

        params = {p: jnp.asarray(getattr(base, p), jnp.float64) for p in grad_parameters}
        _, quiet_spikes, _ = eqx.filter_jit(_simulate_neuron)(
            base, start, quiet, steps, dt
        )
        if np.asarray(quiet_spikes).any():
            raise AssertionError(
                f"grad: a neuron fired under `quiet_inputs` within {steps} steps; the gradient "
                "is compared with finite differences on a trajectory without spikes."
            )
        _assert_gradient("grad", loss, params, "the mean state")

    _assert_bad_inputs_raise(
        lambda bad: model.step(state, bad, t=0.0, dt=dt),
        bad_inputs,
        lambda bad: f"step with inputs of shape {jnp.shape(bad)} for {n} neurons",
    )
    return ("init", "state", "pure", "jit", "recompilation", "spikes", "vmap", "grad",
            "bad input")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Synaptic kinetics
# ---------------------------------------------------------------------------------------------


def _arrivals(key: int, steps: int, n: int, dtype) -> Array:
    """Weights arriving per step and neuron: about one step in ten, uniform in [0.5, 1.5)."""
    k_when, k_size = jax.random.split(jax.random.key(key))
    when = jax.random.uniform(k_when, (steps, n)) < 0.1
    return jnp.where(when, jax.random.uniform(k_size, (steps, n), dtype, 0.5, 1.5), 0.0)


def _simulate_kinetics(kinetics, state, arriving, dt: float):
    """Step through `arriving` (steps, n): `(final state, value per step (steps, n))`."""

    def body(s, a):
        s = kinetics.step(s, a, dt=dt)
        return s, kinetics.value(s)

    return jax.lax.scan(body, state, arriving)


def check_kinetics(
    kinetics,
    *,
    parameter: str,
    values: Float[ArrayLike, " k *n"],
    grad_parameters: Sequence[str] | None = None,
    n: int = 3,
    dt: float = 0.1,
    steps: int = 300,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> tuple[str, ...]:
    """Run the checks every brainsim synaptic kinetics passes on `kinetics`.

    The kinetics are driven by random arrivals (about one step in ten per neuron, weights
    uniform in [0.5, 1.5)). In order (each failure raises `AssertionError("<check>: ...")`):

    1. `init`: `kinetics.init(n)` is a pytree of JAX arrays and `value` of it has shape `(n,)`.
    2. `state`: `step` returns a state with the structure, shapes and dtypes of `init`'s.
    3. `pure`: two calls of `step` with the same arguments agree and leave them unchanged.
    4. `jit`: 20 jitted steps give the eager steps' states.
    5. `recompilation`: the jitted step, called again with its own output state and with
       `parameter` changed, is traced once.
    6. `linear`: the response to the sum of two arrival sequences is the sum of the responses,
       and scaling the arrivals scales the response: a projection keeps one state per
       postsynaptic neuron (fed by the summed weights of its synapses), which is exact only
       for linear kinetics.
    7. `vmap`: `jax.vmap` over `values` of `parameter` gives the values of a Python loop, and
       the values change them.
    8. `grad`: in float64, the gradient of the mean `value` over `steps` steps with respect to
       each of `grad_parameters` matches central finite differences (relative tolerance 1e-5).

    Arrivals come from a projection, never from a user, so there is no bad-input check.

    Args:
        kinetics (equinox.Module): the kinetics (an `equinox.Module` with `init(n)`,
            `step(state, arriving, *, dt) -> state` and `value(state) -> (n,)`).
        parameter: name of an array field swept with `vmap` (e.g. `"tau"`).
        values: at least two values of `parameter` (first axis), in its unit.
        grad_parameters: array fields whose gradient is checked (default: `(parameter,)`).
        n: number of postsynaptic neurons.
        dt: time step (ms).
        steps: steps of each run.
        rtol: relative tolerance of the comparisons.
        atol: absolute tolerance of the comparisons.

    Returns:
        The names of the checks that passed, in order.

    Raises:
        AssertionError: a check failed; the message starts with its name.
        ValueError: an argument of the check itself is invalid.

    Examples:
        >>> from brainsim.synapses import Alpha
        >>> from brainsim.testing import check_kinetics
        >>> check_kinetics(Alpha(tau=2.0), parameter="tau", values=[1.0, 2.0, 4.0])
        ('init', 'state', 'pure', 'jit', 'recompilation', 'linear', 'vmap', 'grad')
    """
    _check_positive_int("n", n)
    _check_positive_int("steps", steps)
    _check_dt(dt)
    _check_parameter(kinetics, parameter, "parameter")
    values = _check_values(values)
    grad_parameters = (parameter,) if grad_parameters is None else tuple(grad_parameters)
    for name in grad_parameters:
        _check_parameter(kinetics, name, "grad_parameters")

    state = kinetics.init(n)
    _assert_arrays("init", f"kinetics.init({n})", state)
    if jnp.shape(kinetics.value(state)) != (n,):
        raise AssertionError(f"init: value(init({n})) has shape "
                             f"{jnp.shape(kinetics.value(state))}, expected ({n},).")  # fmt: skip
    dtype = jnp.result_type(*jax.tree.leaves(state))
    arriving = _arrivals(0, steps, n, dtype)

    _assert_same_layout("state", "the state from step and the state from init",
                        kinetics.step(state, arriving[0] + 1.0, dt=dt), state)  # fmt: skip
    _assert_pure("pure", lambda: kinetics.step(state, arriving[0] + 1.0, dt=dt),
                 (state, arriving[0]))  # fmt: skip

    step = eqx.filter_jit(lambda k, s, a: k.step(s, a, dt=dt))
    eager, jitted = state, state
    for k in range(20):
        eager = kinetics.step(eager, arriving[k] + 1.0, dt=dt)
        jitted = _transformed("jit", step, kinetics, jitted, arriving[k] + 1.0)
        _assert_close("jit", f"the jitted and eager states (step {k})", jitted, eager, rtol, atol)

    first = kinetics.step(state, arriving[0], dt=dt)
    other = _changed(kinetics, parameter)
    _assert_traced_once(lambda k, s, a: k.step(s, a, dt=dt),
                        [(kinetics, state, arriving[0]), (kinetics, first, arriving[1]),
                         (other, first, arriving[2])])  # fmt: skip

    simulate = eqx.filter_jit(_simulate_kinetics)
    other_arrivals = _arrivals(1, steps, n, dtype)
    _, one = simulate(kinetics, state, arriving, dt)
    _, two = simulate(kinetics, state, other_arrivals, dt)
    _, both = simulate(kinetics, state, arriving + other_arrivals, dt)
    _, scaled = simulate(kinetics, state, 2.5 * arriving, dt)
    scale = float(jnp.max(jnp.abs(both)))
    _assert_close("linear", "the response to a sum of arrivals and the sum of the responses",
                  both, one + two, rtol, atol * max(scale, 1.0))  # fmt: skip
    _assert_close("linear", "the response to 2.5 x the arrivals and 2.5 x the response",
                  scaled, 2.5 * one, rtol, atol * max(scale, 1.0))  # fmt: skip

    def run_with(value):
        return simulate(_with(kinetics, parameter, value), state, arriving, dt)

    batched = _transformed("vmap", jax.jit(jax.vmap(run_with)), values)
    looped = [jax.jit(run_with)(value) for value in values]
    for k, single in enumerate(looped):
        mine = jax.tree.map(lambda x, k=k: x[k], batched)
        _assert_close("vmap", f"the vmapped and looped runs at {parameter} = {values[k]}",
                      mine, single, rtol, atol)  # fmt: skip
    if not _differs(looped):
        raise AssertionError(f"vmap: every value of `{parameter}` gave the same values, so the "
                             "check shows nothing; choose values that change them.")  # fmt: skip

    with jax.enable_x64(True):
        base = _float64(kinetics)
        start = base.init(n)
        drive = _arrivals(0, steps, n, jnp.float64)

        def loss(params):
            k = eqx.tree_at(lambda m: [getattr(m, p) for p in params], base,
                            [params[p] for p in params])  # fmt: skip
            return jnp.mean(_simulate_kinetics(k, start, drive, dt)[1])

        params = {p: jnp.asarray(getattr(base, p), jnp.float64) for p in grad_parameters}
        _assert_gradient("grad", loss, params, "the mean value")
    return ("init", "state", "pure", "jit", "recompilation", "linear", "vmap", "grad")


# ---------------------------------------------------------------------------------------------
# Plasticity rules
# ---------------------------------------------------------------------------------------------


def _spike_trains(key: int, steps: int, n_pre: int, n_post: int, probability: float, dtype):
    k_pre, k_post, k_mod = jax.random.split(jax.random.key(key), 3)
    pre = (jax.random.uniform(k_pre, (steps, n_pre)) < probability).astype(dtype)
    post = (jax.random.uniform(k_post, (steps, n_post)) < probability).astype(dtype)
    modulators = jax.random.normal(k_mod, (steps, n_post), dtype)
    return pre, post, modulators


def _learn(rule, conn, w0, pre, post, modulators, dt: float, modulated: bool):
    """Drive `rule` with spike trains `(steps, n)`: `(final weights, final traces)`."""

    def body(carry, inputs):
        w, traces = carry
        pre_spikes, post_spikes, m = inputs
        w, traces = rule.update(traces, w, pre_spikes, post_spikes, dt=dt, conn=conn,
                                modulator=m if modulated else None)  # fmt: skip
        return (w, traces), None

    return jax.lax.scan(body, (w0, rule.init(conn)), (pre, post, modulators))[0]


def check_plasticity_rule(
    rule,
    conn,
    *,
    parameter: str,
    values: Float[ArrayLike, " k"],
    grad_parameters: Sequence[str] | None = None,
    modulated: bool = False,
    dt: float = 0.5,
    steps: int = 300,
    rate: float = 100.0,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> tuple[str, ...]:
    """Run the checks every brainsim plasticity rule passes on `rule`, on connectivity `conn`.

    The rule is called as a `Projection` calls it:
    `rule.update(traces, weights, pre_spikes, post_spikes, dt=dt, conn=conn, modulator=m)`,
    with independent random spike trains at `rate` Hz (and, if `modulated`, a random third
    factor per postsynaptic neuron and step; else `modulator=None`). In order (each failure
    raises `AssertionError("<check>: ...")`):

    1. `init`: `rule.init(conn)` is a pytree of JAX arrays.
    2. `state`: `update` returns weights of the shape and dtype of one per synapse of `conn`
       and traces with the structure, shapes and dtypes of `init`'s.
    3. `pure`: two calls of `update` with the same arguments agree and leave them unchanged.
    4. `jit`: one update in which every neuron spikes, from traces raised by 0.5 (every branch
       taken), gives the eager result under `jax.jit`.
    5. `recompilation`: the jitted update, called again with its own outputs and with
       `parameter` changed, is traced once.
    6. `vmap`: the final weights after `steps` updates, under `jax.vmap` over `values` of
       `parameter`, equal a Python loop (and the values change them); and `jax.vmap` over
       three initial weights and spike trains equals a loop too.
    7. `grad`: in float64, the gradient of the mean final weight with respect to each of
       `grad_parameters` matches central finite differences (relative tolerance 1e-5).
    8. `bad input`: spikes of the wrong size (`n_pre + 1` presynaptic, `n_post + 1`
       postsynaptic) raise a `ValueError` or `TypeError`.

    Args:
        rule (equinox.Module): the rule: `init(conn) -> traces` and
            `update(traces, weights, pre_spikes, post_spikes, *, dt, conn=None,
            modulator=None) -> (weights, traces)`.
        conn (CSR | ELL | Dense): a `brainsim_ops` connectivity; its weights are the start.
        parameter: name of an array field of the rule swept with `vmap` (e.g. `"A_plus"`).
        values: at least two values of `parameter`.
        grad_parameters: array fields whose gradient is checked (default: `(parameter,)`).
        modulated: pass a random third factor as `modulator` (three-factor rules).
        dt: time between updates (ms).
        steps: updates per run.
        rate: firing rate of the random spike trains (Hz).
        rtol: relative tolerance of the comparisons.
        atol: absolute tolerance of the comparisons.

    Returns:
        The names of the checks that passed, in order.

    Raises:
        AssertionError: a check failed; the message starts with its name.
        ValueError: an argument of the check itself is invalid.

    Examples:
        >>> import jax, brainsim_ops as bo
        >>> from brainsim.plasticity import STDP
        >>> from brainsim.testing import check_plasticity_rule
        >>> conn = bo.fixed_prob(jax.random.key(0), 20, 10, 0.3, weight=0.5, per_synapse=True)
        >>> check_plasticity_rule(STDP(A_plus=0.01, A_minus=0.012), conn,
        ...                       parameter="A_plus", values=[0.005, 0.01, 0.02])
        ('init', 'state', 'pure', 'jit', 'recompilation', 'vmap', 'grad', 'bad input')
    """
    _check_positive_int("steps", steps)
    _check_dt(dt)
    if not hasattr(conn, "synapse_shape") or not hasattr(conn, "weights"):
        raise TypeError(f"`conn` must be a brainsim_ops connectivity (CSR, ELL or Dense), got "
                        f"{type(conn).__name__}.")  # fmt: skip
    if not 0 < rate * dt / 1000.0 < 1:
        raise ValueError(f"`rate` must be positive and below 1000 / dt = {1000.0 / dt} Hz, "
                         f"got {rate!r}.")  # fmt: skip
    _check_parameter(rule, parameter, "parameter")
    values = _check_values(values)
    grad_parameters = (parameter,) if grad_parameters is None else tuple(grad_parameters)
    for name in grad_parameters:
        _check_parameter(rule, name, "grad_parameters")

    probability = rate * dt / 1000.0
    dtype = jnp.asarray(conn.weights).dtype
    # one weight per synapse, as a Projection holds them (strongly typed: a scalar weight
    # of the connectivity may be a weakly typed array)
    w0 = jnp.asarray(np.broadcast_to(np.asarray(conn.weights), tuple(conn.synapse_shape)))
    pre, post, modulators = _spike_trains(0, steps, conn.n_pre, conn.n_post, probability, dtype)

    traces = rule.init(conn)
    _assert_arrays("init", "rule.init(conn)", traces)

    def update(r, tr, w, pre_spikes, post_spikes, m):
        return r.update(tr, w, pre_spikes, post_spikes, dt=dt, conn=conn,
                        modulator=m if modulated else None)  # fmt: skip

    w, new_traces = update(rule, traces, w0, pre[0], post[0], modulators[0])
    _assert_same_layout("state", "the weights from update and one per synapse of `conn`", w, w0)
    _assert_same_layout("state", "the traces from update and from init", new_traces, traces)

    every_pre, every_post = jnp.ones_like(pre[0]), jnp.ones_like(post[0])
    raised = jax.tree.map(lambda x: x + 0.5, traces)
    arguments = (raised, w0, every_pre, every_post, modulators[0])
    _assert_pure("pure", lambda: update(rule, *arguments), arguments)
    _assert_close("jit", "the jitted and eager updates",
                  _transformed("jit", eqx.filter_jit(update), rule, *arguments),
                  update(rule, *arguments),
                  rtol, atol)  # fmt: skip

    other = _changed(rule, parameter)
    _assert_traced_once(update, [(rule, traces, w0, pre[0], post[0], modulators[0]),
                                 (rule, new_traces, w, pre[1], post[1], modulators[1]),
                                 (other, new_traces, w, pre[2], post[2], modulators[2])])

    learn = eqx.filter_jit(_learn)

    def final_weights(value):
        return learn(_with(rule, parameter, value), conn, w0, pre, post, modulators, dt,
                     modulated)[0]  # fmt: skip

    batched = _transformed("vmap", jax.jit(jax.vmap(final_weights)), values)
    looped = [jax.jit(final_weights)(value) for value in values]
    for k, single in enumerate(looped):
        _assert_close("vmap", f"the vmapped and looped final weights at {parameter} = "
                      f"{values[k]}", batched[k], single, rtol, atol)  # fmt: skip
    if not _differs(looped):
        raise AssertionError(f"vmap: every value of `{parameter}` gave the same weights, so the "
                             "check shows nothing; choose values that change them.")  # fmt: skip

    trains = [_spike_trains(key, steps, conn.n_pre, conn.n_post, probability, dtype)
              for key in (1, 2, 3)]  # fmt: skip
    starts = [w0 * factor for factor in (0.9, 1.0, 1.1)]

    def from_start(start, inputs):
        return learn(rule, conn, start, *inputs, dt, modulated)[0]

    stacked = jax.tree.map(lambda *x: jnp.stack(x), *trains)
    batched = _transformed("vmap", jax.jit(jax.vmap(from_start)), jnp.stack(starts),
                           stacked)
    for k in range(3):
        _assert_close("vmap", f"the final weights vmapped over states and looped (run {k})",
                      batched[k], jax.jit(from_start)(starts[k], trains[k]), rtol, atol)

    with jax.enable_x64(True):
        base, conn64 = _float64(rule), _float64(conn)
        start = jnp.broadcast_to(jnp.asarray(conn64.weights), tuple(conn64.synapse_shape))
        inputs = _float64(_spike_trains(4, steps, conn.n_pre, conn.n_post, probability,
                                        jnp.float64))  # fmt: skip

        def loss(params):
            r = eqx.tree_at(lambda m: [getattr(m, p) for p in params], base,
                            [params[p] for p in params])  # fmt: skip
            return jnp.mean(_learn(r, conn64, start, *inputs, dt, modulated)[0])

        params = {p: jnp.asarray(getattr(base, p), jnp.float64) for p in grad_parameters}
        _assert_gradient("grad", loss, params, "the mean final weight")

    bad = [(jnp.ones((conn.n_pre + 1,), dtype), post[0]), (pre[0], jnp.ones((conn.n_post + 1,),
                                                                            dtype))]
    _assert_bad_inputs_raise(
        lambda spikes: update(rule, traces, w0, *spikes, modulators[0]),
        bad,
        lambda spikes: (f"update with pre_spikes of shape {spikes[0].shape} and post_spikes of "
                        f"shape {spikes[1].shape} for {conn.n_pre} -> {conn.n_post} neurons"),
    )  # fmt: skip
    return ("init", "state", "pure", "jit", "recompilation", "vmap", "grad", "bad input")
