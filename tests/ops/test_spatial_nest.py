"""brainsim_ops.spatial against NEST 3.10 on the same layouts: the distance histograms and the
degree distributions of each case are statistically indistinguishable (two-sample χ² tests).

The NEST statistics come from tests/reference/make_nest_spatial_refs.py (cases and layouts are
defined there; free layouts are drawn from the same numpy seeds here). A case fails when a
two-sample χ² test rejects equality at the 0.1 % level: with 10 independent tests, a false
alarm for a new seed has probability about 1 %, while a kernel width off by 10 % is rejected
(`test_the_comparison_detects_a_kernel_of_the_wrong_width`).
"""

import json
import pathlib

import jax
import numpy as np
import pytest
from scipy import stats

from brainsim_ops import spatial

REF = np.load(pathlib.Path(__file__).parents[1] / "reference" / "nest_spatial.npz")
CASES = sorted({key.split("/")[0] for key in REF.files})
ALPHA = 1e-3


def _case(name: str) -> dict:
    return json.loads(str(REF[f"{name}/params"]))


def _layer(case: dict) -> spatial.Layer:
    layer = case["layer"]
    center = np.zeros(len(layer["extent"]))
    if "grid" in layer:
        return spatial.grid(tuple(layer["grid"]), extent=layer["extent"], center=center,
                            periodic=layer["periodic"])
    rng = np.random.default_rng(layer["seed"])
    extent = np.asarray(layer["extent"])
    positions = (rng.uniform(0.0, 1.0, (layer["free"], layer["dim"])) - 0.5) * extent
    return spatial.free(positions, extent=extent, center=center, periodic=layer["periodic"])


def _kernel(case: dict, width_factor: float = 1.0):
    kind, *args = case["kernel"]
    if kind == "gaussian":
        return spatial.Gaussian(sigma=args[1] * width_factor, amplitude=args[0])
    if kind == "exponential":
        return spatial.Exponential(scale=args[1] * width_factor, amplitude=args[0])
    if kind == "linear":
        return spatial.Linear(intercept=args[0], slope=args[1] / width_factor)
    return args[0]


def _mask(case: dict):
    kind, *args = case["mask"]
    if kind in ("circular", "spherical"):
        return spatial.Circular(args[0])
    if kind == "doughnut":
        return spatial.Annulus(args[0], args[1])
    return (spatial.Rectangular if kind == "rectangular" else spatial.Box)(*args)


def _rule(case: dict, width_factor: float = 1.0):
    p = _kernel(case, width_factor)
    if case["rule"] == "pairwise_bernoulli":
        return spatial.PairwiseBernoulli(p)
    if case["rule"] == "fixed_indegree":
        return spatial.FixedInDegree(case["k"], p)
    return spatial.FixedOutDegree(case["k"], p)


def _statistics(name: str, width_factor: float = 1.0) -> dict[str, np.ndarray]:
    case = _case(name)
    layer = _layer(case)
    c = spatial.connect(jax.random.key(3), layer, layer, _rule(case, width_factor),
                        mask=_mask(case), allow_autapses=case["allow_autapses"],
                        allow_multapses=case["allow_multapses"])
    pre = np.repeat(np.arange(layer.n), np.diff(np.asarray(c.conn.indptr)))
    post = np.asarray(c.conn.indices)
    return {
        "n_connections": np.asarray(c.conn.n_syn),
        "distance_counts": np.histogram(c.distance, REF[f"{name}/distance_edges"])[0],
        "in_degree_counts": np.bincount(np.bincount(post, minlength=layer.n)),
        "out_degree_counts": np.bincount(np.bincount(pre, minlength=layer.n)),
    }


def two_sample_chi2(a, b, min_count: int = 20) -> float:
    """p-value of the χ² test that histograms `a` and `b` come from one distribution.

    Adjacent bins are pooled until each pooled bin holds >= `min_count` counts of the two
    together (so expected counts stay >= 5 for tables this size); a single pooled bin (both
    histograms concentrated on one value, e.g. a fixed degree) gives 1.0.
    """
    n = max(len(a), len(b))
    a, b = np.pad(a, (0, n - len(a))), np.pad(b, (0, n - len(b)))
    pooled_a, pooled_b, acc_a, acc_b = [], [], 0, 0
    for x, y in zip(a, b, strict=True):
        acc_a, acc_b = acc_a + x, acc_b + y
        if acc_a + acc_b >= min_count:
            pooled_a.append(acc_a)
            pooled_b.append(acc_b)
            acc_a = acc_b = 0
    if pooled_a:
        pooled_a[-1] += acc_a
        pooled_b[-1] += acc_b
    if len(pooled_a) < 2:
        return 1.0
    return float(stats.chi2_contingency(np.array([pooled_a, pooled_b]))[1])


@pytest.fixture(scope="module")
def brainsim_statistics():
    return {name: _statistics(name) for name in CASES}


@pytest.mark.parametrize("name", CASES)
def test_connection_distances_match_nest(name, brainsim_statistics):
    ours = brainsim_statistics[name]
    p = two_sample_chi2(ours["distance_counts"], REF[f"{name}/distance_counts"])
    assert p > ALPHA, (name, p, ours["distance_counts"], REF[f"{name}/distance_counts"])


@pytest.mark.parametrize("name", CASES)
def test_degree_distributions_match_nest(name, brainsim_statistics):
    ours = brainsim_statistics[name]
    for key in ("in_degree_counts", "out_degree_counts"):
        p = two_sample_chi2(ours[key], REF[f"{name}/{key}"])
        assert p > ALPHA, (name, key, p)


@pytest.mark.parametrize("name", CASES)
def test_total_number_of_connections_matches_nest(name, brainsim_statistics):
    """Equal for the degree rules; within 4 standard deviations of a difference of two
    independent sums of Bernoulli variables (variance <= 2 · mean) for the others."""
    ours = int(brainsim_statistics[name]["n_connections"])
    theirs = int(REF[f"{name}/n_connections"])
    if _case(name)["rule"] == "pairwise_bernoulli":
        assert abs(ours - theirs) < 4 * np.sqrt(2 * theirs), (ours, theirs)
    else:
        assert ours == theirs


def test_the_comparison_detects_a_kernel_of_the_wrong_width():
    name = "grid_gaussian_bernoulli"
    wrong = _statistics(name, width_factor=1.1)
    p = two_sample_chi2(wrong["distance_counts"], REF[f"{name}/distance_counts"])
    assert p < ALPHA, p
