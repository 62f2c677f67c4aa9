"""`materialize`: an identity for values, gradients and vmap, that XLA does not fuse through."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim_ops as bo


def _optimized(f, *args):
    return jax.jit(f).lower(*args).compile().as_text()


@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 3, 4)])
@pytest.mark.parametrize("backend", ["native", "jax"])
def test_values_are_unchanged(shape, backend):
    x = jnp.asarray(np.random.default_rng(0).normal(size=shape), jnp.float32)
    y = jax.jit(lambda x: bo.materialize(jnp.exp(x) + 1.0, backend=backend) * 2.0)(x)
    np.testing.assert_array_equal(y, jax.jit(lambda x: (jnp.exp(x) + 1.0) * 2.0)(x))
    assert y.shape == shape and y.dtype == jnp.float32


def test_float64_and_other_dtypes():
    with jax.enable_x64(True):
        x = jnp.linspace(0.0, 1.0, 5)
        np.testing.assert_array_equal(jax.jit(bo.materialize)(x * 3.0), x * 3.0)
        assert jax.jit(bo.materialize)(x).dtype == jnp.float64
    ints = jnp.arange(4)
    assert bo.materialize(ints) is not None
    np.testing.assert_array_equal(jax.jit(bo.materialize)(ints), ints)
    np.testing.assert_array_equal(bo.materialize(jnp.zeros((0, 3))), jnp.zeros((0, 3)))


def test_gradient_is_the_identity(finite_differences, x64):
    def loss(x):
        return jnp.sum(bo.materialize(jnp.sin(x) * x) ** 2)

    x = jnp.linspace(-1.0, 2.0, 6)
    grad = jax.grad(loss)(x)
    np.testing.assert_allclose(grad, finite_differences(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        jax.jacfwd(lambda x: bo.materialize(x * 2.0))(x), 2.0 * np.eye(6), atol=0
    )


def test_vmap_equals_a_loop():
    xs = jnp.asarray(np.random.default_rng(1).normal(size=(3, 4, 5)), jnp.float32)

    def f(x):
        return bo.materialize(x * x - 1.0).sum(0)

    batched = jax.jit(jax.vmap(f))(xs)
    # The loop runs eagerly: its sums may round differently from the compiled batch.
    np.testing.assert_allclose(batched, jnp.stack([f(x) for x in xs]), rtol=1e-6, atol=1e-6)
    nested = jax.vmap(jax.vmap(lambda x: bo.materialize(x + 1.0)))(xs)
    np.testing.assert_array_equal(nested, xs + 1.0)


def _fusions_reading_every_input(hlo: str) -> int:
    """Fusions of the entry computation whose operands are the three parameters a, b, c."""
    entry = hlo[hlo.index("ENTRY") :]
    count = 0
    for line in entry.splitlines():
        if " fusion(" in line:
            operands = line.split(" fusion(", 1)[1].split(")", 1)[0]
            if all(re.search(rf"%{name}\.[0-9]+\b", operands) for name in "abc"):
                count += 1
    return count


def test_the_expression_is_computed_once_for_its_consumers():
    """Without `materialize` XLA recomputes `a * b + c` in each of the three output fusions;
    with it, one fusion reads the three inputs and the consumers read its result."""

    def consumers(e):
        return jnp.where(e > 0, e, 0.0), e * 2.0, (e > 1.0).astype(jnp.float32)

    a, b, c = (jnp.full(1000, v, jnp.float32) for v in (1.0, 2.0, 3.0))
    fused = _optimized(lambda a, b, c: consumers(a * b + c), a, b, c)
    kept = _optimized(lambda a, b, c: consumers(bo.materialize(a * b + c)), a, b, c)
    assert _fusions_reading_every_input(fused) == 3, fused
    assert _fusions_reading_every_input(kept) == 1, kept
    assert "brainsim_ops_materialize" in kept
    # An aliased custom call: no copy of the materialised value.
    assert "copy(" not in kept[kept.index("ENTRY") :]
    with bo.use_backend("jax"):
        plain = _optimized(lambda a, b, c: consumers(bo.materialize(a * b + c)), a, b, c)
    assert "custom-call" not in plain


def test_bad_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        bo.materialize(jnp.ones(3), backend="gpu")
