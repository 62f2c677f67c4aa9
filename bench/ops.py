"""Benchmark of brainsim_ops.event_matvec (and event_scatter_delayed) inside a lax.scan.

One JSON line per measurement.

Keys: op, backend, n_pre, n_post, k, p_spike, us_per_call, compile_s, run_s (and n_steps,
active_synapses_per_step so a broken run cannot look fast; max_delay_steps for the delayed
operator, timed with the ring_pop (read and clear of the current slot) a model does). Usage:
``python bench/ops.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import brainsim_ops as bo


def _spike_train(key, n_steps, n, p):
    return jax.random.bernoulli(key, p, (n_steps, n))


def _time_scan(step_fn, spikes, n_out, conn=None, dtype=jnp.float32):
    """Compile and run time of ``n_steps`` calls; ``conn`` is an argument (not a constant)."""

    def run(s, c):
        def body(acc, ev):
            return acc + step_fn(ev, c), None

        acc, _ = jax.lax.scan(body, jnp.zeros(n_out, dtype), s)
        return acc

    t0 = time.perf_counter()
    compiled = jax.jit(run).lower(spikes, conn).compile()
    compile_s = time.perf_counter() - t0
    compiled(spikes, conn).block_until_ready()  # warm-up
    t0 = time.perf_counter()
    compiled(spikes, conn).block_until_ready()
    run_s = time.perf_counter() - t0
    return compile_s, run_s


def _baseline(spikes, n_out):
    """Scan overhead without the operator (reported, not subtracted)."""
    return _time_scan(lambda ev, c: jnp.zeros(n_out) + ev[0], spikes, n_out)[1]


def measure(conn, k, p, n_steps, backend, key):
    spikes = _spike_train(key, n_steps, conn.n_pre, p)
    if backend == "brainpy":
        fn = _brainpy_op(conn)
        if fn is None:
            return None
    else:
        fn = lambda ev, c: bo.event_matvec(ev, c, backend=backend)  # noqa: E731
    compile_s, run_s = _time_scan(fn, spikes, conn.n_post, conn)
    return dict(
        op="event_matvec", backend=backend, n_pre=conn.n_pre, n_post=conn.n_post, k=k,
        p_spike=p, us_per_call=1e6 * run_s / n_steps, compile_s=round(compile_s, 4),
        run_s=round(run_s, 4), n_steps=n_steps,
        active_synapses_per_step=round(float(jnp.mean(jnp.sum(spikes, 1))) * k, 1),
    )


def measure_delayed(conn, k, p, n_steps, backend, key, max_delay=20):
    """event_scatter_delayed per step in a scan, plus ring_pop (read and clear slot t % L)."""
    n_slots = max_delay + 1
    shape = (conn.n_pre, conn.k) if isinstance(conn, bo.ELL) else (conn.n_syn,)
    delays = jax.random.randint(jax.random.fold_in(key, 1), shape, 0, n_slots, jnp.int32)
    spikes = _spike_train(key, n_steps, conn.n_pre, p)

    def run(s, c, d):
        def body(carry, inp):
            ring, acc = carry
            t, ev = inp
            ring = bo.event_scatter_delayed(ev, c, d, ring, t, backend=backend)
            ring, now = bo.ring_pop(ring, t, backend=backend)
            return (ring, acc + now), None

        init = (jnp.zeros((n_slots, c.n_post), c.weights.dtype), jnp.zeros(c.n_post))
        ts = jnp.arange(s.shape[0], dtype=jnp.int32)
        (_, acc), _ = jax.lax.scan(body, init, (ts, s))
        return acc

    t0 = time.perf_counter()
    compiled = jax.jit(run).lower(spikes, conn, delays).compile()
    compile_s = time.perf_counter() - t0
    compiled(spikes, conn, delays).block_until_ready()  # warm-up
    t0 = time.perf_counter()
    compiled(spikes, conn, delays).block_until_ready()
    run_s = time.perf_counter() - t0
    return dict(
        op="event_scatter_delayed", backend=backend, n_pre=conn.n_pre, n_post=conn.n_post,
        k=k, p_spike=p, max_delay_steps=max_delay, us_per_call=1e6 * run_s / n_steps,
        compile_s=round(compile_s, 4), run_s=round(run_s, 4), n_steps=n_steps,
        active_synapses_per_step=round(float(jnp.mean(jnp.sum(spikes, 1))) * k, 1),
    )


def _brainpy_op(conn):
    try:
        import brainpy.math as bm  # noqa: F401
        from brainpy.math import event as bm_event
    except ImportError:
        return None
    indices = np.asarray(conn.indices)
    indptr = np.asarray(conn.indptr)
    w = float(conn.weights) if conn.weights.ndim == 0 else np.asarray(conn.weights)

    def fn(ev, _):
        return bm_event.csrmv(w, indices, indptr, ev, shape=(conn.n_pre, conn.n_post),
                              transpose=True)

    return fn


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (fewer steps)")
    args = parser.parse_args()
    n_steps = 1000 if args.quick else 10_000
    key = jax.random.key(0)
    k = 80
    conn = bo.fixed_out_degree(jax.random.key(1), 3200, 4000, k, weight=0.5)
    for p in (0.0, 0.002, 0.02):
        for backend in ("native", "jax", "brainpy"):
            if backend == "native" and not bo.native_available():
                continue
            steps = n_steps
            try:
                row = measure(conn, k, p, steps, backend, key)
            except Exception:  # noqa: BLE001 - a peer library failing must not stop the bench
                row = None
            if row is not None:
                print(json.dumps(row), flush=True)
    # Per-synapse delays (uniform in 0..20 steps) into a ring buffer, same connectivity.
    for p in (0.002, 0.02):
        for backend in ("native", "jax"):
            if backend == "native" and not bo.native_available():
                continue
            print(json.dumps(measure_delayed(conn, k, p, n_steps, backend, key)), flush=True)
    # Large network: time must follow active synapses, not matrix size.
    if bo.native_available():
        n = 400_000
        big = bo.fixed_out_degree(jax.random.key(2), n, n, k, weight=0.5)
        steps = 200 if args.quick else 1000
        print(json.dumps(measure(big, k, 0.002, steps, "native", key)), flush=True)
    print(json.dumps(dict(op="scan_overhead", backend="none", n_pre=3200, n_post=4000, k=0,
                          p_spike=0.0, us_per_call=1e6 * _baseline(
                              _spike_train(key, n_steps, 3200, 0.0), 4000) / n_steps,
                          compile_s=0.0, run_s=0.0)), flush=True)


if __name__ == "__main__":
    main()
