"""The one time loop: `brainsim.run` advances any step function with `lax.scan`."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from brainsim._host import to_host
from brainsim._progress import progress_bar
from brainsim._recording import Probe, parse_record, read_probe
from brainsim._result import RunResult, SpikeEvents
from brainsim._spike_bits import unpack_spike_bits
from brainsim._validation import check_dt

__all__ = ["run"]

_CHUNK_BYTES = 128 * 2**20
_PACKED = "packed"
_MAX_CHUNK_STEPS = 20_000
_PROGRESS_AFTER_S = 3.0


def _step_function(model) -> Callable:
    step = getattr(model, "step", model)
    if not callable(step):
        raise TypeError(
            "`model` must have a `step(state, inputs, *, t, dt)` method or be such a function, "
            f"got {type(model).__name__}."
        )
    return step


def _has_tracer(tree) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _first_nonfinite(state, step_index, found):
    """Per state leaf, the first step index at which it held a NaN or infinity (-1: none yet)."""
    leaves = jax.tree.leaves(state)
    flags = [
        ~jnp.all(jnp.isfinite(x)) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.array(False)
        for x in leaves
    ]
    return jnp.where((found < 0) & jnp.stack(flags), step_index, found)


def _checkpointed_scan(group, carry, n_groups, groups_per_block):
    """`lax.scan(group, carry, arange(n_groups))` with the groups gathered into blocks of
    `groups_per_block`, each block under `jax.checkpoint`: the backward pass keeps only the carry
    at block boundaries and recomputes one block at a time (`n_groups` must be a multiple of
    `groups_per_block`)."""

    @functools.partial(jax.checkpoint, prevent_cse=False)
    def block(carry, b):
        return jax.lax.scan(group, carry, b * groups_per_block + jnp.arange(groups_per_block))

    carry, outputs = jax.lax.scan(block, carry, jnp.arange(n_groups // groups_per_block))
    return carry, jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), outputs)


def _make_advance(probes, every, dt, t0, check):
    """Build `advance(model, inputs, input_series, state, start, n_groups, n_valid, spike_dtype,
    groups_per_block=None)`: run `n_groups * every` steps from the global step `start`, recording
    spikes every step and traces after each group of `every` (in checkpointed blocks of
    `groups_per_block` groups when given). The model and inputs are arguments (not closed over),
    so that their arrays are not baked into the compiled program as constants."""
    spike_probes = [p for p in probes if p.is_spikes]
    trace_probes = [p for p in probes if not p.is_spikes]

    def inputs_at(inputs, input_series, n, t):
        if input_series is not None:
            return jax.tree.map(lambda a: a[n], input_series)
        if callable(inputs):
            return inputs(t)
        return inputs

    def one_step(model, inputs, input_series, carry, n, n_valid, spike_dtype):
        state, last_traces, found = carry
        t = t0 + n * dt
        x = inputs_at(inputs, input_series, n, t)
        new_state, outputs = _step_function(model)(state, x, t=t, dt=dt)
        spikes = [read_probe(p, new_state, outputs) for p in spike_probes]
        if spike_dtype == _PACKED:  # one bit per neuron: 8x less to store and move to the host
            spikes = [jnp.packbits(x > 0, axis=-1) for x in spikes]
        else:
            spikes = [x.astype(spike_dtype) for x in spikes]
        traces = [read_probe(p, new_state, outputs) for p in trace_probes]
        if n_valid is not None:
            active = n < n_valid

            def keep(new, old):
                return jnp.where(active, new, old)

            new_state = jax.tree.map(keep, new_state, state)
        if check:
            found = _first_nonfinite(new_state, n, found)
        return (new_state, traces, found), spikes

    def advance(
        model,
        inputs,
        input_series,
        state,
        start,
        n_groups,
        n_valid,
        spike_dtype,
        groups_per_block=None,
    ):
        step = _step_function(model)
        n_leaves = len(jax.tree.leaves(state))
        found = jnp.full((n_leaves,), -1, jnp.int32)
        traces0 = []
        if trace_probes:  # their shapes need one more trace of the step
            x0 = inputs_at(inputs, input_series, start, t0)
            state0, out0 = jax.eval_shape(lambda s: step(s, x0, t=t0, dt=dt), state)
            traces0 = [
                jnp.zeros(shape.shape, shape.dtype)
                for shape in (
                    jax.eval_shape(lambda s, o, p=p: read_probe(p, s, o), state0, out0)
                    for p in trace_probes
                )
            ]

        def step_at(carry, n):
            return one_step(model, inputs, input_series, carry, n, n_valid, spike_dtype)

        def group(carry, g):
            if every == 1:  # no inner loop: a nested while loop costs microseconds per step
                carry, spikes = step_at(carry, start + g)
                return carry, ([s[None] for s in spikes], carry[1])
            carry, spikes = jax.lax.scan(step_at, carry, start + g * every + jnp.arange(every))
            return carry, (spikes, carry[1])

        carry = (state, traces0, found)
        if groups_per_block is None:
            carry, (spikes, traces) = jax.lax.scan(group, carry, jnp.arange(n_groups))
        else:
            carry, (spikes, traces) = _checkpointed_scan(group, carry, n_groups, groups_per_block)
        state, _, found = carry
        spikes = [s.reshape((-1,) + s.shape[2:]) for s in spikes]
        return state, spikes, traces, found

    return advance, spike_probes, trace_probes


def run(
    model,
    state,
    *,
    dt: float,
    duration: float | None = None,
    steps: int | None = None,
    inputs: Any = None,
    input_series: Any = None,
    t0: float = 0.0,
    record: Any = "spikes",
    every: int = 1,
    stream: bool | None = None,
    chunk_steps: int | None = None,
    progress: bool | None = None,
    check_finite: bool = False,
    checkpoint_every: int | None = None,
) -> RunResult:
    """Advance `model` from `state` for `duration` ms (or `steps` steps) of `dt` ms.

    Step `n` advances from `t = t0 + n·dt` to `t + dt`; it is called as
    `model.step(state, x, t=t, dt=dt)` (or `model(state, x, t=t, dt=dt)` for a plain function),
    where the input `x` is `inputs` (a constant pytree), `inputs(t)` (a function of time in ms)
    or `input_series[n]` (a pytree with a leading time axis of at least `steps` entries).

    Recording: `record` names the variables to keep, looked up in the step's outputs and then
    in its state (`"spikes"`, `"v"`, `"E.v"` for nested networks); a dict maps names to neuron
    indices or to functions `(state, outputs) -> array`. Variables named `spikes` are recorded
    every step and returned as events stamped with the start `t` of their step (as Brian2
    does); other variables are traces sampled after every `every`-th step, at times
    `t0 + (k + 1)·every·dt` (`RunResult.t`).

    Two modes, chosen automatically:
    - streaming (eager calls): the run is cut into compiled chunks whose recordings are moved to
      the host as they finish, so memory stays bounded however long the run; a progress bar
      appears when the run is expected to take more than a few seconds;
    - traced (inside `jit`, `grad` or `vmap`, detected from tracers among the arguments, or
      forced with `stream=False`): one `lax.scan` whose recordings stay on the device, spikes
      as a float `(steps, n)` array that carries surrogate gradients.

    Args:
        model (Any): a model with a `step` method (neuron, network) or a step function.
        state (Any): its initial state, e.g. `model.init(n, key)`.
        dt: time step (ms, > 0).
        duration: length of the run (ms); or give `steps`.
        steps: number of steps; or give `duration` (rounded to the nearest number of steps).
        inputs: constant input, or a function of `t` (ms) returning the input.
        input_series: input per step, a pytree of arrays with a leading time axis.
        t0: time of the first step (ms).
        record: what to record (see above); `None` records nothing.
        every: decimation of traces (record every `every`-th step).
        stream: force streaming (True) or one on-device scan (False); default automatic.
        chunk_steps: steps per streamed chunk (default: sized to keep ~128 MiB of recordings per
            chunk; two chunks are alive at a time, one computing while the other is decoded).
        progress: show a progress bar (default: when the run is expected to take > 3 s).
        check_finite: stop with an error naming the state variable and step at the first NaN or
            infinity (streaming mode; costs a reduction per step).
        checkpoint_every: gradient checkpointing of the on-device scan (traced mode): the steps
            are grouped into blocks of `checkpoint_every` steps, each under `jax.checkpoint`, so
            that backpropagation through time stores the state only at block boundaries and
            recomputes one block at a time. Memory for the backward pass is then
            O(steps / k + k) states instead of O(steps) step residuals, for about one extra
            forward pass of compute; `k ≈ √steps` minimises it. Values and gradients are
            unchanged. Must be a multiple of `every`; ignored when streaming (no gradients flow
            there). Default: no checkpointing.

    Returns:
        A `RunResult` with the final state, spike events, traces and their time axis.

    Examples:
        >>> import brainsim as bs
        >>> lif = bs.neurons.LIF(tau_m=10.0)
        >>> result = bs.run(lif, lif.init(10), inputs=200.0, duration=100.0, dt=0.1,
        ...                 record=["spikes", "v"], every=10)
        >>> result.traces["v"].shape
        (100, 10)
    """
    _step_function(model)
    check_dt(dt)
    steps = _number_of_steps(duration, steps, dt)
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"`every` must be a positive int, got {every!r}.")
    if checkpoint_every is not None and (
        not isinstance(checkpoint_every, int) or checkpoint_every < 1 or checkpoint_every % every
    ):
        raise ValueError(
            f"`checkpoint_every` must be a positive int and a multiple of `every` ({every}), "
            f"got {checkpoint_every!r}."
        )
    _check_inputs(inputs, input_series, steps)
    probes = parse_record(record)
    traced = _has_tracer((model, state, inputs, input_series))
    if stream is None:
        stream = not traced
    if stream and traced:
        raise ValueError("`stream=True` cannot be used inside jit, grad or vmap.")
    advance, spike_probes, trace_probes = _make_advance(probes, every, dt, t0, check_finite)
    bound = functools.partial(advance, model, inputs, input_series)
    if not stream:
        return _real_neurons(model, _run_on_device(
            bound, state, steps, every, dt, t0, spike_probes, trace_probes, checkpoint_every
        ))  # fmt: skip
    return _real_neurons(model, _run_streaming(
        advance,
        (model, inputs, input_series),
        state,
        steps,
        every,
        dt,
        t0,
        spike_probes,
        trace_probes,
        chunk_steps,
        progress,
        check_finite,
    ))


def _real_neurons(model, result: RunResult) -> RunResult:
    """The recordings of a partitioned network (`brainsim.network.partition`) for its real
    neurons only (its `recorded(name, values)` drops the padding); others unchanged."""
    recorded = getattr(model, "recorded", None)
    if recorded is None:
        return result
    spikes = {name: recorded(name, s) for name, s in result.spikes.items()}
    traces = {name: recorded(name, x) for name, x in result.traces.items()}
    return eqx.tree_at(lambda r: (r.spikes, r.traces), result, (spikes, traces))


def _check_inputs(inputs, input_series, steps: int) -> None:
    if inputs is not None and input_series is not None:
        raise ValueError("give either `inputs` or `input_series`, not both.")
    if input_series is not None:
        for leaf in jax.tree.leaves(input_series):
            if jnp.ndim(leaf) == 0 or jnp.shape(leaf)[0] < steps:
                raise ValueError(
                    f"`input_series` needs a leading time axis of at least {steps} steps, "
                    f"got an array of shape {jnp.shape(leaf)}."
                )


def _number_of_steps(duration, steps, dt) -> int:
    if (duration is None) == (steps is None):
        raise ValueError("give exactly one of `duration` (ms) or `steps`.")
    if steps is None:
        if not math.isfinite(duration) or duration <= 0:
            raise ValueError(f"`duration` must be a positive number of ms, got {duration!r}.")
        steps = int(round(duration / dt))
    if not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"`steps` must be a positive int, got {steps!r}.")
    return int(steps)


def _run_on_device(
    advance, state, steps, every, dt, t0, spike_probes, trace_probes, checkpoint_every=None
):
    n_groups, remainder = divmod(steps, every)
    dtype = jnp.result_type(float)
    if checkpoint_every is None:
        state, spikes, traces, _ = advance(state, 0, n_groups, None, dtype)
    else:
        state, spikes, traces = _checkpointed_groups(
            advance, state, n_groups, every, checkpoint_every // every, dtype
        )
    if remainder:
        state, tail, _, _ = _tail(advance, state, n_groups * every, remainder, dtype)
        spikes = [jnp.concatenate([a, b]) for a, b in zip(spikes, tail, strict=True)]
    return RunResult(
        dt=dt,
        t0=t0,
        steps=steps,
        every=every,
        final_state=state,
        spikes={p.name: s for p, s in zip(spike_probes, spikes, strict=True)},
        traces={p.name: x for p, x in zip(trace_probes, traces, strict=True)},
        indices=_indices(spike_probes + trace_probes),
    )


def _checkpointed_groups(advance, state, n_groups, every, groups_per_block, dtype):
    """Run `n_groups` groups of `every` steps in checkpointed blocks; the groups that do not
    fill a whole block (fewer than `checkpoint_every` steps) run after them without checkpoint."""
    n_blocked = n_groups // groups_per_block * groups_per_block
    parts = []
    if n_blocked:
        state, spikes, traces, _ = advance(state, 0, n_blocked, None, dtype, groups_per_block)
        parts.append((spikes, traces))
    if n_groups > n_blocked or not parts:
        state, spikes, traces, _ = advance(
            state, n_blocked * every, n_groups - n_blocked, None, dtype
        )
        parts.append((spikes, traces))
    spikes, traces = jax.tree.map(lambda *xs: jnp.concatenate(xs), *parts)
    return state, spikes, traces


def _tail(advance, state, start, remainder, dtype):
    """Run the last `remainder` (< every) steps: one group whose extra steps are masked out."""
    state, spikes, traces, found = advance(state, start, 1, start + remainder, dtype)
    return state, [s[:remainder] for s in spikes], traces, found


def _indices(probes: list[Probe]) -> dict[str, np.ndarray | None]:
    return {p.name: p.indices for p in probes}


def _chunk_size(per_group: int, every: int, steps: int, chunk_steps: int | None) -> int:
    if chunk_steps is not None:
        if not isinstance(chunk_steps, int) or chunk_steps < 1:
            raise ValueError(f"`chunk_steps` must be a positive int, got {chunk_steps!r}.")
        return max(every, chunk_steps // every * every)
    groups = max(1, _CHUNK_BYTES // max(per_group, 1))
    chunk = max(every, min(groups * every, _MAX_CHUNK_STEPS // every * every or every))
    # Equal chunks when they can be: only a shorter last chunk needs the masked program.
    total_groups = math.ceil(steps / every)
    n_chunks = math.ceil(total_groups * every / chunk)
    return math.ceil(total_groups / n_chunks) * every


_recording_layouts: dict = {}
_compiled_chunks: dict = {}
_MAX_CACHED = 32


def _remember(cache: dict, key, value):
    if len(cache) >= _MAX_CACHED:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value


def _structure_key(probes: list[Probe], every: int, tree) -> tuple | None:
    """What the recordings' shapes depend on: the probes and the arguments' structure, shapes
    and dtypes (`None` if some static part is unhashable; then nothing is cached)."""
    leaves, treedef = jax.tree.flatten(tree)
    shapes = tuple(
        (np.shape(x), str(getattr(x, "dtype", type(x).__name__))) if eqx.is_array_like(x) else x
        for x in leaves
    )
    key = (_probe_key(probes), every, treedef, shapes)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _recording_layout(bound, state, key) -> tuple[int, list[int]]:
    """Bytes recorded per group of `every` steps, and the width of each spike recording.

    Tracing the model to find them costs tens of milliseconds for a network, so the answer is
    cached by the structure of the arguments.
    """
    layout = _recording_layouts.get(key) if key is not None else None
    if layout is None:
        shapes = jax.eval_shape(lambda s: bound(s, 0, 1, None, jnp.bool_), state)
        per_group = sum(math.prod(s.shape) * s.dtype.itemsize for s in jax.tree.leaves(shapes[1:3]))
        layout = (per_group, [s.shape[-1] for s in shapes[1]])
        if key is not None:
            _remember(_recording_layouts, key, layout)
    return layout


def _probe_key(probes: list[Probe]) -> tuple:
    """A hashable description of what is recorded, so compiled chunks can be reused by later
    runs (`eqx.filter_jit` then recompiles only when the model's structure changes)."""
    return tuple(
        (p.name, None if p.indices is None else p.indices.tobytes(), p.selector) for p in probes
    )


def _chunk_program(advance, arguments, state, probes, every, dt, check, chunk_steps, steps):
    """The chunk size (steps) and the compiled `advance_chunk(arguments, state, start, n_valid,
    t0)` that runs one chunk from the global step `start`, recording spikes bit-packed; also
    the width of each spike recording."""
    bound = functools.partial(advance, *arguments)
    structure = _structure_key(probes, every, (arguments, state))
    per_group, spike_sizes = _recording_layout(bound, state, structure)
    chunk = _chunk_size(per_group, every, steps, chunk_steps)
    key = (_probe_key(probes), every, float(dt), check, chunk)
    advance_chunk = _compiled_chunks.get(key)
    if advance_chunk is None:

        @eqx.filter_jit
        def advance_chunk(arguments, state, start, n_valid, t0):
            # t0 is traced, so that continuing a run from its end time reuses this program.
            advance_from, _, _ = _make_advance(probes, every, dt, t0, check)
            return advance_from(*arguments, state, start, chunk // every, n_valid, _PACKED)

        _remember(_compiled_chunks, key, advance_chunk)
    return chunk, advance_chunk, spike_sizes


def _stream_chunks(
    advance_chunk, arguments, state, chunk, every, dt, t0, check, leaf_names, start, steps
):
    """Run steps `start..steps` (global step indices) chunk by chunk; yield after each chunk
    `(done, state, spikes, traces)`: the steps done so far, the state, per spike probe the
    global step index and neuron of each event, and per trace probe its samples.

    Each chunk is dispatched before the previous one's recordings are moved to the host and
    unpacked, so the device computes while the host works (two chunks' recordings are alive
    at a time)."""
    start_time = jnp.asarray(t0, jnp.result_type(float))

    def launch(at, state):
        n_here = min(chunk, steps - at)
        # A full chunk runs unmasked; only a shorter last one masks the steps past the end
        # (a second compiled program, made only when the run needs it).
        n_valid = None if n_here == chunk else jnp.int32(steps)
        return at, n_here, advance_chunk(arguments, state, jnp.int32(at), n_valid, start_time)

    running = launch(start, state) if start < steps else None
    while running is not None:
        at, n_here, (state, spikes, traces, found) = running
        done = at + n_here
        running = launch(done, state) if done < steps else None
        events = []
        for s in spikes:
            times, neurons = unpack_spike_bits(to_host(s[:n_here]))
            events.append((times + at, neurons))
        samples = [to_host(x[: n_here // every]) for x in traces]
        if check:
            _raise_if_nonfinite(to_host(found), leaf_names, dt, t0)
        yield done, state, events, samples


def _run_streaming(
    advance,
    arguments,
    state,
    steps,
    every,
    dt,
    t0,
    spike_probes,
    trace_probes,
    chunk_steps,
    progress,
    check,
):
    probes = spike_probes + trace_probes
    chunk, advance_chunk, spike_sizes = _chunk_program(
        advance, arguments, state, probes, every, dt, check, chunk_steps, steps
    )
    spike_chunks: list[list] = [[] for _ in spike_probes]
    trace_chunks: list[list] = [[] for _ in trace_probes]
    bar = None
    began = time.perf_counter()
    chunks = _stream_chunks(
        advance_chunk, arguments, state, chunk, every, dt, t0, check, _leaf_names(state), 0, steps
    )
    for done, latest, events, samples in chunks:
        state = latest
        for store, e in zip(spike_chunks, events, strict=True):
            store.append(e)
        for store, x in zip(trace_chunks, samples, strict=True):
            store.append(x)
        bar = _update_progress(bar, progress, began, done, steps)
    if bar is not None:
        bar.close()
    events = {}
    for p, store, n_recorded in zip(spike_probes, spike_chunks, spike_sizes, strict=True):
        step_index = np.concatenate([s for s, _ in store])
        neurons = np.concatenate([n for _, n in store])
        events[p.name] = SpikeEvents(
            times=t0 + step_index * dt,
            indices=neurons if p.indices is None else p.indices[neurons],
            n=n_recorded,
        )
    traces_out = {
        p.name: np.concatenate(store) for p, store in zip(trace_probes, trace_chunks, strict=True)
    }
    return RunResult(
        dt=dt,
        t0=t0,
        steps=steps,
        every=every,
        final_state=state,
        spikes=events,
        traces=traces_out,
        indices=_indices(spike_probes + trace_probes),
    )


def _update_progress(bar, progress, began, done, steps):
    if progress is False or done >= steps and bar is None:
        return bar
    if bar is None:
        elapsed = time.perf_counter() - began
        expected = elapsed / done * steps
        if progress or expected > _PROGRESS_AFTER_S:
            bar = progress_bar(total=steps, initial=done, unit="step", desc="brainsim.run")
        return bar
    bar.update(done - bar.n)
    return bar


def _leaf_names(state) -> list[str]:
    paths = jax.tree_util.tree_flatten_with_path(state)[0]
    return [jax.tree_util.keystr(path) or "state" for path, _ in paths]


def _raise_if_nonfinite(found: np.ndarray, names: list[str], dt, t0) -> None:
    bad = np.flatnonzero(found >= 0)
    if bad.size:
        first = bad[np.argmin(found[bad])]
        n = int(found[first])
        raise FloatingPointError(
            f"state variable {names[first]} became NaN or infinite at step {n} "
            f"(t = {t0 + n * dt:g} ms to {t0 + (n + 1) * dt:g} ms, dt = {dt} ms); a smaller `dt`, "
            f"another integrator or checking the parameters usually fixes this."
        )
