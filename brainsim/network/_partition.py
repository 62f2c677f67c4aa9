"""One network partitioned across devices, with spike exchange by collectives.

Every population's neurons are cut into equal contiguous parts, one per device (the last
parts padded with inert neurons whose spikes are masked). A device owns its neurons, their
state and the synapses onto them (post-partitioned connectivity: every presynaptic neuron,
the local postsynaptic ones), so a step needs from the other devices only their spikes. Each
step, every device advances its part of the network (`Network.exchange_step`) and gathers
the spikes of all parts with `jax.lax.all_gather`, over one axis of a `jax.sharding.Mesh`
that can span the local devices (CPU cores, GPUs) or the devices of several processes
(`jax.distributed`).

Arrays of the partitioned model and state carry the parts of all devices along their first
axis: a per-neuron array of `n` neurons becomes the padded global array (`parts · n_part`,
the first `n` entries being the neurons in order); arrays that every device keeps whole (a
delay ring of presynaptic spikes, presynaptic traces) hold one copy per device, end to end;
scalars become one value per device.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import brainsim_ops as bo
from brainsim._host import to_host
from brainsim._result import SpikeEvents
from brainsim.network._network import Network
from brainsim.network._projection import Projection
from brainsim.neurons import Drive

__all__ = ["PartitionedNetwork", "partition"]

_ALIGN = 8  # neurons per part are a multiple of this, so recorded spikes pack into whole bytes


@dataclasses.dataclass(frozen=True, eq=False)
class _Plan:
    """How a network is cut (host data; compared by identity, so a jit cache key stays cheap).

    `network`: the unpartitioned network; `part[pop]`: neurons per device (padded);
    `synapses[proj][d]`: the global storage index of each synapse of device `d` (-1:
    padding); `every`: steps between spike exchanges; `model_ndim`, `state_ndim`: rank of
    each leaf of one device's model and state, to restore scalars inside the partitioned
    step.
    """

    network: Network
    parts: int
    part: dict[str, int]
    synapses: dict[str, list[np.ndarray]]
    every: int = 1
    model_ndim: tuple[int, ...] = ()
    state_ndim: tuple[int, ...] = ()


def _cut(n: int, parts: int) -> int:
    """Neurons per part: the parts hold `n` neurons and at least one padding neuron (a row of
    connectivity that never spikes, for padding synapses), in multiples of `_ALIGN`."""
    return math.ceil((n + 1) / parts / _ALIGN) * _ALIGN


def _pad_rows(x: np.ndarray, n_rows: int) -> np.ndarray:
    """`x` (leading axis of neurons) padded to `n_rows` rows by repeating its last row: padding
    neurons behave like a real one, so they cannot produce NaNs."""
    return np.pad(x, [(0, n_rows - x.shape[0])] + [(0, 0)] * (x.ndim - 1), mode="edge")


def _neuron_rows(leaf, n: int, start: int, count: int):
    """Rows `start:start + count` of a per-neuron leaf (leading axis `n`), edge-padded; other
    leaves unchanged."""
    if not eqx.is_array(leaf) or jnp.ndim(leaf) == 0 or jnp.shape(leaf)[0] != n:
        return leaf
    x = np.asarray(leaf)[start : start + count]
    if x.shape[0] == 0:
        x = np.asarray(leaf)[-1:]
    return jnp.asarray(_pad_rows(x, count))


def _presynaptic_rows(leaf, n: int, n_padded: int):
    """A leaf with one entry per presynaptic neuron, padded to the padded population."""
    if not eqx.is_array(leaf) or jnp.ndim(leaf) == 0 or jnp.shape(leaf)[0] != n:
        return leaf
    return jnp.asarray(_pad_rows(np.asarray(leaf), n_padded))


def _check_supported(network: Network) -> None:
    if network.couplings:
        kinds = sorted({type(c).__name__ for c in network.couplings})
        raise ValueError(
            f"partition: the network has couplings ({', '.join(kinds)}), which read the state "
            "of whole populations each step; only spike-driven projections are exchanged "
            "between devices. Run this network unpartitioned."
        )
    if network.structural is not None:
        raise ValueError(
            "partition: structural plasticity rewires whole populations at once; run this "
            "network unpartitioned."
        )
    for proj in network.projections:
        if proj.synapse_release or proj.stochastic_release:
            raise ValueError(
                f"partition: projection {proj.name!r} has a per-synapse release (`stp` = "
                f"{type(proj.stp).__name__}), which is not partitioned; run unpartitioned."
            )
        if proj.plasticity is not None and any(
            jnp.ndim(leaf) for leaf in jax.tree.leaves(eqx.filter(proj.plasticity, eqx.is_array))
        ):
            raise ValueError(
                f"partition: projection {proj.name!r}: its plasticity rule has per-neuron or "
                "per-synapse constants; partitioned rules take scalar constants."
            )


def _synapse_ends(conn) -> tuple[np.ndarray, np.ndarray]:
    """The presynaptic and postsynaptic neuron of each synapse of `conn` (storage order)."""
    if isinstance(conn, bo.Dense):
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    pre, post = (np.asarray(a).reshape(-1) for a in bo.synapse_neurons(conn))
    return pre, post


def _local_synapses(ends, start: int, stop: int) -> np.ndarray:
    """Storage indices of the synapses onto posts `start:stop`, by presynaptic neuron (stable:
    the order within a row is kept; CSR storage is already in that order)."""
    pre, post = ends
    chosen = np.flatnonzero((post >= start) & (post < stop))
    rows = pre[chosen]
    if np.all(rows[1:] >= rows[:-1]):
        return chosen
    return chosen[np.argsort(rows, kind="stable")]


def _local_conn(conn, ends, chosen: np.ndarray, n_syn: int, start: int, n_pre_padded: int,
                n_part: int):
    """The part of `conn` onto posts `start:start + n_part`: rows are all (padded) presynaptic
    neurons, columns the local posts; `n_syn - len(chosen)` padding synapses sit on the last
    (padding, never spiking) presynaptic row."""
    if isinstance(conn, bo.Dense):  # zero weights (and no synapse) onto padding neurons
        def block(x):
            x = np.asarray(x)[:, start : start + n_part]
            return np.pad(x, [(0, n_pre_padded - x.shape[0]), (0, n_part - x.shape[1])])

        return bo.Dense(block(conn.weights), None if conn.mask is None else block(conn.mask))
    pre, post = ends
    padding = n_syn - chosen.shape[0]
    rows = np.concatenate([pre[chosen], np.full(padding, n_pre_padded - 1)])
    cols = np.concatenate([post[chosen] - start, np.zeros(padding, np.int64)])
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_pre_padded))])
    weights = conn.flat_weights()
    if jnp.ndim(weights):
        weights = np.concatenate([np.asarray(weights)[chosen], np.zeros(padding, weights.dtype)])
    return bo.CSR(indptr, cols, weights, n_post=n_part, dtype=conn.weights.dtype)


def _local_projection(proj: Projection, ends, chosen, n_syn, sizes, part, parts, d):
    n_pre, n_post = sizes[proj.pre], sizes[proj.post]
    pre_padded, start = part[proj.pre] * parts, d * part[proj.post]
    conn = _local_conn(proj.conn, ends, chosen, n_syn, start, pre_padded, part[proj.post])
    local = eqx.tree_at(lambda p: p.conn, proj, conn)
    if proj.delay_per == "pre":
        steps = _presynaptic_rows(proj.delay_steps, n_pre, pre_padded)
        local = eqx.tree_at(lambda p: p.delay_steps, local, steps)
    elif proj.delay_per == "synapse":
        steps = np.asarray(proj.delay_steps)[chosen]
        steps = np.concatenate([steps, np.zeros(n_syn - chosen.shape[0], steps.dtype)])
        local = eqx.tree_at(lambda p: p.delay_steps, local, jnp.asarray(steps, jnp.int32))
    post_rows = lambda x: _neuron_rows(x, n_post, start, part[proj.post])  # noqa: E731
    pre_rows = lambda x: _presynaptic_rows(x, n_pre, pre_padded)  # noqa: E731
    return eqx.tree_at(
        lambda p: (p.kinetics, p.output, p.stp),
        local,
        (jax.tree.map(post_rows, proj.kinetics), jax.tree.map(post_rows, proj.output),
         jax.tree.map(pre_rows, proj.stp)),
        is_leaf=lambda x: x is None,
    )  # fmt: skip


def _assemble(local: Callable[[int], Any], mesh: Mesh, axis: str):
    """The global arrays whose parts (along axis 0) are the leaves of `local(d)` for each
    device `d` of the mesh's axis; scalars become one value per device. Only the parts of
    this process's devices are built."""
    parts = mesh.shape[axis]
    built: dict[int, list] = {}

    def leaves_of(d):
        if d not in built:
            built[d] = jax.tree.leaves(local(d))
        return built[d]

    mine = _own_parts(mesh)
    reference = local(mine[0])
    flat, treedef = jax.tree.flatten(reference)
    built[mine[0]] = flat
    sharding = NamedSharding(mesh, P(axis))
    arrays = []
    for i, leaf in enumerate(flat):
        leaf = jnp.asarray(leaf)
        rows = leaf.shape[0] if leaf.ndim else 1
        shape = (parts * rows, *leaf.shape[1:]) if leaf.ndim else (parts,)

        def piece(index, i=i, rows=rows):
            d = (index[0].start or 0) // rows if rows else mine[0]  # empty: any part will do
            value = jnp.asarray(leaves_of(d)[i])
            return value if value.ndim else value[None]

        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            data = jax.make_array_from_callback(
                shape + jax.random.key_data(leaf).shape[leaf.ndim:], sharding,
                lambda index, piece=piece: jax.random.key_data(piece(index)),
            )  # fmt: skip
            arrays.append(jax.random.wrap_key_data(data, impl=jax.random.key_impl(leaf)))
        else:
            arrays.append(jax.make_array_from_callback(shape, sharding, piece))
    return jax.tree.unflatten(treedef, arrays), tuple(jnp.ndim(x) for x in flat)


def _own_parts(mesh: Mesh) -> list[int]:
    """The parts (device positions along the mesh) whose devices belong to this process."""
    devices = mesh.devices.reshape(-1)
    return [d for d, device in enumerate(devices) if device.process_index == jax.process_index()]


def _as_mesh(devices, axis: str) -> Mesh:
    if isinstance(devices, Mesh):
        if devices.axis_names != (axis,):
            raise ValueError(
                f"`devices`: a Mesh must have the single axis {axis!r}, got "
                f"{devices.axis_names}."
            )
        return devices
    if devices is None:
        devices = jax.devices()
    elif isinstance(devices, int):
        if devices < 1 or devices > len(jax.devices()):
            raise ValueError(
                f"`devices` = {devices}, but JAX has {len(jax.devices())} device(s); on a CPU, "
                "call `brainsim.use_cpu_cores(n)` (one device per core) before computing."
            )
        devices = jax.devices()[:devices]
    return Mesh(np.asarray(list(devices)), (axis,))


class PartitionedNetwork(eqx.Module):
    """A `Network` cut across devices; it steps and runs like the network (`brainsim.run`).

    Made by `partition`. Its state (from `init`) holds every device's part of the network
    state: per-neuron arrays are padded global arrays whose first `n` entries are the
    population's neurons in order (`gather` returns the unpartitioned layout). Recordings of
    `brainsim.run` are returned for the real neurons only. The spikes of a step are those of
    the unpartitioned network with the same keys; populations with a random state (Poisson
    sources, noisy neurons) draw per device from keys folded with the device's index, so their
    draws differ from the unpartitioned run's (with the same statistics).

    Attributes:
        local: every device's part of the network, stacked along the arrays' first axis.
        mesh: the devices, along the single axis `axis`.
        axis: name of the mesh axis the neurons are cut along.
        sizes: `{population: n}`, the real sizes.
        packed: spikes are exchanged as bits (else one byte per neuron).
        plan: how the network is cut (host data: parts, neurons per part, each part's
            synapses, steps between exchanges).

    Examples:
        >>> import jax, brainsim as bs
        >>> net, inputs = bs.benchmarks.coba(jax.random.key(0), n=200)
        >>> parted = bs.network.partition(net, devices=1)
        >>> parted.padded_size("E")  # 160 excitatory neurons and padding
        168
        >>> state = parted.init(jax.random.key(1))
        >>> state, spikes = parted.step(state, inputs, t=0.0, dt=0.1)
        >>> parted.gather(state)["E"].v.shape
        (160,)
    """

    local: Network
    mesh: Mesh = eqx.field(static=True)
    axis: str = eqx.field(static=True)
    sizes: dict[str, int] = eqx.field(static=True)
    packed: bool = eqx.field(static=True)
    plan: _Plan = eqx.field(static=True)

    @property
    def parts(self) -> int:
        """Number of devices (parts)."""
        return self.plan.parts

    def padded_size(self, population: str) -> int:
        """Neurons of `population` in the padded global arrays (parts × neurons per part)."""
        return self.plan.part[population] * self.plan.parts

    def init(self, key=None) -> dict:
        """The partitioned initial state: the network's `init(key)` cut into parts.

        Population states are those of `Network.init(key)` (the same numbers as unpartitioned);
        keys in a population's state are folded with the device index; projections start
        empty, as in the network."""
        state = self.plan.network.init(key)
        plan, axis = self.plan, self.axis

        def population_parts(d):
            out = {"step": state["step"]}
            for name, n in self.sizes.items():
                start, count = d * plan.part[name], plan.part[name]

                def rows(leaf, n=n, start=start, count=count):
                    if eqx.is_array(leaf) and jax.dtypes.issubdtype(
                        leaf.dtype, jax.dtypes.prng_key
                    ):
                        return jax.random.fold_in(leaf, d)
                    return _neuron_rows(leaf, n, start, count)

                out[name] = jax.tree.map(rows, state[name])
            return out

        def synapse_parts(model):  # on each device, from its part of the connectivity
            model = _restore(model, plan.model_ndim)
            out = {"synapses": {proj.name: proj.init() for proj in model.projections}}
            if plan.every > 1:
                out["exchange"] = _exchange_buffers(plan)
            return _stack_scalars(out)

        populations, _ = _assemble(population_parts, self.mesh, axis)
        synapses = jax.jit(jax.shard_map(synapse_parts, mesh=self.mesh, in_specs=P(axis),
                                         out_specs=P(axis)))(self.local)  # fmt: skip
        return {**populations, **synapses}

    def gather(self, state: dict) -> dict:
        """The unpartitioned view of a partitioned state, as host (numpy) arrays.

        Populations: their state with the real neurons only. Projections: the kinetics of the
        real postsynaptic neurons and, for plastic ones, `weights` in the connectivity's
        storage order. The step counter is a scalar.
        """
        state = jax.tree.map(
            lambda x: x if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else to_host(x),
            state,
        )
        out = {}
        for name, n in self.sizes.items():
            padded = self.padded_size(name)
            out[name] = jax.tree.map(
                lambda x, n=n, padded=padded: (
                    x[:n] if x.ndim and x.shape[0] == padded else x
                ),
                state[name],
            )
        synapses = {}
        for proj in self.plan.network.projections:
            ps = state["synapses"][proj.name]
            n_post = self.sizes[proj.post]
            view = {"kinetics": jax.tree.map(lambda x, n=n_post: x[:n], ps.kinetics)}
            if ps.weights is not None:
                index = np.concatenate(self.plan.synapses[proj.name])
                local = np.asarray(ps.weights).reshape(-1)
                weights = np.zeros(math.prod(proj.conn.synapse_shape), local.dtype)
                weights[index[index >= 0]] = local[index >= 0]
                view["weights"] = weights.reshape(proj.conn.synapse_shape)
            synapses[proj.name] = view
        out["synapses"] = synapses
        out["step"] = np.asarray(state["step"]).reshape(-1)[0]
        return out

    def recorded(self, name: str, values):
        """A recording of `brainsim.run` (an array or `SpikeEvents`) for the real neurons only:
        the last axis of a population's variable loses its padding."""
        population = name.split(".")[0]
        if population not in self.sizes or "." not in name:
            return values
        padded, n = self.padded_size(population), self.sizes[population]
        if isinstance(values, SpikeEvents):
            return SpikeEvents(values.times, values.indices, n) if values.n == padded else values
        if np.ndim(values) and np.shape(values)[-1] == padded:
            return values[..., :n]
        return values

    def step(self, state: dict, inputs=None, *, t, dt):
        """Advance every device's part by one step of `dt` ms and exchange the spikes.

        `inputs` are as for `Network.step` (per-neuron arrays of the real size, or scalars);
        returns the new state and the padded spikes of each population.
        """
        inputs = self._padded_inputs(dict(inputs or {}))
        plan, axis = self.plan, self.axis
        presynaptic = {proj.pre for proj in self.plan.network.projections}

        def real_only(spikes):
            index = jax.lax.axis_index(axis)
            local = {}
            for name, s in spikes.items():
                count = plan.part[name]
                real = index * count + jnp.arange(count) < self.sizes[name]
                local[name] = jnp.where(real, s, jnp.zeros_like(s))
            return local

        def exchange(spikes):
            local = real_only(spikes)
            sent = {name: local[name][None] for name in sorted(presynaptic)}
            gathered = _gather_spikes(sent, axis, self.packed)
            return local, {name: events[0] for name, events in gathered.items()}

        def blockwise(model, state, inputs, t):
            """Projections receive every step; the spikes of a block of `every` steps are
            gathered and emitted at its end (every delay spans at least a block)."""
            every, emitted = plan.every, state["step"]
            buffers = state["exchange"]
            state, spikes = model.exchange_step(
                {k: v for k, v in state.items() if k != "exchange"}, inputs, t=t, dt=dt,
                exchange=lambda spikes: (real_only(spikes), None),
            )  # fmt: skip
            buffers = {name: b.at[emitted % every].set(spikes[name].astype(b.dtype))
                       for name, b in buffers.items()}  # fmt: skip

            def flush(synapses):
                events = _gather_spikes(buffers, axis, self.packed)
                first = emitted - (every - 1)

                def emit(j, synapses):
                    return {
                        proj.name: proj.emit(synapses[proj.name], events[proj.pre][j],
                                             first + j, dt=dt)
                        for proj in model.projections
                    }  # fmt: skip

                return jax.lax.fori_loop(0, every, emit, synapses)

            synapses = jax.lax.cond((emitted + 1) % every == 0, flush, lambda s: s,
                                    state["synapses"])  # fmt: skip
            return {**state, "synapses": synapses, "exchange": buffers}, spikes

        def part_step(model, state, inputs, t):
            model = _restore(model, plan.model_ndim)
            state = _restore(state, plan.state_ndim)
            if plan.every == 1:
                state, spikes = model.exchange_step(state, inputs, t=t, dt=dt,
                                                    exchange=exchange)  # fmt: skip
            else:
                state, spikes = blockwise(model, state, inputs, t)
            return _stack_scalars(state), spikes

        input_specs = jax.tree.map(lambda x: P(axis) if jnp.ndim(x) else P(), inputs)
        stepped = jax.shard_map(
            part_step,
            mesh=self.mesh,
            in_specs=(P(axis), P(axis), input_specs, P()),
            out_specs=(P(axis), P(axis)),
            check_vma=False,  # the gather's custom gradient is typed by hand
        )
        return stepped(self.local, state, inputs, jnp.asarray(t))

    def _padded_inputs(self, inputs: dict) -> dict:
        modulators = inputs.pop("modulators", None)
        out = {}
        for name, given in inputs.items():
            if name not in self.sizes:
                raise KeyError(f"`inputs` names unknown population {name!r}.")
            out[name] = self._pad(given, self.sizes[name], self.padded_size(name))
        if modulators:
            posts = {proj.name: proj.post for proj in self.plan.network.projections}
            out["modulators"] = {
                key: self._pad(value, self.sizes[posts[key]], self.padded_size(posts[key]))
                if key in posts else value
                for key, value in modulators.items()
            }
        return out

    @staticmethod
    def _pad(given, n: int, padded: int):
        def pad(x):
            x = jnp.asarray(x)
            if x.ndim == 0:
                return x
            if x.shape[0] != n:
                raise ValueError(
                    f"a per-neuron input must have {n} entries (one per neuron), got shape "
                    f"{x.shape}."
                )
            return jnp.pad(x, [(0, padded - n)] + [(0, 0)] * (x.ndim - 1))

        if isinstance(given, Drive):
            return Drive(*(pad(x) for x in given))
        return pad(given)


def _gather_spikes(local: dict, axis: str, packed: bool) -> dict:
    """The spikes of all devices' parts: one all-gather of every population's local spikes
    (`(steps, n_part)` each; returned `(steps, parts · n_part)`), as bytes (counts up to 255)
    or bits. Gradients pass straight through: the cotangent of each device's part is the sum
    over devices of theirs (a reduce-scatter)."""
    names = list(local)

    @jax.custom_vjp
    def gather(values):
        sizes = [v.shape[-1] for v in values]
        sent = jnp.concatenate([v.astype(jnp.uint8) for v in values], axis=-1)
        if packed:
            sent = jnp.packbits(sent > 0, axis=-1)
        got = jax.lax.all_gather(sent, axis)  # (parts, steps, bytes)
        if packed:
            got = jnp.unpackbits(got, axis=-1, count=sum(sizes))
        out, offset = [], 0
        for v, size in zip(values, sizes, strict=True):
            part = jnp.moveaxis(got[..., offset : offset + size], 0, -2)
            out.append(part.reshape(v.shape[0], -1).astype(v.dtype))
            offset += size
        return out

    def forward(values):
        return gather(values), None

    def backward(_, cotangents):
        return ([jax.lax.psum_scatter(c, axis, scatter_dimension=1, tiled=True)
                 for c in cotangents],)  # fmt: skip

    gather.defvjp(forward, backward)
    return dict(zip(names, gather([local[name] for name in names]), strict=True))


def _exchange_every(network: Network, given: int | None) -> int:
    """Steps per spike exchange: at most the smallest delay of any projection (in steps), 1
    if a projection has no delay or is plastic."""
    allowed = 1
    projections = network.projections
    if projections and all(p.delay_per and p.plasticity is None for p in projections):
        allowed = min(int(np.min(np.asarray(p.delay_steps))) for p in projections)
        allowed = max(allowed, 1)
    if given is None:
        return allowed
    if not isinstance(given, int) or isinstance(given, bool) or not 1 <= given <= allowed:
        raise ValueError(
            f"`exchange_every` must be an int from 1 to {allowed} (the smallest delay in steps, "
            f"or 1 with undelayed or plastic projections), got {given!r}."
        )
    return given


def _exchange_buffers(plan: _Plan) -> dict:
    """A device's spikes of the current block, per presynaptic population."""
    dtype = jnp.result_type(float)
    return {proj.pre: jnp.zeros((plan.every, plan.part[proj.pre]), dtype)
            for proj in plan.network.projections}  # fmt: skip


def _restore(tree, ndim: tuple[int, ...]):
    """Inside the partitioned step: scalars (one value per device) back to rank 0."""
    leaves, treedef = jax.tree.flatten(tree)
    leaves = [x.reshape(()) if k == 0 else x for x, k in zip(leaves, ndim, strict=True)]
    return jax.tree.unflatten(treedef, leaves)


def _stack_scalars(tree):
    return jax.tree.map(lambda x: x[None] if jnp.ndim(x) == 0 else x, tree)


def _local_network(plan: _Plan, d: int, ends: dict) -> Network:
    """Device `d`'s part of the network (built on the host); `ends`: `_synapse_ends` of each
    projection."""
    network, part, parts = plan.network, plan.part, plan.parts
    models = {
        name: jax.tree.map(
            lambda x, n=network.sizes[name], name=name: _neuron_rows(x, n, d * part[name],
                                                                   part[name]),
            model,
        )
        for name, model in network.models.items()
    }
    projections = []
    for proj in network.projections:
        index = plan.synapses[proj.name][d]
        projections.append(_local_projection(
            proj, ends[proj.name], index[index >= 0], index.shape[0], network.sizes, part, parts,
            d))
    return Network.assemble(
        models, {name: part[name] for name in models}, projections, clocks=network.clocks
    )


def partition(
    network: Network,
    devices: int | Sequence[jax.Device] | Mesh | None = None,
    *,
    axis: str = "neurons",
    packed: bool | None = None,
    exchange_every: int | None = None,
) -> PartitionedNetwork:
    """Cut `network` across devices: each owns a part of every population and the synapses
    onto it; spikes are exchanged by an all-gather over the devices, every step or, when all
    delays allow, once per block of steps.

    Run the result as the network itself: `brainsim.run(partitioned, partitioned.init(key),
    ...)` records the same variables (for the real neurons) and gives the same spikes as the
    unpartitioned network with the same keys. On a CPU, `brainsim.use_cpu_cores(n)` (before
    computing) makes one JAX device per core; across hosts, call `jax.distributed.initialize`
    first and pass `devices=jax.devices()` (all processes' devices; every process builds the
    same network and calls `partition` and `run` alike).

    Supported: populations of any neuron model, projections with CSR, fixed in-degree ELL or
    Dense connectivity, delays per projection, per presynaptic neuron or per synapse,
    Tsodyks-Markram short-term plasticity and plasticity rules with scalar constants.
    Couplings (gap junctions, astrocytes), structural plasticity and per-synapse release are
    not partitioned (a ValueError says so).

    Exchange in blocks (NEST's scheme): a spike emitted at step `s` acts no earlier than
    `s + d` when every delay is at least `d` steps, so the devices may run `d` steps alone and
    exchange the spikes of those steps at once: one collective per `d` steps instead of one
    per step (fewer synchronisations; the saving is that of `d - 1` collectives of tens of
    microseconds each on a CPU). This applies when every projection has a delay of at least
    2 steps and none is plastic (a plasticity rule reads the presynaptic spikes when they
    are emitted); the spikes are those of the unpartitioned network either way.

    Args:
        network: the network to cut.
        devices: the devices: a number (the first that many of `jax.devices()`), a sequence of
            devices, a one-axis `jax.sharding.Mesh`, or None (all devices).
        axis: name of the mesh axis.
        packed: exchange spikes as bits (8x less to move; packing costs about a nanosecond
            per neuron and step) or as bytes (spike counts up to 255 pass exactly). Default:
            bits when the devices belong to several processes (the exchange crosses the
            network), else bytes.
        exchange_every: steps between exchanges (default: the smallest delay in steps when
            blocks apply, else 1); at most that smallest delay.

    Returns:
        A `PartitionedNetwork`.

    Examples:
        >>> import jax, brainsim as bs
        >>> net, inputs = bs.benchmarks.coba(jax.random.key(0), n=400)
        >>> parted = bs.network.partition(net, devices=1)
        >>> result = bs.run(parted, parted.init(jax.random.key(1)), inputs=inputs,
        ...                 duration=20.0, dt=0.1, record=["E.spikes"])
    """
    if not isinstance(network, Network):
        raise TypeError(f"`network` must be a brainsim Network, got {type(network).__name__}.")
    _check_supported(network)
    # The native kernels' one-time self-test cannot run inside shard_map's trace (where an
    # eager `step` would first need it): run it now.
    bo.native_available()
    mesh = _as_mesh(devices, axis)
    parts = mesh.shape[axis]
    part = {name: _cut(n, parts) for name, n in network.sizes.items()}
    synapses, ends = {}, {}
    for proj in network.projections:
        n_part = part[proj.post]
        ends[proj.name] = _synapse_ends(proj.conn)
        if isinstance(proj.conn, bo.Dense):
            synapses[proj.name] = [np.zeros(0, np.int64)] * parts
            continue
        chosen = [_local_synapses(ends[proj.name], d * n_part, (d + 1) * n_part)
                  for d in range(parts)]  # fmt: skip
        n_syn = max(max(c.shape[0] for c in chosen), 1)
        synapses[proj.name] = [
            np.concatenate([c, np.full(n_syn - c.shape[0], -1)]) for c in chosen
        ]
    every = _exchange_every(network, exchange_every)
    plan = _Plan(network, parts, part, synapses, every)
    own = _own_parts(mesh)[0]  # a part this process builds anyway
    first = _local_network(plan, own, ends)
    model_ndim = tuple(jnp.ndim(x) for x in jax.tree.leaves(first))
    template = jax.eval_shape(first.init, jax.random.key(0))
    if every > 1:
        template["exchange"] = jax.eval_shape(lambda: _exchange_buffers(plan))
    state_ndim = tuple(len(x.shape) for x in jax.tree.leaves(template))
    plan = _Plan(network, parts, part, synapses, every, model_ndim, state_ndim)
    local, ndim = _assemble(lambda d: first if d == own else _local_network(plan, d, ends), mesh,
                            axis)  # fmt: skip
    if ndim != model_ndim:
        raise RuntimeError("partition: the model's structure changed between devices.")
    if packed is None:
        packed = len({device.process_index for device in mesh.devices.reshape(-1)}) > 1
    return PartitionedNetwork(local, mesh, axis, dict(network.sizes), bool(packed), plan)
