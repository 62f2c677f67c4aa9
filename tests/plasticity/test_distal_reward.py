"""Distal reward (Izhikevich 2007): the reward scheduler `DistalReward` and the closed loop
of examples/distal_reward.py (rewarded synapse vs. control)."""


import importlib.util
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.plasticity import DistalReward, DistalRewardState


def _drive(reward, pre, post, seed=0):
    key = jax.random.key(seed)
    step = jax.jit(lambda s, a, b, k: reward.step(s, a, b, k, dt=1.0))
    state, ds = reward.init(), []
    for k, (a, b) in enumerate(zip(pre, post, strict=True)):
        state, d = step(state, a, b, jax.random.fold_in(key, k))
        ds.append(float(d))
    return state, np.asarray(ds)


def _spikes(n, times):
    x = np.zeros(n)
    x[list(times)] = 1.0
    return x


def test_pairing_within_the_window_releases_dopamine_after_the_delay():
    reward = DistalReward(delay_min=50.0, delay_max=50.0, amount=0.5, tonic=0.0, tau_d=200.0)
    state, d = _drive(reward, _spikes(200, [10]), _spikes(200, [20]))   # pre 10 ms before post
    assert int(state.pairings) == 1 and int(state.rewards) == 1
    assert np.all(d[:70] == 0.0)
    assert d[70] == pytest.approx(0.5)                                 # 50 steps after post
    np.testing.assert_allclose(d[71:], 0.5 * np.exp(-np.arange(1, 130) / 200.0), rtol=1e-5)


@pytest.mark.parametrize(("pre_t", "post_t"), [(10, 21), (20, 10), (10, 10)])
def test_no_reward_outside_the_window_post_before_pre_or_same_step(pre_t, post_t):
    reward = DistalReward(delay_min=5.0, delay_max=5.0, tonic=0.0)
    state, d = _drive(reward, _spikes(60, [pre_t]), _spikes(60, [post_t]))
    assert int(state.pairings) == 0 and int(state.rewards) == 0 and np.all(d == 0.0)


def test_delays_are_uniform_in_range_and_tonic_sets_the_baseline():
    reward = DistalReward(delay_min=1000.0, delay_max=3000.0, max_pending=1)
    delays = []
    for k in range(200):
        state = reward.init()
        state, _ = reward.step(state, 1.0, 0.0, jax.random.key(k), dt=1.0)
        state, _ = reward.step(state, 0.0, 1.0, jax.random.key(k), dt=1.0)
        delays.append(int(state.pending[0]))
    delays = np.asarray(delays)
    assert delays.min() >= 1000 and delays.max() <= 3000
    assert 1800 < delays.mean() < 2200                       # mean 2000, std of mean ~ 41
    assert float(reward.init().dopamine) == pytest.approx(1e-5 * 200.0)


def test_control_counts_pairings_without_scheduling_rewards():
    reward = DistalReward(delay_min=5.0, delay_max=5.0, tonic=0.0)
    state = reward.init()
    for pre, post in [(1.0, 0.0), (0.0, 1.0)] + [(0.0, 0.0)] * 10:
        state, d = reward.step(state, pre, post, jax.random.key(0), dt=1.0, rewarded=False)
    assert isinstance(state, DistalRewardState)
    assert int(state.pairings) == 1 and int(state.rewards) == 0 and float(d) == 0.0


def test_vmap_over_amount_equals_loop():
    amounts = jnp.asarray([0.1, 0.5, 1.0])
    pre, post = _spikes(30, [2]), _spikes(30, [4])

    def final(amount):
        reward = DistalReward(delay_min=10.0, delay_max=10.0, amount=amount, tonic=0.0)
        state, d = reward.init(), 0.0
        for a, b in zip(pre, post, strict=True):
            state, d = reward.step(state, a, b, jax.random.key(0), dt=1.0)
        return d

    batched = jax.vmap(final)(amounts)
    np.testing.assert_allclose(batched, [final(a) for a in amounts], rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"window": 0.0}, "window"), ({"tau_d": -1.0}, "tau_d"), ({"amount": -0.5}, "amount"),
     ({"delay_min": 3000.0, "delay_max": 1000.0}, "delay_max"), ({"max_pending": 0}, "max_pending"),
     ({"tonic": -1.0}, "tonic")],
)
def test_bad_constants_fail_naming_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DistalReward(**kwargs)


def _load(relative, name):
    path = pathlib.Path(__file__).resolve().parents[2] / relative
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # numba's cache looks the module up by name
    spec.loader.exec_module(module)
    return module


def _example():
    return _load("examples/distal_reward.py", "distal_reward")


# The closed loop of examples/distal_reward.py (the network of the paper's published code)
# at n = 200 instead of 1000 (160 excitatory neurons, still 100 synapses per neuron), seed 0,
# so that it runs in ~20 s; all other constants are the paper's. Measured (CPU, float32):
# the chosen synapse, started at 0, reaches 4.0 mV after 6.5 simulated min and 25 rewards;
# the other E->E weights end at 0.75 ± 0.89 mV (from 1.0), so the chosen one is 3.7 std above
# their mean. With rewards at random times at the same rate (20 rewards in 6.5 min) it ends at
# 0.45 mV (others 0.73 ± 0.84). The other weights do NOT stay near their mean (see the docs):
# an independent implementation of the paper's code (tests/reference/daspnet_numpy.py) spreads
# them the same way (test_other_weights_spread_as_in_an_independent_implementation).
_N, _MINUTES, _REWARDS_PER_MIN = 200, 6.5, 3.8


def test_rewarded_synapse_grows_to_the_bound_in_a_spiking_network():
    result = _example().simulate(n=_N, minutes=_MINUTES, seed=0, chunk_s=10.0,
                                 stop_at_bound=True)
    w_max, others = result["w_max"], result["others"]
    assert result["chosen"][0] == 0.0
    assert result["chosen"][-1] >= 0.9 * w_max
    # every reward followed a pairing of the chosen synapse (none still pending at most 8)
    assert result["pairings"] - 8 <= result["rewards"] <= result["pairings"]
    assert result["chosen"][-1] > np.percentile(others, 95)
    assert result["chosen"][-1] > others.mean() + 3 * others.std()


def test_rewards_not_tied_to_the_pairing_leave_the_chosen_synapse_unremarkable():
    result = _example().simulate(n=_N, minutes=_MINUTES, seed=0, chunk_s=10.0, rewarded=False,
                                 random_reward_rate=_REWARDS_PER_MIN / 60_000.0)
    others = result["others"]
    assert result["rewards"] >= 10                      # dopamine was released all the same
    assert result["chosen"][-1] < 0.9 * result["w_max"]
    assert result["chosen"][-1] < others.mean() + 3 * others.std()


def _spread(others):
    return others.mean(), others.std(), (others < 0.1).mean()


@pytest.mark.slow
def test_other_weights_spread_as_in_an_independent_implementation():
    # tests/reference/daspnet_numpy.py: the paper's algorithm in numba, sharing no code with
    # brainsim. With brainsim's two deviations (one 1-ms Euler step, STDP at emission) its
    # other E->E weights after 6.5 min at n = 200 are, over seeds 0-7: mean 0.80 ± 0.05 mV,
    # std 0.98 ± 0.09 mV, 31 ± 1 % below 0.1 mV; brainsim's example, seeds 0-3: 0.78 ± 0.05,
    # 0.91 ± 0.15, 28 ± 4 %. The tolerances are about three of these seed-to-seed spreads.
    reference = _load("tests/reference/daspnet_numpy.py", "daspnet_numpy")
    result = _example().simulate(n=_N, minutes=_MINUTES, seed=0, chunk_s=10.0)
    mean, std, near_zero = _spread(result["others"])
    ref = np.mean([_spread(reference.simulate(_N, _MINUTES, seed, euler="full",
                                              stdp="emission", record_s=30.0)["others"])
                   for seed in range(4)], axis=0)
    assert abs(mean - ref[0]) < 0.15
    assert abs(std - ref[1]) < 0.4
    assert abs(near_zero - ref[2]) < 0.1
    # the paper's code itself (two 0.5-ms steps for v, STDP at arrival) spreads them too
    # (seeds 0-7: mean 0.78 ± 0.02 mV, std 0.73 ± 0.07 mV, 22 ± 3 % below 0.1 mV)
    paper = _spread(reference.simulate(_N, _MINUTES, 0, record_s=30.0)["others"])
    assert paper[0] < 0.9 and paper[1] > 0.5 and paper[2] > 0.1


@pytest.mark.slow
def test_half_steps_match_the_independent_implementation_with_half_steps():
    # With Izhikevich(method="half_steps") brainsim integrates v as the paper's code does; the
    # only deviation left is STDP at emission, which the reference reproduces with
    # stdp="emission" (its seeds 0-7: mean 0.78 mV, std 0.67 mV, 19 % below 0.1 mV, E rate
    # 1.39 Hz). Same tolerances as above.
    reference = _load("tests/reference/daspnet_numpy.py", "daspnet_numpy")
    result = _example().simulate(n=_N, minutes=_MINUTES, seed=0, chunk_s=10.0,
                                 method="half_steps")
    mean, std, near_zero = _spread(result["others"])
    ref = np.mean([_spread(reference.simulate(_N, _MINUTES, seed, stdp="emission",
                                              record_s=30.0)["others"])
                   for seed in range(4)], axis=0)
    assert abs(mean - ref[0]) < 0.15
    assert abs(std - ref[1]) < 0.4
    assert abs(near_zero - ref[2]) < 0.1
    assert abs(float(np.mean(result["rate_e"])) - 1.4) < 0.2
