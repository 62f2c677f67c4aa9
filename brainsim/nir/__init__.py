"""Model exchange through NIR, the Neuromorphic Intermediate Representation.

`to_nir` writes a trained `brainsim.train.Sequential`, a `brainsim.Network` of LIF populations
or an imported `NIRModel` as an `nir.NIRGraph`; `from_nir` reads a graph (from brainsim,
snnTorch, Norse, Spyx, ..., convolution and pooling nodes included) into a `NIRModel` that
runs with `brainsim.run` and works under `jax.jit`, `jax.vmap` and `jax.grad`. NIR's equations
are continuous in time and carry no units: brainsim reads time in units of `time_unit` ms
(seconds by default), potentials in mV, currents in pA. See `docs/nir.md` for the mapping of
every node and the discretisation of each framework. Needs the `nir` package:
`pip install "brainsim[nir]"`.
"""

from brainsim.nir._export import to_nir
from brainsim.nir._model import NIRModel, from_nir

__all__ = ["to_nir", "from_nir", "NIRModel"]
