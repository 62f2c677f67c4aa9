"""A network: named populations and the projections between them, stepped as one model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

import brainsim_ops as bo
from brainsim.astro._base import check_astrocyte_population
from brainsim.network._projection import Projection
from brainsim.neurons import Drive
from brainsim.neurons._base import as_drive

_RESERVED = ("synapses", "step", "modulators", "couplings", "structural")


def _add(a, b):
    """Sum of two partial inputs of one population (`None` is no input; a plain current joins
    a `Drive`; inputs of other kinds, e.g. `AstrocyteDrive`, add field by field)."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Drive) or isinstance(b, Drive):
        a, b = as_drive(a), as_drive(b)
    if type(a) is not type(b):
        raise TypeError(f"cannot add inputs of kinds {type(a).__name__} and {type(b).__name__}.")
    if isinstance(a, tuple):
        return type(a)(*(x + y for x, y in zip(a, b, strict=True)))
    return a + b


def _clock_steps(name: str, period, dt) -> int:
    """Steps of `dt` ms per update of a population on a clock of `period` ms."""
    steps = round(float(period) / float(dt))
    if steps < 1 or abs(steps * float(dt) - float(period)) > 1e-6 * float(period):
        raise ValueError(
            f"`clocks[{name!r}]` = {period} ms is not a whole multiple of the run's dt = {dt} ms."
        )
    return steps


def _check_population_input(name: str, given, population_state) -> None:
    """A current or `Drive` given for population `name` must fit its size (named if not)."""
    v = getattr(population_state, "v", None)
    if v is None or not (given is None or isinstance(given, Drive) or eqx.is_array_like(given)):
        return
    try:
        as_drive(given, like=v)
    except ValueError as error:
        raise ValueError(f"population {name!r}: {error}") from None


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

    Astrocyte populations (`brainsim.astro`) join as populations too. Couplings that are not
    spike-driven projections (gap junctions between astrocytes, an astrocyte's slow inward
    current onto neurons) go in `couplings`: each has a `target` population and a
    `drive(state)` computed from the network state at the start of the step. A coupling whose
    `splits_step` is true (`brainsim.network.GapJunctions` with `method="exact"` or
    `"implicit"`) is instead solved within the step by Strang splitting: its
    `split_step(population_state, model, dt / 2, kept)` advances the target population by the
    coupling alone before the population's step and again after it (the drives are still those
    of the start of the step). A coupling with `init_state(model, n)` keeps what it returns
    (unless None) in `state["couplings"][str(index)]`, e.g. the propagator of exact gap
    junctions, passed back to it as `kept`. A projection whose
    `stp` is a `brainsim.astro.TripartiteRelease` sees the `G_A` of its astrocyte population at
    the start of the step and, in closed loop, feeds its astrocytes the neurotransmitter `Y_S`.

    With `structural` (a `brainsim.plasticity.StructuralPlasticity`), the projections it
    names are rewired at run time: their neurons' calcium and synaptic elements are in
    `state["structural"]`, and every `update_interval` ms, after the step, synapses are
    deleted and created between free elements (their slots are in the projections' states).

    A population on a slower clock (`clocks={"A": 10.0}`: every 10 ms) advances by the whole
    period in one step every `period / dt` steps, with the inputs of that step (as Brian2 does
    for a group with its own `dt`); its outputs are zero in the other steps.

    Args:
        populations: `{name: (model, n)}`: a neuron model (or spike source, or astrocyte model) and
            its size.
        projections: `Projection`s between these populations.
        couplings: other couplings (`brainsim.network.GapJunctions` between neurons,
            `brainsim.astro.GapJunctions` between astrocytes, `brainsim.stimulation.Inject`, ...).
        clocks: `{name: period}`: update periods (ms) of populations slower than the run's dt.
        structural (StructuralPlasticity | None): structural plasticity rewiring some projections
            (needs a key in `init`).

    Examples:
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
    couplings: tuple[Any, ...]
    clocks: dict[str, float] = eqx.field(static=True)
    structural: Any = None

    def __init__(
        self,
        populations: Mapping[str, tuple[Any, int]],
        projections: Sequence[Projection] = (),
        couplings: Sequence[Any] = (),
        *,
        clocks: Mapping[str, float] | None = None,
        structural=None,
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
        projections = [_bind_glia(proj, models, sizes) for proj in projections]
        for coupling in couplings:
            if not (hasattr(coupling, "target") and hasattr(coupling, "drive")):
                raise TypeError(
                    "`couplings` must hold objects with a `target` population and "
                    f"`drive(state)` (e.g. brainsim.astro.GapJunctions), got {coupling!r}."
                )
            if coupling.target not in sizes:
                raise ValueError(
                    f"coupling {type(coupling).__name__}: target population "
                    f"{coupling.target!r} is not one of {sorted(sizes)}."
                )
            if hasattr(coupling, "check"):
                coupling.check(models, sizes)
        clocks = dict(clocks or {})
        for name, period in clocks.items():
            if name not in sizes:
                raise ValueError(f"`clocks` names {name!r}, not one of {sorted(sizes)}.")
            if not (isinstance(period, int | float) and period > 0):
                raise ValueError(f"`clocks[{name!r}]` must be a positive period in ms.")
        for coupling in couplings:
            if getattr(coupling, "splits_step", False) and coupling.target in clocks:
                raise ValueError(
                    f"coupling {type(coupling).__name__} on population {coupling.target!r}: it "
                    f"is solved within each step of the run's dt, but {coupling.target!r} runs "
                    f"on a clock of {clocks[coupling.target]} ms."
                )
        if structural is not None:
            if not hasattr(structural, "rewire"):
                raise TypeError(
                    "`structural` must be a brainsim.plasticity.StructuralPlasticity, got "
                    f"{type(structural).__name__}."
                )
            structural.check(sizes, projections)
            for pop in structural.elements:
                if pop in clocks:
                    raise ValueError(
                        f"structural plasticity: population {pop!r} runs on a clock of "
                        f"{clocks[pop]} ms; its calcium follows every step of the run's dt."
                    )
        self.models, self.sizes, self.projections = models, sizes, tuple(projections)
        self.couplings, self.clocks = tuple(couplings), clocks
        self.structural = structural

    @classmethod
    def assemble(cls, models: dict, sizes: dict, projections: Sequence[Projection], *,
                 clocks: Mapping[str, float] | None = None) -> Network:
        """A network from parts already checked, without the checks of `__init__` (for one
        device's part of a partitioned network, whose projections read the presynaptic
        populations whole: their `conn.n_pre` exceeds the local population size)."""
        network = object.__new__(cls)
        fields = dict(models=dict(models), sizes=dict(sizes), projections=tuple(projections),
                      couplings=(), clocks=dict(clocks or {}), structural=None)
        for name, value in fields.items():
            object.__setattr__(network, name, value)
        return network

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
        if self.structural is not None:
            if key is None:
                raise ValueError(
                    "a network with structural plasticity needs a key: `init(jax.random.key(0))`."
                )
            state["structural"] = self.structural.init(self.sizes, jax.random.fold_in(key, 1))
            for proj in self.projections:
                if proj.name in self.structural.synapses:
                    state["synapses"][proj.name] = self.structural.init_projection(
                        proj, state["synapses"][proj.name])
        kept = {}
        for i, coupling in enumerate(self.couplings):
            if hasattr(coupling, "init_state"):
                target = coupling.target
                kept_state = coupling.init_state(self.models[target], self.sizes[target])
                if kept_state is not None:
                    kept[str(i)] = kept_state
        if kept:
            state["couplings"] = kept
        state["step"] = jnp.zeros((), jnp.int32)
        return state

    def step(self, state: dict, inputs=None, *, t, dt):
        """Advance every population and projection by one step of `dt` ms."""
        return self.exchange_step(state, inputs, t=t, dt=dt, exchange=None)

    def exchange_step(self, state: dict, inputs=None, *, t, dt, exchange):
        """`step`, with this step's spikes passed through `exchange` before delivery.

        `exchange(spikes) -> (spikes, presynaptic)` maps the dict of each population's spikes
        to the spikes the step returns and those the projections deliver (`exchange=None`:
        both are the spikes themselves). With `presynaptic` None, the projections only
        receive (`Projection.receive`): the caller emits the spikes later. A partitioned
        network (`brainsim.network.partition`) steps its part of each population here and
        gathers the presynaptic spikes of all parts, every step or in blocks.
        """
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

        for name, given in inputs.items():
            _check_population_input(name, given, state[name])

        def drive_of(name):
            total = inputs.get(name)
            for proj in self.projections:
                if proj.post == name:
                    v_post = getattr(state[name], "v", None)
                    total = _add(total, proj.drive(state["synapses"][proj.name], v_post))
                if proj.synapse_release and proj.stp.listen and proj.stp.astrocytes == name:
                    total = _add(total, proj.stp.astrocyte_drive(state["synapses"][proj.name].stp))
            for coupling in self.couplings:
                if coupling.target == name:
                    total = _add(total, coupling.drive(state))
            return total

        kept = state.get("couplings", {})
        split = [
            (c, kept.get(str(i)))
            for i, c in enumerate(self.couplings)
            if getattr(c, "splits_step", False)
        ]
        start = {name: state[name] for name in self.models}
        for coupling, kept_state in split:  # first half of the Strang splitting
            start[coupling.target] = coupling.split_step(
                start[coupling.target], self.models[coupling.target], 0.5 * dt, kept_state
            )

        new_state, spikes = {}, {}
        for name, model in self.models.items():
            if name not in self.clocks:
                new_state[name], spikes[name] = model.step(start[name], drive_of(name), t=t, dt=dt)
                continue
            every = _clock_steps(name, self.clocks[name], dt)

            def advance(s, name=name, model=model, every=every):
                return model.step(s, drive_of(name), t=t, dt=every * dt)

            _, out_shape = jax.eval_shape(advance, state[name])
            new_state[name], spikes[name] = jax.lax.cond(
                state["step"] % every == 0,
                advance,
                lambda s, out_shape=out_shape: (
                    s, jax.tree.map(lambda o: jnp.zeros(o.shape, o.dtype), out_shape)
                ),
                state[name],
            )
        presynaptic = spikes
        if exchange is not None:
            spikes, presynaptic = exchange(spikes)
        for coupling, kept_state in reversed(split):  # second half
            new_state[coupling.target] = coupling.split_step(
                new_state[coupling.target], self.models[coupling.target], 0.5 * dt, kept_state
            )
        if kept:
            new_state["couplings"] = kept
        synapses = {
            proj.name: _read_before_update(state["synapses"][proj.name], new_state[proj.post])
            for proj in self.projections
        }
        new_state["synapses"] = {
            proj.name: proj.receive(synapses[proj.name], state["step"], dt=dt)
            if presynaptic is None else proj.step(
                synapses[proj.name],
                presynaptic[proj.pre],
                state["step"],
                dt=dt,
                post_spikes=spikes[proj.post],
                modulator=modulators.get(proj.name),
                glia=state[proj.stp.astrocytes].G_A if proj.synapse_release else None,
                binary_spikes=getattr(self.models[proj.pre], "binary_spikes", False),
            )
            for proj in self.projections
        }
        if self.structural is not None:
            structural = self.structural.advance(state["structural"], spikes, dt=dt)
            new_state["structural"] = structural
            if self.structural.in_step:  # only the rewired parts enter the conditional
                every = self.structural.steps_per_update(dt)
                part = {
                    "structural": structural,
                    "synapses": {n: new_state["synapses"][n] for n in self.structural.synapses},
                }
                part = jax.lax.cond(
                    (state["step"] + 1) % every == 0, lambda s: self.rewire(s), lambda s: s, part
                )
                new_state["structural"] = part["structural"]
                new_state["synapses"] = {**new_state["synapses"], **part["synapses"]}
        new_state["step"] = state["step"] + 1
        return new_state, spikes

    def rewire(self, state: dict) -> dict:
        """The state after one rewiring by the network's structural plasticity (what `step`
        does after each `update_interval` unless `StructuralPlasticity(in_step=False)`)."""
        if self.structural is None:
            raise ValueError("this network has no structural plasticity (`structural=`).")
        names = tuple(self.structural.synapses)
        structural, rewired = self.structural.rewire(
            state["structural"], {name: state["synapses"][name] for name in names},
            self.projections, self.sizes,
        )  # fmt: skip
        return {**state, "structural": structural, "synapses": {**state["synapses"], **rewired}}


def _read_before_update(synapse_state, post_state):
    """`synapse_state` with its kinetics ordered after the postsynaptic neurons' step.

    The neurons read the conductances (their drive) before the projection updates them; the
    event kernel updates a conductance in place (`add_to`), and without a data dependence
    between the two XLA copies the conductance every step to keep the old value for the
    neurons. `brainsim_ops.materialize(g, after=...)` with the neurons' new state supplies it.
    """
    anchors = [leaf for leaf in jax.tree.leaves(post_state) if jnp.ndim(leaf) > 0]
    if not anchors:
        return synapse_state
    kinetics = jax.tree.map(
        lambda g: bo.materialize(g, after=anchors[0]), synapse_state.kinetics
    )
    return synapse_state._replace(kinetics=kinetics)


def _bind_glia(proj: Projection, models: dict, sizes: dict) -> Projection:
    """A projection with a tripartite `stp` bound to the size of its astrocyte population."""
    if not proj.synapse_release:
        return proj
    check_astrocyte_population(proj.stp.astrocytes, models, f"projection {proj.name!r}")
    bound = proj.stp.bind(proj.conn, sizes[proj.stp.astrocytes])
    return eqx.tree_at(lambda p: p.stp, proj, bound)
