"""Long runs on disk: `brainsim.run_to_disk` streams recordings to files, checkpoints the
state periodically and resumes after an interruption; `brainsim.read_run` reads a run back.

A run folder holds:

- `run.json`: what the run is (dt, t0, steps, every, chunk and checkpoint interval in steps,
  the recorded variables and their files, fingerprints of the model and inputs, versions);
- `checkpoint.npz`: the latest checkpoint, a `brainsim.save_state` file whose metadata holds
  the number of rows of every recording file that belong to it;
- `spikes/<name>.times.npy` (float64, ms) and `spikes/<name>.indices.npy` (int32) per spike
  variable: event `k` is neuron `indices[k]` firing at `times[k]`, sorted by time;
- `traces/<name>.npy` per trace: `(samples, n)`, sample `k` taken after step
  `(k + 1)·every - 1` (time `t0 + (k + 1)·every·dt`).

The recordings are NumPy `.npy` files that grow along their first axis; their header counts
the rows up to the latest checkpoint, so `np.load(path, mmap_mode="r")` reads them at any
time, and a run's data never have to fit in memory.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pathlib
import struct
import time
import uuid
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from brainsim._checkpoint import load_state, read_header, save_state, write_atomically
from brainsim._recording import parse_record
from brainsim._result import RunResult, SpikeEvents
from brainsim._run import (
    _check_inputs,
    _chunk_program,
    _chunk_size,
    _has_tracer,
    _leaf_names,
    _make_advance,
    _number_of_steps,
    _step_function,
    _stream_chunks,
    _update_progress,
)
from brainsim._validation import check_dt

__all__ = ["read_run", "run_to_disk"]

_FORMAT = "brainsim.run"
_VERSION = 1
_RUN_FILE = "run.json"
_CHECKPOINT = "checkpoint.npz"
_NPY_HEADER_BYTES = 128  # fixed, so that the header can be rewritten in place as rows grow


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """An NPY format 1.0 header padded to `_NPY_HEADER_BYTES`."""
    text = repr(
        {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": tuple(shape),
        }
    ).encode("latin1")
    size = _NPY_HEADER_BYTES - 10
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + text.ljust(size - 1) + b"\n"


class _Column:
    """A recording file: an `.npy` array that grows along its first axis. Rows are appended
    as chunks finish; `commit` makes them durable and counts them in the header."""

    def __init__(self, path: pathlib.Path, dtype: str, row_shape: tuple[int, ...], rows: int):
        self.path, self.dtype, self.row_shape = path, np.dtype(dtype), tuple(row_shape)
        self.row_bytes = self.dtype.itemsize * math.prod(self.row_shape)
        if not path.exists():
            path.write_bytes(_npy_header(self.dtype, (0, *self.row_shape)))
        self.file = open(path, "r+b")  # closed by `close`
        size = _NPY_HEADER_BYTES + rows * self.row_bytes
        if os.fstat(self.file.fileno()).st_size < size:
            raise ValueError(
                f"{str(path)!r} holds fewer rows than its checkpoint ({rows}): the run folder "
                f"was changed outside brainsim."
            )
        self.file.truncate(size)  # drop what was written after the checkpoint
        self.rows = rows
        self._write_header()
        self.file.seek(size)

    def _write_header(self) -> None:
        self.file.seek(0)
        self.file.write(_npy_header(self.dtype, (self.rows, *self.row_shape)))

    def append(self, rows: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(rows, self.dtype).tobytes())
        self.rows += len(rows)

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self._write_header()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.seek(0, os.SEEK_END)

    def close(self) -> None:
        self.file.close()


def _read_column(path: pathlib.Path, rows: int, dtype: str, row_shape) -> np.ndarray:
    if rows == 0:  # an empty file cannot be memory-mapped
        return np.zeros((0, *row_shape), dtype)
    return np.load(path, mmap_mode="r")[:rows]


def _fingerprint(tree) -> str:
    """A hash of the arrays of `tree` (their dtypes, shapes and bytes), in tree order."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(eqx.filter(tree, eqx.is_array_like)):
        if hasattr(leaf, "dtype") and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        value = np.asarray(leaf)
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


def _describe_inputs(inputs, input_series) -> dict:
    if input_series is not None:
        return {"kind": "series", "fingerprint": _fingerprint(input_series)}
    if callable(inputs):
        return {"kind": "function", "fingerprint": None}
    if inputs is None:
        return {"kind": "none", "fingerprint": None}
    return {"kind": "constant", "fingerprint": _fingerprint(inputs)}


def _describe_record(probes) -> list[dict]:
    described = []
    for p in probes:
        if "/" in p.name or os.sep in p.name or p.name.startswith("."):
            raise ValueError(f"recorded name {p.name!r} cannot name a file; choose another.")
        described.append(
            {
                "name": p.name,
                "kind": "spikes" if p.is_spikes else "trace",
                "indices": None if p.indices is None else p.indices.tolist(),
                "function": p.selector is not None,
            }
        )
    return described


def _interval_steps(interval: float, dt: float, every: int) -> int:
    if not isinstance(interval, int | float) or not math.isfinite(interval) or interval <= 0:
        raise ValueError(
            f"`checkpoint_interval` must be a positive number of ms, got {interval!r}."
        )
    steps = max(1, round(interval / dt))
    if steps % every:
        raise ValueError(
            f"`checkpoint_interval` ({interval} ms = {steps} steps) must be a multiple of "
            f"`every` ({every} steps), so that every checkpoint falls between two trace samples."
        )
    return steps


def _chunk_dividing(interval_steps: int, every: int, preferred: int) -> int:
    """The largest chunk (a multiple of `every`, at most about `preferred` steps) that divides
    the checkpoint interval, so that checkpoints fall between chunks."""
    groups = interval_steps // every
    n = math.ceil(groups / max(1, preferred // every))
    while groups % n:
        n += 1
    return groups // n * every


def _layout(advance, arguments, state) -> tuple[int, list, list]:
    """Bytes recorded per step (for the chunk size), spike widths, trace shapes and dtypes."""
    shapes = jax.eval_shape(lambda s: advance(*arguments, s, 0, 1, None, jnp.bool_), state)
    spikes, traces = shapes[1], shapes[2]
    per_group = sum(
        math.prod(s.shape) * s.dtype.itemsize for s in jax.tree.leaves((spikes, traces))
    )
    widths = [s.shape[-1] for s in spikes]
    trace_layout = [(list(s.shape[1:]), np.dtype(s.dtype).str) for s in traces]
    return per_group, widths, trace_layout


def _files(description: dict) -> dict[str, tuple[str, list]]:
    """Every recording file of a run: relative path -> (dtype, row shape)."""
    files = {}
    for entry in description["record"]:
        if entry["kind"] == "spikes":
            files[f"spikes/{entry['name']}.times.npy"] = ("<f8", [])
            files[f"spikes/{entry['name']}.indices.npy"] = ("<i4", [])
        else:
            files[f"traces/{entry['name']}.npy"] = (entry["dtype"], entry["shape"])
    return files


def _write_json(path: pathlib.Path, value: dict) -> None:
    text = json.dumps(value, indent=1).encode()
    write_atomically(path, lambda file: file.write(text))


def _check_same_run(stored: dict, given: dict, directory: pathlib.Path) -> None:
    """Raise, naming the difference, if `given` does not continue the run `stored`."""
    where = str(directory)
    fields = (("dt", " ms"), ("t0", " ms"), ("every", ""), ("checkpoint_steps", ""),
              ("check_finite", ""))  # fmt: skip
    for field, unit in fields:
        if stored[field] != given[field]:
            raise ValueError(
                f"the run in {where!r} was started with {field} = {stored[field]}{unit}, got "
                f"{given[field]}{unit}; resume it with the same value (or start a new run in "
                f"another folder)."
            )
    if given["chunk_steps"] is not None and given["chunk_steps"] != stored["chunk_steps"]:
        raise ValueError(
            f"the run in {where!r} runs chunks of {stored['chunk_steps']} steps, got "
            f"`chunk_steps={given['chunk_steps']}`; leave it out to resume."
        )
    stored_record = [{k: e[k] for k in ("name", "kind", "indices", "function")}
                     for e in stored["record"]]  # fmt: skip
    if stored_record != given["record"]:
        raise ValueError(
            f"the run in {where!r} records {[e['name'] for e in stored['record']]} (with its "
            f"neuron indices); `record` must be the same to resume it."
        )
    if stored["model"] != given["model"]:
        raise ValueError(
            f"`model` differs from the model the run in {where!r} was started with (another "
            f"class, parameters or connectivity); resuming would not continue that run."
        )
    if stored["inputs"] != given["inputs"]:
        raise ValueError(
            f"the inputs differ from those the run in {where!r} was started with "
            f"({stored['inputs']['kind']} inputs, got {given['inputs']['kind']} inputs with "
            f"other values)."
        )


def run_to_disk(
    model,
    state,
    directory: str | os.PathLike,
    *,
    dt: float,
    duration: float | None = None,
    steps: int | None = None,
    inputs: Any = None,
    input_series: Any = None,
    t0: float = 0.0,
    record: Any = "spikes",
    every: int = 1,
    checkpoint_interval: float = 60_000.0,
    chunk_steps: int | None = None,
    progress: bool | None = None,
    check_finite: bool = False,
    resume: bool = False,
) -> RunResult:
    """Run like `brainsim.run`, streaming the recordings to files in `directory` and saving
    the whole state there every `checkpoint_interval` ms, so that a run longer than memory
    or than one process's life can be resumed where it stopped.

    Spike events and traces are appended to `.npy` files as each compiled chunk of steps
    finishes (format: see the module docs and `docs/run.md`); memory holds one chunk. Every
    `checkpoint_interval` ms of simulated time (and at the start and the end) the state —
    neuron variables, synaptic and plastic variables, delay rings, random keys, the step
    counter — and the length of every recording file are saved atomically to
    `checkpoint.npz`.

    If the process dies (killed, out of time, power cut), call `run_to_disk` again with the
    same arguments and `resume=True`: it loads the checkpoint, drops what the files received
    after it, and continues. The spikes and traces are then bit-identical to an uninterrupted
    run (same model, inputs, `dt` and platform). The same script thus starts and restarts a
    run. A longer `duration` on resuming extends a finished run.

    Args:
        model (equinox.Module | Callable): a model with a `step` method or a step function
            (as for `brainsim.run`).
        state (PyTree): its initial state. When resuming, only its structure is used (it must match
            the saved state leaf by leaf); the values come from the checkpoint.
        directory: the run folder (created if missing).
        dt: time step (ms, > 0).
        duration: length of the whole run (ms); or give `steps`.
        steps: number of steps of the whole run; or give `duration`.
        inputs: constant input, or a function of `t` (ms) returning the input.
        input_series: input per step, a pytree of arrays with a leading time axis.
        t0: time of the first step (ms).
        record: what to record, as for `brainsim.run` (functions are allowed; pass the same
            ones when resuming).
        every: decimation of traces (record every `every`-th step).
        checkpoint_interval: simulated time between checkpoints (ms, a multiple of
            `every · dt`).
        chunk_steps: steps per compiled chunk (a divisor of the checkpoint interval; default:
            sized to keep ~128 MiB of recordings per chunk).
        progress: show a progress bar (default: when the run is expected to take > 3 s).
        check_finite: stop with an error at the first NaN or infinity (as for `brainsim.run`;
            the latest checkpoint stays before it).
        resume: continue the run already in `directory` from its latest checkpoint (if the
            folder holds no run yet, start one). Without it, a folder that already holds a
            run raises `FileExistsError`.

    Returns:
        A `RunResult` whose spikes and traces are read-only memory maps of the files (see
        `read_run`) and whose `final_state` is the state at the end.

    Raises:
        FileExistsError: `directory` holds a run and `resume` is False.
        ValueError: resuming with another `dt`, `t0`, `every`, checkpoint interval, chunk size,
            `check_finite`, `record`, model, inputs or state structure than the run was
            started with (any of them could change the results).

    Examples:
        >>> import tempfile, brainsim as bs
        >>> lif = bs.neurons.LIF(tau_m=10.0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     first = bs.run_to_disk(lif, lif.init(5), folder, dt=0.1, duration=100.0,
        ...                            inputs=300.0, checkpoint_interval=50.0)
        ...     longer = bs.run_to_disk(lif, lif.init(5), folder, dt=0.1, duration=200.0,
        ...                             inputs=300.0, checkpoint_interval=50.0, resume=True)
        ...     longer.steps, len(longer["spikes"]) > len(first["spikes"])
        (2000, True)
    """
    _step_function(model)
    check_dt(dt)
    steps = _number_of_steps(duration, steps, dt)
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"`every` must be a positive int, got {every!r}.")
    _check_inputs(inputs, input_series, steps)
    if _has_tracer((model, state, inputs, input_series)):
        raise ValueError("`run_to_disk` cannot be used inside jit, grad or vmap.")
    interval = _interval_steps(checkpoint_interval, dt, every)
    if chunk_steps is not None and (
        not isinstance(chunk_steps, int) or chunk_steps < 1 or chunk_steps % every
        or interval % chunk_steps
    ):  # fmt: skip
        raise ValueError(
            f"`chunk_steps` must be a positive multiple of `every` ({every}) that divides the "
            f"checkpoint interval ({interval} steps), got {chunk_steps!r}."
        )
    probes = parse_record(record)
    directory = pathlib.Path(directory)
    advance, spike_probes, trace_probes = _make_advance(probes, every, dt, t0, check_finite)
    arguments = (model, inputs, input_series)
    given = {
        "dt": float(dt),
        "t0": float(t0),
        "every": every,
        "check_finite": check_finite,
        "checkpoint_steps": interval,
        "chunk_steps": chunk_steps,
        "record": _describe_record(probes),
        "model": {"class": type(model).__qualname__, "fingerprint": _fingerprint(model)},
        "inputs": _describe_inputs(inputs, input_series),
    }
    if (directory / _RUN_FILE).exists():
        if not resume:
            raise FileExistsError(
                f"{str(directory)!r} already holds a run; pass `resume=True` to continue it, "
                f"or choose another folder."
            )
        description = json.loads((directory / _RUN_FILE).read_text())
        _check_same_run(description, given, directory)
        saved = load_state(directory / _CHECKPOINT, like=state, dt=dt)
        if saved.metadata.get("run") != description["id"]:
            raise ValueError(f"{str(directory / _CHECKPOINT)!r} belongs to another run.")
        state, start, rows = saved.state, saved.step, saved.metadata["rows"]
        if steps < start:
            raise ValueError(
                f"the run in {str(directory)!r} has already run {start} steps "
                f"({start * dt:g} ms); `duration` must be at least that."
            )
        if steps > start and start % every:
            raise ValueError(
                f"the run ended after {start} steps, not a multiple of `every` ({every}): it "
                f"cannot be extended without shifting the trace samples."
            )
        if steps != description["steps"]:
            description["steps"] = steps
            _write_json(directory / _RUN_FILE, description)
    else:
        per_group, widths, trace_layout = _layout(advance, arguments, state)
        if chunk_steps is None:
            preferred = _chunk_size(per_group, every, min(steps, interval), None)
            chunk_steps = _chunk_dividing(interval, every, preferred)
        from brainsim import __version__

        description = {
            "format": _FORMAT,
            "version": _VERSION,
            "id": uuid.uuid4().hex,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "brainsim": __version__,
            "jax": jax.__version__,
            **given,
            "chunk_steps": chunk_steps,
            "steps": steps,
        }
        spike_entries = [e for e in description["record"] if e["kind"] == "spikes"]
        trace_entries = [e for e in description["record"] if e["kind"] == "trace"]
        for entry, width in zip(spike_entries, widths, strict=True):
            entry["n"] = width
        for entry, (shape, dtype) in zip(trace_entries, trace_layout, strict=True):
            entry["shape"], entry["dtype"] = shape, dtype
        (directory / "spikes").mkdir(parents=True, exist_ok=True)
        (directory / "traces").mkdir(exist_ok=True)
        start, rows = 0, dict.fromkeys(_files(description), 0)
        for name in rows:  # stale files of an earlier run would be read as this one's
            (directory / name).unlink(missing_ok=True)
        _checkpoint(directory, description, state, 0, rows)
        _write_json(directory / _RUN_FILE, description)
    state = _advance_on_disk(
        directory, description, advance, arguments, state, start, rows, spike_probes,
        trace_probes, progress, check_finite,
    )  # fmt: skip
    return read_run(directory, final_state=state)


def _checkpoint(directory, description, state, step, rows) -> None:
    save_state(
        directory / _CHECKPOINT,
        state,
        t=description["t0"] + step * description["dt"],
        step=step,
        dt=description["dt"],
        metadata={"run": description["id"], "rows": rows},
    )


def _advance_on_disk(
    directory, description, advance, arguments, state, start, rows, spike_probes, trace_probes,
    progress, check,
):  # fmt: skip
    """Run from step `start` to the end, appending to the files and checkpointing."""
    dt, t0, every = description["dt"], description["t0"], description["every"]
    steps, interval = description["steps"], description["checkpoint_steps"]
    files = _files(description)
    columns = {
        name: _Column(directory / name, dtype, shape, rows[name])
        for name, (dtype, shape) in files.items()
    }
    try:
        chunk, advance_chunk, _ = _chunk_program(
            advance, arguments, state, spike_probes + trace_probes, every, dt, check,
            description["chunk_steps"], steps,
        )  # fmt: skip
        chunks = _stream_chunks(
            advance_chunk, arguments, state, chunk, every, dt, t0, check, _leaf_names(state),
            start, steps,
        )  # fmt: skip
        bar, began, last = None, time.perf_counter(), start
        for done, latest, events, samples in chunks:
            state = latest
            for p, (step_index, neurons) in zip(spike_probes, events, strict=True):
                columns[f"spikes/{p.name}.times.npy"].append(t0 + step_index * dt)
                columns[f"spikes/{p.name}.indices.npy"].append(
                    neurons if p.indices is None else p.indices[neurons]
                )
            for p, x in zip(trace_probes, samples, strict=True):
                columns[f"traces/{p.name}.npy"].append(x)
            if done // interval > last // interval or done == steps:
                for column in columns.values():
                    column.commit()
                _checkpoint(directory, description, state, done, {
                    name: column.rows for name, column in columns.items()
                })  # fmt: skip
                last = done
            bar = _update_progress(bar, progress, began, done - start, steps - start)
        if bar is not None:
            bar.close()
    finally:
        for column in columns.values():
            column.close()
    return state


def read_run(directory: str | os.PathLike, *, like: Any = None, final_state: Any = None):
    """Read a run written by `run_to_disk`, up to its latest checkpoint (also while it runs,
    or after it was killed).

    Spikes and traces are read-only memory maps of the files: nothing is loaded until used,
    so runs larger than memory can be read piece by piece (`events.times[:1000]`).

    Args:
        directory: the run folder.
        like: a state of the same model; the checkpoint's state is then returned in its
            structure as `final_state` (without it, `final_state` is a dict from leaf path
            to array).
        final_state: the state to return as `final_state` instead of loading it.

    Returns:
        (RunResult): the run, with `steps` the number of steps up to the checkpoint.

    Examples:
        >>> import tempfile, jax, brainsim as bs, pandas as pd
        >>> lif = bs.neurons.LIF(tau_m=10.0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     _ = bs.run_to_disk(lif, lif.init(5), folder, dt=0.1, duration=50.0,
        ...                        inputs=300.0, record=["spikes", "v"], every=10)
        ...     result = bs.read_run(folder)
        ...     events = pd.DataFrame({"t": result["spikes"].times,
        ...                            "neuron": result["spikes"].indices})
        >>> result["v"].shape, len(events) == len(result["spikes"])
        ((50, 5), True)
    """
    directory = pathlib.Path(directory)
    if not (directory / _RUN_FILE).is_file():
        raise FileNotFoundError(
            f"{str(directory)!r} holds no run written by `brainsim.run_to_disk` (no {_RUN_FILE})."
        )
    description = json.loads((directory / _RUN_FILE).read_text())
    if description.get("format") != _FORMAT or description.get("version", 0) > _VERSION:
        raise ValueError(f"{str(directory / _RUN_FILE)!r} is not a run this brainsim reads.")
    header = read_header(directory / _CHECKPOINT)
    rows, step = header["metadata"]["rows"], header["step"]
    if final_state is None:
        final_state = load_state(directory / _CHECKPOINT, like=like).state
    files = _files(description)
    spikes, traces, indices = {}, {}, {}
    for entry in description["record"]:
        name = entry["name"]
        indices[name] = None if entry["indices"] is None else np.asarray(entry["indices"])
        if entry["kind"] == "spikes":
            times, neurons = (f"spikes/{name}.times.npy", f"spikes/{name}.indices.npy")
            spikes[name] = SpikeEvents(
                times=_read_column(directory / times, rows[times], *files[times]),
                indices=_read_column(directory / neurons, rows[neurons], *files[neurons]),
                n=entry["n"],
            )
        else:
            path = f"traces/{name}.npy"
            traces[name] = _read_column(directory / path, rows[path], *files[path])
    return RunResult(
        dt=description["dt"],
        t0=description["t0"],
        steps=step,
        every=description["every"],
        final_state=final_state,
        spikes=spikes,
        traces=traces,
        indices=indices,
    )
