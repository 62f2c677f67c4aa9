"""Per-synapse delays: delivery at emission into a postsynaptic ring buffer.

Two primitives on the pre-major view ``(indptr, idx, syn)`` of a :class:`Layout` plus the
per-storage delays ``delay`` (``(n_w,)`` or ``(1,)`` for a homogeneous delay):

- ``delayed_p``: ``ring' = ring + D(w, x)`` with
  ``D[b, (step_b + d_k) % L, idx[s]] += x[b, row(s)] * w[b, k]`` (bilinear in ``w, x``, linear
  in ``ring``);
- ``delayed_outer_p``: ``dw[b, k] = sum x[b, row(s)] * g[b, (step_b + d_k) % L, idx[s]]``, the
  event-driven weight cotangent (only rows with events are visited).

The events' cotangent is a gather (``_pure.delayed_gather``, pure JAX, differentiable as is).
Value operands carry a leading batch axis (1 = shared, or B): ``w (Bw, W)``, ``x (Bx, R)``,
``ring (Br, L, C)``, ``step (Bs, 1)`` int32; ``vmap`` grows it and stays one kernel call.
An unbatched ring is passed as ``(L, C)`` (no reshape around the custom call: a bitcast
between the ``lax.scan`` carry and the aliased operand makes XLA copy the ring each step).
Lowering: the numba FFI handlers on CPU with ``backend="native"``, pure JAX otherwise; the
native ``delayed_p`` aliases ``ring`` to its output (in-place update when XLA can donate it).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import dispatch
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir
from jaxtyping import Array, Bool, Float, Int

from . import _pure
from ._backend import resolve
from ._connectivity import CSR, ELL
from ._native import DELAYED, DELAYED_OUTER, RING_POP, native_available
from ._operators import _as_events
from ._primitives import (
    _batch_rule,
    _check_index_tangents,
    _is_zero,
    _lowering,
    _sum_to,
    _zero_tangent,
)

delayed_p = Primitive("brainsim_event_scatter_delayed")
delayed_outer_p = Primitive("brainsim_event_outer_delayed")

N_INDEX = 4  # indptr, idx, syn, delay


def _leading(*avals) -> int:
    return max(a.shape[0] for a in avals)


def _delayed_abstract(indptr, idx, syn, delay, w, x, ring, step, *, backend):
    if ring.ndim == 2:  # unbatched form (L, C): every other value operand has leading 1
        return jax.core.ShapedArray(ring.shape, ring.dtype)
    return jax.core.ShapedArray((_leading(w, x, ring, step), *ring.shape[1:]), ring.dtype)


def _delayed_outer_abstract(indptr, idx, syn, delay, x, g, step, *, n_w, backend):
    return jax.core.ShapedArray((_leading(x, g, step), n_w), g.dtype)


delayed_p.def_abstract_eval(_delayed_abstract)
delayed_outer_p.def_abstract_eval(_delayed_outer_abstract)
for _p in (delayed_p, delayed_outer_p):
    _p.def_impl(partial(dispatch.apply_primitive, _p))


def _delayed_pure(*args, backend):
    ring = args[6]
    if ring.ndim == 2:
        return _pure.delayed_scatter(*args[:6], ring[None], args[7])[0]
    return _pure.delayed_scatter(*args)


def _delayed_outer_pure(*args, n_w, backend):
    return _pure.delayed_outer(*args, n_w=n_w)


_lowering(delayed_p, _delayed_pure, DELAYED, list(range(8)), alias=6)
_lowering(delayed_outer_p, _delayed_outer_pure, DELAYED_OUTER, list(range(7)))


# ---------------------------------------------------------------- differentiation


def _delayed_jvp(primals, tangents, *, backend):
    _check_index_tangents(tangents[:N_INDEX])
    index = primals[:N_INDEX]
    w, x, ring, step = primals[N_INDEX:]
    dw, dx, dring, _ = tangents[N_INDEX:]
    out = delayed_p.bind(*primals, backend=backend)
    if _is_zero(dw) and _is_zero(dx) and _is_zero(dring):
        return out, _zero_tangent(out)
    # Chain the linear terms through the ring operand: A(w, dx, A(dw, x, dring)).
    zeros_shape = ring.shape if ring.ndim == 2 else (1, *ring.shape[1:])
    acc = None if _is_zero(dring) else dring
    if not _is_zero(dw):
        base = jnp.zeros(zeros_shape, ring.dtype) if acc is None else acc
        acc = delayed_p.bind(*index, dw, x, base, step, backend=backend)
    if not _is_zero(dx):
        base = jnp.zeros(zeros_shape, ring.dtype) if acc is None else acc
        acc = delayed_p.bind(*index, w, dx, base, step, backend=backend)
    return out, jnp.broadcast_to(acc, out.shape)


def _delayed_transpose(ct, *args, backend):
    indptr, idx, syn, delay = args[:N_INDEX]
    w, x, ring, step = args[N_INDEX:]
    nones = [None] * N_INDEX
    if type(ct) is ad.Zero:
        return nones + [None] * 4
    ct_w = ct_x = ct_ring = None
    if ad.is_undefined_primal(ring):
        ct_ring = ct if ring.aval.ndim == 2 else _sum_to(ct, ring.aval.shape[0])
        ct_ring = ct_ring.astype(ring.aval.dtype)
    if ct.ndim == 2:  # unbatched form
        ct = ct[None]
    if ad.is_undefined_primal(w) and ad.is_undefined_primal(x):
        raise NotImplementedError("event_scatter_delayed is not linear in (weights, events).")
    if ad.is_undefined_primal(x):
        g = _pure.delayed_gather(indptr, idx, syn, delay, w, ct, step,
                                 n_rows=x.aval.shape[1])
        ct_x = _sum_to(g, x.aval.shape[0]).astype(x.aval.dtype)
    if ad.is_undefined_primal(w):
        g = delayed_outer_p.bind(indptr, idx, syn, delay, x, ct, step,
                                 n_w=w.aval.shape[1], backend=backend)
        ct_w = _sum_to(g, w.aval.shape[0]).astype(w.aval.dtype)
    return nones + [ct_w, ct_x, ct_ring, None]


def _delayed_outer_jvp(primals, tangents, *, n_w, backend):
    _check_index_tangents(tangents[:N_INDEX])
    index = primals[:N_INDEX]
    x, g, step = primals[N_INDEX:]
    dx, dg, _ = tangents[N_INDEX:]
    out = delayed_outer_p.bind(*primals, n_w=n_w, backend=backend)
    d = None
    if not _is_zero(dx):
        d = delayed_outer_p.bind(*index, dx, g, step, n_w=n_w, backend=backend)
    if not _is_zero(dg):
        t = delayed_outer_p.bind(*index, x, dg, step, n_w=n_w, backend=backend)
        d = t if d is None else d + t
    if d is None:
        return out, _zero_tangent(out)
    return out, jnp.broadcast_to(d, out.shape)


def _delayed_outer_transpose(ct, *args, n_w, backend):
    indptr, idx, syn, delay = args[:N_INDEX]
    x, g, step = args[N_INDEX:]
    nones = [None] * N_INDEX
    if type(ct) is ad.Zero:
        return nones + [None] * 3
    if ad.is_undefined_primal(g):
        zeros = jnp.zeros((1, *g.aval.shape[1:]), g.aval.dtype)
        ct_g = delayed_p.bind(indptr, idx, syn, delay, ct, x, zeros, step, backend=backend)
        return nones + [None, _sum_to(ct_g, g.aval.shape[0]).astype(g.aval.dtype), None]
    ct_x = _pure.delayed_gather(indptr, idx, syn, delay, ct, g, step, n_rows=x.aval.shape[1])
    return nones + [_sum_to(ct_x, x.aval.shape[0]).astype(x.aval.dtype), None, None]


ad.primitive_jvps[delayed_p] = _delayed_jvp
ad.primitive_transposes[delayed_p] = _delayed_transpose
ad.primitive_jvps[delayed_outer_p] = _delayed_outer_jvp
ad.primitive_transposes[delayed_outer_p] = _delayed_outer_transpose

_delayed_batch_generic = _batch_rule(delayed_p, _delayed_pure, N_INDEX)
_batch_rule(delayed_outer_p, _delayed_outer_pure, N_INDEX)


def _delayed_batch(args, dims, **params):
    """Give an unbatched-form ring ``(L, C)`` its leading axis, then batch generically."""
    ring, rd = args[6], dims[6]
    if ring.ndim - (rd is not None) != 2:
        return _delayed_batch_generic(args, dims, **params)
    ring = ring[None] if rd is None else jnp.expand_dims(jnp.moveaxis(ring, rd, 0), 1)
    args = (*args[:6], ring, *args[7:])
    dims = (*dims[:6], None if rd is None else 0, *dims[7:])
    out, out_dim = _delayed_batch_generic(args, dims, **params)
    return out[:, 0], out_dim  # (size, 1, L, C) -> (size, L, C)


batching.primitive_batchers[delayed_p] = _delayed_batch


# ---------------------------------------------------------------- public operator


def _concrete(value) -> np.ndarray | None:
    """``value`` as numpy when it is concrete (not traced), else None."""
    if isinstance(value, jax.core.Tracer):
        return None
    try:
        return np.asarray(value)
    except jax.errors.ConcretizationTypeError:
        return None


def _check_delays(delay_steps, shape, n_slots: int) -> Array:
    d = jnp.asarray(delay_steps)
    if not jnp.issubdtype(d.dtype, jnp.integer):
        raise TypeError(
            f"`delay_steps` must be integers (delays in time steps), got dtype {d.dtype}; "
            "convert delays in ms with jnp.round(delay_ms / dt).astype(jnp.int32)."
        )
    if d.shape not in ((), shape):
        raise ValueError(
            f"`delay_steps` must be a scalar or have shape {shape} (one per synapse, indexed "
            f"like the per-synapse weights), got {d.shape}."
        )
    concrete = _concrete(delay_steps)
    if concrete is not None and concrete.size:
        lo, hi = int(concrete.min()), int(concrete.max())
        if lo < 0 or hi >= n_slots:
            raise ValueError(
                f"`delay_steps` must lie in [0, {n_slots - 1}] (the ring has L = {n_slots} "
                f"slots), got values in [{lo}, {hi}]; use a ring with at least max delay + 1 "
                "slots."
            )
    return d.astype(jnp.int32).reshape(-1)


def event_scatter_delayed(
    events: Bool[Array, " n_pre"] | Float[Array, " n_pre"],
    conn: CSR | ELL,
    delay_steps: Int[Array, " n_syn"] | int,
    ring: Float[Array, "L n_post"],
    step_index: Int[Array, ""] | int,
    *,
    backend: str | None = None,
) -> Float[Array, "L n_post"]:
    """Delayed event delivery into a postsynaptic ring buffer (per-synapse delays).

    For every presynaptic neuron ``i`` with ``events[i] != 0`` and each of its synapses
    ``k`` (to postsynaptic ``j``)::

        ring[(step_index + delay_steps[k]) % L, j] += events[i] * w[k]

    and the updated ring is returned (nothing is mutated; on CPU the native kernel updates
    the buffer in place when XLA can donate it, e.g. a ``lax.scan`` carry). Only synapses of
    neurons with events are visited, so the cost is proportional to active synapses; the
    ring is neither copied more than XLA requires nor re-zeroed. At each step read slot
    ``step_index % L`` (the input arriving now) and clear it before it is reused: use
    :func:`ring_pop`, which does both in place.

    Args:
        events: bool or float (graded, e.g. a short-term-plasticity release), ``(n_pre,)``.
        conn: a :class:`CSR` or :class:`ELL` (either ``rows``).
        delay_steps: int delays in time steps, one per synapse indexed like the
            per-synapse weights (``(n_syn,)`` for CSR, ``(n_rows, k)`` for ELL), or a scalar
            (homogeneous delay). Values in ``[0, L - 1]`` (checked when concrete).
        ring: float ``(L, n_post)`` of the weights' dtype.
        step_index: int scalar (may be traced), the current step.
        backend: ``"auto"``, ``"native"`` or ``"jax"``.

    Returns:
        The updated ring, ``(L, n_post)``.

    Differentiable (linear) in ``events`` (float), the weights and ``ring``; the weights'
    cotangent ``dw_k = events[i] ct[(step + d_k) % L, j]`` is event-driven. ``vmap`` over
    events, ring, step and weights is one batched kernel call.

    Examples:
        >>> conn = bo.fixed_prob(jax.random.key(0), 100, 50, 0.1, weight=0.5)
        >>> delays = jax.random.randint(jax.random.key(1), (conn.n_syn,), 0, 10)
        >>> def step(ring, inputs):
        ...     t, spikes = inputs
        ...     ring = bo.event_scatter_delayed(spikes, conn, delays, ring, t)
        ...     return bo.ring_pop(ring, t)             # (cleared ring, input arriving now)
        >>> ring0 = jnp.zeros((10, 50))
        >>> _, currents = jax.lax.scan(step, ring0, (jnp.arange(200), spike_train))
    """
    if not isinstance(conn, CSR | ELL):
        raise TypeError(
            f"`conn` must be a CSR or ELL connectivity (per-synapse delays need a sparse "
            f"connectivity), got {type(conn).__name__}."
        )
    w = conn.flat_weights()
    r = jnp.asarray(ring)
    if r.ndim != 2 or r.shape[1] != conn.n_post or r.shape[0] < 1:
        raise ValueError(
            f"`ring` must have shape (L, n_post) = (L, {conn.n_post}) with L >= 1 slots, "
            f"got {r.shape}."
        )
    if r.dtype != w.dtype:
        raise TypeError(
            f"`ring` must have the weights' dtype {w.dtype}, got {r.dtype} "
            f"(e.g. jnp.zeros((L, n_post), {w.dtype}))."
        )
    n_slots = int(r.shape[0])
    d = _check_delays(delay_steps, conn.synapse_shape, n_slots)
    t = jnp.asarray(step_index)
    if t.shape != () or not jnp.issubdtype(t.dtype, jnp.integer):
        raise TypeError(
            f"`step_index` must be an integer scalar, got shape {t.shape} dtype {t.dtype}."
        )
    x = _as_events(events, "events", w.dtype, (conn.n_pre,))
    layout = conn.layout
    out = delayed_p.bind(
        layout.pre_indptr, layout.pre_post, layout.pre_syn, d, w.reshape(1, -1), x[None],
        r, t.astype(jnp.int32).reshape(1, 1), backend=resolve(backend),
    )  # fmt: skip
    return out


# ---------------------------------------------------------------- reading the ring

ring_pop_p = Primitive("brainsim_ring_pop")
ring_pop_p.multiple_results = True


def _ring_pop_abstract(ring, step, *, backend):
    return [jax.core.ShapedArray(ring.shape, ring.dtype),
            jax.core.ShapedArray(ring.shape[1:], ring.dtype)]


def _ring_pop_pure(ring, step, *, backend=None):
    now = jnp.remainder(step, ring.shape[0])
    cur = jax.lax.dynamic_index_in_dim(ring, now, keepdims=False)
    return [jax.lax.dynamic_update_index_in_dim(ring, jnp.zeros_like(cur), now, 0), cur]


def _ring_pop_cpu(ctx, ring, step, *, backend):
    if backend != "native" or not native_available():
        return _ring_pop_pure_rule(ctx, ring, step, backend=backend)
    return jax.ffi.ffi_lowering(RING_POP, operand_output_aliases={0: 0})(ctx, ring, step)


_ring_pop_pure_rule = mlir.lower_fun(_ring_pop_pure, multiple_results=True)
ring_pop_p.def_abstract_eval(_ring_pop_abstract)
ring_pop_p.def_impl(partial(dispatch.apply_primitive, ring_pop_p))
mlir.register_lowering(ring_pop_p, _ring_pop_pure_rule)
mlir.register_lowering(ring_pop_p, _ring_pop_cpu, platform="cpu")


def _ring_pop_jvp(primals, tangents, *, backend):
    ring, step = primals
    outs = ring_pop_p.bind(ring, step, backend=backend)
    if _is_zero(tangents[0]):
        return outs, [_zero_tangent(o) for o in outs]
    return outs, ring_pop_p.bind(tangents[0], step, backend=backend)


def _ring_pop_transpose(cts, ring, step, *, backend):
    ct_ring, ct_cur = cts
    shape, dtype = ring.aval.shape, ring.aval.dtype
    ct_ring = jnp.zeros(shape, dtype) if type(ct_ring) is ad.Zero else ct_ring
    ct_cur = jnp.zeros(shape[1:], dtype) if type(ct_cur) is ad.Zero else ct_cur
    now = jnp.remainder(step, shape[0])
    return [jax.lax.dynamic_update_index_in_dim(ct_ring, ct_cur, now, 0), None]


def _ring_pop_batch(args, dims, *, backend):
    return jax.vmap(_ring_pop_pure, in_axes=dims)(*args), [0, 0]


ad.primitive_jvps[ring_pop_p] = _ring_pop_jvp
ad.primitive_transposes[ring_pop_p] = _ring_pop_transpose
batching.primitive_batchers[ring_pop_p] = _ring_pop_batch


def ring_pop(
    ring: Float[Array, "L n_post"],
    step_index: Int[Array, ""] | int,
    *,
    backend: str | None = None,
) -> tuple[Float[Array, "L n_post"], Float[Array, " n_post"]]:
    """Read and clear the ring slot of the current step: ``(ring', ring[step_index % L])``.

    ``ring'`` is ``ring`` with slot ``step_index % L`` zeroed, ready to receive deliveries
    ``L`` steps later. The companion of :func:`event_scatter_delayed`: in a ``lax.scan``, one
    native call updates the carried ring in place (reading a slot with ``ring[t % L]`` and
    then clearing it with ``ring.at[t % L].set(0)`` makes XLA copy the whole ring twice per
    step on CPU). Linear in ``ring`` (differentiable); ``vmap`` uses the pure-JAX form.

    Examples:
        >>> ring = bo.event_scatter_delayed(spikes, conn, delays, ring, t)
        >>> ring, g_in = bo.ring_pop(ring, t)   # input arriving at step t
    """
    r = jnp.asarray(ring)
    if r.ndim != 2 or r.shape[0] < 1 or not jnp.issubdtype(r.dtype, jnp.floating):
        raise ValueError(
            f"`ring` must be a float (L, n_post) array with L >= 1, got shape {r.shape} "
            f"dtype {r.dtype}."
        )
    t = jnp.asarray(step_index)
    if t.shape != () or not jnp.issubdtype(t.dtype, jnp.integer):
        raise TypeError(
            f"`step_index` must be an integer scalar, got shape {t.shape} dtype {t.dtype}."
        )
    new, cur = ring_pop_p.bind(r, t.astype(jnp.int32), backend=resolve(backend))
    return new, cur
