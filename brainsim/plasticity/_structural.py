"""Structural plasticity: synapses created and deleted at run time from homeostatic growth of
synaptic elements (Butz & van Ooyen 2013), on fixed-capacity connectivity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

import brainsim_ops as bo
from brainsim._validation import as_param, check_positive
from brainsim.plasticity._growth import GrowthCurve
from brainsim_ops._layout import Layout


class StructuralState(NamedTuple):
    """State of structural plasticity in a `Network`.

    Attributes:
        calcium: `{population: (n,)}` calcium trace of each neuron (dimensionless, as in NEST).
        elements: `{population: {element: (n,)}}` number of synaptic elements `z` (a real
            number; `floor(z)` elements can bind).
        key: the random key of the rewiring (split at each update).
        unplaced: synapses paired but not created because the presynaptic neuron had no free
            slot left in its projection (cumulative; give the projection's ELL a larger `k` if
            it is not zero).
        truncated: vacant elements left out of a pairing because a neuron had more than
            `max_vacant` of one kind (cumulative; raise `max_vacant` if it is not zero).
    """

    calcium: dict[str, Float[Array, " n"]]
    elements: dict[str, dict[str, Float[Array, " n"]]]
    key: PRNGKeyArray
    unplaced: Int[Array, ""]
    truncated: Int[Array, ""]


def _slot_layout(targets: Int[Array, "n_pre k"], n_post: int) -> Layout:
    """The `brainsim_ops` index layout of slot connectivity whose slots target `targets`.

    Built with a sort (traceable), so rewired connectivity can be rebuilt inside `jit`.
    """
    n_pre, k = targets.shape
    flat = targets.reshape(-1).astype(jnp.int32)
    order = jnp.argsort(flat, stable=True).astype(jnp.int32)
    in_degree = jnp.zeros(n_post, jnp.int32).at[flat].add(1, mode="drop")
    post_indptr = jnp.concatenate([jnp.zeros(1, jnp.int32), jnp.cumsum(in_degree)])
    return Layout(
        (jnp.arange(n_pre + 1) * k).astype(jnp.int32), flat, jnp.zeros(0, jnp.int32),
        post_indptr.astype(jnp.int32), (order // k).astype(jnp.int32), order, n_pre, n_post,
    )  # fmt: skip


def _segment_count(mask, owner, n: int) -> Int[Array, " n"]:
    return jax.ops.segment_sum(mask.astype(jnp.int32), owner, num_segments=n)


def _rank_in_group(group, score):
    """Order of the items by (group, score), and each sorted item's rank within its group."""
    order = jnp.lexsort((score, group))
    sorted_group = group[order]
    position = jnp.arange(group.shape[0])
    starts = jnp.concatenate([jnp.ones(1, bool), sorted_group[1:] != sorted_group[:-1]])
    first = jax.lax.cummax(jnp.where(starts, position, 0))
    return order, sorted_group, position - first


def _delete_excess(connected, owner, excess, n_owner: int, score):
    """Unbind `excess[o]` connected slots of each owner `o`, chosen uniformly at random
    (`score`: one uniform number per slot)."""
    group = jnp.where(connected, owner, n_owner)
    order, sorted_group, rank = _rank_in_group(group, score)
    limit = jnp.concatenate([excess, jnp.zeros(1, excess.dtype)])[sorted_group]
    delete = jnp.zeros_like(connected).at[order].set(rank < limit)
    return connected & ~delete


def _serialize(counts: Int[Array, " n"], length: int):
    """Neuron `o` repeated `counts[o]` times, padded to `length`: (owners, valid)."""
    ends = jnp.cumsum(counts)
    valid = jnp.arange(length) < ends[-1]
    owner = jnp.cumsum(jnp.zeros(length, jnp.int32).at[ends].add(1, mode="drop"))
    return jnp.where(valid, owner, 0), valid


def _shuffled(owners, valid, score):
    """The valid owners in a uniformly random order first, then the padding (`score`: one
    uniform number per entry)."""
    return owners[jnp.argsort(jnp.where(valid, score, 2.0))]


class _Kind(NamedTuple):
    """The projections whose synapses bind one (presynaptic, postsynaptic) element pair."""

    pre_element: str
    post_element: str
    projections: tuple[str, ...]
    pre_pops: tuple[str, ...]
    post_pops: tuple[str, ...]


class StructuralPlasticity(eqx.Module):
    """Structural plasticity: homeostatic growth of synaptic elements, and synapses created
    between free elements and deleted when elements retract (Butz & van Ooyen 2013, as NEST).

    Each neuron of a population listed in `elements` has a calcium trace and, per element
    kind (e.g. `"axon_ex"`, `"den_ex"`), a number of elements `z`:

        dCa/dt = -Ca / tau_ca + beta_ca Σ_k δ(t - t^k)
        dz/dt = growth.rate(Ca)                      (a `GaussianGrowth`, `LinearGrowth`, ...)

    Every `update_interval` ms the network is rewired. A synapse of a projection listed in
    `synapses` binds one presynaptic element (e.g. an axonal bouton) of its source and one
    postsynaptic element (a dendritic spine) of its target; an element kind may serve several
    projections (`"axon_ex"` of `E` binds in both `E->E` and `E->I`). For each
    (pre, post) element pair in the order of `synapses`:

    1. neurons with fewer elements than bound synapses (`floor(z) < connected`) lose that many
       synapses, chosen at random among theirs: first on the presynaptic side, then on the
       postsynaptic side;
    2. the free elements (`floor(z) - connected`) are listed, each neuron as often as it has
       free elements; the longer list is shuffled and cut to the length of the shorter, and
       the two are paired in order: each pair is a new synapse (multapses and autapses may
       form), with the projection's weight.

    Then each population's free elements decay: `z ← z - tau_vacant (floor(z) - connected)`.
    This is NEST's algorithm (`SPManager::update_structural_plasticity`).

    A rewired projection's `conn` is a `brainsim_ops.ELL` with `rows="pre"`: its `k` is the
    capacity (slots per presynaptic neuron) and its weights (a scalar or one per slot, pA or
    nS) the weight each new synapse gets; its indices are ignored: the network starts without
    synapses, as NEST's example does. Shapes stay static under `jit`: the slots' targets and
    bound flags live in the projection's state (`"synapses.E->E.connected"`) and delivery stays
    event-driven. A synapse that finds no free slot is not made (`StructuralState.unplaced`
    counts them); a neuron with more than `max_vacant` free elements of one kind lists only
    `max_vacant` (`StructuralState.truncated`).

    Args:
        elements: `{population: {element: GrowthCurve}}` (growth in elements/ms).
        synapses: `{projection name: (pre element, post element)}`.
        update_interval: time between rewirings (ms, a multiple of the run's dt).
        tau_ca: calcium time constant (ms, > 0); NEST's default 10000.
        beta_ca: calcium increment per spike (> 0); NEST's default 0.001.
        tau_vacant: fraction of the free elements lost at each rewiring (in [0, 1]); NEST 0.1.
        max_vacant: most free elements of one kind a neuron offers at one rewiring.
        in_step: rewire inside `Network.step`, at the end of every step that completes an
            `update_interval` (the default; works with `brainsim.run`). With `False`, the step
            only advances calcium and elements, and the caller rewires with
            `Network.rewire(state)` after each `update_interval` of steps: the same run,
            without the per-step cost of the conditional (XLA copies the slot arrays through
            it at every step: about 75 µs per step for 64 000 slots on one core).

    Examples:
        >>> import jax, brainsim as bs, brainsim_ops as bo
        >>> from brainsim.plasticity import GaussianGrowth, StructuralPlasticity
        >>> grow = GaussianGrowth(nu=1e-3, eta=0.0, eps=0.05)
        >>> sp = StructuralPlasticity({"E": {"axon": grow, "dendrite": grow}},
        ...                           {"E->E": ("axon", "dendrite")}, update_interval=100.0)
        >>> slots = bo.ELL(jax.numpy.zeros((100, 20), int), 50.0, n_cols=100)
        >>> net = bs.Network({"E": (bs.neurons.LIF(), 100)},
        ...                  [bs.Projection("E", "E", slots, output=bs.synapses.Current())],
        ...                  structural=sp)

    Reference: Butz & van Ooyen (2013), PLoS Comput. Biol. 9:e1003259; Diaz-Pier, Naveau,
    Butz-Ostendorf & Morrison (2016), *Automatic generation of connectivity for large-scale
    neuronal network models through structural plasticity*, Front. Neuroanat. 10:57.
    """

    elements: dict[str, dict[str, GrowthCurve]]
    synapses: dict[str, tuple[str, str]] = eqx.field(static=True)
    update_interval: float = eqx.field(static=True)
    tau_ca: Float[Array, ""] = eqx.field(converter=as_param)
    beta_ca: Float[Array, ""] = eqx.field(converter=as_param)
    tau_vacant: Float[Array, ""] = eqx.field(converter=as_param)
    max_vacant: int = eqx.field(static=True)
    in_step: bool = eqx.field(static=True)

    def __init__(
        self,
        elements: Mapping[str, Mapping[str, GrowthCurve]],
        synapses: Mapping[str, tuple[str, str]],
        *,
        update_interval: float,
        tau_ca: float = 10000.0,
        beta_ca: float = 0.001,
        tau_vacant: float = 0.1,
        max_vacant: int = 64,
        in_step: bool = True,
    ):
        if not isinstance(elements, Mapping) or not elements:
            raise TypeError("`elements` must be a non-empty dict {population: {element: curve}}.")
        for pop, kinds in elements.items():
            if not isinstance(kinds, Mapping) or not kinds:
                raise TypeError(f"`elements[{pop!r}]` must be a non-empty dict {{element: curve}}.")
            for name, curve in kinds.items():
                if not isinstance(curve, GrowthCurve):
                    raise TypeError(
                        f"`elements[{pop!r}][{name!r}]` must be a growth curve (GaussianGrowth, "
                        f"LinearGrowth, SigmoidGrowth), got {type(curve).__name__}."
                    )
        if not isinstance(synapses, Mapping) or not synapses:
            raise TypeError("`synapses` must be a non-empty dict {projection: (pre, post)}.")
        for name, pair in synapses.items():
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(
                    isinstance(e, str) for e in pair)):
                raise TypeError(
                    f"`synapses[{name!r}]` must be a (pre element, post element) pair of names, "
                    f"got {pair!r}."
                )
        if not (isinstance(update_interval, int | float) and update_interval > 0):
            raise ValueError(f"`update_interval` must be > 0 ms, got {update_interval!r}.")
        if not (isinstance(max_vacant, int) and max_vacant >= 1):
            raise ValueError(f"`max_vacant` must be an int >= 1, got {max_vacant!r}.")
        self.elements = {pop: dict(kinds) for pop, kinds in elements.items()}
        self.synapses = dict(synapses)
        self.update_interval = float(update_interval)
        self.tau_ca, self.beta_ca, self.tau_vacant = tau_ca, beta_ca, tau_vacant
        self.max_vacant = max_vacant
        self.in_step = bool(in_step)

    def __check_init__(self):
        check_positive("tau_ca", self.tau_ca)
        check_positive("beta_ca", self.beta_ca)
        check_positive("tau_vacant", self.tau_vacant, allow_zero=True)
        if not isinstance(self.tau_vacant, jax.core.Tracer) and float(self.tau_vacant) > 1.0:
            raise ValueError(f"`tau_vacant` must be in [0, 1], got {float(self.tau_vacant)}.")

    # -- construction ------------------------------------------------------------------------

    def check(self, sizes: Mapping[str, int], projections) -> None:
        """Check the populations, projections and element kinds against a network's."""
        for pop in self.elements:
            if pop not in sizes:
                raise ValueError(
                    f"structural plasticity: `elements` names population {pop!r}, not one of "
                    f"{sorted(sizes)}."
                )
        by_name = {proj.name: proj for proj in projections}
        for name, (pre_el, post_el) in self.synapses.items():
            proj = by_name.get(name)
            if proj is None:
                raise ValueError(
                    f"structural plasticity: `synapses` names projection {name!r}, not one of "
                    f"{sorted(by_name)}."
                )
            if not (isinstance(proj.conn, bo.ELL) and proj.conn.rows == "pre"):
                raise TypeError(
                    f"projection {name!r} is rewired, so its `conn` must be slots: a "
                    f"brainsim_ops.ELL with rows='pre' (k = capacity per presynaptic neuron), "
                    f"got {type(proj.conn).__name__}."
                )
            if proj.plasticity is not None or proj.stp is not None:
                raise ValueError(
                    f"projection {name!r} is rewired; weight plasticity and short-term "
                    "plasticity on rewired projections are not supported."
                )
            if proj.delay_per not in (None, "projection"):
                raise ValueError(
                    f"projection {name!r} is rewired; give it one delay for the whole "
                    "projection (its synapses move)."
                )
            for side, pop, element in (("pre", proj.pre, pre_el), ("post", proj.post, post_el)):
                if element not in self.elements.get(pop, {}):
                    raise ValueError(
                        f"projection {name!r} binds {side}synaptic element {element!r}, but "
                        f"population {pop!r} does not grow it (`elements[{pop!r}]`)."
                    )
        for kind in self.kinds(projections):
            made = {(by_name[n].pre, by_name[n].post) for n in kind.projections}
            if len(made) != len(kind.projections):
                raise ValueError(
                    f"structural plasticity: two projections bind ({kind.pre_element!r}, "
                    f"{kind.post_element!r}) between the same populations."
                )
            for pre in kind.pre_pops:
                for post in kind.post_pops:
                    if (pre, post) not in made:
                        raise ValueError(
                            f"structural plasticity: elements {kind.pre_element!r} of {pre!r} "
                            f"can pair with {kind.post_element!r} of {post!r}, but no rewired "
                            f"projection {pre}->{post} binds them; add one to `synapses`."
                        )

    def kinds(self, projections) -> tuple[_Kind, ...]:
        """The element pairs, in the order of `synapses`, with their projections."""
        by_name = {proj.name: proj for proj in projections}
        pairs = list(dict.fromkeys(self.synapses.values()))
        kinds = []
        for pre_el, post_el in pairs:
            names = tuple(n for n, pair in self.synapses.items() if pair == (pre_el, post_el))
            kinds.append(_Kind(
                pre_el, post_el, names,
                tuple(sorted({by_name[n].pre for n in names})),
                tuple(sorted({by_name[n].post for n in names})),
            ))  # fmt: skip
        return tuple(kinds)

    def init(self, sizes: Mapping[str, int], key: PRNGKeyArray) -> StructuralState:
        """No calcium and no elements; `key` drives the rewiring."""
        dtype = jnp.result_type(float)
        return StructuralState(
            calcium={pop: jnp.zeros(sizes[pop], dtype) for pop in self.elements},
            elements={
                pop: {el: jnp.zeros(sizes[pop], dtype) for el in kinds}
                for pop, kinds in self.elements.items()
            },
            key=key,
            unplaced=jnp.zeros((), jnp.int32),
            truncated=jnp.zeros((), jnp.int32),
        )

    @staticmethod
    def init_projection(proj, state):
        """A rewired projection's state: empty slots (none bound), the slot weights."""
        n_pre, k = proj.conn.n_pre, proj.conn.k
        targets = jnp.zeros((n_pre, k), jnp.int32)
        weights = jnp.broadcast_to(proj.conn.weights, (n_pre, k))
        return state._replace(
            weights=weights,
            wiring=_slot_layout(targets, proj.conn.n_post),
            connected=jnp.zeros((n_pre, k), bool),
        )

    def steps_per_update(self, dt) -> int:
        """Steps of `dt` ms between rewirings (`update_interval` must be a multiple of `dt`)."""
        steps = round(self.update_interval / float(dt))
        if steps < 1 or abs(steps * float(dt) - self.update_interval) > 1e-6 * self.update_interval:
            raise ValueError(
                f"`update_interval` = {self.update_interval} ms is not a whole multiple of the "
                f"run's dt = {dt} ms."
            )
        if steps >= 2**31:
            raise ValueError(
                f"`update_interval` = {self.update_interval} ms is {steps} steps of dt = {dt} ms, "
                "beyond the network's int32 step counter; use a shorter interval."
            )
        return steps

    # -- dynamics ----------------------------------------------------------------------------

    def advance(self, state: StructuralState, spikes: Mapping[str, Array], *, dt):
        """One step of `dt` ms: calcium decays and jumps at spikes, elements grow."""
        decay = jnp.exp(-dt / self.tau_ca)
        calcium, elements = {}, {}
        for pop, kinds in self.elements.items():
            ca = state.calcium[pop] * decay
            elements[pop] = {
                el: jnp.maximum(state.elements[pop][el] + dt * curve.rate(ca), 0.0)
                for el, curve in kinds.items()
            }
            calcium[pop] = ca + self.beta_ca * spikes[pop]
        return state._replace(calcium=calcium, elements=elements)

    def rewire(self, state: StructuralState, synapses: dict, projections, sizes):
        """Delete and create synapses (NEST's update), then decay the free elements."""
        by_name = {proj.name: proj for proj in projections}
        synapses = dict(synapses)
        key, unplaced, truncated = state.key, state.unplaced, state.truncated
        for kind in self.kinds(projections):
            key, sub = jax.random.split(key)
            rewired, made, cut = self._rewire_kind(
                kind, state.elements, {n: synapses[n] for n in kind.projections}, by_name,
                sizes, sub,
            )  # fmt: skip
            synapses.update(rewired)
            unplaced, truncated = unplaced + made, truncated + cut
        bound = self._bound_elements(synapses, by_name, sizes)
        elements = {}
        for pop, kinds in state.elements.items():
            elements[pop] = {}
            for el, z in kinds.items():
                vacant = jnp.floor(z) - bound[pop][el]
                elements[pop][el] = z - jnp.where(vacant > 0, vacant * self.tau_vacant, 0.0)
        for name in self.synapses:
            s = synapses[name]
            synapses[name] = s._replace(
                wiring=_slot_layout(s.wiring.pre_post.reshape(s.connected.shape),
                                   by_name[name].conn.n_post))  # fmt: skip
        state = state._replace(elements=elements, key=key, unplaced=unplaced, truncated=truncated)
        return state, synapses

    def _bound_elements(self, synapses, by_name, sizes):
        """`{population: {element: (n,)}}`: elements bound in synapses."""
        bound = {
            pop: {el: jnp.zeros(sizes[pop], jnp.int32) for el in kinds}
            for pop, kinds in self.elements.items()
        }
        for name, (pre_el, post_el) in self.synapses.items():
            proj, s = by_name[name], synapses[name]
            bound[proj.pre][pre_el] = bound[proj.pre][pre_el] + s.connected.sum(axis=1)
            targets = s.wiring.pre_post
            bound[proj.post][post_el] = bound[proj.post][post_el] + _segment_count(
                s.connected.reshape(-1), targets, sizes[proj.post])
        return bound

    def _rewire_kind(self, kind: _Kind, elements, synapses, by_name, sizes, key):
        pre_off = _offsets(kind.pre_pops, sizes)
        post_off = _offsets(kind.post_pops, sizes)
        n_pre, n_post = pre_off[-1], post_off[-1]
        # One table of all slots of the kind's projections (rows: global presynaptic rows).
        pre_gid, post_gid, connected, row, rows_base, slot_base, row_starts = ([] for _ in range(7))
        n_rows = n_slots = 0
        for name in kind.projections:
            proj, s = by_name[name], synapses[name]
            n, k = s.connected.shape
            local = jnp.repeat(jnp.arange(n), k)
            pre_gid.append(pre_off[kind.pre_pops.index(proj.pre)] + local)
            post_gid.append(post_off[kind.post_pops.index(proj.post)] + s.wiring.pre_post)
            connected.append(s.connected.reshape(-1))
            row.append(n_rows + local)
            rows_base.append(n_rows)
            slot_base.append(n_slots)
            row_starts.extend(n_slots + k * i for i in range(n))
            n_rows, n_slots = n_rows + n, n_slots + n * k
        pre_gid, post_gid = jnp.concatenate(pre_gid), jnp.concatenate(post_gid)
        connected, row = jnp.concatenate(connected), jnp.concatenate(row)
        z_pre = jnp.concatenate([elements[p][kind.pre_element] for p in kind.pre_pops])
        z_post = jnp.concatenate([elements[p][kind.post_element] for p in kind.post_pops])
        length = max(n_pre, n_post) * self.max_vacant
        draws = jax.random.uniform(key, (2 * n_slots + 2 * length,))
        score_pre, score_post = draws[:n_slots], draws[n_slots:2 * n_slots]
        score_pre_list = draws[2 * n_slots:2 * n_slots + length]
        score_post_list = draws[2 * n_slots + length:]

        # 1. Deletion where elements retracted below the bound synapses: pre, then post side.
        for owner, z, n_owner, score in ((pre_gid, z_pre, n_pre, score_pre),
                                         (post_gid, z_post, n_post, score_post)):
            excess = _segment_count(connected, owner, n_owner) - jnp.floor(z).astype(jnp.int32)
            connected = _delete_excess(connected, owner, jnp.maximum(excess, 0), n_owner, score)

        # 2. Pairing of the free elements.
        free_pre = jnp.maximum(jnp.floor(z_pre) - _segment_count(connected, pre_gid, n_pre), 0)
        free_post = jnp.maximum(
            jnp.floor(z_post) - _segment_count(connected, post_gid, n_post), 0)
        cap = self.max_vacant
        cut = (jnp.maximum(free_pre - cap, 0).sum() + jnp.maximum(free_post - cap, 0).sum())
        free_pre = jnp.minimum(free_pre, cap).astype(jnp.int32)
        free_post = jnp.minimum(free_post, cap).astype(jnp.int32)
        pre_list, pre_valid = _serialize(free_pre, length)
        post_list, post_valid = _serialize(free_post, length)
        n_free_pre, n_free_post = free_pre.sum(), free_post.sum()
        shuffle_pre = n_free_pre > n_free_post  # NEST shuffles the longer list only
        pre_list = jnp.where(shuffle_pre, _shuffled(pre_list, pre_valid, score_pre_list), pre_list)
        post_list = jnp.where(
            shuffle_pre, post_list, _shuffled(post_list, post_valid, score_post_list))
        make = jnp.arange(length) < jnp.minimum(n_free_pre, n_free_post)

        # 3. Each new synapse takes the next free slot of its presynaptic row.
        pre_pop = sum(((pre_list >= e).astype(jnp.int32) for e in pre_off[1:-1]),
                      jnp.zeros(length, jnp.int32))
        post_pop = sum(((post_list >= e).astype(jnp.int32) for e in post_off[1:-1]),
                       jnp.zeros(length, jnp.int32))
        table = jnp.asarray([
            [rows_base[kind.projections.index(_named(kind, by_name, p, q))]
             for q in kind.post_pops] for p in kind.pre_pops
        ])  # fmt: skip
        pair_row = table[pre_pop, post_pop] + pre_list - jnp.asarray(pre_off)[pre_pop]
        pair_row = jnp.where(make, pair_row, n_rows)
        free = ~connected
        row_start = jnp.asarray(row_starts + [n_slots], jnp.int32)
        before = jnp.cumsum(free) - free  # free slots before each slot
        free_rank = before - before[row_start[row]]
        n_free_row = jnp.concatenate([_segment_count(free, row, n_rows), jnp.zeros(1, jnp.int32)])
        target_of_free = jnp.where(free, row_start[row] + free_rank, n_slots)
        free_slot = jnp.full(n_slots, n_slots, jnp.int32).at[target_of_free].set(
            jnp.arange(n_slots, dtype=jnp.int32), mode="drop")
        order, sorted_row, rank = _rank_in_group(pair_row, jnp.arange(length))
        placed = (sorted_row < n_rows) & (rank < n_free_row[sorted_row])
        slot = jnp.where(placed, free_slot[jnp.minimum(row_start[sorted_row] + rank,
                                                       n_slots - 1)], n_slots)
        sorted_post = post_list[order]
        post_local = sorted_post - jnp.asarray(post_off)[post_pop[order]]
        connected = connected.at[slot].set(True, mode="drop")
        unplaced = (make.sum() - placed.sum()).astype(jnp.int32)

        rewired = {}
        for name, start in zip(kind.projections, slot_base, strict=True):
            s = synapses[name]
            n, k = s.connected.shape
            in_proj = (slot >= start) & (slot < start + n * k)
            local_slot = jnp.where(in_proj, slot - start, n * k)
            targets = s.wiring.pre_post.at[local_slot].set(post_local, mode="drop")
            rewired[name] = s._replace(  # slot weights stay the projection's (no plasticity)
                connected=connected[start:start + n * k].reshape(n, k),
                wiring=eqx.tree_at(lambda w: w.pre_post, s.wiring, targets),
            )
        return rewired, unplaced, cut.astype(jnp.int32)


def _offsets(pops, sizes) -> list[int]:
    out = [0]
    for pop in pops:
        out.append(out[-1] + sizes[pop])
    return out


def _named(kind: _Kind, by_name, pre: str, post: str) -> str:
    return next(n for n in kind.projections if (by_name[n].pre, by_name[n].post) == (pre, post))

