"""The presynaptic and postsynaptic neuron of every synapse, in the weights' storage order."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Int

from ._connectivity import Dense
from ._pure import rows_of_positions


def _row_of_storage(indptr, storage, n_syn: int) -> Int[Array, " n_syn"]:
    rows = rows_of_positions(indptr, n_syn)
    if storage.shape[0] == 0:
        return rows
    return jnp.zeros_like(rows).at[storage].set(rows)


def synapse_neurons(conn) -> tuple[Int[Array, ...], Int[Array, ...]]:
    """`(pre, post)`: the presynaptic and postsynaptic neuron of each synapse of `conn`.

    Both have the shape of one value per synapse (`conn.synapse_shape`), in the order of the
    weights, so that `pre_spikes[pre]` is the spike that reaches each synapse and
    `jax.ops.segment_sum(values, post, n_post)` sums per postsynaptic neuron. They work on
    traced connectivities (inside `jit`).

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> conn = bo.CSR(jnp.array([0, 2, 3]), jnp.array([0, 2, 1]), 0.5, n_post=3)
        >>> pre, post = bo.synapse_neurons(conn)
        >>> pre.tolist(), post.tolist()
        ([0, 0, 1], [0, 2, 1])
    """
    if isinstance(conn, Dense):
        pre = jnp.broadcast_to(jnp.arange(conn.n_pre)[:, None], conn.synapse_shape)
        post = jnp.broadcast_to(jnp.arange(conn.n_post)[None, :], conn.synapse_shape)
        return pre, post
    layout = conn.layout
    pre = _row_of_storage(layout.pre_indptr, layout.pre_syn, layout.n_syn)
    post = _row_of_storage(layout.post_indptr, layout.post_syn, layout.n_syn)
    return pre.reshape(conn.synapse_shape), post.reshape(conn.synapse_shape)
