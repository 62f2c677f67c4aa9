"""Triplet STDP (Pfister & Gerstner 2006), minimal all-to-all model with hard bounds."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param, check_positive
from brainsim.plasticity._traces import (
    begin_update,
    check_bounds,
    check_pairing,
    decay,
    jump,
    trace_dtype,
)


class TripletTraces(NamedTuple):
    """Traces of triplet STDP (dimensionless).

    Attributes:
        r1: fast presynaptic trace (`tau_plus`), shape `(n_pre,)`.
        r2: slow presynaptic trace (`tau_x`), shape `(n_pre,)`.
        o1: fast postsynaptic trace (`tau_minus`), shape `(n_post,)`.
        o2: slow postsynaptic trace (`tau_y`), shape `(n_post,)`.
    """

    r1: Float[Array, " n_pre"]
    r2: Float[Array, " n_pre"]
    o1: Float[Array, " n_post"]
    o2: Float[Array, " n_post"]


class TripletSTDP(eqx.Module):
    """Triplet spike-timing-dependent plasticity (Pfister & Gerstner 2006).

    Presynaptic traces `r1` (`tau_plus`) and `r2` (`tau_x`), postsynaptic traces `o1`
    (`tau_minus`) and `o2` (`tau_y`) decay exponentially and jump by 1 at their own neuron's
    spikes (reset to 1 with `pairing="nearest"`). At a spike:

        post spike of j:  w_ij ← w_ij + r1_i · (A2_plus  + A3_plus  · o2_j(t - ε))
        pre spike of i:   w_ij ← w_ij - o1_j · (A2_minus + A3_minus · r2_i(t - ε))

    clipped to `[w_min, w_max]`. `t - ε`: the slow trace of the spiking neuron is read before
    its own jump. As in `STDP`, a call decays the traces over `dt`, updates the weights with
    them and then adds its spikes (spikes of one step do not pair with each other); the pair
    terms alone give the window `A2_plus exp(-Δt / tau_plus)`, `-A2_minus exp(Δt / tau_minus)`.
    Only rows of presynaptic and columns of postsynaptic neurons that spiked are visited.

    The defaults are the all-to-all visual-cortex constants (`TripletSTDP.visual_cortex()`),
    with which pairs at low frequency follow the pair window and pairs at high frequency
    potentiate in both orders (Sjöström, Turrigiano & Nelson 2001).

    Attributes:
        A2_plus: pair potentiation amplitude (units of the weight, >= 0).
        A3_plus: triplet potentiation amplitude (units of the weight, >= 0).
        A2_minus: pair depression amplitude (units of the weight, >= 0).
        A3_minus: triplet depression amplitude (units of the weight, >= 0).
        tau_plus: time constant of `r1` (ms, > 0).
        tau_minus: time constant of `o1` (ms, > 0).
        tau_x: time constant of `r2` (ms, > 0).
        tau_y: time constant of `o2` (ms, > 0).
        w_min, w_max: hard weight bounds (units of the weight; `w_max = inf`: none).
        pairing: `"all_to_all"` (the published minimal model) or `"nearest"`.

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import TripletSTDP
        >>> conn = bo.Dense(jnp.full((1, 1), 0.5))
        >>> rule = TripletSTDP.visual_cortex()
        >>> traces, w = rule.init(conn), conn.weights
        >>> for pre, post in [(0.0, 1.0), (1.0, 0.0)]:    # post, then pre 10 ms later
        ...     w, traces = rule.update(traces, w, jnp.array([pre]), jnp.array([post]),
        ...                             dt=10.0, conn=conn)
        >>> round(float(w[0, 0] - 0.5), 5)                # -A2_minus exp(-10 / tau_minus)
        -0.0052

    Reference: Pfister & Gerstner (2006), J. Neurosci. 26:9673 (Table 4, visual cortex,
    all-to-all); Sjöström, Turrigiano & Nelson (2001), Neuron 32:1149.
    """

    A2_plus: Float[Array, ""] = eqx.field(default=5e-10, converter=as_param)
    A3_plus: Float[Array, ""] = eqx.field(default=6.2e-3, converter=as_param)
    A2_minus: Float[Array, ""] = eqx.field(default=7e-3, converter=as_param)
    A3_minus: Float[Array, ""] = eqx.field(default=2.3e-4, converter=as_param)
    tau_plus: Float[Array, ""] = eqx.field(default=16.8, converter=as_param)
    tau_minus: Float[Array, ""] = eqx.field(default=33.7, converter=as_param)
    tau_x: Float[Array, ""] = eqx.field(default=101.0, converter=as_param)
    tau_y: Float[Array, ""] = eqx.field(default=125.0, converter=as_param)
    w_min: Float[Array, ""] = eqx.field(default=0.0, converter=as_param)
    w_max: Float[Array, ""] = eqx.field(default=float("inf"), converter=as_param)
    pairing: str = eqx.field(default="all_to_all", static=True)

    def __check_init__(self):
        for name in ("A2_plus", "A3_plus", "A2_minus", "A3_minus"):
            check_positive(name, getattr(self, name), allow_zero=True)
        for name in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            check_positive(name, getattr(self, name))
        check_bounds(self.w_min, self.w_max)
        check_pairing(self.pairing)

    @classmethod
    def visual_cortex(cls, **overrides) -> TripletSTDP:
        """Visual-cortex constants, all-to-all (Pfister & Gerstner 2006, Table 4).

        tau_plus = 16.8 ms, tau_minus = 33.7 ms, tau_x = 101 ms, tau_y = 125 ms,
        A2_plus = 5e-10, A3_plus = 6.2e-3, A2_minus = 7e-3, A3_minus = 2.3e-4; `overrides`
        (e.g. `w_max=1.0`) replace any field.
        """
        constants = dict(A2_plus=5e-10, A3_plus=6.2e-3, A2_minus=7e-3, A3_minus=2.3e-4,
                         tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0)
        return cls(**(constants | overrides))

    def init(self, conn) -> TripletTraces:
        """Zero traces for the neurons of `conn` (a `brainsim_ops` CSR, ELL or Dense)."""
        dtype = trace_dtype(conn)
        pre, post = jnp.zeros((conn.n_pre,), dtype), jnp.zeros((conn.n_post,), dtype)
        return TripletTraces(r1=pre, r2=pre, o1=post, o2=post)

    def update(self, traces: TripletTraces, weights, pre_spikes, post_spikes, *, dt, conn=None,
               modulator=None) -> tuple[Array, TripletTraces]:
        """Advance the traces by `dt` ms and apply this call's spikes.

        Arguments and returns as in `STDP.update` (`modulator` is ignored).
        """
        conn, w, pre, post = begin_update(conn, weights, pre_spikes, post_spikes, dt,
                                          traces.r1.dtype)  # fmt: skip
        r1 = decay(traces.r1, self.tau_plus, dt)
        r2 = decay(traces.r2, self.tau_x, dt)
        o1 = decay(traces.o1, self.tau_minus, dt)
        o2 = decay(traces.o2, self.tau_y, dt)
        bounds = {"w_min": self.w_min, "w_max": self.w_max}
        depress = pre * (self.A2_minus + self.A3_minus * r2)
        w = bo.update_rows_on_events(conn, depress, -o1, weights=w, **bounds)
        potentiate = post * (self.A2_plus + self.A3_plus * o2)
        w = bo.update_cols_on_events(conn, potentiate, r1, weights=w, **bounds)
        p = self.pairing
        new = TripletTraces(r1=jump(r1, pre, p), r2=jump(r2, pre, p), o1=jump(o1, post, p),
                            o2=jump(o2, post, p))
        return w, new
