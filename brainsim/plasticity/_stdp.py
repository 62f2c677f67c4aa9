"""Pair-based STDP with synaptic traces (additive, multiplicative or soft-bounded)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param, check_finite, check_positive
from brainsim.plasticity._traces import (
    begin_update,
    check_bounds,
    check_pairing,
    decay,
    jump,
    trace_dtype,
)

WEIGHT_DEPENDENCES = ("additive", "multiplicative", "soft")


class STDPTraces(NamedTuple):
    """Traces of pair STDP.

    Attributes:
        pre: presynaptic trace `x` (dimensionless), shape `(n_pre,)`.
        post: postsynaptic trace `y` (dimensionless), shape `(n_post,)`.
    """

    pre: Float[Array, " n_pre"]
    post: Float[Array, " n_post"]


class STDP(eqx.Module):
    """Pair-based spike-timing-dependent plasticity with synaptic traces.

    The presynaptic trace `x` decays with `tau_plus` and the postsynaptic trace `y` with
    `tau_minus`; each jumps by 1 at its neuron's spikes (`pairing="all_to_all"`: every pair of
    spikes interacts) or is reset to 1 (`pairing="nearest"`: only nearest neighbours interact).
    At a presynaptic spike of neuron `i`, every synapse `i → j` is depressed; at a postsynaptic
    spike of neuron `j`, every synapse `i → j` is potentiated:

        pre spike:   w_ij ← w_ij - A_minus · y_j · f_-(w_ij)
        post spike:  w_ij ← w_ij + A_plus  · x_i · f_+(w_ij)

    with the weight dependence

        additive:        f_+ = 1,                 f_- = 1
        multiplicative:  f_+ = 1,                 f_- = w - w_min   (van Rossum et al. 2000)
        soft:            f_+ = w_max - w,         f_- = w - w_min

    and the result clipped to `[w_min, w_max]` (hard bounds). One pairing at
    `Δt = t_post - t_pre` thus changes an additive weight by `A_plus exp(-Δt / tau_plus)` if
    `Δt > 0` and by `-A_minus exp(Δt / tau_minus)` if `Δt < 0`.

    Within one call the traces are first decayed over `dt`, the weights are updated with these
    traces, and then the call's spikes are added, so a presynaptic and a postsynaptic spike in
    the same step do not pair. Updates are event-driven: only the rows of presynaptic neurons
    and the columns of postsynaptic neurons that spiked are visited
    (`brainsim_ops.update_rows_on_events` / `update_cols_on_events`); the soft and
    multiplicative forms compute their per-synapse factor from the current weights.

    Attributes:
        A_plus: potentiation amplitude (units of the weight; soft bounds: dimensionless, >= 0).
        A_minus: depression amplitude (units of the weight; multiplicative and soft:
            dimensionless, >= 0).
        tau_plus: time constant of the presynaptic trace (ms, > 0).
        tau_minus: time constant of the postsynaptic trace (ms, > 0).
        w_min: lower weight bound (units of the weight; may be `-inf` for additive).
        w_max: upper weight bound (units of the weight; `inf` = none; finite for soft bounds).
        pairing: `"all_to_all"` or `"nearest"`.
        weight_dependence: `"additive"`, `"multiplicative"` or `"soft"`.

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import STDP
        >>> conn = bo.Dense(jnp.full((1, 1), 0.5))
        >>> stdp = STDP(A_plus=0.01, A_minus=0.012, tau_plus=20.0, tau_minus=20.0, w_max=1.0)
        >>> traces, w = stdp.init(conn), conn.weights
        >>> w, traces = stdp.update(traces, w, jnp.array([1.0]), jnp.array([0.0]), dt=0.1,
        ...                         conn=conn)          # pre spike at t = 0
        >>> w, traces = stdp.update(traces, w, jnp.array([0.0]), jnp.array([1.0]), dt=10.0,
        ...                         conn=conn)          # post spike 10 ms later
        >>> round(float(w[0, 0] - 0.5), 6)                # 0.01 exp(-10 / 20)
        0.006065

    Reference: Bi & Poo (1998), J. Neurosci. 18:10464; Song, Miller & Abbott (2000), Nat.
    Neurosci. 3:919; van Rossum, Bi & Turrigiano (2000), J. Neurosci. 20:8812; Morrison,
    Diesmann & Gerstner (2008), Biol. Cybern. 98:459 (trace implementations and pairings).
    """

    A_plus: Float[Array, ""] = eqx.field(default=0.01, converter=as_param)
    A_minus: Float[Array, ""] = eqx.field(default=0.0105, converter=as_param)
    tau_plus: Float[Array, ""] = eqx.field(default=20.0, converter=as_param)
    tau_minus: Float[Array, ""] = eqx.field(default=20.0, converter=as_param)
    w_min: Float[Array, ""] = eqx.field(default=0.0, converter=as_param)
    w_max: Float[Array, ""] = eqx.field(default=float("inf"), converter=as_param)
    pairing: str = eqx.field(default="all_to_all", static=True)
    weight_dependence: str = eqx.field(default="additive", static=True)

    def __check_init__(self):
        check_positive("A_plus", self.A_plus, allow_zero=True)
        check_positive("A_minus", self.A_minus, allow_zero=True)
        check_positive("tau_plus", self.tau_plus)
        check_positive("tau_minus", self.tau_minus)
        check_bounds(self.w_min, self.w_max)
        check_pairing(self.pairing)
        if self.weight_dependence not in WEIGHT_DEPENDENCES:
            raise ValueError(
                "`weight_dependence` must be 'additive', 'multiplicative' or 'soft', got "
                f"{self.weight_dependence!r}."
            )
        if self.weight_dependence != "additive":
            check_finite("w_min", self.w_min)
        if self.weight_dependence == "soft":
            check_finite("w_max", self.w_max)

    def init(self, conn) -> STDPTraces:
        """Zero traces for the neurons of `conn` (a `brainsim_ops` CSR, ELL or Dense)."""
        dtype = trace_dtype(conn)
        pre, post = jnp.zeros((conn.n_pre,), dtype), jnp.zeros((conn.n_post,), dtype)
        return STDPTraces(pre=pre, post=post)

    def _depression_factor(self, w):
        return None if self.weight_dependence == "additive" else w - self.w_min

    def _potentiation_factor(self, w):
        return self.w_max - w if self.weight_dependence == "soft" else None

    def update(self, traces: STDPTraces, weights, pre_spikes, post_spikes, *, dt, conn=None,
               modulator=None) -> tuple[Array, STDPTraces]:
        """Advance the traces by `dt` ms and apply this call's spikes.

        Args:
            traces: from `init` or the previous call.
            weights (Array): one per synapse of `conn` (`(n_syn,)` CSR, `(n_rows, k)` ELL,
                `(n_pre, n_post)` Dense).
            pre_spikes (Array): bool or 0/1 floats, shape `(n_pre,)`.
            post_spikes (Array): bool or 0/1 floats, shape `(n_post,)`.
            dt (float): time since the previous call (ms, >= 0).
            conn (CSR | ELL | Dense | None): the connectivity the weights belong to; `None` means
                `weights` is a dense `(n_pre, n_post)` matrix.
            modulator (Any): ignored (pair STDP has no third factor).

        Returns:
            `(weights, traces)`.
        """
        conn, w, pre, post = begin_update(conn, weights, pre_spikes, post_spikes, dt,
                                          traces.pre.dtype)  # fmt: skip
        x = decay(traces.pre, self.tau_plus, dt)
        y = decay(traces.post, self.tau_minus, dt)
        bounds = {"w_min": self.w_min, "w_max": self.w_max}
        w = bo.update_rows_on_events(conn, pre, -self.A_minus * y, weights=w,
                                     scale=self._depression_factor(w), **bounds)
        w = bo.update_cols_on_events(conn, post, self.A_plus * x, weights=w,
                                     scale=self._potentiation_factor(w), **bounds)
        return w, STDPTraces(pre=jump(x, pre, self.pairing), post=jump(y, post, self.pairing))
