"""Astrocyte-modulated STDP of the neuron-astrocyte liquid state machine (Ivanov & Michmizos
2021): pair STDP whose depression is set by one global astrocyte variable."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

import brainsim_ops as bo
from brainsim._validation import _concrete, as_param, check_finite, check_positive
from brainsim.plasticity._traces import begin_update, check_bounds, trace_dtype


class AstroSTDPState(NamedTuple):
    """State of astrocyte-modulated STDP.

    Attributes:
        pre: presynaptic trace `x` (dimensionless), shape `(n_pre,)`, as it stood right after
            the previous call's spikes were added (it decays at the start of the next call).
        post: postsynaptic trace (dimensionless), shape `(n_post,)`, likewise.
        astrocyte: the astrocyte variable `A` (units of the weight; scalar).
        gain: the annealing factor `g` applied to `eta`, `w_A` and `b_A` (dimensionless,
            scalar; 1 at `init`, multiplied by `anneal ** dt` after every call).
    """

    pre: Float[Array, " n_pre"]
    post: Float[Array, " n_post"]
    astrocyte: Float[Array, ""]
    gain: Float[Array, ""]


def _as_mask(value) -> Array:
    array = jnp.asarray(value)
    if not (array.dtype == jnp.bool_ or jnp.issubdtype(array.dtype, jnp.integer)):
        raise TypeError(f"`inhibitory` must be bool (one per presynaptic neuron or a scalar), "
                        f"got dtype {array.dtype}.")
    concrete = _concrete(array)
    if concrete is not None and array.dtype != jnp.bool_ and np.any((concrete != 0)
                                                                    & (concrete != 1)):
        raise ValueError("`inhibitory` must hold only True/False (or 0/1).")
    return array.astype(jnp.bool_)


def _per_synapse(conn, values: Array) -> Array:
    """A per-presynaptic-neuron value `(n_pre,)` (or a scalar) laid out one per synapse."""
    if values.ndim == 0:
        return values
    if isinstance(conn, bo.Dense):
        return jnp.broadcast_to(values[:, None], conn.synapse_shape)
    if isinstance(conn, bo.ELL):
        if conn.rows == "pre":
            return jnp.broadcast_to(values[:, None], conn.synapse_shape)
        return values[conn.indices]
    layout = conn.layout
    rows = jnp.repeat(jnp.arange(conn.n_pre), jnp.diff(layout.pre_indptr),
                      total_repeat_length=conn.n_syn)
    if layout.pre_syn.shape[0]:
        rows = jnp.zeros_like(rows).at[layout.pre_syn].set(rows)
    return values[rows]


class AstroSTDP(eqx.Module):
    """Astrocyte-modulated STDP (NALSM): pair STDP with depression set by an astrocyte `A`.

    For a synapse `j → i` (`j` presynaptic), with traces `x` that decay by `trace_decay`
    per ms and jump by `trace_jump` at their neuron's spikes `s`,

        ΔW_ij = c⁺_j x_j s_i + c⁻_j x_i s_j,      W_ij ← clip(W_ij + ΔW_ij, w_min_j, w_max_j)

        presynaptic j        c⁺ (pre before post)     c⁻ (post before pre)
        not inhibitory       +g η                     -A   (ablation: -g η)
        inhibitory           -A   (ablation: -g η)    +g η

    and one global astrocyte, driven by the modulator `u` of the call (the liquid's spike count
    minus the input's spike count in this call):

        A ← A + [g w_A u + dt (g b_A - A)] / tau_A          (Euler; dt = 1 ms: the paper's
                                                              A ← A + [w_A u + b_A - A]/tau_A)

    The astrocyte drives the total liquid activity toward the total input activity: more
    liquid spikes raise `A`, which strengthens depression of excitatory synapses and
    potentiation of inhibitory ones. `g` is an annealing gain (state), 1 at `init` and
    multiplied by `anneal ** dt` after each call, as is `A` (the NALSM's feature phase uses
    `anneal = 0.99`: η, A, w_A and b_A shrink by 1 % every ms). With `astrocyte=False` the rule
    is the paper's "LSM+STDP" ablation: `A` is replaced by `g η` and no modulator is needed.

    Within a call, in the paper's order: the traces decay over `dt` (`x ← trace_decay**dt x`),
    the weights change with these traces and the astrocyte of the previous call (the row of a
    spiking presynaptic neuron through `brainsim_ops.update_rows_on_events`, the column of a
    spiking postsynaptic neuron through `update_cols_on_events`), the weights are clipped,
    the call's spikes are added to the traces, then `A` is updated and both `A` and `g`
    anneal. At `dt = 1` this is the paper's `x ← 0.90477 (x + 0.1 s)` after the weight update,
    stored before rather than after the decay (presynaptic and postsynaptic spikes of one call
    do not pair). The final clip visits every synapse (the per-neuron bounds need it; its cost
    is that of the copy the update makes).

    Attributes:
        eta: potentiation amplitude η (units of the weight per unit trace, >= 0).
        w_A: astrocyte gain per spike of the count difference (units of the weight per spike,
            finite).
        b_A: astrocyte bias (units of the weight, finite).
        tau_A: astrocyte time constant (ms, > 0).
        A_init: `A` at `init` (units of the weight, finite).
        w_min, w_max: weight bounds (units of the weight): scalars, or one per presynaptic
            neuron (shape `(n_pre,)`), e.g. [0, 3] from excitatory, [-3, 0] from inhibitory and
            [-3, 3] from input neurons.
        inhibitory: which presynaptic neurons use the inhibitory constants: a bool scalar or
            one per presynaptic neuron (`(n_pre,)`).
        trace_decay: trace decay factor per ms (dimensionless, in (0, 1]; 0.90477 ≈ e^(-1/10)).
        trace_jump: trace increment per spike (dimensionless, >= 0).
        anneal: per-ms factor of `g` and `A` (dimensionless, in (0, 1]; 1 = none).
        astrocyte: `False` for the no-astrocyte ablation (static).

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import AstroSTDP
        >>> conn = bo.Dense(jnp.full((1, 1), 1.0))
        >>> rule = AstroSTDP(w_min=0.0, w_max=3.0)
        >>> state = rule.init(conn)
        >>> one, zero = jnp.ones(1), jnp.zeros(1)
        >>> w, state = rule.update(state, conn.weights, one, zero, dt=1.0, conn=conn,
        ...                        modulator=0.0)                   # pre spike at t = 0
        >>> w, state = rule.update(state, w, zero, one, dt=1.0, conn=conn,
        ...                        modulator=1.0)                   # post spike 1 ms later
        >>> round(float(w[0, 0]), 5)                                # 1 + η 0.1 · 0.90477
        1.01357
        >>> round(float(state.astrocyte), 6)                        # 0.15 + 0.015/100
        0.15015

    Reference: Ivanov & Michmizos (2021), "Increasing liquid state machine performance with
    edge-of-chaos dynamics organized by astrocyte-modulated plasticity", NeurIPS 34
    (arXiv:2111.01760).
    """

    eta: Float[Array, ""] = eqx.field(default=0.15, converter=as_param)
    w_A: Float[Array, ""] = eqx.field(default=0.015, converter=as_param)
    b_A: Float[Array, ""] = eqx.field(default=0.15, converter=as_param)
    tau_A: Float[Array, ""] = eqx.field(default=100.0, converter=as_param)
    A_init: Float[Array, ""] = eqx.field(default=0.15, converter=as_param)
    w_min: Float[Array, "*n_pre"] = eqx.field(default=-float("inf"), converter=as_param)
    w_max: Float[Array, "*n_pre"] = eqx.field(default=float("inf"), converter=as_param)
    inhibitory: Bool[Array, "*n_pre"] = eqx.field(default=False, converter=_as_mask)
    trace_decay: Float[Array, ""] = eqx.field(default=0.90477, converter=as_param)
    trace_jump: Float[Array, ""] = eqx.field(default=0.1, converter=as_param)
    anneal: Float[Array, ""] = eqx.field(default=1.0, converter=as_param)
    astrocyte: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_positive("eta", self.eta, allow_zero=True)
        for name in ("w_A", "b_A", "A_init"):
            check_finite(name, getattr(self, name))
        check_positive("tau_A", self.tau_A)
        check_positive("trace_jump", self.trace_jump, allow_zero=True)
        for name in ("trace_decay", "anneal"):
            value = _concrete(getattr(self, name))
            if value is not None and not np.all((value > 0) & (value <= 1)):
                raise ValueError(f"`{name}` must be a factor in (0, 1] per ms, got {value}.")
        for name in ("eta", "w_A", "b_A", "tau_A", "A_init", "trace_decay", "trace_jump",
                     "anneal"):
            if jnp.ndim(getattr(self, name)) != 0:
                raise ValueError(f"`{name}` must be a scalar, got shape "
                                 f"{jnp.shape(getattr(self, name))}.")
        for name in ("w_min", "w_max", "inhibitory"):
            if jnp.ndim(getattr(self, name)) > 1:
                raise ValueError(f"`{name}` must be a scalar or one value per presynaptic "
                                 f"neuron (1-D), got shape {jnp.shape(getattr(self, name))}.")
        check_bounds(self.w_min, self.w_max)
        if not isinstance(self.astrocyte, bool):
            raise TypeError(f"`astrocyte` must be True or False, got {self.astrocyte!r}.")

    @classmethod
    def ivanov2021(cls, inhibitory, input, *, w_max: float = 3.0, **overrides) -> AstroSTDP:
        """The NALSM's rule for the synapses onto the liquid, from presynaptic classes.

        η = 0.15, w_A = 0.015, b_A = 0.15, τ_A = 100 ms, A(0) = 0.15, traces
        `x ← 0.90477 (x + 0.1 s)`; bounds [0, w_max] from excitatory, [-w_max, 0] from
        inhibitory and [-w_max, w_max] from input neurons.

        Args:
            inhibitory (Bool[Array, 'n_pre']): bool per presynaptic neuron, True for inhibitory
                liquid neurons.
            input (Bool[Array, 'n_pre']): bool per presynaptic neuron, True for input neurons (not
                inhibitory).
            w_max: the largest weight magnitude (units of the weight, > 0).
            **overrides (Any): replace any field (`w_A=...`, `astrocyte=False`, `anneal=0.99`).

        Examples:
            >>> import numpy as np
            >>> from brainsim.plasticity import AstroSTDP
            >>> rule = AstroSTDP.ivanov2021(np.array([False, True, False]),
            ...                             np.array([False, False, True]))
            >>> rule.w_min.tolist(), rule.w_max.tolist()
            ([0.0, -3.0, -3.0], [3.0, 0.0, 3.0])
        """
        inh = np.asarray(inhibitory, bool)
        inp = np.asarray(input, bool)
        if inh.ndim != 1 or inh.shape != inp.shape:
            raise ValueError(f"`inhibitory` and `input` must be 1-D masks of the same length, "
                             f"got shapes {inh.shape} and {inp.shape}.")
        if np.any(inh & inp):
            raise ValueError("a presynaptic neuron cannot be both `inhibitory` and `input`.")
        check_positive("w_max", w_max)
        lo = np.where(inh | inp, -w_max, 0.0)
        hi = np.where(inh, 0.0, w_max)
        constants = dict(eta=0.15, w_A=0.015, b_A=0.15, tau_A=100.0, A_init=0.15, w_min=lo,
                         w_max=hi, inhibitory=inh, trace_decay=0.90477, trace_jump=0.1)
        return cls(**(constants | overrides))

    @staticmethod
    def astrocyte_input(liquid_spikes, input_spikes) -> Float[Array, ""]:
        """The modulator of a step: liquid spike count minus input spike count (spikes).

        Examples:
            >>> import jax.numpy as jnp
            >>> float(AstroSTDP.astrocyte_input(jnp.array([1, 1, 0]), jnp.array([1, 0])))
            1.0
        """
        return jnp.sum(jnp.asarray(liquid_spikes, float)) - jnp.sum(jnp.asarray(input_spikes,
                                                                                 float))

    def _check_sizes(self, conn) -> None:
        for name in ("w_min", "w_max", "inhibitory"):
            shape = jnp.shape(getattr(self, name))
            if shape not in ((), (conn.n_pre,)):
                raise ValueError(f"`{name}` has shape {shape}, but the connectivity has "
                                 f"{conn.n_pre} presynaptic neurons: give a scalar or shape "
                                 f"({conn.n_pre},).")

    def init(self, conn) -> AstroSTDPState:
        """Zero traces, `A = A_init` and gain 1 for `conn` (a `brainsim_ops` connectivity)."""
        dtype = trace_dtype(conn)
        self._check_sizes(conn)
        return AstroSTDPState(
            pre=jnp.zeros((conn.n_pre,), dtype),
            post=jnp.zeros((conn.n_post,), dtype),
            astrocyte=jnp.asarray(self.A_init, dtype),
            gain=jnp.ones((), dtype),
        )

    def update(self, traces: AstroSTDPState, weights, pre_spikes, post_spikes, *, dt,
               conn=None, modulator=None) -> tuple[Array, AstroSTDPState]:
        """Advance by `dt` ms with this call's spikes and astrocyte drive.

        Args:
            traces: the state from `init` or the previous call.
            weights (Array): as in `STDP.update`.
            pre_spikes (Array): as in `STDP.update`.
            post_spikes (Array): as in `STDP.update`.
            dt (float): as in `STDP.update`.
            conn (CSR | ELL | Dense | None): as in `STDP.update`.
            modulator (float | Array): the astrocyte's drive `u`, a scalar: the liquid's spike count
                minus the input's spike count in this call (`AstroSTDP.astrocyte_input`). Required
                with the astrocyte; ignored without.

        Returns:
            `(weights, state)`.
        """
        dtype = traces.pre.dtype
        conn, w, pre, post = begin_update(conn, weights, pre_spikes, post_spikes, dt, dtype)
        self._check_sizes(conn)
        if self.astrocyte:
            if modulator is None:
                raise ValueError("AstroSTDP with the astrocyte needs `modulator`: the liquid's "
                                 "spike count minus the input's spike count in this call.")
            u = jnp.asarray(modulator, dtype)
            if u.shape != ():
                raise ValueError(f"`modulator` must be a scalar (one global astrocyte), got "
                                 f"shape {u.shape}.")
        factor = self.trace_decay**dt
        x_pre, x_post = traces.pre * factor, traces.post * factor
        g, A = traces.gain, traces.astrocyte
        eta = g * self.eta
        depress = A if self.astrocyte else eta
        inh = jnp.broadcast_to(self.inhibitory, (conn.n_pre,))
        c_plus = jnp.where(inh, -depress, eta).astype(dtype)      # pre before post
        c_minus = jnp.where(inh, eta, -depress).astype(dtype)     # post before pre
        w = bo.update_rows_on_events(conn, pre * c_minus, x_post, weights=w)
        w = bo.update_cols_on_events(conn, post, c_plus * x_pre, weights=w)
        clipped = jnp.clip(w, _per_synapse(conn, self.w_min), _per_synapse(conn, self.w_max))
        if isinstance(conn, bo.Dense) and conn.mask is not None:
            clipped = jnp.where(conn.mask, clipped, w)
        x_pre = x_pre + self.trace_jump * pre
        x_post = x_post + self.trace_jump * post
        if self.astrocyte:
            A = A + (g * self.w_A * u + dt * (g * self.b_A - A)) / self.tau_A
        shrink = self.anneal**dt
        state = AstroSTDPState(pre=x_pre, post=x_post, astrocyte=(A * shrink).astype(dtype),
                               gain=(g * shrink).astype(dtype))
        return clipped.astype(dtype), state

