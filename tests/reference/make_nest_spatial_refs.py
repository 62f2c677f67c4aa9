"""Generate NEST 3.10 summary statistics of spatially structured connectivity.

NEST is not a test dependency: run this with an environment that has it, e.g.

    python3 -m venv /tmp/nest && /tmp/nest/bin/pip install nest-simulator==3.10.0 numpy
    /tmp/nest/bin/python tests/reference/make_nest_spatial_refs.py

For each case of ``CASES`` NEST builds one layer of ``parrot_neuron`` s (a grid, or free
positions drawn here by ``numpy.random.default_rng(seed)`` so that brainsim places the very
same neurons), connects it to itself with a spatial rule, and this script saves small
summaries of the result in ``nest_spatial.npz``: the number of connections, histograms of the
connection distances (shortest distance on a periodic layer, computed here from
``nest.GetPosition``) and of the in- and out-degrees. ``tests/ops/test_spatial_nest.py``
builds the same cases with ``brainsim_ops.spatial.connect`` and compares the statistics with
two-sample χ² tests. Keys: ``<case>/params`` (the case as JSON), ``<case>/n_connections``,
``<case>/distance_edges``, ``<case>/distance_counts``, ``<case>/in_degree_counts``,
``<case>/out_degree_counts`` (``counts[k]`` = number of neurons of degree ``k``).
"""

from __future__ import annotations

import json
import pathlib
import time

import nest
import numpy as np

OUT = pathlib.Path(__file__).with_name("nest_spatial.npz")
NEST_SEED = 12345

# Shared with tests/ops/test_spatial_nest.py (the test checks that the stored JSON is its own).
CASES = {
    "grid_gaussian_bernoulli": {
        "layer": {"grid": [40, 40], "extent": [1.0, 1.0], "periodic": True},
        "rule": "pairwise_bernoulli", "kernel": ["gaussian", 0.8, 0.1],
        "mask": ["circular", 0.27], "allow_autapses": False, "allow_multapses": True,
        "bins": 12,
    },
    "free_exponential_indegree": {
        "layer": {"free": 1500, "dim": 2, "seed": 1, "extent": [1.0, 1.0], "periodic": False},
        "rule": "fixed_indegree", "k": 40, "kernel": ["exponential", 1.0, 0.15],
        "mask": ["rectangular", [-0.3, -0.2], [0.3, 0.2]], "allow_autapses": False,
        "allow_multapses": False, "bins": 12,
    },
    "free3d_gaussian_outdegree": {
        "layer": {"free": 1000, "dim": 3, "seed": 2, "extent": [1.0, 1.0, 1.0],
                  "periodic": True},
        "rule": "fixed_outdegree", "k": 30, "kernel": ["gaussian", 1.0, 0.2],
        "mask": ["spherical", 0.4], "allow_autapses": False, "allow_multapses": True,
        "bins": 12,
    },
    "grid_linear_annulus": {
        "layer": {"grid": [30, 30], "extent": [1.0, 1.0], "periodic": False},
        "rule": "pairwise_bernoulli", "kernel": ["linear", 0.9, -2.0],
        "mask": ["doughnut", 0.11, 0.39], "allow_autapses": False, "allow_multapses": True,
        "bins": 10,
    },
    "grid3d_box_bernoulli": {
        "layer": {"grid": [10, 10, 10], "extent": [1.0, 1.0, 1.0], "periodic": True},
        "rule": "pairwise_bernoulli", "kernel": ["constant", 0.3],
        "mask": ["box", [-0.26, -0.26, -0.16], [0.26, 0.26, 0.16]], "allow_autapses": False,
        "allow_multapses": True, "bins": 8,
    },
}


def free_positions(layer: dict) -> np.ndarray:
    """The free layer's positions: uniform in ``±extent / 2`` from ``default_rng(seed)``."""
    extent = np.asarray(layer["extent"])
    rng = np.random.default_rng(layer["seed"])
    return (rng.uniform(0.0, 1.0, (layer["free"], layer["dim"])) - 0.5) * extent


def distance_edges(case: dict) -> np.ndarray:
    """Distance-histogram bin edges: ``bins`` equal bins up to the mask's reach."""
    kind, *args = case["mask"]
    if kind in ("circular", "spherical"):
        reach = args[0]
    elif kind == "doughnut":
        reach = args[1]
    else:
        reach = float(np.linalg.norm(np.max(np.abs(np.asarray(args)), axis=0)))
    return np.linspace(0.0, reach, case["bins"] + 1)


def _kernel(case: dict):
    kind, *args = case["kernel"]
    d = nest.spatial.distance
    if kind == "gaussian":
        return args[0] * nest.spatial_distributions.gaussian(d, std=args[1])
    if kind == "exponential":
        return args[0] * nest.spatial_distributions.exponential(d, beta=args[1])
    if kind == "linear":
        return args[0] + args[1] * d
    return args[0]


def _mask(case: dict) -> dict:
    kind, *args = case["mask"]
    if kind in ("circular", "spherical"):
        return {kind: {"radius": args[0]}}
    if kind == "doughnut":
        return {kind: {"inner_radius": args[0], "outer_radius": args[1]}}
    return {kind: {"lower_left": args[0], "upper_right": args[1]}}


def build(case: dict):
    """Connect one NEST layer to itself; return (positions, sources, targets) 0-based."""
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.local_num_threads = 1
    nest.rng_seed = NEST_SEED
    layer = case["layer"]
    if "grid" in layer:
        spec = nest.spatial.grid(shape=layer["grid"], extent=layer["extent"],
                                 edge_wrap=layer["periodic"])
    else:
        spec = nest.spatial.free(free_positions(layer).tolist(), extent=layer["extent"],
                                 edge_wrap=layer["periodic"])
    pop = nest.Create("parrot_neuron", positions=spec)
    conn_spec = {"rule": case["rule"], "p": _kernel(case), "mask": _mask(case),
                 "allow_autapses": case["allow_autapses"],
                 "allow_multapses": case["allow_multapses"]}
    if case["rule"] == "fixed_indegree":
        conn_spec["indegree"] = case["k"]
    elif case["rule"] == "fixed_outdegree":
        conn_spec["outdegree"] = case["k"]
    nest.Connect(pop, pop, conn_spec)
    conns = nest.GetConnections(pop, pop)
    first = pop[0].global_id
    positions = np.asarray(nest.GetPosition(pop), dtype=np.float64)
    return (positions, np.asarray(conns.source) - first, np.asarray(conns.target) - first)


def summarise(case: dict, positions, sources, targets) -> dict[str, np.ndarray]:
    extent = np.asarray(case["layer"]["extent"])
    d = positions[targets] - positions[sources]
    if case["layer"]["periodic"]:
        d -= extent * np.round(d / extent)
    n = positions.shape[0]
    edges = distance_edges(case)
    return {
        "n_connections": np.asarray(len(sources)),
        "distance_edges": edges,
        "distance_counts": np.histogram(np.linalg.norm(d, axis=1), edges)[0],
        "in_degree_counts": np.bincount(np.bincount(targets, minlength=n)),
        "out_degree_counts": np.bincount(np.bincount(sources, minlength=n)),
    }


def main() -> None:
    arrays = {}
    for name, case in CASES.items():
        start = time.perf_counter()
        stats = summarise(case, *build(case))
        arrays[f"{name}/params"] = np.asarray(json.dumps(case, sort_keys=True))
        arrays.update({f"{name}/{key}": value for key, value in stats.items()})
        print(f"{name}: {int(stats['n_connections'])} connections "
              f"({time.perf_counter() - start:.1f} s)")
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
