import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.train import LeakyReadout


def test_readout_charges_to_r_times_current_exactly(x64):
    readout = LeakyReadout(tau_m=jnp.array([5.0, 20.0]), R=0.1)
    result = bs.run(readout, readout.init(2), inputs=300.0, steps=40, dt=0.5, record="v")
    t = np.arange(1, 41) * 0.5
    expected = 0.1 * 300.0 * (1 - np.exp(-t[:, None] / np.array([5.0, 20.0])))
    np.testing.assert_allclose(result.traces["v"], expected, rtol=1e-12)


def test_readout_output_is_its_potential():
    readout = LeakyReadout()
    state, out = readout.step(readout.init(3), jnp.array([1.0, 2.0, 3.0]), t=0.0, dt=1.0)
    np.testing.assert_array_equal(out, state.v)


def test_readout_gradient_matches_finite_differences(x64, finite_differences):
    currents = jnp.sin(jnp.arange(30.0))[:, None] * 100.0 + 50.0

    def loss(params):
        tau_m, r = params
        readout = LeakyReadout(tau_m=tau_m, R=r)
        result = bs.run(
            readout, readout.init(1), input_series=currents, steps=30, dt=1.0, record="v"
        )
        return jnp.sum(result.traces["v"] ** 2)

    params = jnp.array([8.0, 0.2])
    np.testing.assert_allclose(jax.grad(loss)(params), finite_differences(loss, params), rtol=1e-6)


def test_readout_under_jit_and_vmap_equals_loop():
    readout = LeakyReadout(tau_m=10.0)
    taus = jnp.array([5.0, 10.0, 40.0])

    @jax.jit
    def final_v(tau):
        model = LeakyReadout(tau_m=tau)
        return bs.run(model, model.init(1), inputs=100.0, steps=20, dt=1.0).final_state.v[0]

    looped = jnp.stack([final_v(tau) for tau in taus])
    np.testing.assert_allclose(jax.vmap(final_v)(taus), looped, rtol=1e-6)
    assert readout.init(4).v.shape == (4,)


def test_readout_bad_input_is_named():
    with pytest.raises(ValueError, match="`tau_m`"):
        LeakyReadout(tau_m=-1.0)
    with pytest.raises(ValueError, match="`R`"):
        LeakyReadout(R=0.0)
    with pytest.raises(ValueError, match="`tau_m`"):
        LeakyReadout(tau_m=jnp.ones(3)).init(4)
    with pytest.raises(ValueError, match="`n`"):
        LeakyReadout().init(0)
