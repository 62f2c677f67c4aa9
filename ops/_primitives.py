"""JAX primitives of the sparse operators: abstract eval, lowering, JVP, transpose, batching.

Four primitives, all on a row view ``(indptr, idx, syn)`` of a :class:`Layout`:

- ``scatter``: ``y = S(w, x)``, the event-driven product (bilinear in weights and events);
- ``scatter_add``: ``y = scale * y0 + S(w, x)``, the same onto a scaled base (in place when
  XLA can alias ``y0``; ``y0`` and ``scale`` are rank 1 for one unbatched problem, so that a
  conductance carried through ``lax.scan`` is updated in its own buffer);
- ``outer``: ``dw = O(x, g)``, the event-driven weight cotangent (only active rows touched);
- ``update``: plasticity, weights plus an event-gated outer product, clipped.

``scatter`` and ``outer`` carry both views (first the one they run on, then the other), so
that their transposes are again ``scatter`` / ``outer``: the cotangent of the events is the
transposed float product, the cotangent of the weights is ``outer``. Value operands have a
leading batch axis (1 = shared, or B); ``vmap`` grows that axis and stays one kernel call.

Lowering: on CPU with ``backend="native"`` to the numba FFI handler; elsewhere, or with
``backend="jax"``, to the pure-JAX implementation of ``_pure.py``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import dispatch
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from . import _pure
from ._native import OUTER, SCATTER, SCATTER_ADD, UPDATE, native_available

scatter_p = Primitive("brainsim_event_scatter")
scatter_add_p = Primitive("brainsim_event_scatter_add")
outer_p = Primitive("brainsim_event_outer")
update_p = Primitive("brainsim_event_update")

N_INDEX = 6  # scatter / outer: (indptr, idx, syn) of the view run on, then of the other view


def _leading(*avals) -> int:
    return max(a.shape[0] for a in avals)


# ---------------------------------------------------------------- abstract evaluation


def _scatter_abstract(*args, n_out, backend, binary=False):
    w, x = args[N_INDEX:]
    return jax.core.ShapedArray((_leading(w, x), n_out), w.dtype)


def _scatter_add_abstract(*args, n_out, backend, binary=False):
    w, x, y0, scale = args[N_INDEX:]
    if y0.ndim == 1:  # one unbatched problem (see _scatter_add_pure)
        return jax.core.ShapedArray(y0.shape, y0.dtype)
    return jax.core.ShapedArray((_leading(w, x, y0, scale), n_out), y0.dtype)


def _outer_abstract(*args, n_w, backend):
    x, g = args[N_INDEX:]
    return jax.core.ShapedArray((_leading(x, g), n_w), g.dtype)


def _update_abstract(indptr, idx, syn, w, x, v, scale, bounds, *, backend):
    if w.ndim == 1:  # one unbatched problem, bound without a leading axis (see _update_values)
        return jax.core.ShapedArray(w.shape, w.dtype)
    return jax.core.ShapedArray((_leading(w, x, v, scale, bounds), w.shape[1]), w.dtype)


scatter_p.def_abstract_eval(_scatter_abstract)
scatter_add_p.def_abstract_eval(_scatter_add_abstract)
outer_p.def_abstract_eval(_outer_abstract)
update_p.def_abstract_eval(_update_abstract)
for _p in (scatter_p, scatter_add_p, outer_p, update_p):
    _p.def_impl(partial(dispatch.apply_primitive, _p))


# ---------------------------------------------------------------- pure-JAX forms


def _scatter_pure(*args, n_out, backend, binary=False):
    indptr, idx, syn = args[:3]
    return _pure.scatter(indptr, idx, syn, *args[N_INDEX:], n_out=n_out)


def _scatter_add_pure(*args, n_out, backend, binary=False):
    """`scale * y0 + S(w, x)`; `y0` and `scale` of rank 1 (`(n_out,)`, `(1 or n_out,)`) for one
    unbatched problem, else of rank 2 with a leading batch axis like `w` and `x`."""
    *index, w, x, y0, scale = args
    y = _scatter_pure(*index, w, x, n_out=n_out, backend=backend)
    return scale * y0 + (y[0] if y0.ndim == 1 else y)


def _outer_pure(*args, n_w, backend):
    indptr, idx, syn = args[:3]
    return _pure.outer(indptr, idx, syn, *args[N_INDEX:], n_w=n_w)


def _update_values(indptr, idx, syn, *values):
    """`_pure.update` for batch-leading operands, or for one problem given without the batch
    axis: rank-1 weights then go to the kernel as they are, which keeps a weight array carried
    through `lax.scan` in place (a reshape between the loop carry and the aliased kernel
    output makes XLA copy the weights twice per step)."""
    if values[0].ndim == 1:
        return _pure.update(indptr, idx, syn, *(a[None] for a in values))[0]
    return _pure.update(indptr, idx, syn, *values)


def _update_pure(*args, backend):
    return _update_values(*args)


# ---------------------------------------------------------------- lowering


def _lowering(prim, pure_fn, target, picks, alias=None):
    pure_rule = mlir.lower_fun(pure_fn, multiple_results=False)

    def as_bytes(*args, **params):  # `binary` events read by the kernel as bytes
        args = list(args)
        args[N_INDEX + 1] = args[N_INDEX + 1] != 0
        return prim.bind(*args, **{**params, "binary": False})

    bytes_rule = mlir.lower_fun(as_bytes, multiple_results=False)

    def cpu_rule(ctx, *args, backend, **params):
        if backend != "native" or not native_available():
            return pure_rule(ctx, *args, backend=backend, **params)
        if params.get("binary") and ctx.avals_in[N_INDEX + 1].dtype != np.bool_:
            return bytes_rule(ctx, *args, backend=backend, **params)
        sub_ctx = ctx.replace(avals_in=[ctx.avals_in[i] for i in picks])
        kwargs = {}
        if alias is not None and ctx.avals_in[alias].shape == ctx.avals_out[0].shape:
            kwargs["operand_output_aliases"] = {picks.index(alias): 0}
        return jax.ffi.ffi_lowering(target, **kwargs)(sub_ctx, *(args[i] for i in picks))

    mlir.register_lowering(prim, pure_rule)
    mlir.register_lowering(prim, cpu_rule, platform="cpu")


_lowering(scatter_p, _scatter_pure, SCATTER, [0, 1, 2, 6, 7])
_lowering(scatter_add_p, _scatter_add_pure, SCATTER_ADD, [0, 1, 2, 6, 7, 8, 9], alias=8)
_lowering(outer_p, _outer_pure, OUTER, [0, 1, 2, 6, 7])
_lowering(update_p, _update_pure, UPDATE, [0, 1, 2, 3, 4, 5, 6, 7], alias=3)


# ---------------------------------------------------------------- differentiation


def _is_zero(t) -> bool:
    return type(t) is ad.Zero or getattr(t, "dtype", None) == jax.dtypes.float0


def _zero_tangent(primal):
    """The symbolic zero tangent of `primal`."""
    return ad.Zero(jax.typeof(primal).to_tangent_aval())


def _check_index_tangents(tangents) -> None:
    for t in tangents:
        if not _is_zero(t):
            raise TypeError(
                "brainsim_ops: connectivity index arrays are not differentiable; "
                "differentiate with respect to the weights (e.g. eqx.filter_grad)."
            )


def _sum_to(ct, size: int):
    return ct.sum(axis=0, keepdims=True) if size == 1 and ct.shape[0] != 1 else ct


def _add(a, b):
    return b if a is None else a + b


def _scatter_jvp(primals, tangents, *, n_out, backend, binary=False):
    _check_index_tangents(tangents[:N_INDEX])
    index = primals[:N_INDEX]
    w, x = primals[N_INDEX:]
    dw, dx = tangents[N_INDEX:]
    y = scatter_p.bind(*primals, n_out=n_out, backend=backend, binary=binary)
    dy = None
    if not _is_zero(dw):
        dy = scatter_p.bind(*index, dw, x, n_out=n_out, backend=backend, binary=binary)
    if not _is_zero(dx):
        dy = _add(dy, scatter_p.bind(*index, w, dx, n_out=n_out, backend=backend))
    return y, (_zero_tangent(y) if dy is None else dy)


def _scatter_add_jvp(primals, tangents, *, n_out, backend, binary=False):
    """`dscale * y0 + scale * dy0` plus the tangent of the product (itself `scatter`s)."""
    y0, scale = primals[-2:]
    dy0, dscale = tangents[-2:]
    y = scatter_add_p.bind(*primals, n_out=n_out, backend=backend, binary=binary)
    _check_index_tangents(tangents[:N_INDEX])
    parts = []
    if not _is_zero(dy0):
        parts.append(scale * dy0)
    if not _is_zero(dscale):
        parts.append(dscale * y0)
    if not all(_is_zero(t) for t in tangents[N_INDEX:-2]):
        _, dy = _scatter_jvp(primals[:-2], tangents[:-2], n_out=n_out, backend=backend,
                             binary=binary)
        parts.append(dy[0] if y0.ndim == 1 else dy)
    if not parts:
        return y, _zero_tangent(y)
    return y, jnp.broadcast_to(sum(parts[1:], parts[0]), y.shape)


def _scatter_transpose(ct, *args, n_out, backend, binary=False):
    index = args[:N_INDEX]
    w, x = args[N_INDEX:]
    run, other = index[:3], index[3:]
    nones = [None] * N_INDEX
    if type(ct) is ad.Zero:
        return nones + [None, None]
    if ad.is_undefined_primal(x):
        ct_x = scatter_p.bind(*other, *run, w, ct, n_out=x.aval.shape[1], backend=backend)
        return nones + [None, _sum_to(ct_x, x.aval.shape[0]).astype(x.aval.dtype)]
    ct_w = outer_p.bind(*run, *other, x, ct, n_w=w.aval.shape[1], backend=backend)
    return nones + [_sum_to(ct_w, w.aval.shape[0]).astype(w.aval.dtype), None]


def _outer_jvp(primals, tangents, *, n_w, backend):
    _check_index_tangents(tangents[:N_INDEX])
    index = primals[:N_INDEX]
    x, g = primals[N_INDEX:]
    dx, dg = tangents[N_INDEX:]
    out = outer_p.bind(*primals, n_w=n_w, backend=backend)
    d = None
    if not _is_zero(dx):
        d = outer_p.bind(*index, dx, g, n_w=n_w, backend=backend)
    if not _is_zero(dg):
        d = _add(d, outer_p.bind(*index, x, dg, n_w=n_w, backend=backend))
    return out, (_zero_tangent(out) if d is None else d)


def _outer_transpose(ct, *args, n_w, backend):
    index = args[:N_INDEX]
    x, g = args[N_INDEX:]
    run, other = index[:3], index[3:]
    nones = [None] * N_INDEX
    if type(ct) is ad.Zero:
        return nones + [None, None]
    if ad.is_undefined_primal(g):
        ct_g = scatter_p.bind(*run, *other, ct, x, n_out=g.aval.shape[1], backend=backend)
        return nones + [None, _sum_to(ct_g, g.aval.shape[0]).astype(g.aval.dtype)]
    ct_x = scatter_p.bind(*other, *run, ct, g, n_out=x.aval.shape[1], backend=backend)
    return nones + [_sum_to(ct_x, x.aval.shape[0]).astype(x.aval.dtype), None]


def _tangent_or_zeros(primal, tangent):
    if not jnp.issubdtype(primal.dtype, jnp.inexact):
        return np.zeros(primal.shape, jax.dtypes.float0)
    if type(tangent) is ad.Zero:
        return jnp.zeros(primal.shape, primal.dtype)
    return tangent


def _update_jvp(primals, tangents, *, backend):
    _check_index_tangents(tangents[:3])
    out = update_p.bind(*primals, backend=backend)
    values = primals[3:]
    if all(_is_zero(t) for t in tangents[3:]):
        return out, _zero_tangent(out)
    tans = [_tangent_or_zeros(p, t) for p, t in zip(values, tangents[3:], strict=True)]
    _, d = jax.jvp(partial(_update_values, *primals[:3]), tuple(values), tuple(tans))
    return out, d


ad.primitive_jvps[scatter_p] = _scatter_jvp
ad.primitive_transposes[scatter_p] = _scatter_transpose
ad.primitive_jvps[scatter_add_p] = _scatter_add_jvp
ad.primitive_jvps[outer_p] = _outer_jvp
ad.primitive_transposes[outer_p] = _outer_transpose
ad.primitive_jvps[update_p] = _update_jvp


# ---------------------------------------------------------------- batching


def _batch_rule(prim, pure_fn, n_index):
    def rule(args, dims, **params):
        if any(d is not None for d in dims[:n_index]):
            # Batched index arrays (different structures per batch entry): pure JAX under vmap.
            axes = tuple(None if d is None else d for d in dims)
            return jax.vmap(partial(pure_fn, **params), in_axes=axes)(*args), 0
        values = list(args[n_index:])
        vdims = dims[n_index:]
        size = next(
            a.shape[d] for a, d in zip(values, vdims, strict=True)
            if d is not None
        )  # fmt: skip
        moved = [a if d is None else jnp.moveaxis(a, d, 0)
                 for a, d in zip(values, vdims, strict=True)]
        old = max(a.shape[0] if d is None else a.shape[1]
                  for a, d in zip(moved, vdims, strict=True))
        flat = []
        for a, d in zip(moved, vdims, strict=True):
            if d is None:
                if a.shape[0] != 1:
                    a = jnp.broadcast_to(a[None], (size, *a.shape)).reshape(-1, *a.shape[1:])
            else:
                if a.shape[1] != old:
                    a = jnp.broadcast_to(a, (size, old, *a.shape[2:]))
                a = a.reshape(-1, *a.shape[2:])
            flat.append(a)
        out = prim.bind(*args[:n_index], *flat, **params)
        return out.reshape(size, old, *out.shape[1:]), 0

    batching.primitive_batchers[prim] = rule
    return rule


_batch_rule(scatter_p, _scatter_pure, N_INDEX)
_batch_rule(outer_p, _outer_pure, N_INDEX)
def _rank1_batch(rank2_rule, n_index, first):
    """The batching rule of a primitive whose value operands from `first` on are bound without
    the batch axis (rank 1) for one unbatched problem, so that a loop-carried array reaches its
    aliased kernel without a reshape: those operands get a leading axis of 1, then
    `rank2_rule`; operands bound with the batch axis go to `rank2_rule` as they are."""

    def rule(args, dims, **params):
        unbatched_rank = args[first].ndim - (dims[first] is not None)
        if unbatched_rank != 1 or any(d is not None for d in dims[:n_index]):
            return rank2_rule(args, dims, **params)
        lifted = [a[None] if d is None else jnp.expand_dims(jnp.moveaxis(a, d, 0), 1)
                  for a, d in zip(args[first:], dims[first:], strict=True)]
        lifted_dims = [None if d is None else 0 for d in dims[first:]]
        out, out_dim = rank2_rule(
            [*args[:first], *lifted], [*dims[:first], *lifted_dims], **params
        )
        return out[:, 0], out_dim

    return rule


# update: weights, events, values... all rank 1 for one problem (see _update_values);
# scatter_add: the base and its scale (see _scatter_add_pure).
batching.primitive_batchers[update_p] = _rank1_batch(
    _batch_rule(update_p, _update_pure, 3), n_index=3, first=3
)
batching.primitive_batchers[scatter_add_p] = _rank1_batch(
    _batch_rule(scatter_add_p, _scatter_add_pure, N_INDEX), n_index=N_INDEX, first=N_INDEX + 2
)
