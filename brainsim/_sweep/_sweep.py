"""`brainsim.sweep`: a function of parameters evaluated at many points, vmapped in chunks over
all local devices."""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from brainsim._progress import progress_bar
from brainsim._sweep._points import Grid, check_points
from brainsim._sweep._result import SweepResult

__all__ = ["sweep"]

_DEFAULT_BUDGET = 2**30
# Points per device per call are chosen so that their working memory stays about this size:
# vmapping more points of a network onto one core saves no time per point (each point's step
# is already a pass over arrays of its own) and, once they spill out of the core's cache,
# costs time (COBA with 4000 neurons: ~260 kB per point).
_CACHE_BYTES = 2**18
_AXIS = "points"
_MAX_CACHED = 16
_programs: dict = {}
_executables: dict = {}


def _remember(cache: dict, key, value):
    if len(cache) >= _MAX_CACHED:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value


def _check_call(fn: Callable, names: Sequence[str], n_args: int) -> None:
    """Raise naming the parameters `fn` cannot take as keywords (after `n_args` positional)."""
    if not callable(fn):
        raise TypeError(f"`fn` must be callable, got {type(fn).__name__}.")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or an object without a readable signature
        return
    kinds = {p.name: p.kind for p in signature.parameters.values()}
    takes_any = inspect.Parameter.VAR_KEYWORD in kinds.values()
    keyword = {
        name
        for name, kind in kinds.items()
        if kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    unknown = [name for name in names if name not in keyword and not takes_any]
    if unknown:
        raise ValueError(
            f"unknown parameter name(s) {unknown}: `fn` takes the keywords {sorted(keyword)}."
        )
    try:
        signature.bind(*range(n_args), **dict.fromkeys(names))
    except TypeError as error:
        raise TypeError(
            f"`fn` cannot be called with the {n_args} shared argument(s) and the swept "
            f"parameters {list(names)} as keywords: {error}."
        ) from None


def _as_outputs(value) -> dict[str, jax.Array]:
    if isinstance(value, Mapping):
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            raise TypeError(f"`fn` must return a dict with string keys, got keys {bad}.")
        return {key: jnp.asarray(v) for key, v in value.items()}
    if eqx.is_array_like(value):
        return {"value": jnp.asarray(value)}
    raise TypeError(f"`fn` must return an array or a dict of arrays, got {type(value).__name__}.")


def _local_devices(devices) -> list:
    if devices is None:
        return jax.local_devices()
    if isinstance(devices, int) and not isinstance(devices, bool):
        available = jax.local_devices()
        if not 1 <= devices <= len(available):
            raise ValueError(
                f"`devices` = {devices}, but {len(available)} local device(s) are available "
                "(more CPU devices: `brainsim.use_cpu_cores(n)` before computing)."
            )
        return available[:devices]
    devices = list(devices)
    if not devices or not all(isinstance(d, jax.Device) for d in devices):
        raise TypeError("`devices` must be None, a count, or a non-empty list of jax devices.")
    return devices


def _program(fn, static, devices):
    """The compiled form of `fn` over a chunk: `vmap` over points inside `shard_map` over
    devices, the shared arguments replicated (arguments of the program, not constants)."""

    def batched(points, dynamic):
        args = eqx.combine(dynamic, static)
        return jax.vmap(lambda point: _as_outputs(fn(*args, **point)))(points)

    mesh = Mesh(np.asarray(devices), (_AXIS,))
    spread = jax.shard_map(
        batched,
        mesh=mesh,
        in_specs=(PartitionSpec(_AXIS), PartitionSpec()),
        out_specs=PartitionSpec(_AXIS),
        check_vma=False,
    )
    return jax.jit(spread), mesh


def _cache_key(*parts):
    try:
        hash(parts)
    except TypeError:
        return None
    return parts


def _compile(program, points, dynamic):
    """Trace and compile `program` for these argument shapes and placements (cached)."""
    structure = jax.tree.map(lambda x: (x.shape, x.dtype, x.sharding), (points, dynamic))
    leaves, treedef = jax.tree.flatten(structure, is_leaf=lambda x: isinstance(x, tuple))
    key = _cache_key(id(program), treedef, tuple(leaves))
    executable = _executables.get(key) if key is not None else None
    if executable is None:
        executable = program.lower(points, dynamic).compile()
        if key is not None:
            _remember(_executables, key, executable)
    return executable


def _bytes_in_use(executable) -> int | None:
    try:
        stats = executable.memory_analysis()
    except (NotImplementedError, AttributeError):
        return None
    if stats is None:
        return None
    return int(stats.temp_size_in_bytes + stats.output_size_in_bytes)


def _chunks(n_points: int, n_devices: int, per_device: int) -> tuple[int, int]:
    """(points per device per call, number of calls): equal calls, least padding."""
    n_calls = math.ceil(n_points / (n_devices * per_device))
    return math.ceil(n_points / (n_devices * n_calls)), n_calls


def _positive(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    return int(value)


def sweep(
    fn: Callable,
    params: Mapping | Grid,
    *args,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    devices: int | Sequence[jax.Device] | None = None,
    progress: bool = True,
) -> SweepResult:
    """Evaluate `fn` at every point of a parameter sweep, vmapped in chunks over all devices.

    Each point calls `fn(*args, **point)`, where `point` maps each parameter to its value
    there (a traced scalar, or array for parameters with more than one value per point), and
    `args` are the shared arguments (a network, its initial state, inputs: anything that does
    not change between points). `fn` returns an array or a dict of arrays: the summary of the
    point (rates, a loss, a final state). One program serves every point: `jax.vmap` over the
    points of a chunk, `jax.shard_map` spreading the chunk over the devices (on a CPU, one
    device per core: `brainsim.use_cpu_cores(n)`), each chunk one call. The shared arguments are
    arguments of that program, not constants baked into it, so a large network does not slow
    its compilation. The last chunk is padded with copies of the first point; the padding is
    dropped from the results.

    Chunk size: `chunk_size` points per device if given; else from the memory of the program
    compiled for one point per device (its temporaries and outputs, measured by XLA): as many
    points per device as keep that memory near 256 kB (a core's cache), within
    `memory_budget`, in equal calls. Small models (a neuron, a small network) so get many
    points per call, large networks one or two (more would only slow each point down).

    Args:
        fn: `fn(*args, **point) -> array | dict[str, array]`, traceable by JAX.
        params: the points: `brainsim.grid(name=values, ...)` (all combinations), or a mapping
            `{name: values}` with one value per point for every name (a list of parameter
            sets). Values are in the parameters' own units.
        *args (PyTree): shared arguments of `fn` (pytrees; their arrays are replicated on the
            devices).
        chunk_size: points per device per call (default: chosen as above).
        memory_budget: bytes per device a call may use (default 1 GiB).
        devices: the devices to use: a count (the first local devices) or a list of devices;
            default all local devices.
        progress: show a progress bar over the chunks.

    Returns:
        A `SweepResult`: `params` and `outputs` per point (NumPy), `reshape_grid()`,
        `to_pandas()`, `to_xarray()`, and the compile and run time.

    Raises:
        ValueError: for a parameter name that `fn` does not take, parameters of different
            lengths, NaN or infinite values, an empty sweep, or a bad `chunk_size`,
            `memory_budget` or `devices`.
        TypeError: if `fn` cannot be called with `args` and the parameters, or returns
            something other than arrays.

    Examples:
        >>> import jax.numpy as jnp
        >>> import brainsim as bs
        >>> def rate(tau_m, v_th):
        ...     lif = bs.neurons.LIF(tau_m=tau_m, v_th=v_th, R=0.1)
        ...     result = bs.run(lif, lif.init(1), inputs=250.0, duration=200.0, dt=0.1,
        ...                     record="spikes", stream=False)
        ...     return {"rate": result.spikes["spikes"].sum() / 0.2}
        >>> result = bs.sweep(rate, bs.grid(tau_m=[10.0, 20.0], v_th=[-55.0, -50.0]),
        ...                   progress=False)
        >>> result.reshape_grid()["rate"].shape
        (2, 2)
        >>> result.to_pandas().columns.tolist()
        ['tau_m', 'v_th', 'rate']
    """
    points, n_points = check_points(params)
    axes = params.axes if isinstance(params, Grid) else None
    _check_call(fn, list(points), len(args))
    chunk_size = _positive("chunk_size", chunk_size)
    budget = _positive("memory_budget", memory_budget) or _DEFAULT_BUDGET
    if not isinstance(progress, bool):
        raise TypeError(f"`progress` must be a bool, got {progress!r}.")
    devices = _local_devices(devices)
    n_devices = len(devices)

    dynamic, static = eqx.partition(args, eqx.is_array)
    key = _cache_key(fn, jax.tree.structure(static), tuple(jax.tree.leaves(static)),
                     tuple(devices))  # fmt: skip
    cached = _programs.get(key) if key is not None else None
    program, mesh = cached or _program(fn, static, devices)
    if key is not None and cached is None:
        _remember(_programs, key, (program, mesh))
    spread = NamedSharding(mesh, PartitionSpec(_AXIS))
    dynamic = jax.device_put(dynamic, NamedSharding(mesh, PartitionSpec()))
    values = {name: jnp.asarray(array) for name, array in points.items()}

    def chunk_of(index):
        return jax.device_put({name: v[index] for name, v in values.items()}, spread)

    began = time.perf_counter()
    per_device, n_calls = _chunks(n_points, n_devices, chunk_size or 1)
    executable = _compile(program, chunk_of(np.zeros(per_device * n_devices, int)), dynamic)
    per_point = _bytes_in_use(executable)
    if chunk_size is None and per_point:
        fitting = max(1, min(_CACHE_BYTES, budget) // per_point)
        if fitting > 1 and n_points > n_devices:
            per_device, n_calls = _chunks(n_points, n_devices, fitting)
            executable = _compile(program, chunk_of(np.zeros(per_device * n_devices, int)), dynamic)
    compile_s = time.perf_counter() - began

    began = time.perf_counter()
    size = per_device * n_devices
    index = np.concatenate([np.arange(n_points), np.zeros(size * n_calls - n_points, int)])
    collected = []
    pending = None
    with progress_bar(total=n_calls, desc="brainsim.sweep", unit="chunk",
                      disable=not progress) as bar:
        for call in range(n_calls + 1):
            # Dispatch the next chunk before fetching this one, so the devices do not wait.
            launched = None
            if call < n_calls:
                launched = executable(chunk_of(index[call * size : (call + 1) * size]), dynamic)
            if pending is not None:
                collected.append(jax.tree.map(np.asarray, pending))
                bar.update()
            pending = launched
    outputs = {
        name: np.concatenate([c[name] for c in collected])[:n_points] for name in collected[0]
    }
    run_s = time.perf_counter() - began
    return SweepResult(
        {name: np.asarray(array) for name, array in points.items()},
        outputs,
        axes,
        compile_s=compile_s,
        run_s=run_s,
        chunk_size=per_device,
        devices=n_devices,
    )
