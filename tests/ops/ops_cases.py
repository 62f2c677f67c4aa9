"""Random connectivity structures shared by the brainsim_ops tests."""

import jax
import jax.numpy as jnp
import numpy as np

import brainsim_ops as bo


def structures(dtype=jnp.float32):
    """(name, conn) pairs covering empty rows/columns, repeated edges, ELL both ways, Dense."""
    key = jax.random.key(7)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    rng = np.random.default_rng(3)
    n_pre, n_post = 23, 17
    pre = rng.integers(0, n_pre - 5, 60)  # last 5 rows empty
    post = rng.integers(0, n_post - 3, 60)  # last 3 columns empty
    pre = np.concatenate([pre, pre[:6]])  # repeated edges
    post = np.concatenate([post, post[:6]])
    w_edges = rng.normal(size=pre.shape[0])
    out = [
        ("fixed_prob", bo.fixed_prob(k1, n_pre, n_post, 0.2, per_synapse=True, dtype=dtype)),
        ("fixed_prob_scalar", bo.fixed_prob(k2, n_pre, n_post, 0.3, weight=0.7, dtype=dtype)),
        ("edges_repeated", bo.from_edges(pre, post, w_edges, n_pre=n_pre, n_post=n_post,
                                         dtype=dtype)),
        ("out_degree", bo.fixed_out_degree(k3, n_pre, n_post, 4, per_synapse=True, dtype=dtype)),
        ("in_degree", bo.fixed_in_degree(k4, n_pre, n_post, 5, per_synapse=True, dtype=dtype)),
        ("dense", bo.Dense(jax.random.normal(k5, (n_pre, n_post), dtype))),
    ]
    # Random per-synapse weights everywhere they are per synapse.
    result = []
    for i, (name, conn) in enumerate(out):
        if conn.weights.ndim and not isinstance(conn, bo.Dense):
            w = jax.random.normal(jax.random.key(100 + i), conn.weights.shape, dtype)
            conn = conn.with_weights(w)
        result.append((name, conn))
    return result


def event_patterns(n, key=0):
    """Events: none, all, random bool, random graded float."""
    rng = np.random.default_rng(key)
    return {
        "none": np.zeros(n, bool),
        "all": np.ones(n, bool),
        "random": rng.random(n) < 0.3,
        "graded": (rng.random(n) < 0.5) * rng.normal(size=n),
    }
