import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.fit import spike_count_loss, trace_mse, weighted_sum


def test_weighted_sum_adds_weighted_terms_and_reports_each_part():
    v_data, times = jnp.full((50, 2), -70.0), jnp.array([[5.0], [jnp.inf]])
    total = weighted_sum(
        trace=(0.5, lambda v, s: trace_mse(v, v_data, dt=1.0)),
        count=(2.0, functools.partial(lambda v, s: spike_count_loss(s, times, dt=1.0))),
    )
    v, s = jnp.full((50, 2), -67.0), jnp.zeros((50, 2)).at[3, 1].set(1.0)
    parts = total.parts(v, s)
    assert float(parts["trace"]) == 9.0 and float(parts["count"]) == 1.0
    assert float(total(v, s)) == pytest.approx(0.5 * 9.0 + 2.0 * 1.0)
    assert float(jax.jit(total)(v, s)) == pytest.approx(float(total(v, s)))
    grad = jax.grad(total)(v, s)
    np.testing.assert_allclose(grad, 0.5 * 2 * 3.0 / 100, rtol=1e-6)


def test_bad_terms_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        weighted_sum()
    with pytest.raises(ValueError, match="weight of `a`"):
        weighted_sum(a=(-1.0, jnp.sum))
    with pytest.raises(TypeError, match="callable"):
        weighted_sum(a=(1.0, 3.0))
