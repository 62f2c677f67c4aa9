"""A network: named populations and the projections between them, stepped as one model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from brainsim.network._projection import Projection
from brainsim.neurons import Drive
from brainsim.neurons._base import as_drive

_RESERVED = ("synapses", "step", "modulators")


def _add(a: Drive, b: Drive) -> Drive:
    return Drive(I=a.I + b.I, g=a.g + b.g, g_E=a.g_E + b.g_E)


class Network(eqx.Module):
    """Populations of neurons connected by projections, stepped as one pure model.

    The state (from `init`) is a dict: one entry per population (its neuron state, so that
    `"E.v"` can be recorded), `"synapses"` (one `ProjectionState` per projection; plastic
    weights are `"synapses.E->E.weights"`) and `"step"` (the step counter that indexes delay
    rings). `step(state, inputs, *, t, dt)` returns the new state and a dict of spikes per
    population; `inputs` maps population names to a current (pA) or a `Drive`, and
    `inputs["modulators"]` (optional) maps names of plastic projections to their third factor
    (a scalar or one value per postsynaptic neuron, e.g. dopamine).

    Within a step: every projection's synaptic variable acts on its postsynaptic population as it
    was at the start of the step, all populations advance, then this step's spikes are delivered
    (arriving after their delay) and the synaptic kinetics advance.

    Args:
        populations: `{name: (model, n)}`: a neuron model (or spike source) and its size.
        projections: `Projection`s between these populations.

    Example:
        >>> import jax, brainsim as bs, brainsim_ops as bo
        >>> lif = bs.neurons.LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, R=1.0)
        >>> conn = bo.fixed_prob(jax.random.key(0), 100, 100, 0.1, weight=0.5)
        >>> net = bs.Network({"E": (lif, 100)}, [bs.Projection("E", "E", conn)])
        >>> result = bs.run(net, net.init(jax.random.key(1)), inputs={"E": 20.0},
        ...                 duration=50.0, dt=0.1, record=["E.spikes"])
    """

    models: dict[str, Any]
    sizes: dict[str, int] = eqx.field(static=True)
    projections: tuple[Projection, ...]

    def __init__(
        self, populations: Mapping[str, tuple[Any, int]], projections: Sequence[Projection] = ()
    ):
        if not isinstance(populations, Mapping) or not populations:
            raise TypeError("`populations` must be a non-empty dict {name: (model, n)}.")
        models, sizes = {}, {}
        for name, entry in populations.items():
            if not isinstance(name, str) or name in _RESERVED or "." in name:
                raise ValueError(
                    f"population name {name!r} is not allowed (use a string without dots, "
                    f"not one of {_RESERVED})."
                )
            if not (isinstance(entry, tuple) and len(entry) == 2):
                raise TypeError(f"`populations[{name!r}]` must be a (model, n) pair.")
            model, n = entry
            if not isinstance(n, int) or n <= 0:
                raise ValueError(f"`populations[{name!r}]` size must be a positive int, got {n!r}.")
            models[name], sizes[name] = model, n
        names = set()
        for proj in projections:
            if not isinstance(proj, Projection):
                raise TypeError(f"`projections` must hold Projection objects, got {proj!r}.")
            for side, pop, n in (
                ("pre", proj.pre, proj.conn.n_pre),
                ("post", proj.post, proj.conn.n_post),
            ):
                if pop not in sizes:
                    raise ValueError(
                        f"projection {proj.name!r}: `{side}` population {pop!r} is not one of "
                        f"{sorted(sizes)}."
                    )
                if sizes[pop] != n:
                    raise ValueError(
                        f"projection {proj.name!r}: `conn` has n_{side} = {n}, but population "
                        f"{pop!r} has {sizes[pop]} neurons."
                    )
            if proj.name in names:
                raise ValueError(f"two projections are named {proj.name!r}; give `name=`.")
            names.add(proj.name)
        self.models, self.sizes, self.projections = models, sizes, tuple(projections)

    def init(self, key: PRNGKeyArray | None = None) -> dict:
        """Initial state; with a key, each population's `init` receives its own subkey.

        Subkeys go to the populations in the sorted order of their names, so the state does not
        depend on dict order (which pytree transformations do not preserve).
        """
        names = sorted(self.models)
        keys = jax.random.split(key, len(names)) if key is not None else [None] * len(names)
        state = {
            name: self.models[name].init(self.sizes[name], k)
            for name, k in zip(names, keys, strict=True)
        }
        state["synapses"] = {proj.name: proj.init() for proj in self.projections}
        state["step"] = jnp.zeros((), jnp.int32)
        return state

    def step(self, state: dict, inputs=None, *, t, dt):
        """Advance every population and projection by one step of `dt` ms."""
        inputs = dict(inputs or {})
        modulators = inputs.pop("modulators", None) or {}
        unknown = set(inputs) - set(self.models)
        if unknown:
            raise KeyError(f"`inputs` names unknown populations {sorted(unknown)}.")
        plastic = {proj.name for proj in self.projections if proj.plasticity is not None}
        if set(modulators) - plastic:
            raise KeyError(
                f"`inputs['modulators']` names {sorted(set(modulators) - plastic)}, which are "
                f"not plastic projections (plastic: {sorted(plastic)})."
            )
        drives = dict(inputs)
        for proj in self.projections:
            v_post = getattr(state[proj.post], "v", None)
            synaptic = proj.drive(state["synapses"][proj.name], v_post)
            drives[proj.post] = _add(as_drive(drives.get(proj.post)), synaptic)
        new_state, spikes = {}, {}
        for name, model in self.models.items():
            new_state[name], spikes[name] = model.step(state[name], drives.get(name), t=t, dt=dt)
        new_state["synapses"] = {
            proj.name: proj.step(
                state["synapses"][proj.name],
                spikes[proj.pre],
                state["step"],
                dt=dt,
                post_spikes=spikes[proj.post],
                modulator=modulators.get(proj.name),
            )
            for proj in self.projections
        }
        new_state["step"] = state["step"] + 1
        return new_state, spikes
