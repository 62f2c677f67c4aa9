"""Public event-driven products: ``event_matvec``, ``matvec``, ``event_matmat``."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ._backend import resolve
from ._connectivity import CSR, ELL, Connectivity, Dense
from ._primitives import scatter_add_p, scatter_p


def _check_conn(conn) -> None:
    if not isinstance(conn, CSR | ELL | Dense):
        raise TypeError(f"`conn` must be a CSR, ELL or Dense connectivity, got {type(conn)}.")


def _as_events(events, name: str, dtype, shape: tuple[int, ...]) -> Array:
    x = jnp.asarray(events)
    if x.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape}, got {x.shape}.")
    if x.dtype == jnp.bool_:
        return x
    if not jnp.issubdtype(x.dtype, jnp.number) or jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(f"`{name}` must be bool or real numbers, got dtype {x.dtype}.")
    return x.astype(dtype)


def _product(x2d, conn, transpose: bool, backend, base=None, binary: bool = False):
    """`x2d @ W`, or with `base = (y0, scale)`: `scale * y0 + x2d @ W` (`y0` and `scale` of rank
    1 for one unbatched problem, else of rank 2 with a leading batch axis)."""
    if isinstance(conn, Dense):
        w = conn.weights.T if transpose else conn.weights
        y = x2d.astype(w.dtype) @ w
        if base is None:
            return y
        y0, scale = base
        return scale * y0 + (y[0] if y0.ndim == 1 else y)
    layout = conn.layout
    w = conn.flat_weights()
    run = layout.view(transpose)
    other = layout.view(not transpose)
    index = (*run[:3], *other[:3])
    if base is None:
        return scatter_p.bind(
            *index, w.reshape(1, -1), x2d, n_out=run[4], backend=resolve(backend),
            binary=binary,
        )
    return scatter_add_p.bind(
        *index, w.reshape(1, -1), x2d, *base, n_out=run[4], backend=resolve(backend),
        binary=binary,
    )


def _base(add_to, add_scale, conn, n_out: int, batch: int | None = None):
    """`(y0, scale)` checked and cast to the weights' dtype: rank 1 (`(n_out,)`, `(1 or
    n_out,)`) when `batch` is None, else rank 2 with a leading axis of 1 or `batch`."""
    dtype = conn.weights.dtype
    y0 = jnp.asarray(add_to)
    shapes = [(n_out,)] if batch is None else [(n_out,), (batch, n_out)]
    if y0.shape not in shapes:
        raise ValueError(f"`add_to` must have shape {' or '.join(map(str, shapes))}, got "
                         f"{y0.shape}.")
    scale = jnp.asarray(1.0 if add_scale is None else add_scale)
    if scale.shape not in ((), (1,), (n_out,)):
        raise ValueError(f"`add_scale` must be a scalar or of shape ({n_out},), got "
                         f"{scale.shape}.")
    if not jnp.issubdtype(y0.dtype, jnp.floating):
        raise TypeError(f"`add_to` must be floating point, got dtype {y0.dtype}.")
    if not (jnp.issubdtype(scale.dtype, jnp.floating) or jnp.issubdtype(scale.dtype, jnp.integer)):
        raise TypeError(f"`add_scale` must be real, got dtype {scale.dtype}.")
    y0, scale = y0.astype(dtype), scale.astype(dtype).reshape(-1)
    if batch is None:
        return y0, scale
    return y0.reshape(-1, n_out), scale[None]


def _sizes(conn, transpose: bool) -> tuple[int, int]:
    return (conn.n_post, conn.n_pre) if transpose else (conn.n_pre, conn.n_post)


def event_matvec(
    events: Bool[Array, " n_in"] | Float[Array, " n_in"],
    conn: Connectivity,
    *,
    transpose: bool = False,
    add_to: Float[Array, " n_out"] | None = None,
    add_scale: float | Float[Array, " n_out"] | None = None,
    binary: bool = False,
    backend: str | None = None,
) -> Float[Array, " n_out"]:
    """Event-driven product: ``y_j = sum_i s_i w_ij`` over the presynaptic events ``s``.

    Only the synapses of neurons whose event is nonzero are visited (native CPU kernel), so
    the cost is proportional to active synapses. ``transpose=True`` runs post -> pre:
    ``y_i = sum_j s_j w_ij`` with ``s`` over postsynaptic neurons (also event-driven, through
    the cached post-major view).

    Args:
        events: bool or 0/1 floats, shape ``(n_pre,)`` (``(n_post,)`` if ``transpose``).
            Float events may be graded and carry gradients (straight-through: the events'
            cotangent is the transposed float product).
        conn: a :class:`CSR`, :class:`ELL` or :class:`Dense`.
        transpose: run post -> pre.
        add_to: optional base of shape ``(n_post,)`` (``(n_pre,)`` if ``transpose``): the
            result is ``add_scale * add_to + y`` (like BLAS's ``beta * y + A x``). On CPU the
            native kernel scales the base and adds the events into it in one pass, in place
            when XLA can reuse the base's buffer (a conductance carried through ``lax.scan``),
            instead of clearing an output, then reading it, the base and writing a sum. A
            synaptic update ``g * exp(-dt / tau) + y`` is then one pass over ``g`` and the
            visited synapses. Differentiable in ``add_to`` and ``add_scale``.
        add_scale: scalar or ``(n_post,)`` factor of ``add_to`` (default 1).
        binary: the float events are 0 or 1 (spikes that carry a surrogate gradient): the
            native kernel then reads them as bytes, a quarter of the memory traffic of
            float32 events (the comparison ``events != 0`` is fused where they are made).
            Values other than 0 count as 1 in the product; gradients are unchanged.
        backend: ``"auto"``, ``"native"`` or ``"jax"``; default from :func:`set_backend`.

    Returns:
        Shape ``(n_post,)`` (``(n_pre,)`` if ``transpose``), dtype of the weights.

    Examples:
        >>> conn = bo.fixed_prob(jax.random.key(0), 100, 50, 0.1, weight=0.5)
        >>> y = bo.event_matvec(spikes, conn)   # spikes: bool (100,)
        >>> g = bo.event_matvec(spikes, conn, add_to=g, add_scale=decay)   # g * decay + y
    """
    _check_conn(conn)
    n_in, n_out = _sizes(conn, transpose)
    x = _as_events(events, "events", conn.weights.dtype, (n_in,))
    if add_to is None:
        _no_scale(add_scale)
        return _product(x[None], conn, transpose, backend, binary=binary)[0]
    base = _base(add_to, add_scale, conn, n_out)
    return _product(x[None], conn, transpose, backend, base, binary=binary)


def _no_scale(add_scale) -> None:
    if add_scale is not None:
        raise ValueError("`add_scale` scales `add_to`: pass `add_to` too.")


def matvec(
    x: Float[Array, " n_in"],
    conn: Connectivity,
    *,
    transpose: bool = False,
    add_to: Float[Array, " n_out"] | None = None,
    add_scale: float | Float[Array, " n_out"] | None = None,
    backend: str | None = None,
) -> Float[Array, " n_out"]:
    """Graded product ``y_j = sum_i x_i w_ij`` (``transpose=True``: ``y_i = sum_j x_j w_ij``).

    Same kernel as :func:`event_matvec` (zeros of ``x`` are skipped), for real-valued input;
    ``add_to`` and ``add_scale`` as there (the result is ``add_scale * add_to + y``).

    Examples:
        >>> y = bo.matvec(rates, conn)   # rates: float (n_pre,)
    """
    _check_conn(conn)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"`x` must be floating point, got dtype {x.dtype}.")
    n_in, n_out = _sizes(conn, transpose)
    x = _as_events(x, "x", conn.weights.dtype, (n_in,))
    if add_to is None:
        _no_scale(add_scale)
        return _product(x[None], conn, transpose, backend)[0]
    return _product(x[None], conn, transpose, backend, _base(add_to, add_scale, conn, n_out))


def event_matmat(
    events: Bool[Array, "batch n_in"] | Float[Array, "batch n_in"],
    conn: Connectivity,
    *,
    transpose: bool = False,
    add_to: Float[Array, "batch n_out"] | Float[Array, " n_out"] | None = None,
    add_scale: float | Float[Array, " n_out"] | None = None,
    binary: bool = False,
    backend: str | None = None,
) -> Float[Array, "batch n_out"]:
    """Batched :func:`event_matvec`: one row of events per batch entry, one kernel call.

    ``jax.vmap(event_matvec)`` lowers to the same batched kernel. ``add_to``: a base per
    batch entry ``(batch, n_out)``, or one ``(n_out,)`` for all, and ``add_scale`` as in
    :func:`event_matvec`: the result is ``add_scale * add_to + Y``; ``binary`` as
    there.

    Examples:
        >>> Y = bo.event_matmat(spikes_batch, conn)   # (batch, n_pre) -> (batch, n_post)
    """
    _check_conn(conn)
    n_in, _ = _sizes(conn, transpose)
    x = jnp.asarray(events)
    if x.ndim != 2:
        raise ValueError(f"`events` must be 2-D (batch, {n_in}), got shape {x.shape}.")
    x = _as_events(x, "events", conn.weights.dtype, (x.shape[0], n_in))
    if add_to is None:
        _no_scale(add_scale)
        return _product(x, conn, transpose, backend, binary=binary)
    n_out = _sizes(conn, transpose)[1]
    return _product(x, conn, transpose, backend,
                    _base(add_to, add_scale, conn, n_out, batch=x.shape[0]), binary=binary)
