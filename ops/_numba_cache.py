"""numba's disk cache for this package's kernels, stamped with the sources of the whole package.

numba keys a cached function on the file that defines it. The FFI handlers in
``_ffi_handlers`` inline the loops of ``_kernel_loops`` (and other modules inline each other's
helpers), so an edit to a loop alone would leave the handlers' machine code in ``__pycache__``
valid in numba's eyes: the next process would run the old loop. The locator below keeps
numba's place for the cache (``__pycache__`` beside the sources) but stamps every function of
the package with the hash of all its modules, so any edit recompiles what may depend on it.
Importing this module registers the locator; every module that compiles with ``cache=True``
imports it first. With ``NUMBA_CACHE_DIR`` set, numba's own locators apply (stamped per file).
"""

from __future__ import annotations

import functools
import hashlib
import os

from numba.core import caching, config

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def _hash_sources(stamps: tuple) -> bytes:
    digest = hashlib.sha256()
    for path, _, _ in stamps:
        digest.update(os.path.relpath(path, _PACKAGE).encode())
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.digest()


def package_stamp() -> bytes:
    """SHA-256 of every ``.py`` file of the package (rehashed when one's time or size moves)."""
    paths = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(_PACKAGE)
        for name in names
        if name.endswith(".py")
    )
    stats = [(path, os.stat(path)) for path in paths]
    return _hash_sources(tuple((path, st.st_mtime_ns, st.st_size) for path, st in stats))


class PackageCacheLocator(caching.InTreeCacheLocator):
    """numba's in-tree locator for the functions of this package, with :func:`package_stamp`."""

    @classmethod
    def from_function(cls, py_func, py_file):
        inside = os.path.abspath(py_file).startswith(_PACKAGE + os.sep)
        if config.CACHE_DIR or not inside:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return package_stamp()


if PackageCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, PackageCacheLocator)
