"""A NIR graph as a brainsim model: its nodes stepped in order, edges summed at each input."""

from __future__ import annotations

import dataclasses
import math
import pathlib
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._run import run
from brainsim.nir._nodes import METHODS, Delay, Identity, from_nir_node


def _nir():
    try:
        import nir
    except ImportError as error:
        raise ImportError(
            'brainsim.nir needs the `nir` package, from the "nir" extra: '
            'pip install "brainsim[nir]"'
        ) from error
    return nir


def _evaluation_order(names, edges, delays) -> tuple[str, ...]:
    """Nodes (other than delays) in an order where each follows its sources; in a cycle
    without a `Delay`, the first node (in graph order) fed by an evaluated node goes first and
    reads the rest of the cycle from the previous step."""
    sources = {name: [u for u, v in edges if v == name] for name in names}
    done, order = set(delays), []
    remaining = [name for name in names if name not in delays]
    while remaining:
        ready = [v for v in remaining if all(u in done for u in sources[v])]
        if not ready:
            ready = [v for v in remaining if any(u in done for u in sources[v])] or remaining
        order.append(ready[0])
        done.add(ready[0])
        remaining.remove(ready[0])
    return tuple(order)


class NIRModel(eqx.Module):
    """A network of NIR nodes, stepped as one brainsim model (made by `from_nir`).

    Each step reads every `Delay` node's output (its input `d` steps ago), then advances the
    other nodes in `order`: a node's input is the sum of its sources' outputs in this step,
    except on a cycle without a `Delay`, where the edge that closes the cycle carries its
    source's output of the previous step (snnTorch's `RLeaky` recurrence; before the first
    step, the source's output for zero input, so a recurrent `Affine` gives its bias). An
    `Input` node passes the step's input on. Signals are held over the step (a spike is the
    value 1 during its step), as snnTorch, Norse and Spyx discretise NIR.

    `init(key=None)` gives the state (a dict of node states); `step(state, inputs, *, t, dt)`
    takes one vector for a graph with one `Input` (or a dict by input name; missing inputs are
    zero) and returns the `Output` node's values (a dict by output name if there are several).
    `run(input_series)` runs over a series with `brainsim.run`. Parameters are arrays: the model
    trains with `jax.grad`, batches with `jax.vmap` and compiles with `jax.jit`.

    Args:
        nodes: `{name: node}` with brainsim node modules (see `from_nir`).
        edges: `(source, target)` names.
        dt: the time step (ms) the model runs at (delays are whole numbers of it).
        shapes: `{name: shape}`, the NIR shape of a node's output where it is not a vector
            (`(C, H, W)` around convolutions); values still flow as flat vectors, and `to_nir`
            writes these shapes back. Nodes not named are vectors.

    Examples:
        >>> import numpy as np, nir
        >>> import brainsim as bs
        >>> graph = nir.NIRGraph.from_list(
        ...     nir.Linear(weight=np.full((2, 3), 0.5, np.float32)),
        ...     nir.LIF(tau=np.full(2, 0.01), r=np.full(2, 10.0), v_leak=np.zeros(2),
        ...             v_threshold=np.ones(2), v_reset=np.zeros(2)))
        >>> model = bs.nir.from_nir(graph, dt=1.0)
        >>> model.run(np.ones((5, 3), np.float32)).shape
        (5, 2)
    """

    nodes: dict
    edges: tuple[tuple[str, str], ...] = eqx.field(static=True)
    order: tuple[str, ...] = eqx.field(static=True)
    delays: tuple[str, ...] = eqx.field(static=True)
    sizes: tuple[tuple[str, int], ...] = eqx.field(static=True)
    inputs: tuple[str, ...] = eqx.field(static=True)
    outputs: tuple[str, ...] = eqx.field(static=True)
    previous: tuple[str, ...] = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    shapes: tuple[tuple[str, tuple[int, ...]], ...] = eqx.field(static=True)

    def __init__(
        self,
        nodes: Mapping,
        edges: Sequence[tuple[str, str]],
        *,
        dt: float,
        shapes: Mapping[str, tuple[int, ...]] | None = None,
    ):
        if not (isinstance(dt, int | float) and dt > 0):
            raise ValueError(f"`dt` must be a positive time step in ms, got {dt!r}.")
        nodes = dict(nodes)
        edges = tuple((str(u), str(v)) for u, v in edges)
        for u, v in edges:
            for end in (u, v):
                if end not in nodes:
                    raise ValueError(f"edge ({u!r}, {v!r}) names {end!r}, which is not a node.")
        delays = tuple(name for name, node in nodes.items() if isinstance(node, Delay))
        order = _evaluation_order(list(nodes), edges, delays)
        position = {name: i for i, name in enumerate(order)}
        self.previous = tuple(sorted({
            u for u, v in edges
            if v in position and u in position and position[u] >= position[v]
        }))  # fmt: skip
        self.nodes, self.edges, self.order, self.delays = nodes, edges, order, delays
        self.inputs = tuple(n for n, m in nodes.items() if _kind(m) == "Input")
        self.outputs = tuple(n for n, m in nodes.items() if _kind(m) == "Output")
        if not self.outputs:
            raise ValueError("the graph has no Output node, so the model would return nothing.")
        self.sizes = tuple(_infer_sizes(nodes, edges, delays + order).items())
        self.dt = float(dt)
        self.shapes = tuple(
            (name, tuple(int(n) for n in shape))
            for name, shape in (shapes or {}).items()
            if shape is not None and name in nodes
        )

    def _size(self, name: str) -> int:
        return dict(self.sizes)[name]

    def init(self, key: PRNGKeyArray | None = None) -> dict:
        """Initial state: every node at rest (`v = v_leak`, no synaptic current, empty
        delays); an edge that closes a cycle first carries what its source gives for zero
        input (an `Affine`'s bias; zero for a node with a state, such as a neuron). The key
        is accepted for the common contract and unused."""
        return {
            "nodes": {name: node.init(self._size(name)) for name, node in self.nodes.items()},
            "previous": {name: self._resting_output(name) for name in self.previous},
        }

    def _resting_output(self, name: str):
        node, size = self.nodes[name], self._size(name)
        dtype = jnp.result_type(float)
        if node.init(size) is not None:
            return jnp.zeros((size,), dtype)
        n_in = _expected_input(node, size) or size
        return node.step(None, jnp.zeros((n_in,), dtype), t=0.0, dt=self.dt)[1]

    def _check_dt(self, dt) -> None:
        try:
            value = float(dt)
        except (TypeError, jax.errors.ConcretizationTypeError):
            return
        if abs(value - self.dt) > 1e-9 * self.dt:
            raise ValueError(
                f"this model was imported for dt = {self.dt:g} ms but runs at dt = {value:g} "
                f"ms; import it again with from_nir(graph, dt={value:g})."
            )

    def _given(self, inputs) -> dict:
        if inputs is None:
            inputs = {}
        if not isinstance(inputs, Mapping):
            if len(self.inputs) != 1:
                raise ValueError(
                    f"the graph has inputs {list(self.inputs)}: give `inputs` as a dict."
                )
            inputs = {self.inputs[0]: inputs}
        unknown = set(inputs) - set(self.inputs)
        if unknown:
            raise KeyError(f"`inputs` names {sorted(unknown)}, not inputs {list(self.inputs)}.")
        given = {}
        for name in self.inputs:
            n = self._size(name)
            x = jnp.asarray(inputs.get(name, 0.0), jnp.result_type(float))
            if x.shape not in ((), (n,)):
                raise ValueError(
                    f"input {name!r} has shape {x.shape}; expected ({n},) (batches: jax.vmap)."
                )
            given[name] = jnp.broadcast_to(x, (n,))
        return given

    def step(self, state: dict, inputs=None, *, t, dt):
        """Advance every node by `dt` ms; returns `(state, outputs)`."""
        self._check_dt(dt)
        given = self._given(inputs)
        nodes, previous = state["nodes"], state["previous"]
        out = {name: self.nodes[name].read(nodes[name]) for name in self.delays}
        new = {}

        def total(name):
            parts = [given[name]] if name in given else []
            for u, v in self.edges:
                if v == name:
                    parts.append(out[u] if u in out else previous[u])
            if not parts:
                return jnp.zeros((self._size(name),), jnp.result_type(float))
            return sum(parts[1:], parts[0])

        for name in self.order:
            new[name], out[name] = self.nodes[name].step(nodes[name], total(name), t=t, dt=dt)
        for name in self.delays:
            new[name] = self.nodes[name].write(nodes[name], total(name))
        state = {"nodes": new, "previous": {name: out[name] for name in self.previous}}
        if len(self.outputs) == 1:
            return state, out[self.outputs[0]]
        return state, {name: out[name] for name in self.outputs}

    def run(
        self,
        input_series: Float[Array, "T n_in"] | dict,
        *,
        state: dict | None = None,
        steps: int | None = None,
        t0: float = 0.0,
    ):
        """Run over `input_series` (one row per step of `dt` ms, or a dict by input name);
        returns the outputs over time (an array `(T, n_out)`, or a dict by output name)."""
        state = self.init() if state is None else state
        input_series = jax.tree.map(jnp.asarray, input_series)
        if steps is None:
            steps = int(jax.tree.leaves(input_series)[0].shape[0])
        record = {name: _pick(name, len(self.outputs) == 1) for name in self.outputs}
        result = run(self, state, dt=self.dt, steps=steps, input_series=input_series, t0=t0,
                     record=record, stream=False)  # fmt: skip
        if len(self.outputs) == 1:
            return result.traces[self.outputs[0]]
        return {name: result.traces[name] for name in self.outputs}

    def to_nir(self, time_unit: float = 1e3):
        """The NIR graph of this model (time constants divided by `time_unit` ms)."""
        nir = _nir()
        sizes, shapes = dict(self.sizes), dict(self.shapes)
        nodes = {}
        for name, node in self.nodes.items():
            if isinstance(node, Identity):
                shape = shapes.get(name)
                if node.kind == "Flatten":
                    shape = next((shapes.get(u) for u, v in self.edges if v == name), None)
                nodes[name] = Identity(kind=node.kind, n=sizes[name]).to_nir(time_unit, shape)
            else:
                nodes[name] = _with_shape(node.to_nir(time_unit), shapes.get(name))
        # NIR 1.0 takes a convolution's input channels to be weight.shape[1], which is wrong
        # for groups > 1: such a graph is written without NIR's type check.
        grouped = any(getattr(node, "groups", 1) > 1 for node in self.nodes.values())
        return nir.NIRGraph(nodes=nodes, edges=list(self.edges), type_check=not grouped)


_PER_NEURON = ("LIF", "LI", "CubaLIF", "CubaLI", "IF", "I", "Scale", "Threshold", "Delay")


def _with_shape(nir_node, shape):
    """`nir_node` with its per-neuron parameters in the NIR shape `shape` (e.g. the
    `(C, H, W)` of the convolution that feeds it) instead of flat."""
    if shape is None or len(shape) < 2 or type(nir_node).__name__ not in _PER_NEURON:
        return nir_node
    fields = {f.name: getattr(nir_node, f.name) for f in dataclasses.fields(nir_node) if f.init}
    for key, value in fields.items():
        if isinstance(value, np.ndarray) and value.shape == (math.prod(shape),):
            fields[key] = value.reshape(shape)
    return type(nir_node)(**fields)


def _pick(name: str, single: bool):
    return (lambda state, outputs: outputs) if single else (lambda state, outputs: outputs[name])


def _kind(node) -> str:
    return node.kind if isinstance(node, Identity) else type(node).__name__


def _expected_input(node, size: int) -> int | None:
    """How many values `node` takes (None: any, an `Input` or an identity of unknown size)."""
    in_shape = getattr(node, "in_shape", None)
    if in_shape is not None:
        return math.prod(in_shape)
    weight = getattr(node, "weight", None)
    if weight is not None:
        return int(weight.shape[1])
    if isinstance(node, Identity):
        return node.n if node.kind != "Input" and node.n > 0 else None
    return size


def _infer_sizes(nodes, edges, names) -> dict[str, int]:
    sizes = {}
    for _ in range(len(names) + 1):
        for name in names:
            node = nodes[name]
            if isinstance(node, Identity) and node.n == 0:
                known = [sizes[u] for u, v in edges if v == name and u in sizes]
                if known:
                    sizes[name] = known[0]
            else:
                sizes[name] = int(node.n_out(None))
    for u, v in edges:
        expected = _expected_input(nodes[v], sizes.get(v, 0))
        if expected is not None and sizes.get(u) != expected:
            raise ValueError(
                f"edge ({u!r}, {v!r}): {u!r} gives {sizes.get(u)} values but {v!r} takes "
                f"{expected}."
            )
    return sizes


def _build_order(nodes, edges) -> list[str]:
    """Node names with each after its sources where it can be (in a cycle, a node fed by one
    already placed goes first), so a convolution learns the shape of its input."""
    placed, order = set(), []
    remaining = list(nodes)
    while remaining:
        sources = {v: [u for u, w in edges if w == v] for v in remaining}
        ready = [v for v in remaining if all(u in placed for u in sources[v])]
        ready = ready or [v for v in remaining if any(u in placed for u in sources[v])]
        name = (ready or remaining)[0]
        order.append(name)
        placed.add(name)
        remaining.remove(name)
    return order


def _output_shape(nir_node, node, in_shape) -> tuple[int, ...] | None:
    """The NIR shape of a node's output: a convolution's or pooling's computed shape, a
    flat vector after `Flatten`, else the shape NIR declares (or, for `Output`, neurons with
    undeclared shapes and other pass-throughs, the input's)."""
    if hasattr(node, "out_shape"):
        return node.out_shape
    if type(nir_node).__name__ == "Flatten":
        return None if in_shape is None else (math.prod(in_shape),)
    declared = (getattr(nir_node, "output_type", None) or {}).get("output")
    if declared is None and isinstance(nir_node, _Pass):
        declared = nir_node.input_type["input"]
    if declared is not None and np.size(declared) > 0:
        return tuple(int(n) for n in np.asarray(declared).reshape(-1))
    return in_shape


def _decode(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _Pass:
    """The `Input` or `Output` of a nested graph, once inlined: a pass-through."""

    def __init__(self, node):
        shape = getattr(node, "input_type", {}).get("input")
        if shape is None:
            shape = node.output_type["output"]
        self.input_type = {"input": np.asarray(shape)}


def _flatten(graph, prefix: str = "") -> tuple[dict, list]:
    """Nodes and edges of `graph` with nested graphs inlined (names `outer.inner`)."""
    nir = _nir()
    nodes, edges, ends = {}, [], {}
    for name, node in graph.nodes.items():
        if prefix and isinstance(node, nir.Input | nir.Output):
            nodes[prefix + name] = _Pass(node)
        elif isinstance(node, nir.NIRGraph):
            inner_nodes, inner_edges = _flatten(node, f"{prefix}{name}.")
            nodes.update(inner_nodes)
            edges.extend(inner_edges)
            ends[name] = (
                [f"{prefix}{name}.{k}" for k, m in node.nodes.items() if isinstance(m, nir.Input)],
                [f"{prefix}{name}.{k}" for k, m in node.nodes.items() if isinstance(m, nir.Output)],
            )
        else:
            nodes[prefix + name] = node

    def resolve(end: str, side: int) -> str:
        if end in ends:
            candidates = ends[end][side]
            if len(candidates) != 1:
                raise ValueError(
                    f"edge end {end!r} is a subgraph with {len(candidates)} "
                    f"{'outputs' if side else 'inputs'}; name one ({candidates})."
                )
            return candidates[0]
        return prefix + end

    edges.extend((resolve(_decode(u), 1), resolve(_decode(v), 0)) for u, v in graph.edges)
    return nodes, edges


def from_nir(
    graph,
    *,
    dt: float,
    method: str | None = None,
    time_unit: float = 1e3,
    convention: str = "nir",
) -> NIRModel:
    """Import a NIR graph (an `nir.NIRGraph` or the path of a `.nir` file) as a `NIRModel`.

    NIR writes continuous-time equations without units; brainsim reads time constants in
    units of `time_unit` ms (1000: seconds, as snnTorch, Norse and Spyx write them),
    potentials as mV, currents as pA, resistances as GΩ (mV/pA) and weights as pA (or mV for
    a node whose input is a potential) per unit of input. Each node becomes:

    - `LIF(tau, r, v_leak, v_threshold, v_reset)`: `brainsim.neurons.LIF` with `tau_m = tau·u`,
      `R = r`, `v_rest = v_leak`, `v_th = v_threshold`, `v_reset`, `t_ref = 0`:
      `tau_m dv/dt = v_rest - v + R I`, a spike when `v > v_th`, then `v ← v_reset`.
    - `LI(tau, r, v_leak)`: the same without threshold; outputs `v`.
    - `CubaLIF`, `CubaLI`: `tau_syn di/dt = -i + w_in I`, then `tau_mem dv/dt = v_leak - v + r i`.
    - `IF(r, v_threshold, v_reset)`, `I(r)`: `dv/dt = (r / u) I`.
    - `Linear(W)`, `Affine(W, b)`: `y = W x (+ b)`, `W` of shape `(n_out, n_in)`.
    - `Scale(s)`: `y = s x`; `Threshold(θ)`: `y = 1[x > θ]`.
    - `Delay(d)`: `d·u / dt` steps, a whole number ≥ 1.
    - `Conv2d(W, b, stride, padding, dilation, groups)`, `Conv1d`: PyTorch's cross-correlation
      of the input, shape `(C_in, H, W)` (or `(C_in, N)`), with `W` of shape
      `(C_out, C_in / groups, k_h, k_w)`: `y[o, p] = b[o] + Σ_{c, k} W[o, c, k] x[c, s·p + d·k]`
      over the zero-padded input; output size `⌊(n + 2 pad - d (k - 1) - 1) / s⌋ + 1` per axis;
      padding whole numbers, `"valid"` (0) or `"same"` (stride 1; PyTorch's split, the extra
      row at the end).
    - `SumPool2d(k, s, pad)`, `AvgPool2d`: the sum (the mean, over `k_h k_w` with the padded
      zeros counted) of each window; output size `⌊(n + 2 pad - k) / s⌋ + 1`.
    - `Input`, `Output`, `Flatten`: identity. Values flow as flat vectors; a signal of NIR shape
      `(C, H, W)` is flattened in row-major order, as are the parameters of the neurons it
      feeds, and each convolution or pooling takes its input shape from its own
      `input_shape` or from its source.

    (`u` is `time_unit`.) Nested graphs (snnTorch's recurrent layers) are inlined. Every NIR
    1.0 node type is read; another raises `NotImplementedError` naming the node and its type.

    Args:
        graph (nir.NIRGraph | str | os.PathLike): the NIR graph, or a path to read with `nir.read`.
        dt: the time step (ms) the model will run at.
        method: `"euler"` (forward Euler, how snnTorch, Norse and Spyx step NIR's equations:
            use it to reproduce their spikes) or `"exp_euler"` (exact for inputs held over the
            step; brainsim's default for `LIF`). `None`: the method `to_nir` stored in each
            node's metadata, else `"euler"`.
        time_unit: length in ms of the graph's unit of time (default 1000: seconds).
        convention: `"nir"` (default): the equations above. `"spyx"`: read `LIF` nodes as
            Spyx does (its `LIF` layer, which NIR cannot express: `β = 1 - dt/tau`,
            `V_t = β V_{t-1} + x_t - θ s_t`, output `s_t = 1[V_{t-1} > θ]`, `r` ignored), to
            reproduce a Spyx model from the graph it wrote (with `time_unit` the length of
            Spyx's `dt`, and `dt` the same).

    Returns:
        A `NIRModel`.

    Examples:
        >>> import numpy as np, nir
        >>> import brainsim as bs
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.eye(2, dtype=np.float32)),
        ...                                nir.LI(tau=np.full(2, 0.005), r=np.ones(2),
        ...                                       v_leak=np.zeros(2)))
        >>> model = bs.nir.from_nir(graph, dt=1.0)
        >>> [round(float(v), 3) for v in model.run(np.ones((1, 2), np.float32))[0]]
        [0.2, 0.2]

    Reference: Pedersen et al. (2024), *Neuromorphic intermediate representation: a unified
    instruction set for interoperable brain-inspired computing*, Nature Communications 15.
    """
    nir = _nir()
    if isinstance(graph, str | pathlib.Path):
        graph = nir.read(graph)
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"`graph` must be a nir.NIRGraph or a path, got {type(graph).__name__}.")
    if method is not None and method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS} or None, got {method!r}.")
    if not (isinstance(time_unit, int | float) and math.isfinite(time_unit) and time_unit > 0):
        raise ValueError(f"`time_unit` must be a positive length of time in ms, got {time_unit!r}.")
    if not (isinstance(dt, int | float) and dt > 0):
        raise ValueError(f"`dt` must be a positive time step in ms, got {dt!r}.")
    if convention not in ("nir", "spyx"):
        raise ValueError(f"`convention` must be 'nir' or 'spyx', got {convention!r}.")
    flat_nodes, edges = _flatten(graph)
    nodes, shapes = {}, {}
    for name in _build_order(flat_nodes, edges):
        node = flat_nodes[name]
        chosen = method
        if chosen is None:
            stored = (getattr(node, "metadata", None) or {}).get("brainsim_method", "euler")
            chosen = _decode(np.asarray(stored).item() if isinstance(stored, np.ndarray)
                             else stored)  # fmt: skip
        in_shape = next((shapes[u] for u, v in edges if v == name and u in shapes), None)
        nodes[name] = from_nir_node(node, name, method=chosen, time_unit=time_unit, dt=dt,
                                    convention=convention, in_shape=in_shape)  # fmt: skip
        shapes[name] = _output_shape(node, nodes[name], in_shape)
    nodes = {name: nodes[name] for name in flat_nodes}
    return NIRModel(nodes, edges, dt=float(dt), shapes=shapes)
