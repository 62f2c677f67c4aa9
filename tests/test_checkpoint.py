"""save_state / load_state: bit-exact round trips (random keys included) and clear errors."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim._checkpoint import load_state, save_state


def state_with_keys():
    source = bs.neurons.PoissonSource(rate=50.0)
    lif = bs.neurons.LIF()
    return {
        "P": source.init(4, key=jax.random.key(3)),
        "E": lif.init(3)._replace(v=jnp.array([-65.0, -52.123457, 1e-30])),
        "keys": jax.random.split(jax.random.key(7), 5),
        "step": jnp.int32(12),
    }


def test_round_trip_is_bit_exact_and_random_streams_continue(tmp_path):
    state = state_with_keys()
    path = save_state(tmp_path / "state", state, t=1.2, step=12, dt=0.1, metadata={"a": [1]})
    assert path.name == "state.npz" and not list(tmp_path.glob("*.partial"))
    saved = load_state(path, like=jax.tree.map(jnp.zeros_like, state), dt=0.1)
    assert (saved.t, saved.step, saved.dt, saved.metadata) == (1.2, 12, 0.1, {"a": [1]})
    assert jax.tree.structure(saved.state) == jax.tree.structure(state)
    np.testing.assert_array_equal(saved.state["E"].v, state["E"].v)
    source = bs.neurons.PoissonSource(rate=500.0)
    _, drawn = source.step(saved.state["P"], t=0.0, dt=0.1)
    _, expected = source.step(state["P"], t=0.0, dt=0.1)
    np.testing.assert_array_equal(drawn, expected)
    np.testing.assert_array_equal(
        jax.random.key_data(saved.state["keys"]), jax.random.key_data(state["keys"])
    )


def test_float64_state_stays_float64(tmp_path, x64):
    state = {"v": jnp.array([1.0 / 3.0])}
    saved = load_state(save_state(tmp_path / "s.npz", state), like=state)
    assert saved.state["v"].dtype == jnp.float64
    assert saved.state["v"][0] == 1.0 / 3.0


def test_the_file_reads_with_numpy_alone(tmp_path):
    path = save_state(tmp_path / "s.npz", state_with_keys(), t=2.0)
    with np.load(path) as data:
        header = json.loads(str(data["__brainsim__"]))
        assert data["['E'].v"].dtype == np.float32
        assert data["['keys']"].shape == (5, 2)  # raw threefry key data
    assert header["format"] == "brainsim.state" and header["t"] == 2.0
    impls = {leaf["path"]: leaf["key_impl"] for leaf in header["leaves"]}
    assert impls["['keys']"] == "threefry2x32" and impls["['E'].v"] is None


def test_mismatched_structure_names_the_leaf(tmp_path):
    path = save_state(tmp_path / "s.npz", state_with_keys())
    other = state_with_keys()
    other["E"] = other["E"]._replace(v=jnp.zeros(4))
    with pytest.raises(ValueError, match=r"\['E'\]\.v: saved with shape \(3,\)"):
        load_state(path, like=other)
    del other["keys"]
    with pytest.raises(ValueError, match=r"not in `like` \[\"\['keys'\]\"\]"):
        load_state(path, like=other)
    with pytest.raises(ValueError, match="random key"):
        load_state(path, like={**state_with_keys(), "keys": jnp.zeros((5, 2), jnp.uint32)})


def test_another_dt_missing_file_and_foreign_file_raise(tmp_path):
    path = save_state(tmp_path / "s.npz", state_with_keys(), dt=0.1)
    with pytest.raises(ValueError, match="dt = 0.1 ms"):
        load_state(path, dt=0.05)
    with pytest.raises(FileNotFoundError, match="no saved state"):
        load_state(tmp_path / "missing.npz")
    np.savez(tmp_path / "foreign.npz", v=np.zeros(3))
    with pytest.raises(ValueError, match="not a brainsim state file"):
        load_state(tmp_path / "foreign.npz")
