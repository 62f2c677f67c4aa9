"""Gap junctions: electrical synapses between the neurons of one population of a `Network`."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import expm
from jax.scipy.sparse.linalg import cg
from jaxtyping import Array, Float, Int

from brainsim._validation import as_param, check_positive
from brainsim.neurons._base import Drive


def membrane_capacitance(model) -> Float[Array, "*n"]:
    """The membrane capacitance (pF) of a neuron model: its `C`, or `tau_m / R` for models
    written with a membrane time constant and resistance (`LIF`, `ALIF`, `ExpIF`: ms / GΩ = pF),
    or 1 for the dimensionless Izhikevich model (its input enters `dv/dt` directly).

    Raises a TypeError for models without a membrane potential driven by an input current."""
    if hasattr(model, "C"):
        return jnp.asarray(model.C)
    if hasattr(model, "tau_m") and hasattr(model, "R"):
        return jnp.asarray(model.tau_m) / jnp.asarray(model.R)
    if type(model).__name__ == "Izhikevich":
        return jnp.ones(())
    raise TypeError(
        f"gap junctions need a membrane capacitance: {type(model).__name__} has no `C` and no "
        "`tau_m` and `R`."
    )


class GapJunctionState(NamedTuple):
    """The half-step propagator of `GapJunctions(method="exact", dt=...)`, built by
    `Network.init` from `g` and the capacitances `C`, which it keeps to detect a change."""

    P: Float[Array, "n n"]
    g: Float[Array, "*e"]
    C: Float[Array, " n"]


class GapJunctions(eqx.Module):
    r"""Gap junctions (electrical synapses) between the neurons of one population.

    Junction `e` joins neuron `pre[e]` to neuron `post[e]` with conductance `g[e]` (nS). It
    carries the current

        I_e = g_e · o_e · (v_pre − v_post)          (pA, into `post`; `pre` loses as much)

    with `o_e = 1` for symmetric junctions (current flows both ways; give each pair once) and,
    with `rectifying=True`, `o_e = H(v_pre − v_post)`: an ideal rectifier that passes current
    only from `pre` to `post`, when `pre` is the more depolarised (the rectifying electrical
    synapse of the crayfish giant motor synapse, Furshpan & Potter 1959; with the junction open
    it is a conductance `g_e`, with it closed none). Summed over junctions, the population obeys

        C_i dv_i/dt = (membrane and synaptic currents) − Σ_j L_ij v_j,
        L = Σ_e g_e o_e (u_pre − u_post)(u_pre − u_post)ᵀ   (a weighted graph Laplacian, nS)

    How the coupling is integrated within a step of `dt` (`method`):

    - `"exact"` (default): Strang operator splitting. The linear coupling `C dv/dt = −L v` is
      advanced over `dt/2` exactly (`v ← expm(−(dt/2) C⁻¹L) v`, a dense matrix exponential),
      then the neurons take their own step, then the coupling another `dt/2`. No stability
      limit however strong the junctions; the splitting error is second order in `dt` (and
      zero when membrane and coupling commute: identical passive cells with equal drives), so
      the step's accuracy is that of the neuron's integrator. The propagator depends on `g`, `C` and
      `dt` only: given `dt`, `Network.init` builds it once (`O(n³)`) and keeps it in the
      state (`state["couplings"]`), so that a step costs `O(n²)` and a gradient flows to `g`
      through one matrix exponential; a step with another `dt`, or `g` or `C` changed since
      `init`, raises instead of using a stale propagator. Without `dt` (and for rectifying
      junctions, whose `L` changes with `o_e`, taken at the start of each half-step) it is
      rebuilt every half-step (`O(n³)`). For small and medium `n` (`n <= 4096`).
    - `"implicit"`: the same splitting with a backward-Euler half-step
      `(C + (dt/2) L) v' = C v`, solved matrix-free by conjugate gradients over the junction
      list (`O(junctions)` per iteration, no dense matrix): first order, L-stable (strongly
      coupled cells equalise instead of ringing), for large sparse networks. Gradients go
      through the solve by implicit differentiation (`jax.lax.custom_linear_solve`).
    - `"explicit"`: the junction currents are computed from the potentials at the start of the
      step and added to the neurons' input current (Brian2's `(summed)` variable). First
      order; stable only while `dt · λ_max(C⁻¹L) < 2` (for a pair, `dt < C / g`).

    Used as a coupling of a `Network`: `Network(..., couplings=[GapJunctions("I", pre, post,
    g=5.0)])`. The neuron model must have a capacitance (`C`, or `tau_m` and `R`: see
    `membrane_capacitance`) and a state with `v`. Junctions run at the run's `dt` (a population
    on a slower clock cannot have them).

    Args:
        population: name of the coupled population.
        pre (ArrayLike): first end point of each junction (neuron indices), a 1-D integer
            array. Symmetric junctions: each pair once (giving it in both directions doubles
            it).
        post (ArrayLike): second end point of each junction, as `pre` and of its length.
        g (float | ArrayLike): conductance (nS, >= 0): a scalar or one per junction. Differentiable.
        rectifying: make every junction an ideal rectifier from `pre` to `post`.
        method: `"exact"`, `"implicit"` or `"explicit"` (see above).
        tol: relative residual at which the conjugate-gradient solve of `"implicit"` stops.
        maxiter: most conjugate-gradient iterations per half-step (`"implicit"`).
        dt: the run's time step (ms), for `"exact"`: the propagator is then built once, by
            `Network.init`, instead of at every step.

    Examples:
        >>> import jax, brainsim as bs
        >>> cell = bs.neurons.TraubHH()
        >>> gj = bs.network.GapJunctions("I", pre=[0], post=[1], g=50.0, dt=0.01)
        >>> net = bs.Network({"I": (cell, 2)}, couplings=[gj])
        >>> result = bs.run(net, net.init(), inputs={"I": jax.numpy.array([300.0, 0.0])},
        ...                 duration=20.0, dt=0.01, record=["I.v"])

    References: Furshpan & Potter (1959), J. Physiol. 145:289 (rectification); Bennett & Zukin
    (2004), Neuron 41:495 (electrical synapses); Hahne et al. (2015), Front. Neuroinform. 9:22
    (NEST's waveform relaxation); Strang (1968), SIAM J. Numer. Anal. 5:506 (splitting).
    """

    METHODS: ClassVar[tuple[str, ...]] = ("exact", "implicit", "explicit")
    MAX_DENSE: ClassVar[int] = 4096

    population: str = eqx.field(static=True)
    pre: Int[Array, " e"]
    post: Int[Array, " e"]
    g: Float[Array, "*e"]
    rectifying: bool = eqx.field(static=True)
    method: str = eqx.field(static=True)
    tol: float = eqx.field(static=True)
    maxiter: int = eqx.field(static=True)
    min_size: int = eqx.field(static=True)
    dt: float | None = eqx.field(static=True)

    def __init__(self, population: str, pre, post, g=1.0, *, rectifying: bool = False,
                 method: str = "exact", tol: float = 1e-6, maxiter: int = 200,
                 dt: float | None = None):  # fmt: skip
        if not isinstance(population, str) or not population:
            raise TypeError(f"`population` must be a population name, got {population!r}.")
        if method not in self.METHODS:
            raise ValueError(f"`method` must be one of {self.METHODS}, got {method!r}.")
        if not isinstance(rectifying, bool):
            raise TypeError(f"`rectifying` must be True or False, got {rectifying!r}.")
        if not (isinstance(tol, float) and 0.0 < tol < 1.0):
            raise ValueError(f"`tol` must be a float in (0, 1), got {tol!r}.")
        if not (isinstance(maxiter, int) and maxiter >= 1):
            raise ValueError(f"`maxiter` must be a positive int, got {maxiter!r}.")
        if dt is not None and not (isinstance(dt, int | float) and np.isfinite(dt) and dt > 0):
            raise ValueError(f"`dt` must be a positive time step in ms, got {dt!r}.")
        self.dt = None if dt is None else float(dt)
        pre_a, post_a = _edges(pre, post)
        self.min_size = int(max(pre_a.max(initial=-1), post_a.max(initial=-1))) + 1
        pre_a, post_a = jnp.asarray(pre_a), jnp.asarray(post_a)
        g = as_param(g)
        if g.ndim > 1 or (g.ndim == 1 and g.shape[0] != pre_a.size):
            raise ValueError(
                f"`g` must be a scalar or one conductance per junction (shape ({pre_a.size},)), "
                f"got shape {g.shape}."
            )
        self.population, self.pre, self.post, self.g = population, pre_a, post_a, g
        self.rectifying, self.method, self.tol, self.maxiter = rectifying, method, tol, maxiter

    def __check_init__(self):
        check_positive("g", self.g, allow_zero=True)

    @property
    def target(self) -> str:
        """The population that the junctions couple."""
        return self.population

    @property
    def splits_step(self) -> bool:
        """True when `Network.step` advances the coupling around the neurons' step
        (`"exact"`, `"implicit"`); False when it is an input current (`"explicit"`)."""
        return self.method != "explicit"

    def check(self, models: dict, sizes: dict) -> None:
        """Raise, when the network is built, unless the population has a membrane potential
        and a capacitance and is large enough for the junctions."""
        name = self.population
        model, n = models[name], sizes[name]
        try:
            capacitance = membrane_capacitance(model)
        except TypeError as error:
            raise TypeError(f"GapJunctions on population {name!r}: {error}") from None
        state = jax.eval_shape(lambda: model.init(n))
        if getattr(state, "v", None) is None or not hasattr(state, "_replace"):
            raise TypeError(
                f"GapJunctions: population {name!r} ({type(model).__name__}) has no membrane "
                "potential `v` in its state."
            )
        check_positive(f"capacitance of population {name!r}", capacitance)
        if self.min_size > n:
            raise ValueError(
                f"GapJunctions: junctions index neuron {self.min_size - 1}, but population "
                f"{name!r} has {n} neurons."
            )
        if self.method == "exact" and n > self.MAX_DENSE:
            raise ValueError(
                f"GapJunctions: method='exact' builds a dense {n}×{n} propagator; for a "
                f"population of more than {self.MAX_DENSE} neurons use method='implicit'."
            )

    # --- the coupling itself -----------------------------------------------------------------

    def conductances(self, v: Float[Array, " n"]) -> Float[Array, " e"]:
        """Conductance (nS) of each junction at potentials `v` (mV): `g`, or for rectifying
        junctions `g` where `v_pre > v_post` and 0 elsewhere."""
        g = jnp.broadcast_to(self.g, self.pre.shape).astype(v.dtype)
        if not self.rectifying:
            return g
        is_open = jax.lax.stop_gradient(v[self.pre] > v[self.post])
        return jnp.where(is_open, g, 0.0)

    def currents(self, v: Float[Array, " n"]) -> Float[Array, " n"]:
        """Net junction current (pA) into each neuron at potentials `v` (mV): `−L v`."""
        return _laplacian_apply(self.pre, self.post, self.conductances(v), -v)

    def laplacian(self, v: Float[Array, " n"]) -> Float[Array, "n n"]:
        """The conductance matrix `L` (nS, dense `n × n`) at potentials `v` (mV)."""
        g = self.conductances(v)
        n = v.shape[-1]
        L = jnp.zeros((n, n), v.dtype)
        L = L.at[self.pre, self.pre].add(g).at[self.post, self.post].add(g)
        return L.at[self.pre, self.post].add(-g).at[self.post, self.pre].add(-g)

    def advance(self, v: Float[Array, " n"], C: Float[Array, "*n"], h) -> Float[Array, " n"]:
        """Advance `C dv/dt = −L v` (the junctions alone) by `h` ms from `v` (mV), with
        capacitances `C` (pF): exactly (`"exact"`) or by one backward-Euler step
        (`"implicit"`). For rectifying junctions `L` is taken at `v`."""
        C = jnp.broadcast_to(jnp.asarray(C, v.dtype), v.shape)
        if self.method == "exact":
            return _propagator(self.laplacian(v), C, h) @ v
        g = self.conductances(v)
        diagonal = C + h * _laplacian_apply(self.pre, self.post, g, jnp.ones_like(v), degree=True)

        def matvec(x):
            return C * x + h * _laplacian_apply(self.pre, self.post, g, x)

        solution, _ = cg(matvec, C * v, x0=v, tol=self.tol, maxiter=self.maxiter,
                         M=lambda r: r / diagonal)  # fmt: skip
        return solution

    @property
    def keeps_propagator(self) -> bool:
        """True when `Network.init` builds the propagator once (`"exact"`, symmetric, `dt`)."""
        return self.method == "exact" and not self.rectifying and self.dt is not None

    def init_state(self, model, n: int) -> GapJunctionState | None:
        """The state that `Network.init` keeps for these junctions: the half-step propagator
        `expm(−(dt/2) C⁻¹L)` when `keeps_propagator`, else None."""
        if not self.keeps_propagator:
            return None
        C = jnp.broadcast_to(membrane_capacitance(model), (n,)).astype(jnp.result_type(float))
        v = jnp.zeros(n, C.dtype)
        return GapJunctionState(P=_propagator(self.laplacian(v), C, 0.5 * self.dt), g=self.g, C=C)

    def split_step(self, population_state, model, h, coupling_state=None):
        """The population's state with `v` advanced by the junctions alone over `h` ms (a
        half-step of the splitting done by `Network.step`), with the propagator of
        `coupling_state` when there is one."""
        v = population_state.v
        C = membrane_capacitance(model)
        if coupling_state is None:
            return population_state._replace(v=self.advance(v, C, h))
        if not isinstance(h, jax.core.Tracer) and abs(float(h) - 0.5 * self.dt) > 1e-9 * self.dt:
            raise ValueError(
                f"GapJunctions on {self.population!r} were built for dt = {self.dt} ms "
                f"(`dt=`), but the run steps by {2 * float(h)} ms."
            )
        C = jnp.broadcast_to(C, v.shape).astype(coupling_state.C.dtype)
        stale = jnp.any(coupling_state.g != self.g) | jnp.any(coupling_state.C != C)
        P = eqx.error_if(
            coupling_state.P, stale,
            "GapJunctions: `g` or the capacitance changed since `Network.init` built the "
            "propagator; call `net.init()` again for the changed network.",
        )  # fmt: skip
        return population_state._replace(v=(P @ v).astype(v.dtype))

    def drive(self, state: dict):
        """Input of the population in a `Network`: the junction currents (pA) at the start of
        the step for `"explicit"`, nothing for the split methods (which `Network.step` applies
        through `advance`)."""
        if self.splits_step:
            return None
        return Drive(I=self.currents(state[self.population].v))


def _propagator(L, C, h) -> Array:
    """`expm(−h C⁻¹L)`, its rows rescaled to sum to 1: exact (`L` annihilates a uniform
    potential), and it removes the float32 rounding that would otherwise let a uniform
    potential drift by about 1e-5 mV per step."""
    P = expm(-h * L / C[:, None])
    return P / P.sum(axis=1, keepdims=True)


def _laplacian_apply(pre, post, g, x, *, degree: bool = False) -> Array:
    """`L x` for the Laplacian of junctions `pre -> post` with conductances `g`; with
    `degree=True` the diagonal of `L` (x is then ignored but gives shape and dtype)."""
    if degree:
        return jnp.zeros_like(x).at[pre].add(g).at[post].add(g)
    flow = g * (x[pre] - x[post])
    return jnp.zeros_like(x).at[pre].add(flow).at[post].add(-flow)


def _edges(pre, post) -> tuple[np.ndarray, np.ndarray]:
    pre_a, post_a = np.asarray(pre), np.asarray(post)
    for label, arr in (("pre", pre_a), ("post", post_a)):
        if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"`{label}` must be a 1-D array of neuron indices, got {arr!r}.")
        if arr.size and arr.min() < 0:
            raise ValueError(f"`{label}` indices must be >= 0, got {arr.min()}.")
    if pre_a.shape != post_a.shape:
        raise ValueError(
            f"`pre` and `post` must have the same length, got {pre_a.size} and {post_a.size}."
        )
    if np.any(pre_a == post_a):
        k = int(np.nonzero(pre_a == post_a)[0][0])
        raise ValueError(f"junction {k} joins neuron {int(pre_a[k])} to itself.")
    return pre_a.astype(np.int32), post_a.astype(np.int32)
