"""Spatial connectivity: layers of positioned neurons, masks, distance kernels and rules.

One builder, :func:`connect`, draws a projection between two :class:`Layer` s by a rule of the
connectivity-concepts reference (Senk et al. 2022): pairwise Bernoulli (optionally symmetric),
fixed in-degree, fixed out-degree or fixed total number, with autapse and multapse control,
restricted to a mask and shaped by a distance kernel; weights and delays (ms) may be kernels of
distance too. Layers come from :func:`grid`, :func:`random` or :func:`free`, in 1 to 3
dimensions, optionally periodic. The build is reproducible from a ``jax.random`` key and never
materialises an ``n_pre x n_post`` array.

Examples:
    >>> import jax
    >>> from brainsim_ops import spatial
    >>> layer = spatial.grid((40, 40), extent=(1.0, 1.0), periodic=True)
    >>> c = spatial.connect(jax.random.key(0), layer, layer,
    ...                     spatial.PairwiseBernoulli(spatial.Gaussian(sigma=0.1, amplitude=0.6)),
    ...                     mask=spatial.Circular(0.3), allow_autapses=False)
    >>> c.conn.n_pre, bool(c.distance.max() <= 0.3)
    (1600, True)
"""

from ._connect import SpatialConnection, connect
from ._delays import delay_steps
from ._kernels import Exponential, Gaussian, Linear
from ._layers import Layer, free, grid, random
from ._masks import Annulus, Box, Circular, Rectangular
from ._rules import FixedInDegree, FixedOutDegree, FixedTotalNumber, PairwiseBernoulli

__all__ = [
    "Annulus",
    "Box",
    "Circular",
    "Exponential",
    "FixedInDegree",
    "FixedOutDegree",
    "FixedTotalNumber",
    "Gaussian",
    "Layer",
    "Linear",
    "PairwiseBernoulli",
    "Rectangular",
    "SpatialConnection",
    "connect",
    "delay_steps",
    "free",
    "grid",
    "random",
]
