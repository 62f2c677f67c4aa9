"""JAX's persistent compilation cache, on by default in the user's cache directory.

XLA compiles every new program (a `run` of a network, a training step) the first time it is
called in a process, about a second for a 4000-neuron network. With the persistent cache the
compiled program is written to disk and a later process that builds the same program (same
model structure, shapes, `dt`, JAX version and CPU) loads it instead of compiling it again.
"""

from __future__ import annotations

import os
import pathlib
import warnings

import jax
from jax.experimental.compilation_cache import compilation_cache as _jax_cache

__all__ = ["compilation_cache", "default_cache_dir"]

ENVIRONMENT_SWITCH = "BRAINSIM_COMPILATION_CACHE"
_OFF = ("0", "off", "false", "no")
_MIN_COMPILE_TIME_S = 0.0  # JAX's default (1 s) skips the many small programs a run compiles


def default_cache_dir() -> pathlib.Path:
    """`$XDG_CACHE_HOME/brainsim/jax` (`~/.cache/brainsim/jax` when the variable is unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(root) / "brainsim" / "jax"


def compilation_cache(
    path: str | os.PathLike | bool | None = True, *, min_compile_time_s: float = _MIN_COMPILE_TIME_S
) -> pathlib.Path | None:
    """Turn JAX's persistent compilation cache on (in `path`) or off, for this process.

    brainsim turns the cache on when it is imported, in `default_cache_dir()`, unless the
    environment variable `BRAINSIM_COMPILATION_CACHE` is `0` (or `off`, `false`, `no`), names
    another directory, or JAX's `jax_compilation_cache_dir` is already set (then brainsim
    leaves JAX's settings alone). Call this function to change that within a process; it takes
    effect for programs compiled afterwards. The cache holds one file per compiled program
    (typically 0.1-5 MB); delete the directory to clear it.

    Args:
        path: the cache directory; `True` for `default_cache_dir()`; `False` or `None` to turn
            the cache off.
        min_compile_time_s: programs that compiled faster than this (s, >= 0) are not written.

    Returns:
        The cache directory in use, or `None` when the cache is off.

    Examples:
        >>> import brainsim as bs
        >>> bs.compilation_cache(False)          # no cache for this process  # doctest: +SKIP
        >>> bs.compilation_cache()               # doctest: +SKIP
        PosixPath('/home/user/.cache/brainsim/jax')
    """
    if not min_compile_time_s >= 0:
        raise ValueError(f"`min_compile_time_s` must be >= 0 s, got {min_compile_time_s!r}.")
    _jax_cache.reset_cache()
    if path is False or path is None:
        jax.config.update("jax_enable_compilation_cache", False)
        return None
    directory = default_cache_dir() if path is True else pathlib.Path(path).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_s))
    return directory


def enable_by_default() -> None:
    """The import-time choice described in `compilation_cache`; a directory that cannot be
    created turns the cache off with a warning instead of failing the import."""
    choice = os.environ.get(ENVIRONMENT_SWITCH, "").strip()
    if choice.lower() in _OFF or jax.config.jax_compilation_cache_dir is not None:
        return
    try:
        compilation_cache(choice or True)
    except OSError as error:
        warnings.warn(
            f"brainsim: no persistent compilation cache ({error}); set "
            f"{ENVIRONMENT_SWITCH}=0 to silence this, or to a writable directory.",
            stacklevel=2,
        )
        compilation_cache(False)
