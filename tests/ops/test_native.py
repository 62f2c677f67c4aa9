"""The native FFI layer: ABI constants vs the header, error reporting, disk cache, fallback."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import jax
import jax.numpy as jnp
import pytest

import brainsim_ops as bo
from brainsim_ops import _abi, _native


def test_header_version_is_parsed_and_supported():
    assert _abi.header_version() == (_abi.ABI_MAJOR, _abi.ABI_MINOR)
    assert bo.native_available()


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_abi_constants_match_c_compiler_offsets():
    src = textwrap.dedent("""
        #include <stdio.h>
        #include <stddef.h>
        #include "xla/ffi/api/c_api.h"
        int main(void) {
          printf("%zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu\\n",
            XLA_FFI_CallFrame_STRUCT_SIZE, XLA_FFI_Args_STRUCT_SIZE, XLA_FFI_Rets_STRUCT_SIZE,
            XLA_FFI_Buffer_STRUCT_SIZE, XLA_FFI_Metadata_STRUCT_SIZE,
            XLA_FFI_Api_Version_STRUCT_SIZE, XLA_FFI_Error_Create_Args_STRUCT_SIZE,
            offsetof(XLA_FFI_CallFrame, api), offsetof(XLA_FFI_CallFrame, args),
            offsetof(XLA_FFI_CallFrame, rets), offsetof(XLA_FFI_Api, XLA_FFI_Error_Create));
          printf("%zu %zu %zu %zu %zu %zu %zu %zu %zu\\n",
            offsetof(XLA_FFI_CallFrame, extension_start), offsetof(XLA_FFI_Args, size),
            offsetof(XLA_FFI_Args, args), offsetof(XLA_FFI_Rets, size),
            offsetof(XLA_FFI_Rets, rets), offsetof(XLA_FFI_Buffer, dtype),
            offsetof(XLA_FFI_Buffer, data), offsetof(XLA_FFI_Buffer, rank),
            offsetof(XLA_FFI_Buffer, dims));
          return 0;
        }
    """)
    with tempfile.TemporaryDirectory() as tmp:
        c_file = os.path.join(tmp, "off.c")
        with open(c_file, "w") as f:
            f.write(src)
        exe = os.path.join(tmp, "off")
        subprocess.run(["cc", "-I", jax.ffi.include_dir(), c_file, "-o", exe], check=True)
        got = [int(v) for v in subprocess.run([exe], capture_output=True, text=True,
                                              check=True).stdout.split()]
    want = [_abi.CALL_FRAME_SIZE, _abi.ARGS_SIZE, _abi.RETS_SIZE, _abi.BUFFER_SIZE,
            _abi.METADATA_SIZE, _abi.API_VERSION_SIZE, _abi.ERROR_CREATE_ARGS_SIZE,
            _abi.FRAME_API, _abi.FRAME_ARGS, _abi.FRAME_RETS, _abi.API_ERROR_CREATE,
            # the offsets the generated handlers read (brainsim_ops._ffi_handlers)
            _abi.FRAME_EXTENSION, _abi.ARGS_COUNT, _abi.ARGS_BUFFERS, _abi.ARGS_COUNT,
            _abi.ARGS_BUFFERS, _abi.BUFFER_DTYPE, _abi.BUFFER_DATA, _abi.BUFFER_RANK,
            _abi.BUFFER_DIMS]
    assert got == want


def test_unsupported_dtype_is_reported_through_ffi_error_api():
    assert bo.native_available()
    call = jax.ffi.ffi_call(_native.SCATTER, jax.ShapeDtypeStruct((1, 2), jnp.float32))
    args = (jnp.array([0, 1], jnp.int32), jnp.array([1], jnp.int32), jnp.zeros(0, jnp.int32),
            jnp.ones((1, 1), jnp.float32), jnp.ones((1, 1), jnp.int32))
    with pytest.raises(Exception, match="events must be bool or float32"):
        jax.block_until_ready(call(*args))


def _run(code: str, env=None) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env={**os.environ, **(env or {})}, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_second_process_reuses_disk_cache_without_recompiling():
    code = """
        import brainsim_ops as bo
        from brainsim_ops import _ffi_handlers as h
        assert bo.native_available()
        print(h.scatter_handler.cache_hits, h.outer_handler.cache_hits,
              h.update_handler.cache_hits)
    """
    _run(code)  # make sure the cache exists (first process may compile)
    hits = _run(code).split()
    assert hits == ["1", "1", "1"], hits
    cache_dir = os.path.join(os.path.dirname(bo.__file__), "__pycache__")
    names = os.listdir(cache_dir) if os.path.isdir(cache_dir) else []
    assert any(n.startswith("_ffi_handlers.scatter_handler") and n.endswith(".nbi")
               for n in names) or os.environ.get("NUMBA_CACHE_DIR")


def test_version_mismatch_falls_back_to_pure_jax_with_one_warning():
    code = """
        import warnings
        import numpy as np
        from brainsim_ops import _abi
        _abi.header_version = lambda path=None: (1, 0)
        import brainsim_ops as bo
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            conn = bo.CSR(np.array([0, 1]), np.array([0]), 2.0, n_post=1)
            y = bo.event_matvec(np.array([True]), conn)
            y = bo.event_matvec(np.array([True]), conn)
        msgs = [str(w.message) for w in caught if "native" in str(w.message)]
        print(len(msgs), float(y[0]), bo.native_available())
    """
    assert _run(code).split() == ["1", "2.0", "False"]


def test_kernels_are_cached_under_a_stamp_of_the_whole_package(tmp_path):
    """A handler inlines loops from other modules, so its cache entry must go stale when any
    module of the package changes, not only the one that defines it."""
    from numba.core import config

    from brainsim_ops import _ffi_handlers, _kernel_loops, _numba_cache

    ours = not config.CACHE_DIR  # with NUMBA_CACHE_DIR, numba's own locators apply
    for kernel in (_ffi_handlers._scatter, _kernel_loops.next_active):
        locator = kernel._cache._impl._locator
        assert isinstance(locator, _numba_cache.PackageCacheLocator) == ours
        if ours:
            assert locator.get_source_stamp() == _numba_cache.package_stamp()
    module = tmp_path / "loops.py"
    module.write_text("x = 1\n")
    before = _numba_cache._hash_sources(((str(module), 1, 6),))
    module.write_text("x = 2\n")
    assert _numba_cache._hash_sources(((str(module), 2, 6),)) != before
