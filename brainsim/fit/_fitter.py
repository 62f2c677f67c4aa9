"""Fit a model's parameters to recorded sweeps: random search, then vmapped gradient descent."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import PRNGKeyArray

from brainsim._progress import progress_bar
from brainsim.datasets import Recording
from brainsim.fit._evolution import evolve
from brainsim.fit._parametrize import ParameterMap, parametrize
from brainsim.fit._recording_loss import recording_loss
from brainsim.fit._result import FitResult
from brainsim.fit._search import sample_uniform, search_ranges
from brainsim.fit._simulate import Simulation, simulate
from brainsim.fit._sweeps import SweepData


def _take(tree, index):
    return jax.tree.map(lambda x: x[index], tree)


def _where(ok, new, old):
    """`new` for the starts where `ok`, else `old` (leaves with a leading axis of starts)."""
    return jax.tree.map(lambda a, b: jnp.where(ok.reshape((-1,) + (1,) * (a.ndim - 1)), a, b),
                        new, old)


@functools.lru_cache(maxsize=16)
def _make_stages(loss, optimiser, voltage, checkpoint_every):
    """The two compiled stages: losses of a batch of parameter sets, and one refinement step
    (cached: fits with the same loss and optimiser reuse their compiled code)."""

    def loss_of(to_model, params, data):
        sim = simulate(to_model(params), data, voltage=voltage, checkpoint_every=checkpoint_every)
        return loss(sim, data)

    @jax.jit
    def losses(to_model, params, data):
        return jax.vmap(loss_of, in_axes=(None, 0, None))(to_model, params, data)

    def loss_in_z(z, to_model, theta0, scale, data):
        params = jax.tree.map(lambda t, s, x: t + s * x, theta0, scale, z)
        return loss_of(to_model, params, data)

    @jax.jit
    def refine(to_model, theta0, scale, z, opt_state, best, data):
        value_and_grad = jax.vmap(jax.value_and_grad(loss_in_z), in_axes=(0, None, 0, 0, None))
        loss_z, grads = value_and_grad(z, to_model, theta0, scale, data)
        updates, new_state = jax.vmap(optimiser.update)(grads, opt_state, z)
        finite = [jnp.all(jnp.isfinite(g.reshape(g.shape[0], -1)), axis=1)
                  for g in jax.tree.leaves(grads)]
        ok = jnp.isfinite(loss_z) & jnp.all(jnp.stack(finite), axis=0)
        best_z, best_loss = best
        improved = ok & (loss_z < best_loss)
        best = (_where(improved, z, best_z), jnp.where(improved, loss_z, best_loss))
        z = _where(ok, optax.apply_updates(z, updates), z)
        opt_state = _where(ok, new_state, opt_state)
        return z, opt_state, best, jnp.where(ok, loss_z, jnp.nan)

    return losses, refine


def _global_stage(losses, to_model, candidates, data, chunk, progress):
    """Loss of every candidate (unconstrained params, leading axis), `chunk` at a time."""
    n = jax.tree.leaves(candidates)[0].shape[0]
    padded = -(-n // chunk) * chunk
    index = np.concatenate([np.arange(n), np.zeros(padded - n, dtype=int)])
    out = []
    for start in progress_bar(range(0, padded, chunk), desc="fit: global search", unit="chunk",
                      disable=not progress):
        out.append(np.asarray(losses(to_model, _take(candidates, index[start:start + chunk]),
                                     data)))
    result = np.concatenate(out)[:n].astype(float)
    return np.where(np.isfinite(result), result, np.inf)


def fit_model(
    model,
    names: Sequence[str] | Mapping[str, tuple[float | None, float | None] | None],
    data: SweepData | Recording,
    *,
    loss: Callable[[Simulation, SweepData], jax.Array] | None = None,
    n_samples: int = 256,
    n_starts: int = 4,
    steps: int = 100,
    learning_rate: float = 0.02,
    optimizer: optax.GradientTransformation | None = None,
    search: Mapping[str, tuple[float, float]] | None = None,
    strategy: str = "random",
    population: int = 64,
    search_loss: Callable[[Simulation, SweepData], jax.Array] | None = None,
    chunk: int = 64,
    key: PRNGKeyArray | None = None,
    voltage: str = "v",
    checkpoint_every: int | None = None,
    progress: bool = True,
) -> FitResult:
    """Fit some of a model's parameters to recorded sweeps: random search, then multistart
    gradient descent through `brainsim.run` with surrogate gradients.

    1. **Parameters.** `parametrize(model, names)`: each fitted parameter `p` is a smooth
       transform of an unconstrained `theta_p` inside its bounds (`default_bounds` unless given).
    2. **Global stage.** `n_samples` candidates inside each parameter's search range
       (`search[p]`; else its bounds when both are finite; else `b + (v - b)·[1/4, 4]` from a
       one-sided bound `b` and the template's value `v`; an unbounded parameter needs
       `search[p]`), scored by `search_loss` (default: `loss`). With `strategy="random"`: the
       template's own values and `n_samples - 1` drawn uniformly, scored `chunk` at a time,
       each chunk one compiled `vmap` over candidates. With the name of an evosax
       evolution strategy (`"CMA_ES"`, `"Sep_CMA_ES"`, `"SNES"`, ...; needs `evosax`): a
       search from the template, `population` candidates a generation (one compiled call),
       for `ceil(n_samples / population)` generations.
    3. **Refinement.** The `n_starts` best candidates are refined together, every step one
       compiled call (`vmap` over starts) of `jax.value_and_grad` and `optimizer` (default
       `optax.adam(learning_rate)`). Each start `i` moves `z_i` with
       `theta = theta_i + s_i · z_i`, `s_i = (hi - lo) / (∂value/∂theta)(theta_i)`: one unit
       of `z` is about one search range, so a single learning rate suits parameters in any
       unit (Adam's first steps move each by about `learning_rate` × its range). A step whose
       loss or gradient is not finite is skipped for that start (its history shows NaN); each
       start keeps the best values it visited.
    4. **Choice.** The result is the start with the lowest `loss`; with a `search_loss`, the
       one with the lowest `search_loss` among the starts' values and the global stage's best
       (so a search objective that gradients cannot follow, like `gamma_loss`, is never made
       worse by the refinement).

    The loss is `loss(sim, data)` on the model's `Simulation` of `data` (one neuron per sweep,
    driven by its recorded current, `simulate`): any loss of `brainsim.fit` or a
    `weighted_sum` of them, written as a function of `(sim, data)`. Default:
    `recording_loss()` (subthreshold trace with spike windows masked + spike count + van
    Rossum).

    Args:
        model (Neuron | equinox.Module): the template: a neuron model (or any module with `init(n)`,
            `step` and a voltage state) whose other parameters stay fixed.
        names: the parameters to fit, a list or `{name: (low, high)}` (see `parametrize`).
        data: the training sweeps: a `SweepData`, or a `Recording` used whole at its own rate.
        loss: `loss(sim, data) -> scalar`, differentiable.
        n_samples: candidates of the global stage (>= `n_starts`; 1 refines the template only).
        n_starts: candidates refined.
        steps: refinement steps.
        learning_rate: Adam's step size, in search ranges (used when `optimizer` is None).
        optimizer: an optax optimiser on the scaled parameters `z`.
        search: `{name: (low, high)}` sampling ranges of the global stage (parameter's unit).
        strategy: `"random"`, or an evosax distribution-based algorithm for the global stage.
        population: candidates per generation of an evosax `strategy`.
        search_loss: `search_loss(sim, data) -> scalar` that ranks the global stage's
            candidates and chooses the result; need not be differentiable (e.g.
            `gamma_loss()`). Default: `loss`.
        chunk: candidates per compiled call of the global stage.
        key: `jax.random` key of the global stage (default `jax.random.key(0)`).
        voltage: the model's state variable compared with the recorded voltage.
        checkpoint_every: gradient checkpointing block (steps) of the simulation, for long
            sweeps (`brainsim.run`).
        progress: show progress bars over the global stage's chunks and the refinement steps.

    Returns:
        A `FitResult`: the best model and values, each start's loss history, the global stage's
        candidates and losses, the fitted traces, `.evaluate(held_out)` and `.plot()`.

    Raises:
        ValueError: for names the model does not have, bounds that exclude the template's
            value, a parameter without a search range, `n_samples < n_starts`, or bad data
            (mismatched lengths or rates, NaN: checked by `SweepData`).

    Examples:
        >>> import numpy as np
        >>> import brainsim as bs
        >>> from brainsim.fit import SweepData, fit_model, simulate
        >>> target = bs.neurons.LIF(tau_m=15.0, R=0.1, v_th=-52.0)
        >>> probe = SweepData(np.full((400, 2), [180.0, 250.0]), spike_times=[[], []], dt=0.5)
        >>> sim = simulate(target, probe)
        >>> times = [bs.fit.spike_times(sim.spikes[:, i], dt=0.5) for i in range(2)]
        >>> data = SweepData(probe.current, sim.v, times, dt=0.5)
        >>> result = fit_model(bs.neurons.LIF(), {"tau_m": (1.0, 50.0), "v_th": (-60.0, -40.0)},
        ...                    data, n_samples=32, n_starts=2, steps=80, progress=False)
        >>> {k: round(float(v)) for k, v in result.values.items()}
        {'tau_m': 15, 'v_th': -52}

    References: Rossant et al. (2011), *Fitting neuron models to spike trains*, Front.
    Neurosci. 5:9; Teska et al. (2020), brian2modelfitting (global search, then gradient
    refinement); Kingma & Ba (2015), *Adam*, ICLR; Neftci, Mostafa & Zenke (2019), *Surrogate
    gradient learning in spiking neural networks*, IEEE Signal Process. Mag. 36:51.
    """
    wall = time.perf_counter()
    if isinstance(data, Recording):
        data = SweepData.from_recording(data)
    if not isinstance(data, SweepData):
        raise TypeError(f"`data` must be a SweepData or a Recording, got {type(data).__name__}.")
    for name, value in (("n_samples", n_samples), ("n_starts", n_starts), ("chunk", chunk),
                        ("population", population)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"`steps` must be an int >= 0, got {steps!r}.")
    if n_samples < n_starts:
        raise ValueError(f"`n_samples` ({n_samples}) must be at least `n_starts` ({n_starts}).")
    loss = recording_loss() if loss is None else loss
    optimiser = _default_optimizer(learning_rate, steps) if optimizer is None else optimizer
    key = jax.random.key(0) if key is None else key

    template, to_model = parametrize(model, names)
    template_values = to_model.values(template)
    ranges = search_ranges(to_model, template_values, search)
    losses, refine = _make_stages(loss, optimiser, voltage, checkpoint_every)
    scores = losses if search_loss is None else _make_stages(
        search_loss, optimiser, voltage, checkpoint_every)[0]
    if strategy == "random":
        shapes = {name: jnp.shape(value) for name, value in template_values.items()}
        drawn = sample_uniform(key, ranges, shapes, n_samples - 1)
        candidates = {
            name: jnp.concatenate([jnp.asarray(template_values[name])[None], drawn[name]])
            for name in ranges
        }
        theta_candidates = to_model.unconstrained(candidates)
        search_losses = _global_stage(
            scores, to_model, theta_candidates, data, min(chunk, n_samples), progress
        )
    else:
        def score(values):
            theta = to_model.unconstrained({k: jnp.asarray(v) for k, v in values.items()})
            return _global_stage(scores, to_model, theta, data, population, False)

        candidates, search_losses = evolve(
            strategy, key, ranges, _numpy(template_values), score, n_samples=n_samples,
            population=population, progress=progress)
        theta_candidates = to_model.unconstrained(
            {k: jnp.asarray(v) for k, v in candidates.items()})

    chosen = np.argsort(search_losses, kind="stable")[:n_starts]
    theta0 = _take(theta_candidates, chosen)
    scale = _search_scale(to_model, theta0, ranges)
    z = jax.tree.map(jnp.zeros_like, theta0)
    opt_state = jax.vmap(optimiser.init)(z)
    best = (z, jnp.full((n_starts,), jnp.inf, jnp.result_type(float)))
    history = []
    bar = progress_bar(range(steps + 1), desc="fit: refine", unit="step", disable=not progress)
    for _ in bar:  # the last call only scores the final values: its update is dropped
        z, opt_state, best, step_losses = refine(to_model, theta0, scale, z, opt_state, best, data)
        history.append(np.asarray(step_losses))
        bar.set_postfix(loss=f"{np.nanmin(history[-1], initial=np.inf):.4g}")
    best_z, best_loss = best
    final_theta = jax.tree.map(lambda t, s, x: t + s * x, theta0, scale, best_z)
    final_losses = np.asarray(best_loss, dtype=float)
    if search_loss is None:
        winner = int(np.argmin(final_losses))
        params, winner_loss = _take(final_theta, winner), final_losses[winner]
    else:
        options = jax.tree.map(lambda a, b: jnp.concatenate([a, b[None]]), final_theta,
                               _take(theta_candidates, int(np.argmin(search_losses))))
        chosen = int(np.argmin(_global_stage(scores, to_model, options, data, n_starts + 1,
                                             False)))
        params = _take(options, chosen)
        winner_loss = final_losses[chosen] if chosen < n_starts else _global_stage(
            losses, to_model, jax.tree.map(lambda x: x[None], params), data, 1, False)[0]
    fitted_model = to_model(params)
    fitted = eqx.filter_jit(simulate)(fitted_model, data, voltage=voltage)
    return FitResult(
        model=fitted_model,
        values=_numpy(to_model.values(params)),
        loss=float(winner_loss),
        to_model=to_model,
        params=params,
        history=np.stack(history).astype(float),
        start_values=_numpy(to_model.values(theta0)),
        final_values=_numpy(to_model.values(final_theta)),
        final_losses=final_losses,
        search_values=_numpy(candidates),
        search_losses=search_losses,
        data=data,
        fitted=Simulation(np.asarray(fitted.v), np.asarray(fitted.spikes)),
        wall_time=time.perf_counter() - wall,
        voltage=voltage,
    )


@functools.lru_cache(maxsize=16)
def _default_optimizer(learning_rate: float, steps: int) -> optax.GradientTransformation:
    """Adam whose step size decays from `learning_rate` to a tenth of it (cosine) over `steps`."""
    schedule = optax.cosine_decay_schedule(learning_rate, max(steps, 1), alpha=0.1)
    return optax.adam(schedule)


def _numpy(values: Mapping) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in values.items()}


def _search_scale(to_model: ParameterMap, theta0, ranges) -> dict:
    """Per start and parameter, the step in `theta` that moves the value by one search range:
    `(hi - lo) / (∂value/∂theta)(theta0)` (the transforms act elementwise)."""
    ones = jax.tree.map(jnp.ones_like, theta0)
    _, slope = jax.jvp(to_model.values, (theta0,), (ones,))
    return {
        name: (ranges[name][1] - ranges[name][0]) / jnp.maximum(slope[name], 1e-12)
        for name in theta0
    }
