"""brainsim_ops.spatial layers, masks and kernels: coordinates, bad input named in the error,
and the docstring examples."""

import doctest
import pathlib

import jax
import numpy as np
import pytest

from brainsim_ops import spatial
from brainsim_ops.spatial import _connect, _delays, _kernels, _layers, _masks, _rules

LAYER = spatial.grid((10, 10), extent=(1.0, 1.0), periodic=True)
KEY = jax.random.key(0)


def test_grid_puts_neurons_at_cell_centers_in_c_order():
    layer = spatial.grid((2, 3), extent=(2.0, 3.0), center=(0.0, 0.0))
    assert layer.n == 6 and layer.dim == 2
    np.testing.assert_allclose(layer.positions[1], [-0.5, 0.0])
    np.testing.assert_allclose(layer.positions[5], [0.5, 1.0])


def test_random_layer_is_uniform_in_its_region_and_reproducible():
    a = spatial.random(jax.random.key(0), 20_000, extent=(2.0, 1.0), center=(1.0, 0.0))
    b = spatial.random(jax.random.key(0), 20_000, extent=(2.0, 1.0), center=(1.0, 0.0))
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.positions[:, 0].min() >= 0 and a.positions[:, 0].max() <= 2
    # mean of a uniform on [0, 2]: 1, standard error 2 / sqrt(12 · 20000) ≈ 0.004
    assert abs(a.positions[:, 0].mean() - 1.0) < 0.02


def test_free_layer_defaults_to_the_bounding_box():
    layer = spatial.free([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(layer.center, [1.0, 2.0])
    np.testing.assert_allclose(layer.extent, [2.02, 2.02])


def test_empty_populations_give_empty_connections():
    none = np.zeros((0, 2))
    some = spatial.grid((3, 3))
    for rule in (spatial.PairwiseBernoulli(0.5), spatial.FixedOutDegree(2),
                 spatial.FixedTotalNumber(0)):
        c = spatial.connect(KEY, none, some, rule)
        assert (c.conn.n_pre, c.conn.n_post, c.conn.n_syn) == (0, 9, 0)
    with pytest.raises(ValueError, match="fewer than 2"):
        spatial.connect(KEY, none, some, spatial.FixedInDegree(2))


def test_periodic_displacement_is_the_shortest_one():
    layer = spatial.grid((4, 4), extent=(1.0, 1.0), periodic=True)
    d = layer.displacement(np.array([[0.05, 0.05]]), np.array([[0.95, 0.5]]))
    np.testing.assert_allclose(d, [[-0.1, 0.45]])


def test_kernels_take_their_published_form():
    d = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(spatial.Gaussian(sigma=2.0, amplitude=0.5)(d),
                               0.5 * np.exp(-(d**2) / 8))
    np.testing.assert_allclose(spatial.Exponential(scale=2.0)(d), np.exp(-d / 2))
    np.testing.assert_allclose(spatial.Linear(intercept=0.5, slope=-0.4)(d), [0.5, 0.1, 0.0])


@pytest.mark.parametrize(("make", "match"), [
    (lambda: spatial.Layer(np.array([[0.5, 1.2]]), (1.0, 1.0), (0.5, 0.5)),
     r"position 0 \(0.5, 1.2\) lies outside the layer"),
    (lambda: spatial.grid((3, 0)), "shape"),
    (lambda: spatial.grid((3, 3), extent=(1.0, -1.0)), "extent"),
    (lambda: spatial.random(jax.random.key(0), 10, extent=(1.0, 1.0, 1.0, 1.0)), "3-D"),
    (lambda: spatial.free([[0.0, 0.0]], periodic=True), "periodic layer needs its `extent`"),
    (lambda: spatial.Gaussian(sigma=-0.1), "`sigma` must be a finite number > 0"),
    (lambda: spatial.Exponential(scale=0.0), "`scale`"),
    (lambda: spatial.Circular(radius=-1.0), "`radius`"),
    (lambda: spatial.Annulus(0.3, 0.2), "`inner_radius`"),
    (lambda: spatial.Rectangular((0.0, 0.0), (1.0, -1.0)), "upper_right"),
    (lambda: spatial.Box((0.0, 0.0), (1.0, 1.0)), "lower_left"),
    (lambda: spatial.PairwiseBernoulli(1.5), "probability in"),
    (lambda: spatial.FixedInDegree(-1), "`k`"),
])
def test_bad_layers_kernels_masks_and_rules_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"rule": spatial.PairwiseBernoulli(spatial.Gaussian(0.1, amplitude=1.3))}, ValueError,
     r"`p` gives 1.3 at distance 0"),
    ({"rule": spatial.PairwiseBernoulli(lambda d: 1.0 - 2 * d)}, ValueError,
     r"`p` gives -.* must be in \[0, 1\]"),
    ({"rule": spatial.PairwiseBernoulli(lambda d: d[:1])}, ValueError, "same shape"),
    ({"rule": spatial.FixedInDegree(30), "mask": spatial.Circular(0.05),
      "allow_autapses": False}, ValueError,
     r"postsynaptic neuron 0 has fewer than 30 presynaptic partners"),
    ({"rule": spatial.FixedOutDegree(30), "mask": spatial.Circular(0.15),
      "allow_multapses": False}, ValueError, "fewer than 30 distinct"),
    ({"rule": spatial.FixedTotalNumber(10, spatial.Gaussian(0.1)),
      "allow_multapses": False}, ValueError, "constant `p`"),
    ({"rule": spatial.FixedTotalNumber(10**6), "allow_multapses": False}, ValueError,
     "exceeds"),
    ({"rule": spatial.PairwiseBernoulli(0.5, symmetric=True)}, ValueError,
     "allow_autapses=False"),
    ({"rule": spatial.PairwiseBernoulli(0.5), "mask": spatial.Box((0, 0, 0), (1, 1, 1))},
     ValueError, "Box mask is 3-D but the layers are 2-D"),
    ({"rule": spatial.PairwiseBernoulli(0.5), "mask": 0.3}, TypeError, "`mask`"),
    ({"rule": "pairwise_bernoulli"}, TypeError, "`rule`"),
    ({"rule": spatial.PairwiseBernoulli(0.5), "delays": lambda d: d - 1.0},
     ValueError, "`delays` gives -1 ms at distance 0"),
])
def test_bad_connect_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        spatial.connect(KEY, LAYER, LAYER, **kwargs)


def test_layers_that_do_not_share_a_region_are_rejected():
    other = spatial.grid((10, 10), extent=(2.0, 2.0), periodic=True)
    with pytest.raises(ValueError, match="same `extent`"):
        spatial.connect(KEY, LAYER, other, spatial.PairwiseBernoulli(0.1))
    with pytest.raises(ValueError, match="same dimension"):
        spatial.connect(KEY, LAYER, spatial.grid((3, 3, 3)), spatial.PairwiseBernoulli(0.1))
    with pytest.raises(TypeError, match="jax.random key"):
        spatial.connect(0, LAYER, LAYER, spatial.PairwiseBernoulli(0.1))
    with pytest.raises(ValueError, match="no delays"):
        spatial.connect(KEY, LAYER, LAYER, spatial.PairwiseBernoulli(0.1)).delay_steps(0.1)


@pytest.mark.parametrize("module", [spatial, _connect, _delays, _kernels, _layers, _masks,
                                    _rules])
def test_docstring_examples_run(module):
    globs = {"jax": jax, "np": np, **{name: getattr(spatial, name) for name in spatial.__all__}}
    result = doctest.testmod(module, globs=globs, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_public_name_has_an_entry_and_a_docstring_in_docs_spatial():
    docs = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "spatial.md").read_text()
    for name in spatial.__all__:
        assert f"::: brainsim_ops.spatial.{name}\n" in docs, name
        assert getattr(spatial, name).__doc__.strip(), name
