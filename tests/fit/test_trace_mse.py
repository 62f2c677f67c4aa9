import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.fit import trace_mse


def _loop_mse(v, d, dt, t_start, weights, spikes, window):
    """Plain-Python reference: weighted mean over the kept samples."""
    num = den = 0.0
    for i in range(v.shape[0]):
        t = i * dt
        for b in range(v.shape[1]):
            near = any(s - window[0] <= t < s + window[1] for s in spikes[b])
            if t >= t_start and not near:
                num += weights[i, b] * (v[i, b] - d[i, b]) ** 2
                den += weights[i, b]
    return num / den


@pytest.fixture
def traces():
    rng = np.random.default_rng(0)
    return rng.normal(-65, 3, (40, 2)), rng.normal(-65, 3, (40, 2)), rng.random((40, 2))


def test_trace_mse_matches_a_loop_over_kept_samples(x64, traces):
    v, d, w = traces
    spikes = np.array([[5.0, 12.0, np.inf], [30.0, np.inf, np.inf]])
    value = trace_mse(v, d, dt=0.5, t_start=2.0, weights=w, spike_times=spikes,
                      spike_window=(1.0, 2.0))
    expected = _loop_mse(v, d, 0.5, 2.0, w, spikes, (1.0, 2.0))
    assert float(value) == pytest.approx(expected, rel=1e-12)


def test_constant_offset_gives_its_square(x64):
    v = jnp.full((100, 3), -60.0)
    assert float(trace_mse(v, v - 2.0, dt=0.1)) == pytest.approx(4.0, rel=1e-12)


def test_gradient_matches_finite_differences(x64, traces, finite_differences):
    v, d, w = traces

    @jax.jit
    def f(v):
        return trace_mse(jnp.asarray(v), d, dt=0.5, t_start=3.0, weights=w,
                         spike_times=np.array([[7.0], [15.0]]))

    np.testing.assert_allclose(jax.grad(f)(jnp.asarray(v)), finite_differences(f, v), atol=1e-7)


def test_jit_equals_eager_and_vmap_equals_loop(traces):
    v, d, _ = traces
    v, d = jnp.asarray(v, jnp.float32), jnp.asarray(d, jnp.float32)
    spikes = jnp.array([[5.0], [30.0]])

    def f(v, d, s):
        return trace_mse(v, d, dt=0.5, t_start=1.0, spike_times=s)

    eager, jitted = f(v, d, spikes), jax.jit(f)
    assert float(jitted(v, d, spikes)) == pytest.approx(float(eager), rel=1e-6)
    mapped = jax.jit(jax.vmap(f, in_axes=(1, 1, 0)))(v, d, spikes)
    looped = [jitted(v[:, b], d[:, b], spikes[b]) for b in range(2)]
    np.testing.assert_allclose(mapped, looped, rtol=1e-6)


def test_bad_inputs_are_refused(traces):
    v, d, _ = traces
    with pytest.raises(ValueError, match="same shape"):
        trace_mse(v, d[:-1], dt=0.5)
    with pytest.raises(ValueError, match="NaN"):
        trace_mse(v, np.where(np.arange(40)[:, None] == 3, np.nan, d), dt=0.5)
    with pytest.raises(ValueError, match="no sample"):
        trace_mse(v, d, dt=0.5, t_start=100.0)
    with pytest.raises(ValueError, match=">= 0"):
        trace_mse(v, d, dt=0.5, weights=-np.ones((40, 1)))
    with pytest.raises(ValueError, match="broadcast"):
        trace_mse(v, d, dt=0.5, weights=np.ones(7))
    with pytest.raises(ValueError, match="spike_times"):
        trace_mse(v, d, dt=0.5, spike_times=np.zeros((3, 1)))
