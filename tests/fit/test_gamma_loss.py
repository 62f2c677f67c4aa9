"""`gamma_loss`: the Γ error on the simulation grid equals the exact `gamma_error`."""

import jax
import numpy as np
import pytest

from brainsim.fit import Simulation, SweepData, gamma_error, gamma_loss

DT = 0.5
STEPS = 2000  # 1 s


def _sparse_train(rng, rate_hz, min_isi):
    """Spike steps of a train whose intervals exceed `min_isi` ms (dead-time Poisson)."""
    times, t = [], rng.exponential(1000.0 / rate_hz)
    while t < STEPS * DT - 1:
        times.append(t)
        t += min_isi + rng.exponential(1000.0 / rate_hz)
    return np.round(np.array(times) / DT).astype(int)


@pytest.fixture(scope="module")
def trains():
    """Six sweeps: recorded trains, and model trains that jitter, drop and add spikes."""
    rng = np.random.default_rng(3)
    recorded, model = [], np.zeros((STEPS, 6), np.float32)
    for j in range(6):
        steps = _sparse_train(rng, 20.0, 10.0)  # intervals > 2Δ = 8 ms
        recorded.append(steps * DT)
        kept = steps[rng.random(steps.size) > 0.2]
        jittered = kept + rng.integers(-12, 13, size=kept.size)  # ±6 ms: some leave ±Δ
        extra = rng.integers(0, STEPS, size=j)
        model[np.clip(np.concatenate([jittered, extra]), 0, STEPS - 1), j] = 1.0
    width = max(len(r) for r in recorded)
    times = np.full((6, width), np.inf)
    for j, r in enumerate(recorded):
        times[j, : len(r)] = r
    data = SweepData(np.zeros((STEPS, 6), np.float32), spike_times=times, dt=DT, t_start=100.0)
    return Simulation(np.zeros((STEPS, 6), np.float32), model), data


def _exact(sim, data):
    errors = []
    for j in range(data.n_sweeps):
        model = np.nonzero(np.asarray(sim.spikes[:, j]))[0] * DT
        recorded = np.asarray(data.spike_times[j])
        recorded = recorded[np.isfinite(recorded)]
        errors.append(gamma_error(model[model >= data.t_start],
                                  recorded[recorded >= data.t_start],
                                  duration=STEPS * DT - data.t_start))
    return float(np.mean(errors))


def test_grid_gamma_error_equals_the_exact_one_for_sparse_trains(trains):
    sim, data = trains
    # float32 sums of a few dozen spikes: exact to ~1e-6
    assert float(gamma_loss()(sim, data)) == pytest.approx(_exact(sim, data), abs=1e-5)


def test_identical_trains_score_zero_and_an_undefined_sweep_scores_three(trains):
    sim, data = trains
    same = np.zeros_like(np.asarray(sim.spikes))
    for j, row in enumerate(np.asarray(data.spike_times)):
        same[np.round(row[np.isfinite(row)] / DT).astype(int), j] = 1.0
    assert float(gamma_loss()(Simulation(sim.v, same), data)) == pytest.approx(0.0, abs=1e-6)
    silent = SweepData(data.current[:, :1], spike_times=[[]], dt=DT)
    assert float(gamma_loss()(Simulation(sim.v[:, :1], same[:, :1]), silent)) == 3.0


def test_jit_equals_eager_and_vmap_equals_loop(trains):
    sim, data = trains
    loss = gamma_loss(4.0)
    assert float(jax.jit(loss)(sim, data)) == pytest.approx(float(loss(sim, data)), abs=1e-6)
    shifted = np.stack([np.roll(np.asarray(sim.spikes), k, axis=0) for k in (0, 3, 9)])
    batched = jax.vmap(lambda s: loss(Simulation(sim.v, s), data))(shifted)
    looped = [float(loss(Simulation(sim.v, s), data)) for s in shifted]
    np.testing.assert_allclose(np.asarray(batched), looped, atol=1e-6)


def test_same_delta_gives_the_same_object_and_bad_input_is_refused(trains):
    assert gamma_loss(4.0) is gamma_loss(4.0)
    with pytest.raises(ValueError, match="delta"):
        gamma_loss(0.0)
    sim, data = trains
    with pytest.raises(ValueError, match="spike times"):
        gamma_loss()(sim, SweepData(data.current, np.zeros((STEPS, 6)), dt=DT))
