import numpy as np
import pytest

from brainsim.fit import coincidence_factor, gamma_error
from brainsim.fit._coincidence import count_coincidences


def _maximum_matching(a, b, delta):
    """Independent reference: Kuhn's augmenting paths on the graph |a_i - b_j| <= delta."""
    partner = {}

    def augment(i, seen):
        for j in range(len(b)):
            if abs(a[i] - b[j]) <= delta and j not in seen:
                seen.add(j)
                if j not in partner or augment(partner[j], seen):
                    partner[j] = i
                    return True
        return False

    return sum(augment(i, set()) for i in range(len(a)))


def test_greedy_coincidence_count_is_the_maximum_one_to_one_matching():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = np.sort(rng.uniform(0, 50, rng.integers(0, 12)))
        b = np.sort(rng.uniform(0, 50, rng.integers(0, 12)))
        assert count_coincidences(a, b, 4.0) == _maximum_matching(a, b, 4.0)


def test_identical_trains_give_gamma_one_and_zero_error():
    times = np.array([12.0, 40.0, 41.0, 90.0, 300.0])
    assert coincidence_factor(times, times, duration=500.0) == pytest.approx(1.0, abs=1e-12)
    assert gamma_error(times, times, duration=500.0) == pytest.approx(0.0, abs=1e-12)


def test_gamma_of_a_hand_computed_case():
    # data 10, 50, 90; model 12, 70: one coincidence within ±4 ms; ν = 2/100 /ms.
    value = coincidence_factor([12.0, 70.0, np.inf], [90.0, 10.0, 50.0], duration=100.0)
    expected = (1 - 2 * 0.02 * 4 * 3) / (0.5 * 5) / (1 - 2 * 0.02 * 4)
    assert value == pytest.approx(expected, rel=1e-12)
    assert gamma_error([12.0, 70.0], [10.0, 50.0, 90.0], duration=100.0) == pytest.approx(
        1 - expected + 2 * 1 / 3, rel=1e-12
    )
    # Δ matters: with Δ = 1 ms no spike coincides.
    wide = coincidence_factor([12.0, 70.0], [10.0, 50.0, 90.0], duration=100.0, delta=1.0)
    assert wide == pytest.approx((0 - 2 * 0.02 * 3) / 2.5 / (1 - 2 * 0.02), rel=1e-12)


def test_independent_poisson_trains_give_gamma_near_zero_on_average():
    rng = np.random.default_rng(1)
    duration, rate = 20_000.0, 0.01  # 20 s at 10 Hz

    def poisson():
        return np.sort(rng.uniform(0, duration, rng.poisson(rate * duration)))

    gammas = [coincidence_factor(poisson(), poisson(), duration=duration) for _ in range(40)]
    # Standard error ≈ 0.025 / sqrt(40); the one-to-one count is 0.4 % below 2νΔ N_data.
    assert abs(np.mean(gammas)) < 0.015


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="empty"):
        coincidence_factor([], [np.inf], duration=10.0)
    with pytest.raises(ValueError, match="2 ν Δ"):
        coincidence_factor(np.arange(0.0, 100.0, 5.0), [1.0], duration=100.0)
    with pytest.raises(ValueError, match="NaN"):
        coincidence_factor([1.0, np.nan], [1.0], duration=10.0)
    with pytest.raises(ValueError, match="one train"):
        coincidence_factor(np.zeros((2, 2)), [1.0], duration=10.0)
    with pytest.raises(ValueError, match="duration"):
        coincidence_factor([1.0], [1.0], duration=0.0)
    with pytest.raises(ValueError, match="delta"):
        coincidence_factor([1.0], [1.0], duration=10.0, delta=-1.0)
    with pytest.raises(ValueError, match="without spikes"):
        gamma_error([1.0], [], duration=10.0)
