"""Error-modulated readout learning: presynaptic trace × gated prediction error."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param, check_positive
from brainsim.plasticity._traces import (
    as_modulator,
    begin_update,
    check_bounds,
    decay,
    trace_dtype,
)


class ErrorModulatedTraces(NamedTuple):
    """Trace of the error-modulated rule.

    Attributes:
        pre: filtered presynaptic activity `x` (dimensionless), shape `(n_pre,)`.
    """

    pre: Float[Array, " n_pre"]


class ErrorModulated(eqx.Module):
    """Three-factor readout learning: `Δw = η · error · gate · presynaptic trace`.

    For readout weights `w_ij` from presynaptic neuron `i` to readout `j` (rows are
    presynaptic, as in every `brainsim_ops` connectivity):

        x_i ← x_i exp(-dt / tau) + s_i          (filtered presynaptic spikes)
        Δw_ij = learning_rate · e_j(t) · g(t) · x_i(t)     (once per call)

    `e_j` is the prediction error of readout `j` (target minus output, computed by the caller)
    and `g` an attention or phase gate (0/1); pass their product as `modulator` (a scalar
    broadcasts to every readout). The update is applied once per call with the trace after this
    call's spikes, and visits only readouts with a non-zero modulator; weights stay in
    `[w_min, w_max]` (unbounded by default). `post_spikes` is not used.

    Attributes:
        learning_rate: `η`, units of the weight per (error unit), >= 0.
        tau: time constant of the presynaptic trace (ms, > 0).
        w_min, w_max: weight bounds (units of the weight; default unbounded).

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import ErrorModulated
        >>> conn = bo.Dense(jnp.zeros((3, 2)))
        >>> rule = ErrorModulated(learning_rate=0.5, tau=20.0)
        >>> traces = rule.init(conn)
        >>> spikes, error, gate = jnp.array([1.0, 0.0, 1.0]), jnp.array([1.0, -2.0]), 1.0
        >>> w, traces = rule.update(traces, conn.weights, spikes, jnp.zeros(2), dt=1.0,
        ...                         conn=conn, modulator=gate * error)
        >>> w.tolist()
        [[0.5, -1.0], [0.0, 0.0], [0.5, -1.0]]

    Reference: the three-factor readout rule of reservoir learning, e.g. Hoerzer, Legenstein &
    Maass (2014), Cereb. Cortex 24:677; Frémaux & Gerstner (2016), Front. Neural Circuits 9:85.
    """

    learning_rate: Float[Array, ""] = eqx.field(default=1e-3, converter=as_param)
    tau: Float[Array, ""] = eqx.field(default=20.0, converter=as_param)
    w_min: Float[Array, ""] = eqx.field(default=-float("inf"), converter=as_param)
    w_max: Float[Array, ""] = eqx.field(default=float("inf"), converter=as_param)

    def __check_init__(self):
        check_positive("learning_rate", self.learning_rate, allow_zero=True)
        check_positive("tau", self.tau)
        check_bounds(self.w_min, self.w_max)

    def init(self, conn) -> ErrorModulatedTraces:
        """A zero presynaptic trace for `conn` (a `brainsim_ops` CSR, ELL or Dense)."""
        return ErrorModulatedTraces(pre=jnp.zeros((conn.n_pre,), trace_dtype(conn)))

    def update(self, traces: ErrorModulatedTraces, weights, pre_spikes, post_spikes, *, dt,
               conn=None, modulator=None) -> tuple[Array, ErrorModulatedTraces]:
        """Filter this call's presynaptic spikes and apply `Δw = η · modulator_j · x_i`.

        Args:
            traces: as in `STDP.update`.
            weights (Array): as in `STDP.update`.
            pre_spikes (Array): as in `STDP.update`.
            post_spikes (Array): shape `(n_post,)`, not used (kept for the common signature).
            dt (float): as in `STDP.update`.
            conn (CSR | ELL | Dense | None): as in `STDP.update`.
            modulator (float | Array): `g · e`, a scalar or shape `(n_post,)` (required).

        Returns:
            `(weights, traces)`.
        """
        if modulator is None:
            raise ValueError("ErrorModulated.update needs `modulator` (gate × error per readout).")
        dtype = traces.pre.dtype
        conn, w, pre, _ = begin_update(conn, weights, pre_spikes, post_spikes, dt, dtype)
        m = as_modulator(modulator, conn.n_post, dtype)
        x = decay(traces.pre, self.tau, dt) + pre
        w = bo.update_cols_on_events(conn, m, self.learning_rate * x, weights=w,
                                     w_min=self.w_min, w_max=self.w_max)
        return w, ErrorModulatedTraces(pre=x)
