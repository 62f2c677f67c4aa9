"""Spikes delivered as bytes where they are 0/1, as floats where a source emits counts."""

import jax
import jax.numpy as jnp
import numpy as np

import brainsim as bs
import brainsim_ops as bo
from brainsim.synapses import Current, Exponential

DT = 0.1


def test_which_models_emit_binary_spikes():
    assert bs.neurons.LIF().binary_spikes
    assert bs.neurons.PoissonSource(rate=10.0).binary_spikes
    assert not bs.neurons.PoissonSource(rate=10.0, counts=True).binary_spikes


def test_counts_are_delivered_with_their_values():
    """A counting source at 20 kHz emits up to several events a step: each step's arrivals are
    the weighted counts, not the number of active sources."""
    conn = bo.fixed_prob(jax.random.key(0), 50, 20, 0.5, weight=1.0)
    source = bs.neurons.PoissonSource(rate=20_000.0, counts=True)
    quiet = bs.neurons.LIF(v_th=1e6)
    proj = bs.Projection("pre", "post", conn, Exponential(tau=1e9), Current())
    net = bs.Network({"pre": (source, 50), "post": (quiet, 20)}, [proj])
    state = net.init(jax.random.key(1))
    state, spikes = jax.jit(lambda s: net.step(s, t=0.0, dt=DT))(state)
    counts = spikes["pre"]
    assert float(counts.max()) > 1.0  # several events in a step
    g = state["synapses"]["pre->post"].kinetics.g
    np.testing.assert_allclose(g, bo.event_matvec(counts, conn, backend="jax"), rtol=1e-5)


def test_lif_spikes_reach_the_kernel_as_bytes():
    net, inputs = bs.benchmarks.coba(jax.random.key(0), n=400)
    state = net.init(jax.random.key(1))
    hlo = jax.jit(lambda s: net.step(s, inputs, t=0.0, dt=DT)).lower(state).compile().as_text()
    target = "custom_call_target=\"brainsim_ops_scatter"
    calls = [line for line in hlo.splitlines() if target in line]
    assert len(calls) == 4
    assert all("pred[1," in line for line in calls), calls
    grad = jax.grad(lambda w: jnp.sum(net.step(state, {"E": w, "I": 20.0}, t=0.0, dt=DT)[0]["E"].v))
    assert np.isfinite(float(grad(20.0)))
