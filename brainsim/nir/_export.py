"""brainsim models as NIR graphs: `Sequential` / `SpikingDense` stacks, `Network`s, `NIRModel`s."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from brainsim.network import Network
from brainsim.neurons import LIF
from brainsim.nir._model import NIRModel, _nir
from brainsim.nir._nodes import LI, Affine, Delay, Identity, LIFNode
from brainsim.synapses import Current, Exponential
from brainsim.train import LeakyReadout, Sequential, SpikingDense, unwrap


def _check_lif(where: str, neuron, dt: float | None) -> None:
    if type(neuron) is not LIF:
        raise NotImplementedError(
            f"{where}: a {type(neuron).__name__} has no NIR node (NIR has LIF, LI, IF, CubaLIF; "
            "adaptive thresholds, conductances and refractoriness are not in NIR)."
        )
    limit = 0.0 if dt is None else 0.5 * dt
    t_ref = np.asarray(neuron.t_ref)
    if np.any(t_ref > limit):
        raise ValueError(
            f"{where}: `t_ref` = {t_ref.max():g} ms, but NIR's LIF has no refractory period; "
            "set t_ref=0 (or below dt/2, which brainsim never counts, with `dt` given)."
        )


def _neuron_node(where: str, neuron, n: int, dt: float | None):
    if isinstance(neuron, LeakyReadout):
        full = lambda value: jnp.broadcast_to(jnp.asarray(value, jnp.float32), (n,))  # noqa: E731
        return LI(tau=full(neuron.tau_m), r=full(neuron.R), v_leak=full(0.0), method="exp_euler")
    _check_lif(where, neuron, dt)
    return LIFNode(neuron=neuron, n=n)


def _from_layers(layers, dt: float | None) -> tuple[dict, list]:
    nodes, edges = {"input": Identity(kind="Input", n=layers[0].n_in)}, []
    previous = "input"
    for i, layer in enumerate(layers):
        if not isinstance(layer, SpikingDense):
            raise NotImplementedError(
                f"layer {i}: a {type(layer).__name__} has no NIR form (brainsim exports "
                "SpikingDense layers)."
            )
        nodes[f"layer{i}.weight"] = Affine(weight=layer.weight.T, bias=None)
        nodes[f"layer{i}.neuron"] = _neuron_node(f"layer {i}", layer.neuron, layer.n_out, dt)
        edges += [(previous, f"layer{i}.weight"), (f"layer{i}.weight", f"layer{i}.neuron")]
        previous = f"layer{i}.neuron"
    nodes["output"] = Identity(kind="Output", n=layers[-1].n_out)
    edges.append((previous, "output"))
    return nodes, edges


def _from_network(net: Network, dt: float) -> tuple[dict, list]:
    if net.couplings or net.clocks:
        raise NotImplementedError("a Network with couplings or clocks has no NIR form.")
    nodes, edges = {}, []
    for name, model in net.models.items():
        _check_lif(f"population {name!r}", model, dt)
        n = net.sizes[name]
        nodes[f"{name}.input"] = Identity(kind="Input", n=n)
        nodes[name] = LIFNode(neuron=model, n=n)
        nodes[f"{name}.output"] = Identity(kind="Output", n=n)
        edges += [(f"{name}.input", name), (name, f"{name}.output")]
    for proj in net.projections:
        where = f"projection {proj.name!r}"
        if type(proj.kinetics) is not Exponential or type(proj.output) is not Current:
            raise NotImplementedError(
                f"{where}: NIR has current-based exponential synapses only (kinetics "
                f"Exponential, output Current), got {type(proj.kinetics).__name__} / "
                f"{type(proj.output).__name__}."
            )
        if proj.stp is not None or proj.plasticity is not None or proj.delay_per == "synapse":
            raise NotImplementedError(
                f"{where}: short-term plasticity, plasticity rules and per-synapse delays have "
                "no NIR form."
            )
        steps = np.zeros(proj.conn.n_pre, int) if proj.delay_steps is None else proj.delay_steps
        steps = np.broadcast_to(np.asarray(steps, int), (proj.conn.n_pre,)) + 1
        tau = np.broadcast_to(np.asarray(proj.kinetics.tau, np.float64), (proj.conn.n_post,))
        gain = -1.0 / np.expm1(-dt / tau)
        nodes[f"{proj.name}.delay"] = Delay(steps=tuple(int(s) for s in steps), dt=float(dt))
        nodes[f"{proj.name}.weight"] = Affine(weight=proj.conn.todense().T, bias=None)
        nodes[f"{proj.name}.synapse"] = LI(
            tau=jnp.asarray(tau, jnp.float32), r=jnp.asarray(gain, jnp.float32),
            v_leak=jnp.zeros(proj.conn.n_post, jnp.float32), method="exp_euler",
        )  # fmt: skip
        chain = [proj.pre, f"{proj.name}.delay", f"{proj.name}.weight", f"{proj.name}.synapse"]
        edges += list(zip(chain[:-1], chain[1:], strict=True)) + [(chain[-1], proj.post)]
    return nodes, edges


def to_nir(model, *, dt: float | None = None, time_unit: float = 1e3):
    """Export a brainsim model as a NIR graph (`nir.NIRGraph`; write it with `nir.write`).

    - `brainsim.train.Sequential` (or one `SpikingDense`) of `SpikingDense` layers: `Input` →
      per layer `Linear(Wᵀ)` → `LIF` (for a `LIF` neuron) or `LI` (for a `LeakyReadout`) →
      `Output`. The layer's current `x W` (pA, held over the step) is NIR's input `I`, so
      the graph does not depend on `dt`.
    - `brainsim.Network` of `LIF` populations and projections with `Exponential` kinetics and a
      `Current` output (needs `dt`): per population `{name}.input` → `LIF` → `{name}.output`;
      per projection `Delay((d + 1)·dt)` → `Linear(Wᵀ)` (the connectivity made dense) →
      `LI(tau, r = 1 / (1 - exp(-dt/tau)), v_leak = 0)` → the postsynaptic `LIF`. The `LI`
      is the synaptic current: with the spike held over one step its exact step adds `w` per
      spike, as `Exponential` does, and the extra step of delay is the Network's: a spike
      reaches the neuron in the step after its delivery. This synapse is exact only at this
      `dt` with `method="exp_euler"`; forward Euler (other frameworks) decays it by
      `1 - dt/tau` instead of `exp(-dt/tau)` per step.
    - a `NIRModel` (from `from_nir`): its nodes as they were imported.

    Parameters map as in `from_nir` (`tau = tau_m / time_unit`, `r = R`, `v_leak = v_rest`,
    `v_threshold = v_th`, `v_reset`); each neuron's integration method goes into its node's
    metadata (`brainsim_method`), which `from_nir` reads back. Not exportable, with an error
    naming the layer or projection: ALIF and other neuron models, `t_ref > 0`, conductance or
    NMDA outputs, short-term plasticity, plasticity rules, per-synapse delays.

    Args:
        model (Neuron | Sequential | Network): the model to export.
        dt: the time step (ms) the model runs at; needed for a `Network`.
        time_unit: length in ms of the graph's unit of time (default 1000: seconds).

    Examples:
        >>> import jax, nir
        >>> import brainsim as bs
        >>> layer = bs.train.SpikingDense(3, 2, bs.neurons.LIF(t_ref=0.0), key=jax.random.key(0))
        >>> sorted(bs.nir.to_nir(layer).nodes)
        ['input', 'layer0.neuron', 'layer0.weight', 'output']

    Reference: Pedersen et al. (2024), *Neuromorphic intermediate representation*, Nature
    Communications 15.
    """
    _nir()
    if not (isinstance(time_unit, int | float) and math.isfinite(time_unit) and time_unit > 0):
        raise ValueError(f"`time_unit` must be a positive length of time in ms, got {time_unit!r}.")
    if dt is not None and not (isinstance(dt, int | float) and dt > 0):
        raise ValueError(f"`dt` must be a positive time step in ms, got {dt!r}.")
    if isinstance(model, NIRModel):
        return model.to_nir(time_unit)
    model = unwrap(model)
    if isinstance(model, SpikingDense):
        model = Sequential([model])
    if isinstance(model, Sequential):
        nodes, edges = _from_layers(model.layers, dt)
    elif isinstance(model, Network):
        if dt is None:
            raise ValueError("exporting a Network needs `dt` (ms): its synapses and delays "
                             "are written for that time step.")  # fmt: skip
        nodes, edges = _from_network(model, float(dt))
    else:
        raise TypeError(
            f"`model` must be a brainsim.train.Sequential, SpikingDense, brainsim.Network or "
            f"brainsim.nir.NIRModel, got {type(model).__name__}."
        )
    return NIRModel(nodes, edges, dt=float(dt) if dt is not None else 1.0).to_nir(time_unit)
