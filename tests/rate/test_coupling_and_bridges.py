"""Rate couplings (delays, weights, checks), the rate <-> spike bridges, and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim import rate


def test_delayed_coupling_delivers_exactly_d_steps_later(x64):
    # a source whose rate rises every step; the target (lam = 0, linear gain) integrates
    # h dt / tau, so its increments reveal the input h of every step
    source = rate.InputNoiseRate(lam=0.0, tau=1.0, mu=1.0, history=7)
    target = rate.InputNoiseRate(lam=0.0, tau=1.0)
    net = bs.Network({"S": (source, 2), "T": (target, 2)},
                     couplings=[rate.RateCoupling("S", "T", jnp.array([1.0, 2.0]), delay=0.7,
                                                  dt=0.1)])
    result = bs.run(net, net.init(), steps=20, dt=0.1, record=["S.rate", "T.rate"])
    s = np.concatenate([np.zeros((1, 2)), np.asarray(result["S.rate"])])
    increments = np.diff(np.concatenate([np.zeros((1, 2)), np.asarray(result["T.rate"])]), axis=0)
    expected = np.zeros((20, 2))
    expected[7:] = 0.1 * s[:13] * np.array([1.0, 2.0])  # step k sees S at step k - 7
    np.testing.assert_allclose(increments, expected, atol=1e-12)


def test_matrix_weights_sum_over_sources():
    source = rate.InputNoiseRate(mu=1.0)
    w = jnp.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    coupling = rate.RateCoupling("S", "T", w)
    state = {"S": source.init(3)._replace(output=jnp.array([1.0, 2.0, 3.0]))}
    np.testing.assert_allclose(coupling.drive(state), [-2.0, 3.0])


def test_rate_to_spikes_fires_at_scale_times_rate():
    unit = rate.InputNoiseRate(tau=1.0, mu=2.0)
    net = bs.Network({"R": (unit, 500), "P": (bs.neurons.PoissonSource(), 500)},
                     couplings=[rate.RateToSpikes("R", "P", scale=10.0, offset=5.0)])
    result = bs.run(net, net.init(jax.random.key(0)), duration=1000.0, dt=0.1,
                    record=["P.spikes"])
    late = np.asarray(result["P.spikes"].times) > 20.0  # R has settled (20 tau) at X = 2
    rate_hz = late.sum() / 500 / 0.98
    # 500 units x 0.98 s at 25 Hz: ~12250 spikes, Poisson standard error 0.9 %; tolerance 4 %
    assert abs(rate_hz - 25.0) < 1.0, rate_hz


def test_spike_to_rate_reads_out_the_firing_rate():
    unit = rate.InputNoiseRate(tau=0.5)  # follows its input h within ~1 ms: X ~ h
    net = bs.Network({"P": (bs.neurons.PoissonSource(rate=40.0), 200), "R": (unit, 200)},
                     [rate.spike_to_rate("P", "R", 200, tau=20.0)])
    result = bs.run(net, net.init(jax.random.key(1)), duration=600.0, dt=0.1,
                    record=["R.rate"], every=10)
    x = np.asarray(result["R.rate"])[100:]  # after 100 ms = 5 filter time constants
    # 200 units x 500 ms at 40 Hz: 4000 spikes, mean known to ~1.6 %; tolerance 6 %
    assert abs(x.mean() - 40.0) < 2.4, x.mean()


def test_hybrid_network_runs_both_ways_under_jit_and_grad(x64):
    def final_rate(scale):
        net = bs.Network(
            {"R": (rate.InputNoiseRate(tau=5.0, mu=2.0), 20),
             "P": (bs.neurons.PoissonSource(), 20),
             "E": (bs.neurons.LIF(tau_m=10.0), 20),
             "F": (rate.InputNoiseRate(tau=5.0), 20)},
            [bs.Projection("P", "E", bo.one_to_one(20, 300.0), output=bs.synapses.Current()),
             rate.spike_to_rate("E", "F", 20, tau=10.0)],
            couplings=[rate.RateToSpikes("R", "P", scale=scale)])
        result = bs.run(net, net.init(jax.random.key(2)), duration=100.0, dt=0.1,
                        record=["R.rate"], stream=False)
        return jnp.sum(result["R.rate"][-1]) * scale

    value = jax.jit(final_rate)(20.0)
    assert np.isfinite(value) and value > 0
    assert np.isfinite(jax.jit(jax.grad(final_rate))(20.0))


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: rate.InputNoiseRate(tau=-1.0), ValueError, "tau"),
        (lambda: rate.InputNoiseRate(sigma=-0.1), ValueError, "sigma"),
        (lambda: rate.InputNoiseRate(lam=-1.0), ValueError, "lam"),
        (lambda: rate.InputNoiseRate(gain=np.tanh), TypeError, "gain"),
        (lambda: rate.OutputNoiseRate(history=1.5), ValueError, "history"),
        (lambda: rate.ThresholdLinear(alpha=0.0), ValueError, "alpha"),
        (lambda: rate.Tanh(g=0.0), ValueError, "`g`"),
        (lambda: rate.Sigmoid(beta=-1.0), ValueError, "beta"),
        (lambda: rate.RateCoupling("A", "B", np.ones((2, 2, 2))), ValueError, "weights"),
        (lambda: rate.RateCoupling("A", "B", delay=0.25, dt=0.1), ValueError, "delay"),
        (lambda: rate.RateCoupling("A", "B", delay=1.0), ValueError, "dt"),
        (lambda: rate.RateCoupling("A", "B", gain="tanh"), TypeError, "gain"),
        (lambda: rate.spike_to_rate("A", "B", 3, tau=0.0), ValueError, "tau"),
    ],
)
def test_bad_parameters_are_refused_with_the_argument_named(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_inputs_and_networks_are_refused():
    unit = rate.InputNoiseRate()
    with pytest.raises(ValueError, match="key"):
        rate.OutputNoiseRate(sigma=0.5).init(3)
    with pytest.raises(ValueError, match="inputs"):
        unit.step(unit.init(3), jnp.ones(4), t=0.0, dt=0.1)
    with pytest.raises(TypeError, match="conductance"):
        unit.step(unit.init(3), bs.neurons.Drive(g=jnp.ones(3)), t=0.0, dt=0.1)
    with pytest.raises(ValueError, match="history=10"):
        bs.Network({"A": (unit, 2), "B": (unit, 2)},
                   couplings=[rate.RateCoupling("A", "B", delay=1.0, dt=0.1)])
    with pytest.raises(ValueError, match=r"\(n_target, n_source\) = \(2, 3\)"):
        bs.Network({"A": (unit, 3), "B": (unit, 2)},
                   couplings=[rate.RateCoupling("A", "B", jnp.ones((3, 2)))])
    with pytest.raises(ValueError, match="one-to-one"):
        bs.Network({"A": (unit, 3), "B": (unit, 2)}, couplings=[rate.RateCoupling("A", "B")])
    with pytest.raises(TypeError, match="not a brainsim.rate population"):
        bs.Network({"A": (bs.neurons.LIF(), 2), "B": (unit, 2)},
                   couplings=[rate.RateCoupling("A", "B")])
    with pytest.raises(TypeError, match="PoissonSource"):
        bs.Network({"A": (unit, 2), "B": (unit, 2)}, couplings=[rate.RateToSpikes("A", "B")])


def test_sparse_connectivity_equals_its_dense_matrix_and_has_gradients(x64, finite_differences):
    conn = bo.fixed_in_degree(jax.random.key(3), 30, 20, 5, weight=0.3)
    unit = rate.InputNoiseRate(tau=5.0, mu=1.0, gain=rate.Tanh(), history=5)

    def final(weights):
        net = bs.Network({"A": (unit, 30), "B": (unit, 20)},
                         couplings=[rate.RateCoupling("A", "B", weights, delay=0.5, dt=0.1)])
        return bs.run(net, net.init(), duration=5.0, dt=0.1, record=["B.rate"],
                      stream=False)["B.rate"][-1]

    dense = conn.todense().T  # (n_target, n_source)
    np.testing.assert_allclose(final(conn), final(dense), rtol=1e-12)

    @jax.jit
    def total(scale):
        return jnp.sum(final(conn.with_weights(conn.weights * scale)))

    fd = finite_differences(total, np.array(1.0))
    # x64 central differences (eps 1e-6)
    np.testing.assert_allclose(jax.grad(total)(1.0), fd, rtol=1e-6)
    with pytest.raises(ValueError, match="30 -> 20"):
        bs.Network({"A": (unit, 20), "B": (unit, 30)},
                   couplings=[rate.RateCoupling("A", "B", conn)])
