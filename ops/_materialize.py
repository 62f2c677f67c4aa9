"""``materialize``: an identity that XLA cannot fuse through.

XLA's CPU fusion copies a cheap elementwise expression into every fusion that consumes it: a
neuron update whose new potential is read by the reset, the spike recording, the events of
each projection and the refractory countdown is then computed four or five times per step, each
time reading all the state arrays it depends on. Passing the value through a custom call makes
it one fusion's output, written once and read by every consumer. The custom call aliases its
operand, so it moves no data.
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
from ._native import MATERIALIZE, native_available

materialize_p = Primitive("brainsim_materialize")
materialize_p.def_abstract_eval(lambda x, *, backend: jax.core.ShapedArray(x.shape, x.dtype))
materialize_p.def_impl(partial(dispatch.apply_primitive, materialize_p))


def _through_kernel(x, *, backend):
    flat = x.reshape(1, -1)
    kept = jax.ffi.ffi_call(
        MATERIALIZE, jax.ShapeDtypeStruct(flat.shape, flat.dtype), input_output_aliases={0: 0}
    )(flat)
    return kept.reshape(x.shape)


_identity_rule = mlir.lower_fun(lambda x, *, backend: x, multiple_results=False)
_kernel_rule = mlir.lower_fun(_through_kernel, multiple_results=False)


def _cpu_rule(ctx, x, *, backend):
    if backend != "native" or not native_available():
        return _identity_rule(ctx, x, backend=backend)
    return _kernel_rule(ctx, x, backend=backend)


mlir.register_lowering(materialize_p, _identity_rule)
mlir.register_lowering(materialize_p, _cpu_rule, platform="cpu")


def _jvp(primals, tangents, *, backend):
    return materialize_p.bind(primals[0], backend=backend), tangents[0]


def _batch(args, dims, *, backend):
    return materialize_p.bind(args[0], backend=backend), dims[0]


ad.primitive_jvps[materialize_p] = _jvp
batching.primitive_batchers[materialize_p] = _batch


def materialize(
    x: Shaped[Array, "*shape"], *, backend: str | None = None
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

    Float32 and float64 arrays of any shape; other dtypes, empty arrays, `backend="jax"` and
    non-CPU devices pass through as a plain identity.

    Args:
        x: array to materialise.
        backend: `"native"`, `"jax"` or None (the default backend, see `set_backend`).

    Returns:
        `x` (same shape, dtype and values).

    Examples:
        >>> v = brainsim_ops.materialize(v + dt * (e_l - v) / tau)   # one pass, many readers
    """
    x = jnp.asarray(x)
    if x.size == 0 or x.dtype not in (jnp.float32, jnp.float64):
        return x
    return materialize_p.bind(x, backend=resolve(backend))
