"""How many CPU cores XLA may use: a process-wide choice made before the first computation."""

from __future__ import annotations

import os

import jax
from jax._src import xla_bridge

__all__ = ["use_cpu_cores"]


def use_cpu_cores(n: int, *, devices: int | None = None, split_ops: bool = False) -> list[int]:
    """Run this process (and so XLA's CPU work) on `n` CPU cores; call it before computing.

    XLA sizes its CPU thread pool once, when JAX first computes, from the cores the process may
    run on, and can split every sizeable operation across that pool. For spiking networks the
    split costs more than it saves (a step is many small operations, and waking a second
    thread costs about a microsecond per operation): COBA with 4000 neurons ran 1.2-1.5x
    slower on two cores than on one. So by default each device computes on one thread
    (`--xla_cpu_multi_thread_eigen=false`), and the cores serve one device each: a network
    cut across them (`brainsim.network.partition`) or the points of a sweep. Like Brian2's
    `openmp_threads` or NEST's `local_num_threads`, this is a per-process setting; it restricts
    the process's CPU affinity, which threads started later (numpy, numba) inherit.

    It also gives JAX one CPU device per core (`jax.devices("cpu")`), so that independent work
    can run side by side, one program per core: `brainsim.sweep` spreads its points over them,
    and `brainsim.network.partition` cuts one network across them. A single unpartitioned
    network runs best with `devices=1`: with two devices, XLA's client made a 4000-neuron COBA
    step 1.25x slower (74 against 59 us) even though the program uses one.
    A single simulation still runs on the first device. (A device count already set through
    `XLA_FLAGS=--xla_force_host_platform_device_count` is left alone.)

    Args:
        n: number of cores (>= 1); the first `n` of the cores the process may use now.
        devices: number of JAX CPU devices (default `n`, one per core).
        split_ops: let XLA split single operations across the cores (for large dense work,
            e.g. training with big matrix products, on one device). An
            `xla_cpu_multi_thread_eigen` setting already in `XLA_FLAGS` is left alone.

    Returns:
        The cores the process now runs on.

    Raises:
        RuntimeError: if JAX has already computed in this process (its thread pool is fixed).

    Examples:
        >>> import brainsim as bs
        >>> # first thing in a script, before computing:
        >>> bs.use_cpu_cores(1)  # doctest: +SKIP
        [0]
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"`n` must be a positive int, got {n!r}.")
    if devices is not None and (not isinstance(devices, int) or isinstance(devices, bool)
                                or devices < 1):
        raise ValueError(f"`devices` must be a positive int or None, got {devices!r}.")
    if xla_bridge.backends_are_initialized():
        raise RuntimeError(
            "use_cpu_cores must be called before JAX's first computation in this process "
            "(XLA has already sized its thread pool); call it at the top of the script, or run "
            "the script under `taskset -c 0`."
        )
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, allowed[:n])
    cores = sorted(os.sched_getaffinity(0))
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        jax.config.update("jax_num_cpu_devices", devices or len(cores))
    if not split_ops and "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
    return cores
