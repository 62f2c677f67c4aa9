"""The standard benchmark networks of Brette et al. (2007): COBA, CUBA and COBAHH.

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

import jax
from jaxtyping import PRNGKeyArray

import brainsim_ops as bo
from brainsim.network import Network, Projection
from brainsim.neurons import LIF, TraubHH
from brainsim.synapses import Conductance, Current, Exponential

__all__ = ["coba", "cuba", "cobahh"]

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
        ee_plasticity: optional plasticity rule (`brainsim.plasticity`) of the excitatory to
            excitatory synapses (weights in units of the leak conductance).

    Returns:
        `(network, inputs)`; initialise with `network.init(key)` (v uniform in [-60, -50]).
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
        `(network, inputs)` (no external input: the resting potential is above threshold).
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
        `(network, inputs)` (no external input).
    """
    n_e, n_i = n * 4 // 5, n - n * 4 // 5
    hh = TraubHH(v_init=-65.0, v_init_sd=5.0)
    projections = _projections(
        key, n_e, n_i, {"E": 6.0, "I": 67.0}, {"E": 5.0, "I": 10.0},
        {"E": Conductance(E=0.0), "I": Conductance(E=-80.0)}, delay_steps,
    )  # fmt: skip
    return Network({"E": (hh, n_e), "I": (hh, n_i)}, projections), {}
