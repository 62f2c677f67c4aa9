"""`brainsim.sweep`: equal to a loop over the points, chunked and padded correctly, spread over
devices, converted for plotting, and loud about bad input; `firing_statistics` against the
host computation from recorded spikes."""

import os
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs


def polynomial(offset, *, a, b):
    return {"value": a * b + offset, "both": jnp.stack([a, b])}


@pytest.fixture(scope="module")
def coba():
    network, inputs = bs.benchmarks.coba(jax.random.key(0), n=200)
    return network, network.init(jax.random.key(1)), inputs


def coba_point(network, state, inputs, *, w_e, w_i):
    """COBA with its excitatory and inhibitory weights (units of the leak) set to w_e, w_i."""
    network = eqx.tree_at(
        lambda net: [p.conn.weights for p in net.projections],
        network,
        [w_e if p.pre == "E" else w_i for p in network.projections],
    )
    return bs.firing_statistics(network, state, inputs=inputs, dt=0.1, duration=50.0,
                                spikes=["E.spikes", "I.spikes"])  # fmt: skip


def test_grid_is_the_cartesian_product_with_the_last_axis_fastest():
    points = bs.grid(a=[1.0, 2.0], b=[10.0, 20.0, 30.0])
    assert points.shape == (2, 3) and list(points) == ["a", "b"]
    assert points["a"].tolist() == [1, 1, 1, 2, 2, 2]
    assert points["b"].tolist() == [10, 20, 30, 10, 20, 30]


def test_sweep_equals_a_python_loop_and_drops_the_padding_of_the_last_chunk():
    a = np.linspace(0.0, 1.0, 7)
    b = np.arange(7.0)
    result = bs.sweep(polynomial, {"a": a, "b": b}, 0.5, chunk_size=3, progress=False)
    assert result.chunk_size == 3 and len(result) == 7
    np.testing.assert_allclose(result["value"], a * b + 0.5, rtol=1e-6)
    np.testing.assert_array_equal(result["both"], np.stack([a, b], 1).astype(np.float32))
    np.testing.assert_array_equal(result.params["a"], a)


def test_points_per_call_keep_the_working_memory_near_the_cache_size_and_the_budget():
    def sized(x):
        return {"filled": jnp.full(10_000, x)}  # 40 kB per point

    x = np.arange(10.0)
    by_cache = bs.sweep(sized, {"x": x}, devices=1, progress=False)
    assert by_cache.chunk_size == 5  # 6 would fit 256 kB; 2 equal calls of 5
    by_budget = bs.sweep(sized, {"x": x}, devices=1, memory_budget=100_000, progress=False)
    assert by_budget.chunk_size == 2  # 5 equal calls of 80 kB
    big = bs.sweep(lambda x: jnp.full(1_000_000, x), {"x": x}, devices=1, progress=False)
    assert big.chunk_size == 1  # 4 MB per point: one at a time
    for result in (by_cache, by_budget):
        np.testing.assert_array_equal(result["filled"][:, -1], x)


def test_outputs_reshape_onto_the_grid_and_convert_to_pandas():
    result = bs.sweep(polynomial, bs.grid(a=[1.0, 2.0, 3.0], b=[10.0, 20.0]), 0.0,
                      progress=False)  # fmt: skip
    grid = result.reshape_grid()
    assert grid["value"].shape == (3, 2) and grid["both"].shape == (3, 2, 2)
    np.testing.assert_allclose(grid["value"], np.outer([1, 2, 3], [10, 20]))
    frame = result.to_pandas()
    assert frame.columns.tolist() == ["a", "b", "value"]  # `both` has two values per point
    np.testing.assert_allclose(frame["value"], result["value"])


def test_to_xarray_without_xarray_says_how_to_install_it():
    pytest.importorskip("pandas")
    try:
        import xarray  # noqa: F401
    except ImportError:
        result = bs.sweep(polynomial, {"a": [1.0], "b": [2.0]}, 0.0, progress=False)
        with pytest.raises(ImportError, match="pip install xarray"):
            result.to_xarray()
    else:
        result = bs.sweep(polynomial, bs.grid(a=[1.0, 2.0], b=[3.0]), 0.0, progress=False)
        assert result.to_xarray()["value"].dims == ("a", "b")


def test_coba_sweep_equals_single_runs_with_rates_and_cv_from_recorded_spikes(coba):
    network, state, inputs = coba
    points = {"w_e": [0.3, 0.6, 0.9], "w_i": [6.7, 6.7, 3.0]}
    result = bs.sweep(coba_point, points, network, state, inputs, chunk_size=2, progress=False)
    assert result.chunk_size == 2  # 3 points: the second call is padded
    for k, (w_e, w_i) in enumerate(zip(points["w_e"], points["w_i"], strict=True)):
        net = eqx.tree_at(
            lambda n: [p.conn.weights for p in n.projections],
            network,
            [jnp.float32(w_e if p.pre == "E" else w_i) for p in network.projections],
        )
        run = bs.run(net, state, inputs=inputs, dt=0.1, duration=50.0,
                     record=["E.spikes", "I.spikes"], progress=False)  # fmt: skip
        for name in ("E", "I"):
            events = run.spikes[f"{name}.spikes"]
            # Same float32 arithmetic in the batched kernel: the same spikes, so rates agree
            # exactly and CVs to the rounding of two different summation orders.
            assert result[f"rate_{name}"][k] == pytest.approx(len(events) / events.n / 0.05)
            trains = [t for t in events.trains() if len(t) >= 3]
            cv = (
                np.mean([np.std(np.diff(t)) / np.mean(np.diff(t)) for t in trains])
                if trains
                else np.nan
            )
            np.testing.assert_allclose(result[f"cv_{name}"][k], cv, rtol=1e-4)


def test_two_cpu_devices_share_the_points_and_give_the_loop_s_results():
    script = textwrap.dedent(
        """
        import jax, numpy as np, brainsim as bs
        assert len(jax.devices()) == 2
        lif = bs.neurons.LIF(R=0.1)
        def rate(current):
            return bs.firing_statistics(lif, lif.init(3), inputs=current, dt=0.1, duration=50.0)
        currents = np.array([150.0, 200.0, 250.0, 300.0, 350.0])
        result = bs.sweep(rate, {"current": currents}, progress=False)
        loop = [float(jax.jit(rate)(c)["rate"]) for c in currents]
        assert result.devices == 2 and result.chunk_size == 3, (result.devices, result.chunk_size)
        np.testing.assert_array_equal(result["rate"], loop)
        print("ok")
        """
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env=env, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["ok"]


def test_sweep_example_prints_the_table_and_writes_the_heatmaps(run_example):
    out = run_example("sweep_coba", "--n", 200, "--duration", 50, "--points", 2, "--cores", 1)
    assert "4 points of 200 neurons" in out and "rate_E" in out


def test_use_cpu_cores_gives_one_cpu_device_per_core():
    script = "import brainsim as bs, jax; print(len(bs.use_cpu_cores(1)), len(jax.devices()))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    assert out.stdout.split() == ["1", "1"]


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"a": [1.0], "b": [1.0], "c": [1.0]}, ValueError, r"unknown parameter name\(s\) \['c'\]"),
        ({"a": [1.0, 2.0], "b": [1.0]}, ValueError, "lengths differ.*a: 2, b: 1"),
        ({"a": [1.0, np.nan], "b": [1.0, 2.0]}, ValueError, "'a' holds nan at point 1"),
        ({"a": [], "b": []}, ValueError, "no points"),
        ({}, ValueError, "empty"),
        ({"a": 1.0, "b": [1.0]}, ValueError, "'a' is a scalar"),
        ({"a": ["x"], "b": [1.0]}, TypeError, "'a' must hold numbers"),
        ({"a": [1.0]}, TypeError, "cannot be called"),
        ([1.0, 2.0], TypeError, "must be a mapping"),
    ],
)
def test_bad_points_are_named(params, error, match):
    with pytest.raises(error, match=match):
        bs.sweep(polynomial, params, 0.0, progress=False)


def test_bad_grids_options_and_outputs_are_named():
    with pytest.raises(ValueError, match="'b' holds inf"):
        bs.grid(a=[1.0], b=[np.inf])
    with pytest.raises(ValueError, match="axis 'a' must be a non-empty 1-d"):
        bs.grid(a=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="`chunk_size` must be a positive int"):
        bs.sweep(polynomial, {"a": [1.0], "b": [1.0]}, 0.0, chunk_size=0)
    with pytest.raises(ValueError, match="`devices` = 9"):
        bs.sweep(polynomial, {"a": [1.0], "b": [1.0]}, 0.0, devices=9)
    with pytest.raises(TypeError, match="must return an array or a dict"):
        bs.sweep(lambda a: "text", {"a": [1.0]}, progress=False)
    result = bs.sweep(polynomial, {"a": [1.0], "b": [1.0]}, 0.0, progress=False)
    with pytest.raises(ValueError, match="reshape_grid needs"):
        result.reshape_grid()
    with pytest.raises(KeyError, match="neither an output"):
        result["missing"]
