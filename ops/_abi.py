"""XLA typed-FFI ABI facts that the native kernels rely on (API version 0.3, 64-bit).

The byte offsets below are those of ``xla/ffi/api/c_api.h`` shipped with jaxlib 0.10
(checked against a C compiler, see ``tests/ops/test_native.py``). At import, the version
defines of the installed header are parsed; if they differ from the version these offsets
belong to, the native backend is not used (see :func:`brainsim_ops.native_available`).
"""

from __future__ import annotations

import os
import re

ABI_MAJOR = 0
ABI_MINOR = 3

# struct_size values the kernels expect (XLA_FFI_<name>_STRUCT_SIZE in the header).
CALL_FRAME_SIZE = 168
ARGS_SIZE = 40
RETS_SIZE = 40
BUFFER_SIZE = 48
METADATA_SIZE = 36
API_VERSION_SIZE = 24
ERROR_CREATE_ARGS_SIZE = 28

# Byte offsets.
FRAME_EXTENSION = 8
FRAME_API = 16
FRAME_ARGS = 40
FRAME_RETS = 80
API_ERROR_CREATE = 48
# In XLA_FFI_Args and XLA_FFI_Rets (same layout): number of buffers, array of their pointers.
ARGS_COUNT = 16
ARGS_BUFFERS = 32
# In XLA_FFI_Buffer.
BUFFER_DTYPE = 16
BUFFER_DATA = 24
BUFFER_RANK = 32
BUFFER_DIMS = 40
METADATA_EXTENSION_TYPE = 1

# XLA_FFI_DataType codes.
DTYPE_PRED = 1
DTYPE_S32 = 4
DTYPE_F32 = 11
DTYPE_F64 = 12

# XLA_FFI_Error_Code.
ERRC_INVALID_ARGUMENT = 3
ERRC_FAILED_PRECONDITION = 9


def header_path() -> str:
    """Path of the installed jaxlib ``c_api.h`` (may not exist)."""
    import jax.ffi

    return os.path.join(jax.ffi.include_dir(), "xla", "ffi", "api", "c_api.h")


def header_version(path: str | None = None) -> tuple[int, int] | None:
    """``(XLA_FFI_API_MAJOR, XLA_FFI_API_MINOR)`` parsed from the header, or None if unreadable."""
    path = header_path() if path is None else path
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    major = re.search(r"^#define\s+XLA_FFI_API_MAJOR\s+(\d+)", text, re.M)
    minor = re.search(r"^#define\s+XLA_FFI_API_MINOR\s+(\d+)", text, re.M)
    if major is None or minor is None:
        return None
    return int(major.group(1)), int(minor.group(1))
