"""A brainsim `Network` from a C. elegans connectome: graded or spiking neurons, chemical
synapses and gap junctions."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

import brainsim_ops as bo
from brainsim._validation import as_param, check_finite, check_positive
from brainsim.connectome._data import GABAERGIC, Connectome
from brainsim.network import GapJunctions, Network, Projection
from brainsim.neurons import LIF, Drive
from brainsim.synapses import Conductance, Exponential

POPULATION = "neurons"


class GradedSynapses(eqx.Module):
    """Graded (non-spiking) chemical synapses between the neurons of one population.

    Synapse `k` from `pre[k]` to `post[k]` with conductance `g[k]` (nS) and reversal potential
    `E[k]` (mV) gives the postsynaptic current

        I_k = g_k · σ((v_pre − v_half) / v_slope) · (E_k − v_post)         (pA),

    `σ(x) = 1 / (1 + e^{−x})`: transmitter release grows smoothly with the presynaptic
    potential, as in the graded synapses of C. elegans models (Wicks, Roehrig & Rankin 1996;
    Kunert, Shlizerman & Kutz 2014, whose synaptic activation is here taken at its steady
    state, instantaneous in the presynaptic potential). The activation is computed from the
    potentials at the start of the step; the conductance then enters the postsynaptic
    neuron's `Drive`, so exponential Euler integrates its dependence on `v_post` exactly.

    A coupling of a `Network` (`couplings=[...]`).

    Args:
        population: name of the population.
        pre (Int[Array, 'k']): presynaptic neuron of each synapse (index).
        post (Int[Array, 'k']): postsynaptic neuron of each synapse (index).
        g (float | Array): conductance per synapse (nS, >= 0; scalar or one per synapse).
            Differentiable.
        E (float | Array): reversal potential per synapse (mV; scalar or one per synapse).
        v_half (float): presynaptic potential of half activation (mV).
        v_slope (float): slope factor of the activation (mV, > 0).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.connectome import GradedSynapses
        >>> syn = GradedSynapses("neurons", [0], [1], g=0.1, E=0.0, v_half=-35.0, v_slope=8.0)
        >>> syn.currents(jnp.array([-35.0, -60.0]))
        Array([0., 3.], dtype=float32)
    """

    population: str = eqx.field(static=True)
    pre: Int[Array, " k"]
    post: Int[Array, " k"]
    g: Float[Array, "*k"]
    E: Float[Array, "*k"]
    v_half: Float[Array, ""]
    v_slope: Float[Array, ""]
    min_size: int = eqx.field(static=True)

    def __init__(self, population: str, pre, post, g=0.1, E=0.0, *, v_half=-35.0,
                 v_slope=8.0):  # fmt: skip
        if not isinstance(population, str) or not population:
            raise TypeError(f"`population` must be a population name, got {population!r}.")
        pre_a, post_a = np.asarray(pre), np.asarray(post)
        for label, arr in (("pre", pre_a), ("post", post_a)):
            if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
                raise ValueError(f"`{label}` must be a 1-D array of neuron indices, got {arr!r}.")
            if arr.size and arr.min() < 0:
                raise ValueError(f"`{label}` indices must be >= 0.")
        if pre_a.shape != post_a.shape:
            raise ValueError(f"`pre` and `post` must have the same length, got {pre_a.size} and "
                             f"{post_a.size}.")  # fmt: skip
        self.population = population
        self.min_size = int(max(pre_a.max(initial=-1), post_a.max(initial=-1))) + 1
        self.pre, self.post = jnp.asarray(pre_a, jnp.int32), jnp.asarray(post_a, jnp.int32)
        self.g, self.E = as_param(g), as_param(E)
        self.v_half, self.v_slope = as_param(v_half), as_param(v_slope)
        for label, value in (("g", self.g), ("E", self.E)):
            if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != pre_a.size):
                raise ValueError(f"`{label}` must be a scalar or one value per synapse (shape "
                                 f"({pre_a.size},)), got shape {value.shape}.")  # fmt: skip

    def __check_init__(self):
        check_positive("g", self.g, allow_zero=True)
        check_finite("E", self.E)
        check_finite("v_half", self.v_half)
        check_positive("v_slope", self.v_slope)

    @property
    def target(self) -> str:
        """The population that receives the synaptic input."""
        return self.population

    def check(self, models: dict, sizes: dict) -> None:
        """Raise, when the network is built, unless the population is large enough."""
        if self.min_size > sizes[self.population]:
            raise ValueError(f"GradedSynapses: synapses index neuron {self.min_size - 1}, but "
                             f"population {self.population!r} has {sizes[self.population]} "
                             "neurons.")  # fmt: skip

    def conductances(self, v: Float[Array, " n"]) -> tuple[Array, Array]:
        """Per postsynaptic neuron: summed conductance (nS) and conductance × reversal
        (nS·mV) at presynaptic potentials `v` (mV)."""
        active = self.g * jax.nn.sigmoid((v[self.pre] - self.v_half) / self.v_slope)
        active = jnp.broadcast_to(active, self.pre.shape).astype(v.dtype)
        g = jnp.zeros_like(v).at[self.post].add(active)
        g_E = jnp.zeros_like(v).at[self.post].add(active * self.E)
        return g, g_E

    def currents(self, v: Float[Array, " n"]) -> Float[Array, " n"]:
        """Synaptic current (pA) into each neuron at potentials `v` (mV)."""
        g, g_E = self.conductances(v)
        return g_E - g * v

    def drive(self, state: dict) -> Drive:
        """The input of the population in a `Network`, from the start-of-step potentials."""
        g, g_E = self.conductances(state[self.population].v)
        return Drive(g=g, g_E=g_E)


def synapse_signs(connectome: Connectome) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Chemical synapses with a sign: `(pre, post, count, inhibitory)`.

    Where the dataset names transmitters (`GABA` against `Acetylcholine`, `Glutamate`, ...;
    `InhibitoryChem` against `ExcitatoryChem`), a synapse is inhibitory when its class is
    `GABA` or `InhibitoryChem`; otherwise (`Generic_CS`) when its presynaptic neuron is one of
    the 26 GABAergic neurons (`GABAERGIC`). Glutamate, inhibitory at some C. elegans synapses
    (through GluCl), counts as excitatory here.
    """
    parts = []
    for cls, syn in connectome.connections.items():
        if cls in ("GABA", "InhibitoryChem"):
            parts.append((syn, np.ones(len(syn), bool)))
        elif cls == "Generic_CS":
            gaba = np.isin(np.asarray(connectome.nodes)[syn.pre], GABAERGIC)
            parts.append((syn, gaba))
        elif cls in ("Acetylcholine", "Glutamate", "Betaine", "ExcitatoryChem", "OtherChemicalNT"):
            parts.append((syn, np.zeros(len(syn), bool)))
    if not parts:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0), np.zeros(0, bool)
    pre = np.concatenate([s.pre for s, _ in parts])
    post = np.concatenate([s.post for s, _ in parts])
    count = np.concatenate([s.weight for s, _ in parts])
    inhibitory = np.concatenate([i for _, i in parts])
    keep = pre != post  # autapses dropped
    return pre[keep], post[keep], count[keep], inhibitory[keep]


def build_network(
    connectome: Connectome,
    *,
    neurons: str = "graded",
    model=None,
    g_gap: float = 0.1,
    g_syn: float = 0.01,
    E_exc: float = 0.0,
    E_inh: float = -48.0,
    v_half: float = 0.0,
    v_slope: float = 5.0,
    tau_syn: float = 5.0,
    gap_method: str = "exact",
    dt: float | None = None,
    delay: float | None = None,
) -> Network:
    """A brainsim `Network` of a connectome's neurons, with its chemical synapses and gap
    junctions.

    One population, `"neurons"`, holds the connectome's neurons (sensory, inter- and motor
    neurons, in `connectome.neurons()` order; muscles and other cells are left out; give a
    `connectome.subset(...)` to choose). Every gap junction pair with `k` contacts becomes a
    `brainsim.network.GapJunctions` junction of `k · g_gap` nS (solved within the step,
    `gap_method`); every chemical connection with `k` synapses a synapse of `k · g_syn` nS,
    excitatory (`E_exc`) or inhibitory (`E_inh`) by `synapse_signs`.

    - `neurons="graded"` (default): non-spiking, passive neurons (`model`, default
      `LIF(tau_m=100 ms, v_rest=-35 mV, R=100 GΩ)` with an unreachable threshold: C = 1 pF,
      leak 10 pS, a passive cell of the size that graded whole-connectome models use, e.g.
      Kunert et al. 2014) and graded
      chemical synapses (`GradedSynapses`: activation sigmoid in the presynaptic potential,
      `v_half`, `v_slope`).
    - `neurons="spiking"`: spiking neurons (`model`, default
      `LIF(tau_m=10 ms, v_rest=-65, v_th=-50, v_reset=-65 mV, t_ref=2 ms, R=0.1 GΩ)`, C = 100
      pF) and spike-driven chemical synapses: two `Projection`s (excitatory, inhibitory) with
      exponential conductances (`tau_syn` ms) of `k · g_syn` nS per connection and an optional
      `delay` (ms; needs `dt`).

    Args:
        connectome: from `load_connectome`.
        neurons: `"graded"` or `"spiking"`.
        model (Neuron | None): the neuron model (default as above).
        g_gap: conductance per gap-junction contact (nS, >= 0).
        g_syn: conductance per chemical synapse (nS, >= 0).
        E_exc: reversal potential of excitatory synapses (mV).
        E_inh: reversal potential of inhibitory synapses (mV).
        v_half: potential of half activation of graded synapses (mV).
        v_slope: slope factor of the graded activation (mV, > 0).
        tau_syn: decay of spike-driven conductances (ms).
        gap_method: `GapJunctions` method (`"exact"`, `"implicit"`, `"explicit"`).
        dt: the run's time step (ms): exact gap junctions build their propagator once for it
            (`GapJunctions(dt=...)`), and spiking synapses need it for a `delay`.
        delay: delay of spiking synapses (ms).

    Returns:
        the `Network`; its population `"neurons"` follows `connectome.neurons().nodes`.

    Examples:
        >>> import brainsim as bs
        >>> worm = bs.connectome.load_connectome("Varshney", source="bundled")
        >>> net = bs.connectome.build_network(worm, dt=0.5)
        >>> net.sizes["neurons"]
        280
    """
    if not isinstance(connectome, Connectome):
        raise TypeError(f"`connectome` must be a Connectome (load_connectome), got "
                        f"{type(connectome).__name__}.")  # fmt: skip
    if neurons not in ("graded", "spiking"):
        raise ValueError(f"`neurons` must be 'graded' or 'spiking', got {neurons!r}.")
    for label, value in (("g_gap", g_gap), ("g_syn", g_syn)):
        check_positive(label, value, allow_zero=True)
    worm = connectome.neurons()
    n = len(worm)
    if n == 0:
        raise ValueError(f"connectome {connectome.name!r} has no neurons.")
    gap = worm.gap
    couplings = [GapJunctions(POPULATION, gap.pre, gap.post, g=jnp.asarray(gap.weight) * g_gap,
                              method=gap_method, dt=dt)] if len(gap) else []  # fmt: skip
    pre, post, count, inhibitory = synapse_signs(worm)
    if neurons == "graded":
        model = model or LIF(tau_m=100.0, v_rest=-35.0, v_th=1e9, v_reset=-35.0, t_ref=0.0,
                             R=100.0)  # fmt: skip
        if len(pre):
            couplings.append(GradedSynapses(POPULATION, pre, post, g=jnp.asarray(count) * g_syn,
                                            E=jnp.where(jnp.asarray(inhibitory), E_inh, E_exc),
                                            v_half=v_half, v_slope=v_slope))  # fmt: skip
        return Network({POPULATION: (model, n)}, couplings=couplings)
    model = model or LIF(tau_m=10.0, v_rest=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=2.0, R=0.1)
    projections = []
    for label, mask, E in (("exc", ~inhibitory, E_exc), ("inh", inhibitory, E_inh)):
        if not mask.any():
            continue
        conn = bo.from_edges(pre[mask], post[mask], count[mask] * g_syn, n_pre=n, n_post=n)
        projections.append(Projection(POPULATION, POPULATION, conn, Exponential(tau=tau_syn),
                                      Conductance(E=E), delay=delay, dt=dt,
                                      name=f"chemical_{label}"))  # fmt: skip
    return Network({POPULATION: (model, n)}, projections, couplings)


def sensory_input(connectome: Connectome, cells, current: float) -> Float[Array, " n"]:
    """Input currents (pA) for the `"neurons"` population of `build_network(connectome)`:
    `current` into each of `cells` (names), 0 elsewhere. Raises unless each named cell is a
    neuron of the connectome."""
    worm = connectome.neurons()
    index = worm.index(cells)
    return jnp.zeros(len(worm)).at[index].set(current)
