"""How many CPU cores XLA may use: a process-wide choice made before the first computation."""

from __future__ import annotations

import os

import jax
from jax._src import xla_bridge

__all__ = ["use_cpu_cores"]


def use_cpu_cores(n: int) -> list[int]:
    """Run this process (and so XLA's CPU work) on `n` CPU cores; call it before computing.

    XLA sizes its CPU thread pool once, when JAX first computes, from the cores the process may
    run on, and then splits every sizeable elementwise step across that pool. For networks of
    up to tens of thousands of neurons the split costs more than it saves (each step is only
    microseconds of work, and waking a second thread costs about a microsecond per operation):
    COBA with 4000 neurons runs about 1.5x faster on one core than on two. Like Brian2's
    `openmp_threads` or NEST's `local_num_threads`, this is a per-process setting; it restricts
    the process's CPU affinity, which threads started later (numpy, numba) inherit.

    It also gives JAX one CPU device per core (`jax.devices("cpu")`), so that independent work
    can run side by side, one program per core: `brainsim.sweep` spreads its points over them.
    A single simulation still runs on the first device. (A device count already set through
    `XLA_FLAGS=--xla_force_host_platform_device_count` is left alone.)

    Args:
        n: number of cores (>= 1); the first `n` of the cores the process may use now.

    Returns:
        The cores the process now runs on.

    Raises:
        RuntimeError: if JAX has already computed in this process (its thread pool is fixed).

    Example:
        >>> import brainsim as bs
        >>> # first thing in a script, before computing:
        >>> bs.use_cpu_cores(1)  # doctest: +SKIP
        [0]
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"`n` must be a positive int, got {n!r}.")
    if xla_bridge.backends_are_initialized():
        raise RuntimeError(
            "use_cpu_cores must be called before JAX's first computation in this process "
            "(XLA has already sized its thread pool); call it at the top of the script, or run "
            "the script under `taskset -c 0`."
        )
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, allowed[:n])
    cores = sorted(os.sched_getaffinity(0))
    if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        jax.config.update("jax_num_cpu_devices", len(cores))
    return cores
