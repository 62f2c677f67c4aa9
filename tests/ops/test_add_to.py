"""Event products onto a scaled base: `add_to`, `add_scale` (`scale * y0 + x @ W`)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ops_cases import event_patterns, structures

import brainsim_ops as bo

STRUCTS = structures()
NAMES = [n for n, _ in STRUCTS]
TOL = dict(rtol=1e-5, atol=1e-5)


def _base(n, key=0):
    return jnp.asarray(np.random.default_rng(key).normal(size=n), jnp.float32)


@pytest.mark.parametrize("name, conn", STRUCTS, ids=NAMES)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("backend", ["native", "jax"])
def test_equals_scaled_base_plus_product(name, conn, transpose, backend):
    n_in, n_out = (conn.n_post, conn.n_pre) if transpose else (conn.n_pre, conn.n_post)
    ev = event_patterns(n_in, key=3)["random"]
    y0 = _base(n_out)
    product = bo.event_matvec(ev, conn, transpose=transpose, backend="jax")
    for scale in (None, 0.25, jnp.linspace(0.0, 1.0, n_out)):
        got = jax.jit(
            lambda e, y0, scale=scale: bo.event_matvec(
                e, conn, transpose=transpose, add_to=y0, add_scale=scale, backend=backend
            )
        )(ev, y0)
        want = (1.0 if scale is None else scale) * y0 + product
        np.testing.assert_allclose(got, want, **TOL)
    graded = jnp.asarray(ev, jnp.float32) * 0.5
    np.testing.assert_allclose(
        bo.matvec(graded, conn, transpose=transpose, add_to=y0, add_scale=2.0, backend=backend),
        2.0 * y0 + bo.matvec(graded, conn, transpose=transpose, backend="jax"),
        **TOL,
    )


@pytest.mark.parametrize("backend", ["native", "jax"])
def test_matmat_with_shared_and_per_entry_bases(backend):
    conn = STRUCTS[0][1]
    events = jnp.asarray(np.random.default_rng(1).random((4, conn.n_pre)) < 0.3)
    product = bo.event_matmat(events, conn, backend="jax")
    shared, each = _base(conn.n_post), jnp.stack([_base(conn.n_post, k) for k in range(4)])
    got = bo.event_matmat(events, conn, add_to=shared, add_scale=0.5, backend=backend)
    np.testing.assert_allclose(got, 0.5 * shared + product, **TOL)
    got = bo.event_matmat(events, conn, add_to=each, backend=backend)
    np.testing.assert_allclose(got, each + product, **TOL)


@pytest.mark.parametrize("backend", ["native", "jax"])
def test_vmap_equals_a_loop(backend):
    conn = STRUCTS[0][1]
    events = jnp.asarray(np.random.default_rng(2).random((3, conn.n_pre)) < 0.3)
    bases = jnp.stack([_base(conn.n_post, k) for k in range(3)])
    scales = jnp.array([0.1, 0.5, 0.9])

    def f(e, y0, s):
        return bo.event_matvec(e, conn, add_to=y0, add_scale=s, backend=backend)

    loop = jnp.stack([f(e, y0, s) for e, y0, s in zip(events, bases, scales, strict=True)])
    np.testing.assert_allclose(jax.vmap(f)(events, bases, scales), loop, **TOL)
    np.testing.assert_allclose(
        jax.vmap(f, in_axes=(0, None, None))(events, bases[0], scales[0]),
        jnp.stack([f(e, bases[0], scales[0]) for e in events]),
        **TOL,
    )


@pytest.mark.parametrize("backend", ["native", "jax"])
def test_gradients_match_finite_differences(backend, finite_differences, x64):
    conn = bo.fixed_prob(jax.random.key(4), 12, 9, 0.4, weight=0.3, per_synapse=True)
    conn = conn.with_weights(conn.weights.astype(jnp.float64))
    ev = jnp.asarray(np.random.default_rng(5).random(12) < 0.5, jnp.float64)
    y0 = jnp.linspace(-1.0, 1.0, 9)
    scale = jnp.linspace(0.2, 0.9, 9)

    def loss(y0, scale, w, ev):
        y = bo.event_matvec(
            ev, conn.with_weights(w), add_to=y0, add_scale=scale, backend=backend
        )
        return jnp.sum(jnp.sin(y) * jnp.arange(1.0, 10.0))

    args = (y0, scale, conn.weights, ev)
    grads = jax.grad(loss, argnums=(0, 1, 2, 3))(*args)
    for i, g in enumerate(grads):
        def along(x, i=i):
            return loss(*args[:i], x, *args[i + 1 :])

        np.testing.assert_allclose(g, finite_differences(along, args[i]), rtol=1e-6, atol=1e-8)
    # Forward mode through the base alone (the product's tangent is a symbolic zero).
    _, tangent = jax.jvp(lambda y0: loss(y0, *args[1:]), (y0,), (jnp.ones(9),))
    np.testing.assert_allclose(tangent, grads[0].sum(), rtol=1e-10)


def test_a_carried_conductance_is_updated_in_place():
    """In a scan, `g` read by a fusion (the neurons) then decayed and incremented by the kernel
    stays in the loop's buffer: no copy of it per step once `materialize(g, after=...)` orders
    the two."""
    conn = bo.fixed_prob(jax.random.key(0), 500, 500, 0.05, weight=0.1)

    def step(carry, _):
        v, g = carry
        v = bo.materialize(v + 0.1 * (g * (0.0 - v) - v))
        spikes = v > 0.5
        v = jnp.where(spikes, 0.0, v)
        g = bo.materialize(g, after=v)
        return (v, bo.event_matvec(spikes, conn, add_to=g, add_scale=0.9)), None

    v0, g0 = jnp.linspace(0.0, 0.6, 500), jnp.zeros(500)
    hlo = jax.jit(lambda v, g: jax.lax.scan(step, (v, g), None, length=5)[0]).lower(
        v0, g0
    ).compile().as_text()
    name = re.search(r"body=(%[\w.]+)", hlo).group(1)
    body = hlo[hlo.index(f"\n{name} (") :]
    body = body[: body.index("\n}\n")]
    assert "brainsim_ops_scatter_add" in body and "brainsim_ops_materialize_after" in body
    assert "f32[500]{0} copy(" not in body, body
    (v, g) = jax.jit(lambda v, g: jax.lax.scan(step, (v, g), None, length=5)[0])(v0, g0)
    with bo.use_backend("jax"):
        (v_ref, g_ref) = jax.lax.scan(step, (v0, g0), None, length=5)[0]
    np.testing.assert_allclose(g, g_ref, **TOL)
    np.testing.assert_allclose(v, v_ref, **TOL)


def test_bad_arguments_are_refused():
    conn = STRUCTS[0][1]
    ev = jnp.zeros(conn.n_pre, bool)
    with pytest.raises(ValueError, match="`add_scale` scales `add_to`"):
        bo.event_matvec(ev, conn, add_scale=0.5)
    with pytest.raises(ValueError, match="`add_to` must have shape"):
        bo.event_matvec(ev, conn, add_to=jnp.zeros(conn.n_post + 1))
    with pytest.raises(ValueError, match="`add_scale` must be a scalar or of shape"):
        bo.event_matvec(ev, conn, add_to=jnp.zeros(conn.n_post), add_scale=jnp.ones(2))
    with pytest.raises(TypeError, match="`add_to` must be floating point"):
        bo.event_matvec(ev, conn, add_to=jnp.zeros(conn.n_post, jnp.int32))
    with pytest.raises(ValueError, match="`add_to` must have shape"):
        bo.event_matmat(ev[None], conn, add_to=jnp.zeros((2, conn.n_post)))


@pytest.mark.parametrize("backend", ["native", "jax"])
def test_binary_events_give_the_same_products_and_gradients(backend):
    conn = bo.fixed_prob(jax.random.key(6), 40, 25, 0.3, weight=0.2, per_synapse=True)
    spikes = jnp.asarray(np.random.default_rng(7).random(40) < 0.3, jnp.float32)
    y0 = _base(25)

    def loss(s, w, binary):
        c = conn.with_weights(w)
        y = bo.event_matvec(s, c, add_to=y0, add_scale=0.5, binary=binary, backend=backend)
        return jnp.sum(jnp.sin(y)) + jnp.sum(bo.event_matvec(s, c, binary=binary) ** 2)

    for argnum in (0, 1):
        np.testing.assert_allclose(
            jax.grad(loss, argnums=argnum)(spikes, conn.weights, True),
            jax.grad(loss, argnums=argnum)(spikes, conn.weights, False), **TOL,
        )
    batch = jnp.stack([spikes, 1.0 - spikes])
    np.testing.assert_allclose(
        bo.event_matmat(batch, conn, binary=True, backend=backend),
        bo.event_matmat(batch, conn, backend="jax"), **TOL,
    )
    np.testing.assert_allclose(
        jax.vmap(lambda s: bo.event_matvec(s, conn, binary=True, backend=backend))(batch),
        bo.event_matmat(batch, conn, backend="jax"), **TOL,
    )


def test_binary_events_reach_the_kernel_as_bytes():
    conn = bo.fixed_prob(jax.random.key(6), 40, 25, 0.3, weight=0.2)
    spikes = jnp.zeros(40, jnp.float32)

    def kernel_operands(binary):
        hlo = jax.jit(lambda s: bo.event_matvec(s, conn, binary=binary)).lower(
            spikes
        ).compile().as_text()
        call = next(line for line in hlo.splitlines() if "brainsim_ops_scatter" in line)
        return call

    assert "pred[1,40]" in kernel_operands(True)
    assert "f32[1,40]" in kernel_operands(False)
