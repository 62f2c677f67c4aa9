"""Inhibitory STDP (Vogels & Sprekeler 2011): window, and the postsynaptic rate reaches rho0."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from plasticity_cases import KINDS, full, run, trains

import brainsim_ops as bo
from brainsim.neurons import LIF, Drive, PoissonSource
from brainsim.plasticity import InhibitorySTDP

DT = 0.5
N_EXC, N_INH = 400, 100


@pytest.mark.parametrize("kind", KINDS)
def test_window_is_symmetric_with_a_depression_offset_per_presynaptic_spike(x64, kind):
    rule = InhibitorySTDP(eta=0.01, rho0=5.0, tau=20.0, w_min=-jnp.inf)
    alpha = 2 * 5.0e-3 * 20.0
    conn = full(kind, 1, 1, 1.0)
    n = 201
    for first, second in ((0, 200), (200, 0)):        # pre 10 ms before post, and after
        w, _ = run(rule, conn, trains(n, 1, {0: [first]}), trains(n, 1, {0: [second]}), dt=0.05)
        assert float(w.reshape(-1)[0] - 1.0) == pytest.approx(0.01 * (np.exp(-0.5) - alpha),
                                                               rel=1e-12)
    w, _ = run(rule, conn, trains(n, 1, {0: [5]}), trains(n, 1, {}), dt=0.05)
    assert float(w.reshape(-1)[0] - 1.0) == pytest.approx(-0.01 * alpha, rel=1e-12)


def _simulate(rho0, seconds=40.0, eta=0.01):
    """One LIF neuron, 400 excitatory Poisson inputs (10 Hz, fixed) and 100 plastic inhibitory
    ones (10 Hz): returns the spike train of the neuron and the inhibitory weights (nS)."""
    lif = LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, R=0.1)
    exc, inh = PoissonSource(rate=10.0), PoissonSource(rate=10.0)
    conn = bo.Dense(jnp.full((N_INH, 1), 0.05))
    rule = InhibitorySTDP(eta=eta, rho0=rho0, tau=20.0)
    key_e, key_i = jax.random.split(jax.random.key(0))

    def step(carry, t):
        neuron, source_e, source_i, g_e, g_i, w, traces = carry
        source_e, s_e = exc.step(source_e, t=t, dt=DT)
        source_i, s_i = inh.step(source_i, t=t, dt=DT)
        g_e = g_e * jnp.exp(-DT / 5.0) + 0.15 * s_e.sum()          # nS, E_e = 0 mV
        g_i = g_i * jnp.exp(-DT / 10.0) + bo.event_matvec(s_i, conn.with_weights(w))
        neuron, spike = lif.step(neuron, Drive(g=g_e + g_i, g_E=-80.0 * g_i), t=t, dt=DT)
        w, traces = rule.update(traces, w, s_i, spike, dt=DT, conn=conn)
        return (neuron, source_e, source_i, g_e, g_i, w, traces), spike[0]

    carry = (lif.init(1), exc.init(N_EXC, key=key_e), inh.init(N_INH, key=key_i), 0.0,
             jnp.zeros(1), conn.weights, rule.init(conn))
    times = jnp.arange(int(seconds * 1000 / DT)) * DT
    (*_, w, _), spikes = jax.lax.scan(step, carry, times)
    return spikes, w


def test_inhibitory_plasticity_brings_the_postsynaptic_rate_to_rho0():
    """From ~38 Hz without plasticity, rho0 = 5 and 15 Hz (vmapped) are reached within 20 %
    over the last 20 s of 40 s (about 100 and 300 spikes: Poisson error ~10 % and ~6 %)."""
    spikes, w = jax.jit(jax.vmap(_simulate))(jnp.array([5.0, 15.0]))
    spikes = np.asarray(spikes)
    initial = spikes[:, : int(1000 / DT)].sum(axis=1)          # first second, in Hz
    late = spikes[:, int(20_000 / DT):].sum(axis=1) / 20.0
    assert np.all(initial > 25.0)
    np.testing.assert_allclose(late, [5.0, 15.0], rtol=0.2)
    assert float(w[0].mean()) > float(w[1].mean())            # lower target, more inhibition


def test_alpha_is_twice_rho0_tau():
    assert float(InhibitorySTDP(rho0=5.0, tau=20.0).alpha) == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tau": 0.0}, "tau"),
        ({"rho0": -1.0}, "rho0"),
        ({"eta": -1e-3}, "eta"),
        ({"w_min": 1.0, "w_max": 0.0}, "w_min"),
    ],
)
def test_bad_constants_fail_at_construction_naming_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InhibitorySTDP(**kwargs)


def test_bad_spikes_fail_naming_the_argument():
    conn = bo.Dense(jnp.ones((3, 2)))
    rule = InhibitorySTDP()
    with pytest.raises(ValueError, match="pre_spikes"):
        rule.update(rule.init(conn), conn.weights, jnp.zeros(2), jnp.zeros(2), dt=DT, conn=conn)
