"""Connectivities and spike-train drivers shared by the plasticity tests."""

import jax
import jax.numpy as jnp
import numpy as np

import brainsim_ops as bo

KINDS = ("csr", "ell_pre", "ell_post", "dense")


def full(kind: str, n_pre: int, n_post: int, weight: float, dtype=None):
    """All-to-all connectivity of one storage kind, every weight `weight` (one per synapse)."""
    dtype = dtype or jnp.result_type(float)
    if kind == "csr":
        pre, post = np.divmod(np.arange(n_pre * n_post), n_post)
        return bo.from_edges(pre, post, np.full(pre.shape, weight), n_pre=n_pre, n_post=n_post,
                             dtype=dtype)
    if kind == "ell_pre":
        idx = np.tile(np.arange(n_post), (n_pre, 1))
        return bo.ELL(idx, jnp.full(idx.shape, weight, dtype), n_cols=n_post, rows="pre")
    if kind == "ell_post":
        idx = np.tile(np.arange(n_pre), (n_post, 1))
        return bo.ELL(idx, jnp.full(idx.shape, weight, dtype), n_cols=n_pre, rows="post")
    return bo.Dense(jnp.full((n_pre, n_post), weight, dtype))


def sparse(kind: str, dtype=None):
    """A random sparse connectivity (23 -> 17) with random per-synapse weights in [0.2, 0.8]."""
    dtype = dtype or jnp.result_type(float)
    key = jax.random.key(3)
    n_pre, n_post = 23, 17
    if kind == "csr":
        conn = bo.fixed_prob(key, n_pre, n_post, 0.25, per_synapse=True, dtype=dtype)
    elif kind == "ell_pre":
        conn = bo.fixed_out_degree(key, n_pre, n_post, 4, per_synapse=True, dtype=dtype)
    elif kind == "ell_post":
        conn = bo.fixed_in_degree(key, n_pre, n_post, 5, per_synapse=True, dtype=dtype)
    else:
        mask = jax.random.uniform(key, (n_pre, n_post)) < 0.3
        conn = bo.Dense(jnp.where(mask, 1.0, 0.0).astype(dtype), mask=mask)
    w = jax.random.uniform(jax.random.key(4), conn.weights.shape, dtype, 0.2, 0.8)
    if isinstance(conn, bo.Dense):
        w = jnp.where(conn.mask, w, 0.0)
    return conn.with_weights(w) if not isinstance(conn, bo.Dense) else bo.Dense(w, conn.mask)


def synapse_pre_post(conn):
    """(pre, post) index of every synapse, each with the shape of the per-synapse weights."""
    if isinstance(conn, bo.Dense):
        return np.meshgrid(np.arange(conn.n_pre), np.arange(conn.n_post), indexing="ij")
    if isinstance(conn, bo.ELL):
        rows = np.repeat(np.arange(conn.indices.shape[0])[:, None], conn.k, axis=1)
        cols = np.asarray(conn.indices)
        return (rows, cols) if conn.rows == "pre" else (cols, rows)
    indptr = np.asarray(conn.indptr)
    return np.repeat(np.arange(conn.n_pre), np.diff(indptr)), np.asarray(conn.indices)


def run(rule, conn, pre_trains, post_trains, *, dt, modulators=None, weights=None):
    """Drive `rule` with spike trains of shape (steps, n); returns (final weights, traces)."""
    w0 = conn.weights if weights is None else weights
    w0 = jnp.broadcast_to(w0, conn.weights.shape)
    steps = pre_trains.shape[0]
    mods = jnp.zeros((steps,)) if modulators is None else modulators

    def step(carry, inputs):
        w, traces = carry
        pre, post, m = inputs
        w, traces = rule.update(traces, w, pre, post, dt=dt, conn=conn,
                                modulator=None if modulators is None else m)
        return (w, traces), None

    (w, traces), _ = jax.lax.scan(step, (w0, rule.init(conn)), (pre_trains, post_trains, mods))
    return w, traces


def trains(n_steps: int, n: int, times_by_neuron: dict[int, list[int]], dtype=None):
    """A (steps, n) 0/1 spike array with neuron `i` spiking at the given step indices."""
    out = np.zeros((n_steps, n))
    for neuron, steps in times_by_neuron.items():
        out[steps, neuron] = 1.0
    return jnp.asarray(out, dtype or jnp.result_type(float))
