"""Inhibitory spike-timing-dependent plasticity (Vogels & Sprekeler 2011)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param, check_positive
from brainsim.plasticity._stdp import STDPTraces
from brainsim.plasticity._traces import (
    begin_update,
    check_bounds,
    decay,
    jump,
    trace_dtype,
)


class InhibitorySTDP(eqx.Module):
    """Homeostatic inhibitory plasticity: a symmetric window with a depression offset.

    Pre and post traces `x_pre`, `x_post` decay with `tau` and jump by 1 at their neuron's
    spikes. At a spike (traces read before this call's jumps):

        pre spike of i:   w_ij ← w_ij + eta · (x_post_j - alpha),   alpha = 2 · rho0 · tau
        post spike of j:  w_ij ← w_ij + eta · x_pre_i

    clipped to `[w_min, w_max]`. Coincident activity strengthens inhibition, presynaptic
    spikes alone weaken it, so the inhibitory weights settle where the postsynaptic rate is
    `rho0`. Only rows of presynaptic and columns of postsynaptic neurons that spiked are
    visited. The traces are `STDPTraces` (`pre`, `post`).

    Attributes:
        eta: learning rate (units of the weight, >= 0).
        rho0: target postsynaptic rate (Hz, >= 0).
        tau: time constant of both traces (ms, > 0).
        w_min, w_max: weight bounds (units of the weight; inhibitory conductances are >= 0).

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import InhibitorySTDP
        >>> conn = bo.Dense(jnp.full((1, 1), 1.0))
        >>> rule = InhibitorySTDP(eta=0.1, rho0=5.0, tau=20.0)
        >>> traces = rule.init(conn)
        >>> w, traces = rule.update(traces, conn.weights, jnp.ones(1), jnp.zeros(1), dt=1.0,
        ...                         conn=conn)        # a lone pre spike: -eta alpha
        >>> round(float(w[0, 0]), 6)                   # 1 - 0.1 * 2 * 0.005 / ms * 20 ms
        0.98

    Reference: Vogels, Sprekeler, Zenke, Clopath & Gerstner (2011), Science 334:1569.
    """

    eta: Float[Array, ""] = eqx.field(default=1e-3, converter=as_param)
    rho0: Float[Array, ""] = eqx.field(default=5.0, converter=as_param)
    tau: Float[Array, ""] = eqx.field(default=20.0, converter=as_param)
    w_min: Float[Array, ""] = eqx.field(default=0.0, converter=as_param)
    w_max: Float[Array, ""] = eqx.field(default=float("inf"), converter=as_param)

    def __check_init__(self):
        check_positive("eta", self.eta, allow_zero=True)
        check_positive("rho0", self.rho0, allow_zero=True)
        check_positive("tau", self.tau)
        check_bounds(self.w_min, self.w_max)

    @property
    def alpha(self) -> Float[Array, ""]:
        """The depression offset `2 rho0 tau` (dimensionless; rho0 converted to 1/ms)."""
        return 2.0 * self.rho0 * 1e-3 * self.tau

    def init(self, conn) -> STDPTraces:
        """Zero traces for the neurons of `conn` (a `brainsim_ops` CSR, ELL or Dense)."""
        dtype = trace_dtype(conn)
        pre, post = jnp.zeros((conn.n_pre,), dtype), jnp.zeros((conn.n_post,), dtype)
        return STDPTraces(pre=pre, post=post)

    def update(self, traces: STDPTraces, weights, pre_spikes, post_spikes, *, dt, conn=None,
               modulator=None) -> tuple[Array, STDPTraces]:
        """Advance the traces by `dt` ms and apply this call's spikes.

        Arguments and returns as in `STDP.update` (`modulator` is ignored).
        """
        conn, w, pre, post = begin_update(conn, weights, pre_spikes, post_spikes, dt,
                                          traces.pre.dtype)  # fmt: skip
        x_pre = decay(traces.pre, self.tau, dt)
        x_post = decay(traces.post, self.tau, dt)
        bounds = {"w_min": self.w_min, "w_max": self.w_max}
        w = bo.update_rows_on_events(conn, pre, self.eta * (x_post - self.alpha), weights=w,
                                     **bounds)
        w = bo.update_cols_on_events(conn, post, self.eta * x_pre, weights=w, **bounds)
        new = STDPTraces(pre=jump(x_pre, pre, "all_to_all"), post=jump(x_post, post, "all_to_all"))
        return w, new
