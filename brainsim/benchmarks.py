"""The standard benchmark networks of Brette et al. (2007): COBA, CUBA and COBAHH; and the
neuron–glia network of Stimberg et al. (2019), with and without astrocytes.

Each builder returns a `Network` and the constant `inputs` to run it with; sizes scale with
`n` while the in-degree is held at `p · 4000 = 80` synapses per neuron (so `p` shrinks as the
network grows), as in the benchmark's scaling runs.

Example:
    >>> import jax, brainsim as bs
    >>> net, inputs = bs.benchmarks.coba(jax.random.key(0), n=400)
    >>> result = bs.run(net, net.init(jax.random.key(1)), inputs=inputs, duration=50.0, dt=0.1,
    ...                 record=["E.spikes", "I.spikes"])

Reference: Brette et al. (2007), *Simulation of networks of spiking neurons: a review of tools
and strategies*, J. Comput. Neurosci. 23:349; Vogels & Abbott (2005), J. Neurosci. 25:10786.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

import brainsim_ops as bo
from brainsim.astro import GapJunctions, GChI, TripartiteRelease, lattice_edges
from brainsim.network import Network, Projection
from brainsim.neurons import LIF, TraubHH
from brainsim.synapses import Conductance, Current, Exponential, TsodyksMarkram

__all__ = ["coba", "cuba", "cobahh", "neuron_glia", "neuron_glia_init", "neuron_glia_positions"]

_IN_DEGREE = 80


def _projections(key, n_e, n_i, weights, taus, outputs, delay_steps, ee_plasticity=None):
    keys = jax.random.split(key, 4)
    pairs = [("E", "E", n_e, n_e), ("E", "I", n_e, n_i), ("I", "E", n_i, n_e), ("I", "I", n_i, n_i)]
    projections = []
    for k, (pre, post, n_pre, n_post) in zip(keys, pairs, strict=True):
        p = _IN_DEGREE / (n_e + n_i)
        conn = bo.fixed_prob(k, n_pre, n_post, p, weight=weights[pre])
        plasticity = ee_plasticity if (pre, post) == ("E", "E") else None
        projections.append(
            Projection(pre, post, conn, Exponential(tau=taus[pre]), outputs[pre],
                       delay_steps=delay_steps, plasticity=plasticity)
        )  # fmt: skip
    return projections


def coba(key: PRNGKeyArray, n: int = 4000, *, delay_steps: int = 0, ee_plasticity=None):
    """The COBA network (Vogels & Abbott 2005): 80 % excitatory, 20 % inhibitory LIF neurons.

    `tau_m dv/dt = (v_rest - v) + g_e (E_e - v) + g_i (E_i - v) + 20 mV`, tau_m = 20 ms,
    v_rest = -60, v_th = -50, v_reset = -60 mV, t_ref = 5 ms; conductances in units of the leak
    (R = 1 GΩ, so 1 nS = one leak) jump by 0.6 (E) and 6.7 (I) and decay with 5 / 10 ms;
    E_e = 0, E_i = -80 mV. Expected: E and I rates about 20 Hz, irregular (CV > 1).

    Args:
        key: `jax.random` key for the connectivity.
        n: number of neurons (4000 in the paper).
        delay_steps: synaptic delay in steps (0 in the benchmark).
        ee_plasticity (STDP | ... | None): optional plasticity rule (`brainsim.plasticity`) of
            the excitatory to excitatory synapses (weights in units of the leak conductance).

    Returns:
        (tuple[Network, dict]): `(network, inputs)`; initialise with `network.init(key)` (v
            uniform in [-60, -50]).
    """
    n_e, n_i = n * 4 // 5, n - n * 4 // 5
    lif = LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, R=1.0)
    projections = _projections(
        key, n_e, n_i, {"E": 0.6, "I": 6.7}, {"E": 5.0, "I": 10.0},
        {"E": Conductance(E=0.0), "I": Conductance(E=-80.0)}, delay_steps, ee_plasticity,
    )  # fmt: skip
    network = Network({"E": (lif, n_e), "I": (lif, n_i)}, projections)
    return network, {"E": 20.0, "I": 20.0}


def cuba(key: PRNGKeyArray, n: int = 4000, *, delay_steps: int = 0):
    """The CUBA network (Brette et al. 2007, benchmark 2): current-based exponential synapses.

    `tau_m dv/dt = (v_rest - v) + g_e + g_i`, tau_m = 20 ms, v_rest = -49, v_th = -50,
    v_reset = -60 mV, t_ref = 5 ms; `g_e` jumps by 1.62 mV and `g_i` by -9 mV, decaying with 5 and
    10 ms (R = 1 GΩ, so weights in pA read as mV). Initial v uniform in [-60, -50] mV.

    Returns:
        (tuple[Network, dict]): `(network, inputs)` (no external input: the resting potential
            is above threshold).
    """
    n_e, n_i = n * 4 // 5, n - n * 4 // 5
    lif = LIF(tau_m=20.0, v_rest=-49.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, R=1.0)
    projections = _projections(
        key, n_e, n_i, {"E": 1.62, "I": -9.0}, {"E": 5.0, "I": 10.0},
        {"E": Current(), "I": Current()}, delay_steps,
    )  # fmt: skip
    return Network({"E": (lif, n_e), "I": (lif, n_i)}, projections), {}


def cobahh(key: PRNGKeyArray, n: int = 4000, *, delay_steps: int = 0):
    """The COBAHH network (Brette et al. 2007, benchmark 3): Traub-Miles HH neurons.

    Neurons as `TraubHH` (20 000 µm², g_L = 10 nS); excitatory and inhibitory conductances jump
    by 6 nS and 67 nS and decay with 5 and 10 ms, E_e = 0, E_i = -80 mV. Initial potentials
    (given a key) are normal with mean E_L - 5 mV and standard deviation 5 mV.

    Returns:
        (tuple[Network, dict]): `(network, inputs)` (no external input).
    """
    n_e, n_i = n * 4 // 5, n - n * 4 // 5
    hh = TraubHH(v_init=-65.0, v_init_sd=5.0)
    projections = _projections(
        key, n_e, n_i, {"E": 6.0, "I": 67.0}, {"E": 5.0, "I": 10.0},
        {"E": Conductance(E=0.0), "I": Conductance(E=-80.0)}, delay_steps,
    )  # fmt: skip
    return Network({"E": (hh, n_e), "I": (hh, n_i)}, projections), {}


def neuron_glia_positions(n_e: int = 3200, n_a: int = 3200, size: float = 3750.0):
    """Positions (µm) of the excitatory neurons and astrocytes of the neuron–glia network.

    Both lie on square lattices centred on the origin, as in the published script:
    `(n_e, 2)` and `(n_a, 2)` arrays; inhibitory neurons sit at the origin.
    """
    rows = int(np.sqrt(n_e))
    cols = n_e // rows
    step = size / cols
    i = np.arange(n_e)
    neurons = np.stack(
        [(i // rows) * step - rows / 2 * step, (i % rows) * step - cols / 2 * step], 1
    )
    rows_a = int(np.sqrt(n_a))
    cols_a = n_a / rows_a
    step_a = size / rows_a
    j = np.arange(n_a)
    astro = np.stack(
        [(j // rows_a) * step_a - rows_a / 2 * step_a, (j % rows_a) * step_a - cols_a / 2 * step_a],
        1,
    )
    return neurons, astro


def _astrocyte_of_synapse(post, n_e, n_a, size, mapping):
    """The astrocyte covering each excitatory synapse (by its postsynaptic neuron), -1: none."""
    neurons, astro = neuron_glia_positions(n_e, n_a, size)
    position = np.zeros((len(post), 2))
    is_e = post < n_e
    position[is_e] = neurons[post[is_e]]  # inhibitory neurons stay at the origin
    if mapping == "published":
        rows_a = int(np.sqrt(n_a))
        step_a = size / rows_a
        index = np.trunc(position[:, 0] / step_a) + (n_a / rows_a) * np.trunc(
            position[:, 1] / step_a
        )
        index = np.trunc(index).astype(np.int64)
        return np.where((index >= 0) & (index < n_a), index, -1)
    nearest = np.empty(len(post), np.int64)
    for start in range(0, len(post), 65536):
        block = position[start : start + 65536]
        nearest[start : start + 65536] = np.argmin(
            ((block[:, None, :] - astro[None, :, :]) ** 2).sum(-1), axis=1
        )
    return np.where(is_e, nearest, -1)


def _rows_from(conn: bo.CSR, n_before: int, n_after: int, weight: float) -> bo.CSR:
    """`conn` with `n_before` empty rows in front and `n_after` behind (a slice of a group)."""
    indptr = np.asarray(conn.indptr)
    indptr = np.concatenate([np.zeros(n_before, indptr.dtype), indptr,
                             np.full(n_after, indptr[-1], indptr.dtype)])  # fmt: skip
    return bo.CSR(indptr, np.asarray(conn.indices), weight, n_post=conn.n_post)


def neuron_glia(
    key: PRNGKeyArray,
    *,
    astrocytes: bool = True,
    n_e: int = 3200,
    n_i: int = 800,
    n_a: int = 3200,
    I_ex: float = 100.0,
    stimulus: Sequence[float] = (1.0, 1.2, 1.0, 1.0),
    epoch: float = 2000.0,
    mapping: str = "published",
    astrocyte_clock: float = 10.0,
    max_events: int = 16,
):
    """The neuron–glia network of Stimberg et al. (2019), examples 1 (no astrocytes) and 6.

    One population `"N"` of `n_e + n_i` conductance-based LIF neurons (the first `n_e`
    excitatory): `C_m dv/dt = g_l(E_l − v) + g_e(E_e − v) + g_i(E_i − v) + I_ex s(t)` with
    C_m 198 pF, g_l 9.99 nS, E_l −60, V_th −50, reset −60 mV, τ_r 5 ms (Euler, as published),
    `g_e`, `g_i` decaying with 5 and 10 ms (E_e 0, E_i −80 mV). Excitatory neurons connect to
    every neuron with probability 0.05 (w_e 0.05 nS), inhibitory ones with 0.2 (w_i 1 nS), all
    through Tsodyks–Markram release (U_0* 0.6, Ω_d 2/s, Ω_f 3.33/s): the conductance jumps by
    `w r_S`. With `astrocytes`, `n_a` G-ChI astrocytes (population `"A"`, RK4 on their own
    `astrocyte_clock`, ms) on a square lattice, coupled by gap junctions (F 0.09 µM/s) to the
    neighbours closer than 75 µm, cover the excitatory synapses (`TripartiteRelease`, closed
    loop, each astrocyte seeing its synapses' mean neurotransmitter) and lower their release
    probability through gliotransmission (α = 0).

    `mapping` picks the synapse→astrocyte assignment: `"published"` reproduces the published
    script's index formula (about 42 % of excitatory synapses get no astrocyte and every
    excitatory→inhibitory synapse maps to astrocyte 0), `"nearest"` gives each synapse onto an
    excitatory neuron the astrocyte nearest to that neuron and none to the others.

    Args:
        key: `jax.random` key for the connectivity.
        astrocytes: add the astrocytes (example 6) or not (example 1: `I_ex=150`,
            `stimulus=(1.0,)`).
        n_e: number of excitatory neurons.
        n_i: number of inhibitory neurons.
        n_a: number of astrocytes.
        I_ex: external current (pA).
        stimulus: factor of `I_ex` in successive epochs of `epoch` ms (the last factor holds
            afterwards).
        epoch: length of an epoch of `stimulus` (ms).
        mapping: `"published"` or `"nearest"`.
        astrocyte_clock: astrocyte update period (ms).
        max_events: presynaptic spikes per step handled event-driven by the tripartite
            synapses before they fall back to a pass over all synapses.

    Returns:
        (tuple[Network, Callable]): `(network, inputs)`: `inputs(t)` is the external current;
            the published initial state comes from `neuron_glia_init(network, key)`.

    Examples:
        >>> import jax, brainsim as bs
        >>> net, inputs = bs.benchmarks.neuron_glia(jax.random.key(0), n_e=320, n_i=80, n_a=320)
        >>> state = bs.benchmarks.neuron_glia_init(net, jax.random.key(1))
        >>> result = bs.run(net, state, inputs=inputs, duration=100.0, dt=0.1,
        ...                 record=["N.spikes", "A.spikes"])

    Reference: Stimberg, Goodman, Brette & De Pittà (2019), *Modeling neuron–glia
    interactions with the Brian 2 simulator*, in Computational Glioscience, pp. 471–505.
    """
    if mapping not in ("published", "nearest"):
        raise ValueError(f"`mapping` must be 'published' or 'nearest', got {mapping!r}.")
    n = n_e + n_i
    k_e, k_i = jax.random.split(key)
    exc = _rows_from(bo.fixed_prob(k_e, n_e, n, 0.05), 0, n_i, 0.05)
    inh = _rows_from(bo.fixed_prob(k_i, n_i, n, 0.2), n_e, 0, 1.0)
    lif = LIF(tau_m=198.0 / 9.99, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0,
              R=1.0 / 9.99, method="euler")  # fmt: skip
    release = dict(U_0_star=0.6, Omega_f=3.33, Omega_d=2.0)
    populations = {"N": (lif, n)}
    couplings, clocks = [], {}
    if astrocytes:
        index = _astrocyte_of_synapse(np.asarray(exc.indices), n_e, n_a, 3750.0, mapping)
        stp_e = TripartiteRelease("A", index, max_events=max_events, **release)
        astro = GChI(O_beta=0.5, O_delta=1.2, K_delta=0.1, Omega_5P=0.05, K_D=0.7)
        populations["A"] = (astro, n_a)
        _, positions = neuron_glia_positions(n_e, n_a)
        couplings.append(GapJunctions("A", *lattice_edges(positions, 75.0), n=n_a, F=0.09))
        clocks["A"] = astrocyte_clock
    # No astrocyte covers an inhibitory synapse: its receptors stay inactive (Γ_S = 0), so its
    # release is plain Tsodyks–Markram with U = U_0*, kept per presynaptic neuron.
    stp_i = TsodyksMarkram(U=0.6, tau_d=1000.0 / 2.0, tau_f=1000.0 / 3.33)
    if not astrocytes:
        stp_e = stp_i
    projections = [
        Projection("N", "N", exc, Exponential(tau=5.0), Conductance(E=0.0), stp=stp_e, name="E"),
        Projection("N", "N", inh, Exponential(tau=10.0), Conductance(E=-80.0), stp=stp_i,
                   name="I"),
    ]  # fmt: skip
    network = Network(populations, projections, couplings, clocks=clocks)
    levels = jnp.asarray(stimulus, dtype=float) * I_ex

    def inputs(t):
        epoch_index = jnp.clip(jnp.floor(t / epoch).astype(jnp.int32), 0, len(stimulus) - 1)
        return {"N": levels[epoch_index]}

    return network, inputs


def neuron_glia_init(network: Network, key: PRNGKeyArray) -> dict:
    """The published initial state of a `neuron_glia` network: v uniform in [−60, −50] mV,
    astrocytes (if any) at C = I = 0.01 µM, h = 0.9, full gliotransmitter resources."""
    state = network.init(key)
    if "A" in state:
        n_a = network.sizes["A"]
        state["A"] = state["A"]._replace(C=jnp.full((n_a,), 0.01), I=jnp.full((n_a,), 0.01))
    return state
