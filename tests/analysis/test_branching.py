"""branching_factor: against a loop written from the definition, a hand-checked raster, the
connectivity forms it accepts, and bad input."""

import doctest

import jax
import numpy as np
import pytest

import brainsim_ops as bo
from brainsim.analysis import _branching, branching_factor


def _brute_force(raster, adjacency, window, t_start, t_stop):
    """The definition, spike by spike (dt = 1 ms, raster row k at k ms)."""
    samples = raster if raster.ndim == 3 else raster[None]
    steps, n = samples.shape[1:]
    values = []
    for s in samples:
        per_neuron = []
        for i in range(n):
            ratios = []
            for t in range(steps):
                if not s[t, i] or not t_start <= t < t_stop:
                    continue
                pre = sum(s[u, m] for m in range(n) if adjacency[m, i]
                          for u in range(max(t - window, 0), t))
                post = sum(s[u, m] for m in range(n) if adjacency[i, m]
                           for u in range(t + 1, min(t + window + 1, steps)))
                ratios.append(post / max(pre, 1))
            if ratios:
                per_neuron.append(np.mean(ratios))
        values.append(np.mean(per_neuron) if per_neuron else np.nan)
    return np.mean(values)


@pytest.mark.parametrize("seed", range(4))
def test_equals_the_definition_on_random_rasters(seed):
    rng = np.random.default_rng(seed)
    n, steps = 9, 40
    adjacency = rng.random((n, n)) < 0.35
    raster = rng.random((3, steps, n)) < 0.15
    for window, t_start, t_stop in ((4, 5, 35), (2, 0, 40), (6, 10, 20)):
        expected = _brute_force(raster, adjacency, window, t_start, t_stop)
        got = branching_factor(raster, adjacency, window=window, t_start=t_start,
                               t_stop=t_stop)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(branching_factor(raster[1], adjacency, t_start=5, t_stop=35),
                               _brute_force(raster[1], adjacency, 4, 5, 35), rtol=1e-12)


def test_hand_checked_chain():
    # 0 -> 1, 0 -> 2, 1 -> 2. Spikes: 0 at 10 and 20, 1 at 12, 2 at 13 and 30.
    adjacency = np.zeros((3, 3), bool)
    adjacency[0, 1] = adjacency[0, 2] = adjacency[1, 2] = True
    raster = np.zeros((40, 3), bool)
    raster[[10, 20], 0] = True
    raster[12, 1] = True
    raster[[13, 30], 2] = True
    # neuron 0: at 10 -> post 1@12, 2@13 = 2 (pre 0 -> /1): 2; at 20 -> nothing: 0. mean 1
    # neuron 1: at 12 -> pre 0@10 = 1, post 2@13 = 1: 1
    # neuron 2: at 13 -> pre 0@10, 1@12 = 2, post 0: 0; at 30 -> 0. mean 0
    assert branching_factor(raster, adjacency, t_start=0, t_stop=40) == pytest.approx(2 / 3)
    # only spikes in [11, 25): neuron 0 at 20 (0), neuron 1 (1), neuron 2 at 13 (0)
    assert branching_factor(raster, adjacency, t_start=11, t_stop=25) == pytest.approx(1 / 3)


def test_connectivity_forms_and_time_step_agree():
    rng = np.random.default_rng(7)
    n = 12
    adjacency = rng.random((n, n)) < 0.3
    pre, post = np.nonzero(adjacency)
    raster = rng.random((2, 60, n)) < 0.2
    reference = branching_factor(raster, adjacency)
    doubled = bo.from_edges(np.r_[pre, pre], np.r_[post, post], n_pre=n, n_post=n)
    forms = [bo.from_edges(pre, post, n_pre=n, n_post=n), doubled,
             bo.Dense(adjacency.astype(float)),
             bo.Dense(np.ones((n, n)), mask=adjacency), adjacency.astype(int)]
    for conn in forms:
        assert branching_factor(raster, conn) == reference
    # the same raster at dt = 0.5 ms with window and range in ms gives the same
    assert branching_factor(raster, adjacency, dt=0.5, window=2.0, t_start=12.5,
                            t_stop=112.5) == reference


def test_silent_sample_gives_nan_and_no_synapses_give_zero():
    adjacency = np.ones((4, 4), bool)
    assert np.isnan(branching_factor(np.zeros((50, 4)), adjacency))
    raster = np.random.default_rng(0).random((50, 4)) < 0.3
    assert branching_factor(raster, np.zeros((4, 4))) == 0.0


def test_a_large_liquid_is_fast_enough():
    pos = bo.grid_positions((10, 10, 10))
    conn = bo.distance_prob(jax.random.key(0), pos, pos, 0.2, 3.0)
    raster = np.random.default_rng(1).random((5, 250, 1000)) < 0.02
    value = branching_factor(raster, conn)
    # independent spikes: post ~ out-degree x 4 x p, pre ~ in-degree x 4 x p, both ~1.4
    assert 0.5 < value < 2.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(spikes=np.zeros(5)), ValueError, "spikes"),
        (dict(spikes=np.full((5, 3), 2)), ValueError, "spikes"),
        (dict(spikes=np.full((5, 3), "a")), TypeError, "spikes"),
        (dict(conn=np.zeros((4, 4))), ValueError, "conn"),
        (dict(conn="x"), TypeError, "conn"),
        (dict(window=0), ValueError, "window"),
        (dict(window=1.5), ValueError, "multiple"),
        (dict(dt=-1.0), ValueError, "dt"),
        (dict(t_start=30, t_stop=20), ValueError, "t_start"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, message):
    args = dict(spikes=np.zeros((5, 3), bool), conn=np.ones((3, 3)))
    args.update(kwargs)
    spikes, conn = args.pop("spikes"), args.pop("conn")
    with pytest.raises(error, match=message):
        branching_factor(spikes, conn, **args)


def test_docstring_example_runs():
    result = doctest.testmod(_branching, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
