import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs


def _analytic_rate(current, lif):
    drive = float(lif.R) * current
    gap = float(lif.v_th - lif.v_rest)
    isi = float(lif.t_ref) + float(lif.tau_m) * np.log(drive / (drive - gap))
    return 1000.0 / isi


def test_f_i_curve_matches_analytic_within_one_percent(x64):
    lif = bs.neurons.LIF(tau_m=10.0, v_rest=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=2.0, R=0.1)
    currents = jnp.array([160.0, 200.0, 300.0, 500.0, 1000.0])  # pA; rheobase is 150 pA
    result = bs.run(
        lif, lif.init(currents.size), inputs=currents, duration=400.0, dt=0.01, stream=False
    )
    spikes = np.asarray(result.spikes["spikes"])
    for k, current in enumerate(np.asarray(currents)):
        times = np.flatnonzero(spikes[:, k]) * 0.01
        simulated = 1000.0 / np.mean(np.diff(times))
        assert simulated == pytest.approx(_analytic_rate(current, lif), rel=0.01)


def test_no_spikes_below_rheobase(x64):
    lif = bs.neurons.LIF(R=0.1)
    result = bs.run(lif, lif.init(1), inputs=149.0, duration=200.0, dt=0.05)
    assert len(result.spikes["spikes"]) == 0
    assert result.final_state.v[0] == pytest.approx(-65.0 + 14.9, abs=1e-3)


def test_refractory_period_holds_v_at_reset_for_t_ref():
    lif = bs.neurons.LIF(t_ref=3.0, R=0.1)
    result = bs.run(lif, lif.init(1), inputs=2000.0, duration=20.0, dt=0.1, record=["spikes", "v"])
    times = result.spikes["spikes"].times
    v = np.asarray(result.traces["v"])[:, 0]
    first = int(round(times[0] / 0.1))
    np.testing.assert_array_equal(v[first : first + 31], -65.0)  # 30 held steps after the reset
    assert v[first + 31] > -65.0
    assert np.diff(times)[0] > 3.0


def test_alif_threshold_adaptation_slows_firing():
    plain = bs.neurons.LIF(R=0.1)
    adaptive = bs.neurons.ALIF(R=0.1, tau_a=300.0, beta=3.0)
    rates = [
        bs.run(m, m.init(1), inputs=400.0, duration=500.0, dt=0.1).rate() for m in (plain, adaptive)
    ]
    assert rates[1] < 0.7 * rates[0]


def test_detach_reset_changes_only_the_gradient():
    def count(tau, detach):
        lif = bs.neurons.LIF(tau_m=tau, R=0.1, detach_reset=detach)
        result = bs.run(lif, lif.init(1), inputs=400.0, steps=300, dt=0.1, stream=False)
        return result.spikes["spikes"].sum()

    assert count(10.0, True) == count(10.0, False) > 0
    assert jax.grad(count)(10.0, True) != jax.grad(count)(10.0, False)


def test_random_init_is_uniform_between_reset_and_threshold():
    lif = bs.neurons.LIF(v_reset=-70.0, v_th=-50.0)
    v = lif.init(5000, key=jax.random.key(3)).v
    assert float(v.min()) >= -70.0 and float(v.max()) <= -50.0
    assert float(v.mean()) == pytest.approx(-60.0, abs=0.5)
