"""numba ``cfunc``s implementing XLA's typed-FFI handler ABI (version 0.3) directly.

Each handler has the C signature ``XLA_FFI_Error* handler(XLA_FFI_CallFrame*)`` (here
``int64(voidptr)``, the int64 being the error pointer, 0 for success). On the registration
handshake XLA passes a metadata extension; the handler writes the API version and traits into
it. On execution it reads buffer pointers out of the call frame, checks struct sizes, ranks and
dtypes, and reports problems through ``XLA_FFI_Error_Create`` of the API table.

Compiled with ``cache=True``: a new process loads the machine code from ``__pycache__``.
Offsets: see ``_abi.py``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._kernel_loops import (
    delayed_outer_rows,
    delayed_rows,
    outer_rows,
    ring_pop_loop,
    scatter_rows,
    update_rows,
)

_F32 = 11
_F64 = 12
_PRED = 1
_S32 = 4
_INVALID_ARGUMENT = 3
_FAILED_PRECONDITION = 9


@intrinsic
def _voidptr(typingctx, addr):
    """Reinterpret an int64 address as ``void*``."""
    if not isinstance(addr, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], ir.IntType(8).as_pointer())

    return types.voidptr(addr), codegen


@intrinsic(prefer_literal=True)
def _ffi_error(typingctx, api_addr, message, errc):
    """Create an ``XLA_FFI_Error`` with a constant message via ``api->XLA_FFI_Error_Create``."""
    if not isinstance(message, types.StringLiteral):
        return None
    text = message.literal_value

    def codegen(context, builder, signature, args):
        api, _, code = args
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        # struct XLA_FFI_Error_Create_Args {size_t struct_size; void* ext; char* msg; int errc;}
        st = ir.LiteralStructType([i64, i8p, i8p, i32])
        slot = cgutils.alloca_once(builder, st)
        builder.store(ir.Constant(i64, 28), cgutils.gep_inbounds(builder, slot, 0, 0))
        builder.store(ir.Constant(i8p, None), cgutils.gep_inbounds(builder, slot, 0, 1))
        msg = context.insert_const_string(builder.module, text)
        builder.store(msg, cgutils.gep_inbounds(builder, slot, 0, 2))
        builder.store(builder.trunc(code, i32), cgutils.gep_inbounds(builder, slot, 0, 3))
        fnty = ir.FunctionType(i8p, [st.as_pointer()])
        table = builder.inttoptr(api, i64.as_pointer())
        fn_addr = builder.load(builder.gep(table, [ir.Constant(i64, 6)]))  # byte 48
        fn = builder.inttoptr(fn_addr, fnty.as_pointer())
        err = builder.call(fn, [slot])
        return builder.ptrtoint(err, i64)

    return types.int64(api_addr, message, errc), codegen


@njit(cache=True, inline="always")
def _handshake(extension):
    """Answer XLA's metadata query: API version 0.3, no traits. 0 on success."""
    ext = extension
    while ext != 0:
        base = carray(_voidptr(ext), (4,), np.int64)
        if (base[1] & 0xFFFFFFFF) == 1:  # XLA_FFI_Extension_Metadata
            meta = carray(_voidptr(base[3]), (5,), np.int64)
            words = carray(_voidptr(base[3]), (9,), np.int32)
            if meta[0] < 36 or meta[1] < 24:
                # Struct sizes differ from the ABI these kernels were written for: announce an
                # impossible version so that XLA refuses the registration (caught in Python).
                words[6] = 9999
                words[7] = 0
            else:
                words[6] = 0
                words[7] = 3
            words[8] = 0
            return 0
        ext = base[2]
    return 0


@njit(cache=True, inline="always")
def _frame_ok(f):
    return f[0] >= 168 and f[5] >= 40 and f[10] >= 40


@njit(cache=True, inline="always")
def _buffer(ptrs, i):
    """(dtype, data address, leading dim, last dim, struct ok) of buffer ``i``; rank <= 2."""
    b = carray(_voidptr(ptrs[i]), (6,), np.int64)
    dt = b[2] & 0xFFFFFFFF
    rank = b[4]
    lead = 1
    last = 1
    if rank >= 1:
        dims = carray(_voidptr(b[5]), (rank,), np.int64)
        last = dims[rank - 1]
        if rank == 2:
            lead = dims[0]
    return dt, b[3], lead, last, b[0] >= 48 and rank <= 2


@njit(cache=True, inline="always")
def _buffer3(ptrs, i):
    """(dtype, data address, dim 0, dim 1, dim 2, struct ok) of buffer ``i``; rank <= 3.

    Dimensions are left-padded with 1 (a rank-2 ``(L, C)`` buffer reads as ``(1, L, C)``).
    """
    b = carray(_voidptr(ptrs[i]), (6,), np.int64)
    dt = b[2] & 0xFFFFFFFF
    rank = b[4]
    d0 = 1
    d1 = 1
    d2 = 1
    if 1 <= rank <= 3:
        dims = carray(_voidptr(b[5]), (rank,), np.int64)
        d2 = dims[rank - 1]
        if rank >= 2:
            d1 = dims[rank - 2]
        if rank == 3:
            d0 = dims[0]
    return dt, b[3], d0, d1, d2, b[0] >= 48 and rank <= 3


@njit(cache=True, inline="always")
def _i32(addr, n):
    return carray(_voidptr(addr), (n,), np.int32)


@cfunc(types.int64(types.voidptr), cache=True)
def scatter_handler(frame):
    """FFI target ``brainsim_ops_scatter``: (indptr, idx, syn, w[Bw,W], x[Bx,R]) -> y[B,C]."""
    f = carray(frame, (21,), np.int64)
    if f[1] != 0:
        return _handshake(f[1])
    api = f[2]
    if not _frame_ok(f):
        return _ffi_error(api, "brainsim_ops: XLA FFI call frame layout mismatch", 9)
    if f[7] != 5 or f[12] != 1:
        return _ffi_error(api, "brainsim_ops_scatter: expected 5 operands and 1 result", 3)
    args = carray(_voidptr(f[9]), (5,), np.int64)
    rets = carray(_voidptr(f[14]), (1,), np.int64)
    pt, pd, _, n_ptr, ok0 = _buffer(args, 0)
    it, idd, _, n_idx, ok1 = _buffer(args, 1)
    st, sd, _, n_syn, ok2 = _buffer(args, 2)
    wt, wd, bw, n_w, ok3 = _buffer(args, 3)
    xt, xd, bx, n_rows, ok4 = _buffer(args, 4)
    yt, yd, nb, n_out, ok5 = _buffer(rets, 0)
    if not (ok0 and ok1 and ok2 and ok3 and ok4 and ok5):
        return _ffi_error(api, "brainsim_ops_scatter: buffer layout or rank mismatch", 9)
    if pt != _S32 or it != _S32 or st != _S32:
        return _ffi_error(api, "brainsim_ops_scatter: index arrays must be int32", 3)
    if n_ptr != n_rows + 1 or yt != wt:
        return _ffi_error(api, "brainsim_ops_scatter: inconsistent operand shapes", 3)
    indptr = _i32(pd, n_ptr)
    idx = _i32(idd, n_idx)
    syn = _i32(sd, n_syn)
    wb = bw > 1
    xb = bx > 1
    if wt == _F32:
        w = carray(_voidptr(wd), (bw * n_w,), np.float32)
        y = carray(_voidptr(yd), (nb * n_out,), np.float32)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            scatter_rows(indptr, idx, syn, w, x, y, nb, n_rows, n_out, n_w, wb, xb)
        elif xt == _F32:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float32)
            scatter_rows(indptr, idx, syn, w, x, y, nb, n_rows, n_out, n_w, wb, xb)
        else:
            return _ffi_error(api, "brainsim_ops_scatter: events must be bool or float32", 3)
    elif wt == _F64:
        w = carray(_voidptr(wd), (bw * n_w,), np.float64)
        y = carray(_voidptr(yd), (nb * n_out,), np.float64)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            scatter_rows(indptr, idx, syn, w, x, y, nb, n_rows, n_out, n_w, wb, xb)
        elif xt == _F64:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float64)
            scatter_rows(indptr, idx, syn, w, x, y, nb, n_rows, n_out, n_w, wb, xb)
        else:
            return _ffi_error(api, "brainsim_ops_scatter: events must be bool or float64", 3)
    else:
        return _ffi_error(api, "brainsim_ops_scatter: weights must be float32 or float64", 3)
    return 0


@cfunc(types.int64(types.voidptr), cache=True)
def outer_handler(frame):
    """FFI target ``brainsim_ops_outer``: (indptr, idx, syn, x[Bx,R], g[Bg,C]) -> out[B,W]."""
    f = carray(frame, (21,), np.int64)
    if f[1] != 0:
        return _handshake(f[1])
    api = f[2]
    if not _frame_ok(f):
        return _ffi_error(api, "brainsim_ops: XLA FFI call frame layout mismatch", 9)
    if f[7] != 5 or f[12] != 1:
        return _ffi_error(api, "brainsim_ops_outer: expected 5 operands and 1 result", 3)
    args = carray(_voidptr(f[9]), (5,), np.int64)
    rets = carray(_voidptr(f[14]), (1,), np.int64)
    pt, pd, _, n_ptr, ok0 = _buffer(args, 0)
    it, idd, _, n_idx, ok1 = _buffer(args, 1)
    st, sd, _, n_syn, ok2 = _buffer(args, 2)
    xt, xd, bx, n_rows, ok3 = _buffer(args, 3)
    gt, gd, bg, n_cols, ok4 = _buffer(args, 4)
    ot, od, nb, n_w, ok5 = _buffer(rets, 0)
    if not (ok0 and ok1 and ok2 and ok3 and ok4 and ok5):
        return _ffi_error(api, "brainsim_ops_outer: buffer layout or rank mismatch", 9)
    if pt != _S32 or it != _S32 or st != _S32:
        return _ffi_error(api, "brainsim_ops_outer: index arrays must be int32", 3)
    if n_ptr != n_rows + 1 or ot != gt:
        return _ffi_error(api, "brainsim_ops_outer: inconsistent operand shapes", 3)
    indptr = _i32(pd, n_ptr)
    idx = _i32(idd, n_idx)
    syn = _i32(sd, n_syn)
    xb = bx > 1
    gb = bg > 1
    if gt == _F32:
        g = carray(_voidptr(gd), (bg * n_cols,), np.float32)
        out = carray(_voidptr(od), (nb * n_w,), np.float32)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            outer_rows(indptr, idx, syn, x, g, out, nb, n_rows, n_cols, n_w, xb, gb)
        elif xt == _F32:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float32)
            outer_rows(indptr, idx, syn, x, g, out, nb, n_rows, n_cols, n_w, xb, gb)
        else:
            return _ffi_error(api, "brainsim_ops_outer: events must be bool or float32", 3)
    elif gt == _F64:
        g = carray(_voidptr(gd), (bg * n_cols,), np.float64)
        out = carray(_voidptr(od), (nb * n_w,), np.float64)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            outer_rows(indptr, idx, syn, x, g, out, nb, n_rows, n_cols, n_w, xb, gb)
        elif xt == _F64:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float64)
            outer_rows(indptr, idx, syn, x, g, out, nb, n_rows, n_cols, n_w, xb, gb)
        else:
            return _ffi_error(api, "brainsim_ops_outer: events must be bool or float64", 3)
    else:
        return _ffi_error(api, "brainsim_ops_outer: values must be float32 or float64", 3)
    return 0


@cfunc(types.int64(types.voidptr), cache=True)
def update_handler(frame):
    """FFI target ``brainsim_ops_update``.

    (indptr, idx, syn, w[Bw,W], x[Bx,R], v[Bv,C], scale[Bs,W or 0], bounds[Bb,2]) -> w'[B,W].
    """
    f = carray(frame, (21,), np.int64)
    if f[1] != 0:
        return _handshake(f[1])
    api = f[2]
    if not _frame_ok(f):
        return _ffi_error(api, "brainsim_ops: XLA FFI call frame layout mismatch", 9)
    if f[7] != 8 or f[12] != 1:
        return _ffi_error(api, "brainsim_ops_update: expected 8 operands and 1 result", 3)
    args = carray(_voidptr(f[9]), (8,), np.int64)
    rets = carray(_voidptr(f[14]), (1,), np.int64)
    pt, pd, _, n_ptr, ok0 = _buffer(args, 0)
    it, idd, _, n_idx, ok1 = _buffer(args, 1)
    st, sd, _, n_syn, ok2 = _buffer(args, 2)
    wt, wd, bw, n_w, ok3 = _buffer(args, 3)
    xt, xd, bx, n_rows, ok4 = _buffer(args, 4)
    vt, vd, bv, n_cols, ok5 = _buffer(args, 5)
    ct, cd, bs, n_scale, ok6 = _buffer(args, 6)
    bt, bd, bb, n_bnd, ok7 = _buffer(args, 7)
    ot, od, nb, n_out, ok8 = _buffer(rets, 0)
    if not (ok0 and ok1 and ok2 and ok3 and ok4 and ok5 and ok6 and ok7 and ok8):
        return _ffi_error(api, "brainsim_ops_update: buffer layout or rank mismatch", 9)
    if pt != _S32 or it != _S32 or st != _S32:
        return _ffi_error(api, "brainsim_ops_update: index arrays must be int32", 3)
    if n_ptr != n_rows + 1 or n_out != n_w or n_bnd != 2:
        return _ffi_error(api, "brainsim_ops_update: inconsistent operand shapes", 3)
    if vt != wt or ct != wt or bt != wt or ot != wt:
        return _ffi_error(api, "brainsim_ops_update: values must share the weights' dtype", 3)
    indptr = _i32(pd, n_ptr)
    idx = _i32(idd, n_idx)
    syn = _i32(sd, n_syn)
    copy_in = wd != od
    ns = bs * n_scale
    if wt == _F32:
        w = carray(_voidptr(wd), (bw * n_w,), np.float32)
        v = carray(_voidptr(vd), (bv * n_cols,), np.float32)
        sc = carray(_voidptr(cd), (ns,), np.float32)
        bnd = carray(_voidptr(bd), (bb * 2,), np.float32)
        out = carray(_voidptr(od), (nb * n_w,), np.float32)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            update_rows(indptr, idx, syn, w, x, v, sc, bnd, out, copy_in, nb, n_rows, n_cols,
                        n_w, bw > 1, bx > 1, bv > 1, bs > 1, bb > 1)
        elif xt == _F32:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float32)
            update_rows(indptr, idx, syn, w, x, v, sc, bnd, out, copy_in, nb, n_rows, n_cols,
                        n_w, bw > 1, bx > 1, bv > 1, bs > 1, bb > 1)
        else:
            return _ffi_error(api, "brainsim_ops_update: events must be bool or float32", 3)
    elif wt == _F64:
        w = carray(_voidptr(wd), (bw * n_w,), np.float64)
        v = carray(_voidptr(vd), (bv * n_cols,), np.float64)
        sc = carray(_voidptr(cd), (ns,), np.float64)
        bnd = carray(_voidptr(bd), (bb * 2,), np.float64)
        out = carray(_voidptr(od), (nb * n_w,), np.float64)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            update_rows(indptr, idx, syn, w, x, v, sc, bnd, out, copy_in, nb, n_rows, n_cols,
                        n_w, bw > 1, bx > 1, bv > 1, bs > 1, bb > 1)
        elif xt == _F64:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float64)
            update_rows(indptr, idx, syn, w, x, v, sc, bnd, out, copy_in, nb, n_rows, n_cols,
                        n_w, bw > 1, bx > 1, bv > 1, bs > 1, bb > 1)
        else:
            return _ffi_error(api, "brainsim_ops_update: events must be bool or float64", 3)
    else:
        return _ffi_error(api, "brainsim_ops_update: weights must be float32 or float64", 3)
    return 0


@cfunc(types.int64(types.voidptr), cache=True)
def delayed_handler(frame):
    """FFI target ``brainsim_ops_delayed``.

    (indptr, idx, syn, delay[D], w[Bw,W], x[Bx,R], ring[Br,L,C], step[Bs,1]) -> ring'[B,L,C].
    """
    f = carray(frame, (21,), np.int64)
    if f[1] != 0:
        return _handshake(f[1])
    api = f[2]
    if not _frame_ok(f):
        return _ffi_error(api, "brainsim_ops: XLA FFI call frame layout mismatch", 9)
    if f[7] != 8 or f[12] != 1:
        return _ffi_error(api, "brainsim_ops_delayed: expected 8 operands and 1 result", 3)
    args = carray(_voidptr(f[9]), (8,), np.int64)
    rets = carray(_voidptr(f[14]), (1,), np.int64)
    pt, pd, _, n_ptr, ok0 = _buffer(args, 0)
    it, idd, _, n_idx, ok1 = _buffer(args, 1)
    st, sd, _, n_syn, ok2 = _buffer(args, 2)
    dt, dd, _, n_d, ok3 = _buffer(args, 3)
    wt, wd, bw, n_w, ok4 = _buffer(args, 4)
    xt, xd, bx, n_rows, ok5 = _buffer(args, 5)
    rt, rd, br, n_slots, n_post, ok6 = _buffer3(args, 6)
    tt, td, bs, n_t, ok7 = _buffer(args, 7)
    ot, od, nb, o_slots, o_post, ok8 = _buffer3(rets, 0)
    if not (ok0 and ok1 and ok2 and ok3 and ok4 and ok5 and ok6 and ok7 and ok8):
        return _ffi_error(api, "brainsim_ops_delayed: buffer layout or rank mismatch", 9)
    if pt != _S32 or it != _S32 or st != _S32 or dt != _S32 or tt != _S32:
        return _ffi_error(api, "brainsim_ops_delayed: index arrays must be int32", 3)
    if (n_ptr != n_rows + 1 or n_t != 1 or o_slots != n_slots or o_post != n_post
            or n_slots < 1 or (n_d != 1 and n_d != n_idx) or (n_w != 1 and n_w != n_idx)
            or (n_syn != 0 and n_syn != n_idx)):
        return _ffi_error(api, "brainsim_ops_delayed: inconsistent operand shapes", 3)
    if rt != wt or ot != wt:
        return _ffi_error(api, "brainsim_ops_delayed: ring must share the weights' dtype", 3)
    indptr = _i32(pd, n_ptr)
    idx = _i32(idd, n_idx)
    syn = _i32(sd, n_syn)
    delay = _i32(dd, n_d)
    step = _i32(td, bs)
    copy_in = rd != od
    lc = n_slots * n_post
    if wt == _F32:
        w = carray(_voidptr(wd), (bw * n_w,), np.float32)
        ring = carray(_voidptr(rd), (br * lc,), np.float32)
        out = carray(_voidptr(od), (nb * lc,), np.float32)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            delayed_rows(indptr, idx, syn, delay, w, x, ring, step, out, copy_in, nb, n_rows,
                         n_slots, n_post, n_w, bw > 1, bx > 1, br > 1, bs > 1)
        elif xt == _F32:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float32)
            delayed_rows(indptr, idx, syn, delay, w, x, ring, step, out, copy_in, nb, n_rows,
                         n_slots, n_post, n_w, bw > 1, bx > 1, br > 1, bs > 1)
        else:
            return _ffi_error(api, "brainsim_ops_delayed: events must be bool or float32", 3)
    elif wt == _F64:
        w = carray(_voidptr(wd), (bw * n_w,), np.float64)
        ring = carray(_voidptr(rd), (br * lc,), np.float64)
        out = carray(_voidptr(od), (nb * lc,), np.float64)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            delayed_rows(indptr, idx, syn, delay, w, x, ring, step, out, copy_in, nb, n_rows,
                         n_slots, n_post, n_w, bw > 1, bx > 1, br > 1, bs > 1)
        elif xt == _F64:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float64)
            delayed_rows(indptr, idx, syn, delay, w, x, ring, step, out, copy_in, nb, n_rows,
                         n_slots, n_post, n_w, bw > 1, bx > 1, br > 1, bs > 1)
        else:
            return _ffi_error(api, "brainsim_ops_delayed: events must be bool or float64", 3)
    else:
        return _ffi_error(api, "brainsim_ops_delayed: weights must be float32 or float64", 3)
    return 0


@cfunc(types.int64(types.voidptr), cache=True)
def delayed_outer_handler(frame):
    """FFI target ``brainsim_ops_delayed_outer``.

    (indptr, idx, syn, delay[D], x[Bx,R], g[Bg,L,C], step[Bs,1]) -> dw[B,W].
    """
    f = carray(frame, (21,), np.int64)
    if f[1] != 0:
        return _handshake(f[1])
    api = f[2]
    if not _frame_ok(f):
        return _ffi_error(api, "brainsim_ops: XLA FFI call frame layout mismatch", 9)
    if f[7] != 7 or f[12] != 1:
        return _ffi_error(api, "brainsim_ops_delayed_outer: expected 7 operands and 1 result", 3)
    args = carray(_voidptr(f[9]), (7,), np.int64)
    rets = carray(_voidptr(f[14]), (1,), np.int64)
    pt, pd, _, n_ptr, ok0 = _buffer(args, 0)
    it, idd, _, n_idx, ok1 = _buffer(args, 1)
    st, sd, _, n_syn, ok2 = _buffer(args, 2)
    dt, dd, _, n_d, ok3 = _buffer(args, 3)
    xt, xd, bx, n_rows, ok4 = _buffer(args, 4)
    gt, gd, bg, n_slots, n_post, ok5 = _buffer3(args, 5)
    tt, td, bs, n_t, ok6 = _buffer(args, 6)
    ot, od, nb, n_w, ok7 = _buffer(rets, 0)
    if not (ok0 and ok1 and ok2 and ok3 and ok4 and ok5 and ok6 and ok7):
        return _ffi_error(api, "brainsim_ops_delayed_outer: buffer layout or rank mismatch", 9)
    if pt != _S32 or it != _S32 or st != _S32 or dt != _S32 or tt != _S32:
        return _ffi_error(api, "brainsim_ops_delayed_outer: index arrays must be int32", 3)
    if (n_ptr != n_rows + 1 or n_t != 1 or n_slots < 1 or (n_d != 1 and n_d != n_idx)
            or (n_w != 1 and n_w != n_idx) or (n_syn != 0 and n_syn != n_idx) or ot != gt):
        return _ffi_error(api, "brainsim_ops_delayed_outer: inconsistent operand shapes", 3)
    indptr = _i32(pd, n_ptr)
    idx = _i32(idd, n_idx)
    syn = _i32(sd, n_syn)
    delay = _i32(dd, n_d)
    step = _i32(td, bs)
    lc = n_slots * n_post
    if gt == _F32:
        g = carray(_voidptr(gd), (bg * lc,), np.float32)
        out = carray(_voidptr(od), (nb * n_w,), np.float32)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            delayed_outer_rows(indptr, idx, syn, delay, x, g, step, out, nb, n_rows, n_slots,
                               n_post, n_w, bx > 1, bg > 1, bs > 1)
        elif xt == _F32:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float32)
            delayed_outer_rows(indptr, idx, syn, delay, x, g, step, out, nb, n_rows, n_slots,
                               n_post, n_w, bx > 1, bg > 1, bs > 1)
        else:
            return _ffi_error(api, "brainsim_ops_delayed_outer: events must be bool/float32", 3)
    elif gt == _F64:
        g = carray(_voidptr(gd), (bg * lc,), np.float64)
        out = carray(_voidptr(od), (nb * n_w,), np.float64)
        if xt == _PRED:
            x = carray(_voidptr(xd), (bx * n_rows,), np.uint8)
            delayed_outer_rows(indptr, idx, syn, delay, x, g, step, out, nb, n_rows, n_slots,
                               n_post, n_w, bx > 1, bg > 1, bs > 1)
        elif xt == _F64:
            x = carray(_voidptr(xd), (bx * n_rows,), np.float64)
            delayed_outer_rows(indptr, idx, syn, delay, x, g, step, out, nb, n_rows, n_slots,
                               n_post, n_w, bx > 1, bg > 1, bs > 1)
        else:
            return _ffi_error(api, "brainsim_ops_delayed_outer: events must be bool/float64", 3)
    else:
        return _ffi_error(api, "brainsim_ops_delayed_outer: values must be float32/float64", 3)
    return 0


@cfunc(types.int64(types.voidptr), cache=True)
def ring_pop_handler(frame):
    """FFI target ``brainsim_ops_ring_pop``: (ring[L,C], step[1,1]) -> (ring'[L,C], cur[1,C]).

    ``cur = ring[step mod L]``, then that slot of ``ring'`` is zeroed (in place when aliased).
    """
    f = carray(frame, (21,), np.int64)
    if f[1] != 0:
        return _handshake(f[1])
    api = f[2]
    if not _frame_ok(f):
        return _ffi_error(api, "brainsim_ops: XLA FFI call frame layout mismatch", 9)
    if f[7] != 2 or f[12] != 2:
        return _ffi_error(api, "brainsim_ops_ring_pop: expected 2 operands and 2 results", 3)
    args = carray(_voidptr(f[9]), (2,), np.int64)
    rets = carray(_voidptr(f[14]), (2,), np.int64)
    rt, rd, n_slots, n_post, ok0 = _buffer(args, 0)
    tt, td, _, n_t, ok1 = _buffer(args, 1)
    ot, od, o_slots, o_post, ok2 = _buffer(rets, 0)
    ct, cd, _, c_post, ok3 = _buffer(rets, 1)
    if not (ok0 and ok1 and ok2 and ok3):
        return _ffi_error(api, "brainsim_ops_ring_pop: buffer layout or rank mismatch", 9)
    if tt != _S32 or n_t != 1 or o_slots != n_slots or o_post != n_post or c_post != n_post:
        return _ffi_error(api, "brainsim_ops_ring_pop: inconsistent operands", 3)
    if ot != rt or ct != rt or n_slots < 1:
        return _ffi_error(api, "brainsim_ops_ring_pop: inconsistent dtypes", 3)
    slot = _i32(td, 1)[0] % n_slots
    lc = n_slots * n_post
    if rt == _F32:
        ring_pop_loop(carray(_voidptr(rd), (lc,), np.float32),
                      carray(_voidptr(od), (lc,), np.float32),
                      carray(_voidptr(cd), (n_post,), np.float32), rd != od, slot, n_post)
    elif rt == _F64:
        ring_pop_loop(carray(_voidptr(rd), (lc,), np.float64),
                      carray(_voidptr(od), (lc,), np.float64),
                      carray(_voidptr(cd), (n_post,), np.float64), rd != od, slot, n_post)
    else:
        return _ffi_error(api, "brainsim_ops_ring_pop: ring must be float32 or float64", 3)
    return 0
