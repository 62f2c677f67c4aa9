"""``materialize``: an identity that XLA cannot fuse through.

XLA's CPU fusion copies a cheap elementwise expression into every fusion that consumes it: a
neuron update whose new potential is read by the reset, the spike recording, the events of
each projection and the refractory countdown is then computed four or five times per step, each
time reading all the state arrays it depends on. Passing the value through a custom call makes
it one fusion's output, written once and read by every consumer. The custom call aliases its
operand, so it moves no data.

With ``after``, the call also orders the program: ``x``'s buffer can then be updated in place
by a later operation (a synaptic conductance decayed and incremented by the event kernel)
once every reader of its old value, which ``after`` depends on, has run; without that order
XLA copies the buffer to be safe.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax._src import dispatch
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir
from jaxtyping import Array, Shaped

from ._backend import resolve
from ._native import MATERIALIZE, MATERIALIZE_AFTER, native_available

materialize_p = Primitive("brainsim_materialize")
materialize_p.def_abstract_eval(
    lambda x, *after, backend: jax.core.ShapedArray(x.shape, x.dtype)
)
materialize_p.def_impl(partial(dispatch.apply_primitive, materialize_p))


def _flat(a):
    """`a` as the kernel takes it (rank 1 or 2). Arrays of rank 1 and 2 go as they are: a
    reshape between a loop-carried array and the aliased result makes XLA copy it."""
    return a if a.ndim in (1, 2) else a.reshape(-1)


def _through_kernel(x, *after, backend):
    flat = _flat(x)
    target = MATERIALIZE_AFTER if after else MATERIALIZE
    kept = jax.ffi.ffi_call(
        target, jax.ShapeDtypeStruct(flat.shape, flat.dtype), input_output_aliases={0: 0}
    )(flat, *map(_flat, after))
    return kept.reshape(x.shape)


_identity_rule = mlir.lower_fun(lambda x, *after, backend: x, multiple_results=False)
_kernel_rule = mlir.lower_fun(_through_kernel, multiple_results=False)


def _cpu_rule(ctx, x, *after, backend):
    if backend != "native" or not native_available():
        return _identity_rule(ctx, x, *after, backend=backend)
    return _kernel_rule(ctx, x, *after, backend=backend)


mlir.register_lowering(materialize_p, _identity_rule)
mlir.register_lowering(materialize_p, _cpu_rule, platform="cpu")


def _jvp(primals, tangents, *, backend):
    return materialize_p.bind(*primals, backend=backend), tangents[0]


def _batch(args, dims, *, backend):
    x, *after = args
    if after and dims[1] is not None:  # only the order matters: any one entry of `after`
        after = [jnp.take(after[0], 0, axis=dims[1])]
    return materialize_p.bind(x, *after, backend=backend), dims[0]


ad.primitive_jvps[materialize_p] = _jvp
batching.primitive_batchers[materialize_p] = _batch


def materialize(
    x: Shaped[Array, "*shape"], *, after: Array | None = None, backend: str | None = None
) -> Shaped[Array, "*shape"]:
    """`x`, computed once into its own buffer, which every later use of the result reads.

    An identity for the values, the gradient, `vmap` and every backend. What it changes is the
    compiled program on CPU with the native kernels: XLA fuses a cheap elementwise expression
    into each of its consumers, so an intermediate read by several of them (the membrane
    potential after integration, read by the reset, the spike test, the recording and the
    events of every projection) is recomputed by each, and each recomputation reads all of its
    inputs again. Through `materialize` the expression is evaluated once by one fusion and its
    consumers read that result. It costs one custom call that aliases its operand (no copy).
    Worth it where the expression reads several arrays and has several consumers; on small
    arrays or with one consumer it changes nothing measurable.

    `after` adds an order: the result is available only once `after` has been computed (its
    values are not read). Use it when `x` is about to be updated in place (a loop-carried
    array given to a kernel that aliases it) while other operations still read its old value:
    pass as `after` something those readers produce, and XLA no longer copies `x` to protect
    them.

    Float32 and float64 arrays of any shape; other dtypes, empty arrays, `backend="jax"` and
    non-CPU devices pass through as a plain identity (an `after` of another dtype, or empty,
    is ignored).

    Args:
        x: array to materialise.
        after: optional array that must be computed before the result is used.
        backend: `"native"`, `"jax"` or None (the default backend, see `set_backend`).

    Returns:
        `x` (same shape, dtype and values).

    Examples:
        >>> v = brainsim_ops.materialize(v + dt * (e_l - v) / tau)   # one pass, many readers
        >>> g = brainsim_ops.materialize(g, after=v)   # g's old value was read to make v
    """
    x = jnp.asarray(x)
    if x.size == 0 or x.dtype not in (jnp.float32, jnp.float64):
        return x
    order = []
    if after is not None:
        after = jnp.asarray(after)
        if after.dtype == x.dtype and after.size > 0:
            order = [jax.lax.stop_gradient(after)]
    return materialize_p.bind(x, *order, backend=resolve(backend))
