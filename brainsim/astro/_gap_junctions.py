"""Gap-junction IP3 exchange between astrocytes, and the usual astrocyte topologies."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from brainsim._validation import as_param, check_positive
from brainsim.astro._base import check_astrocyte_population
from brainsim.astro._gchi import AstrocyteDrive


def _edge_arrays(pre, post, n: int) -> tuple[np.ndarray, np.ndarray]:
    pre, post = np.asarray(pre), np.asarray(post)
    for name, arr in (("pre", pre), ("post", post)):
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"edge `{name}` indices must be a 1-D integer array, got {arr!r}.")
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValueError(f"edge `{name}` indices must lie in [0, {n}), got {arr.min()}..."
                             f"{arr.max()}.")  # fmt: skip
    if pre.shape != post.shape:
        raise ValueError(f"`pre` and `post` must have the same length, got {pre.size} and "
                         f"{post.size}.")  # fmt: skip
    if np.any(pre == post):
        raise ValueError("a gap junction cannot connect an astrocyte to itself.")
    return pre.astype(np.int32), post.astype(np.int32)


def ring_edges(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges of a ring of `n` cells: each cell to both neighbours (2n edges)."""
    if not isinstance(n, int) or n < 3:
        raise ValueError(f"a ring needs an int `n` >= 3, got {n!r}.")
    i = np.arange(n)
    return np.concatenate([i, i]), np.concatenate([(i + 1) % n, (i - 1) % n])


def lattice_edges(
    positions: Float[np.ndarray, "n d"], max_distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges between all pairs of distinct cells closer than `max_distance`.

    Args:
        positions: cell positions (µm), shape `(n, d)`.
        max_distance: cut-off (µm, > 0); pairs at a distance `< max_distance` are coupled.
    """
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2:
        raise ValueError(f"`positions` must have shape (n, d), got {pos.shape}.")
    if not np.isfinite(max_distance) or max_distance <= 0:
        raise ValueError(f"`max_distance` must be a positive distance in µm, got {max_distance}.")
    pre, post = [], []
    for start in range(0, len(pos), 1024):  # blocks bound the memory of the distance matrix
        block = pos[start : start + 1024]
        dist = np.sqrt(((block[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
        i, j = np.nonzero(dist < max_distance)
        keep = i + start != j
        pre.append(i[keep] + start)
        post.append(j[keep])
    return np.concatenate(pre), np.concatenate(post)


class GapJunctions(eqx.Module):
    """IP3 diffusion through gap junctions between the astrocytes of one population.

    For each directed edge `j → i` the flux into cell `i` is
    `−(F/2)[1 + tanh((|I_i − I_j| − I_Θ)/ω_I)] sign(I_i − I_j)` (µM/s): a thresholded,
    saturating exchange (Goldberg et al. 2010; Stimberg et al. 2019). Give each pair in both
    directions for symmetric coupling (`ring_edges` and `lattice_edges` do). The flux is
    computed from IP3 at the start of the step and held over it, as Brian2's summed variables.

    Used as a coupling of a `Network` (`couplings=[GapJunctions("A", pre, post)]`) or directly
    through `flux(I)`.

    Args:
        population: name of the astrocyte population in the `Network`.
        pre (Int[Array, 'k']): source astrocyte of each edge (index), 1-D integer array.
        post (Int[Array, 'k']): target astrocyte of each edge (index), as long as `pre`.
        n: number of astrocytes (default: inferred by the `Network`; required for `flux`
            otherwise: `max(pre, post) + 1`).
        F (float): maximal flux (µM/s, >= 0).
        I_Theta (float): threshold gradient (µM).
        omega_I (float): scale (µM).

    Examples:
        >>> import jax.numpy as jnp, brainsim as bs
        >>> pre, post = bs.astro.ring_edges(50)
        >>> gj = bs.astro.GapJunctions("A", pre, post, n=50, F=0.09)
        >>> gj.flux(jnp.linspace(0.0, 1.0, 50)).shape
        (50,)
    """

    population: str = eqx.field(static=True)
    pre: Int[Array, " e"]
    post: Int[Array, " e"]
    n: int = eqx.field(static=True)
    F: Float[Array, ""] = eqx.field(converter=as_param)
    I_Theta: Float[Array, ""] = eqx.field(converter=as_param)
    omega_I: Float[Array, ""] = eqx.field(converter=as_param)

    def __init__(self, population: str, pre, post, *, n: int | None = None, F=0.09,
                 I_Theta=0.3, omega_I=0.05):  # fmt: skip
        if not isinstance(population, str) or not population:
            raise TypeError(f"`population` must be a population name, got {population!r}.")
        bound = int(max(np.max(pre, initial=-1), np.max(post, initial=-1))) + 1
        n = bound if n is None else n
        if not isinstance(n, int) or n < bound or n <= 0:
            raise ValueError(f"`n` must be an int >= {max(bound, 1)} (the largest index + 1), "
                             f"got {n!r}.")  # fmt: skip
        pre, post = _edge_arrays(pre, post, n)
        self.population, self.n = population, n
        self.pre, self.post = jnp.asarray(pre), jnp.asarray(post)
        self.F, self.I_Theta, self.omega_I = F, I_Theta, omega_I

    def __check_init__(self):
        check_positive("F", self.F, allow_zero=True)
        check_positive("I_Theta", self.I_Theta, allow_zero=True)
        check_positive("omega_I", self.omega_I)

    @property
    def target(self) -> str:
        """The population that receives the flux (the coupled population itself)."""
        return self.population

    def check(self, models: dict, sizes: dict) -> None:
        """Raise unless the population exists, is an astrocyte population and has `n` cells."""
        check_astrocyte_population(self.population, models, "GapJunctions")
        if sizes[self.population] != self.n:
            raise ValueError(f"GapJunctions: edges index {self.n} astrocytes, but population "
                             f"{self.population!r} has {sizes[self.population]}.")  # fmt: skip

    def flux(self, I: Float[Array, " n"]) -> Float[Array, " n"]:
        """Net gap-junction IP3 flux into each cell (µM/s) for IP3 levels `I` (µM)."""
        delta = I[self.post] - I[self.pre]
        edge = -self.F / 2 * (1 + jnp.tanh((jnp.abs(delta) - self.I_Theta) / self.omega_I))
        edge = edge * jnp.sign(delta)
        return jnp.zeros(I.shape[-1:], edge.dtype).at[self.post].add(edge)

    def drive(self, state: dict) -> AstrocyteDrive:
        """The input of the coupled population in a `Network` with state `state`."""
        return AstrocyteDrive(J_coupling=self.flux(state[self.population].I))
