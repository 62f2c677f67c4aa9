"""Public event-driven products: ``event_matvec``, ``matvec``, ``event_matmat``."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ._backend import resolve
from ._connectivity import CSR, ELL, Connectivity, Dense
from ._primitives import scatter_p


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


def _product(x2d, conn, transpose: bool, backend):
    if isinstance(conn, Dense):
        w = conn.weights.T if transpose else conn.weights
        return x2d.astype(w.dtype) @ w
    layout = conn.layout
    w = conn.flat_weights()
    run = layout.view(transpose)
    other = layout.view(not transpose)
    return scatter_p.bind(
        *run[:3], *other[:3], w.reshape(1, -1), x2d, n_out=run[4], backend=resolve(backend)
    )


def _sizes(conn, transpose: bool) -> tuple[int, int]:
    return (conn.n_post, conn.n_pre) if transpose else (conn.n_pre, conn.n_post)


def event_matvec(
    events: Bool[Array, " n_in"] | Float[Array, " n_in"],
    conn: Connectivity,
    *,
    transpose: bool = False,
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
        backend: ``"auto"``, ``"native"`` or ``"jax"``; default from :func:`set_backend`.

    Returns:
        Shape ``(n_post,)`` (``(n_pre,)`` if ``transpose``), dtype of the weights.

    Examples:
        >>> conn = bo.fixed_prob(jax.random.key(0), 100, 50, 0.1, weight=0.5)
        >>> y = bo.event_matvec(spikes, conn)   # spikes: bool (100,)
    """
    _check_conn(conn)
    n_in, _ = _sizes(conn, transpose)
    x = _as_events(events, "events", conn.weights.dtype, (n_in,))
    return _product(x[None], conn, transpose, backend)[0]


def matvec(
    x: Float[Array, " n_in"],
    conn: Connectivity,
    *,
    transpose: bool = False,
    backend: str | None = None,
) -> Float[Array, " n_out"]:
    """Graded product ``y_j = sum_i x_i w_ij`` (``transpose=True``: ``y_i = sum_j x_j w_ij``).

    Same kernel as :func:`event_matvec` (zeros of ``x`` are skipped), for real-valued input.

    Examples:
        >>> y = bo.matvec(rates, conn)   # rates: float (n_pre,)
    """
    _check_conn(conn)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"`x` must be floating point, got dtype {x.dtype}.")
    n_in, _ = _sizes(conn, transpose)
    x = _as_events(x, "x", conn.weights.dtype, (n_in,))
    return _product(x[None], conn, transpose, backend)[0]


def event_matmat(
    events: Bool[Array, "batch n_in"] | Float[Array, "batch n_in"],
    conn: Connectivity,
    *,
    transpose: bool = False,
    backend: str | None = None,
) -> Float[Array, "batch n_out"]:
    """Batched :func:`event_matvec`: one row of events per batch entry, one kernel call.

    ``jax.vmap(event_matvec)`` lowers to the same batched kernel.

    Examples:
        >>> Y = bo.event_matmat(spikes_batch, conn)   # (batch, n_pre) -> (batch, n_post)
    """
    _check_conn(conn)
    n_in, _ = _sizes(conn, transpose)
    x = jnp.asarray(events)
    if x.ndim != 2:
        raise ValueError(f"`events` must be 2-D (batch, {n_in}), got shape {x.shape}.")
    x = _as_events(x, "events", conn.weights.dtype, (x.shape[0], n_in))
    return _product(x, conn, transpose, backend)
