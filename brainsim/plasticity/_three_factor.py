"""Three-factor STDP: a per-synapse eligibility trace turned into weight change by a modulator."""

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
    check_pairing,
    decay,
    jump,
    synapse_shape,
    trace_dtype,
)


class EligibilityTraces(NamedTuple):
    """Traces of eligibility-modulated STDP.

    Attributes:
        pre: presynaptic trace `x` (dimensionless), shape `(n_pre,)`.
        post: postsynaptic trace `y` (dimensionless), shape `(n_post,)`.
        eligibility: eligibility `c`, one per synapse (shape of the weights).
        modulator: the third factor `M` of the last call, shape `(n_post,)`: the dopamine
            concentration `d` when `tau_d` is given, else the `modulator` passed.
    """

    pre: Float[Array, " n_pre"]
    post: Float[Array, " n_post"]
    eligibility: Float[Array, "*synapses"]
    modulator: Float[Array, " n_post"]


def _optional_param(value):
    return None if value is None else as_param(value)


class EligibilitySTDP(eqx.Module):
    """Three-factor STDP: the STDP coincidence feeds an eligibility trace, a modulator gates it.

    Pair STDP with traces (as in `STDP`, additive) does not change the weight but the
    eligibility `c` of each synapse; a third factor `M` (reward, error, attention), a global
    scalar or one value per postsynaptic neuron, converts eligibility into weight change:

        dc_ij/dt = -c_ij / tau_c + STDP(Δt)    (pre spike: c_ij -= A_minus y_j;
                                                post spike: c_ij += A_plus x_i)
        dd_j/dt  = -d_j / tau_d + DA_j(t)      (only when `tau_d` is given)
        dw_ij/dt = learning_rate · c_ij · M_j,   M = d if `tau_d` is given, else `modulator`

    With `tau_d` given, the `modulator` of a call is the dopamine released in it (added to `d`,
    concentration units); without `tau_d` it is `M` itself (e.g. an error signal). Weights stay
    in `[w_min, w_max]`. Within a call: traces and eligibility decay over `dt`, the spikes update
    the eligibility (pre and post spikes of one call do not pair), the dopamine release is added,
    then `w ← w + learning_rate · dt · c · M` (only columns with `M_j ≠ 0` are visited) and the
    spikes jump the traces. `EligibilitySTDP.izhikevich2007()` gives the distal-reward model.

    Attributes:
        A_plus: eligibility added per pre-before-post pairing (dimensionless, >= 0).
        A_minus: eligibility removed per post-before-pre pairing (dimensionless, >= 0).
        tau_plus, tau_minus: time constants of the pre and post traces (ms, > 0).
        tau_c: eligibility time constant (ms, > 0).
        tau_d: dopamine (modulator) time constant (ms, > 0), or `None` for a modulator used as
            given.
        learning_rate: units of the weight per (eligibility · modulator · ms), >= 0.
        w_min, w_max: weight bounds (units of the weight).
        pairing: `"all_to_all"` or `"nearest"`.

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import EligibilitySTDP
        >>> conn = bo.Dense(jnp.ones((1, 1)))
        >>> rule = EligibilitySTDP.izhikevich2007(learning_rate=0.01)
        >>> traces, w = rule.init(conn), conn.weights
        >>> one, zero = jnp.ones(1), jnp.zeros(1)
        >>> w, traces = rule.update(traces, w, one, zero, dt=1.0, conn=conn)   # pre
        >>> w, traces = rule.update(traces, w, zero, one, dt=5.0, conn=conn)   # post 5 ms later
        >>> float(w[0, 0])                                 # eligible, but no dopamine yet
        1.0
        >>> w, traces = rule.update(traces, w, zero, zero, dt=1.0, conn=conn, modulator=0.5)
        >>> bool(w[0, 0] > 1.0)                            # reward: the weight grows
        True

    Reference: Izhikevich (2007), Cereb. Cortex 17:2443; Frémaux & Gerstner (2016), Front.
    Neural Circuits 9:85 (three-factor rules).
    """

    A_plus: Float[Array, ""] = eqx.field(default=1.0, converter=as_param)
    A_minus: Float[Array, ""] = eqx.field(default=1.5, converter=as_param)
    tau_plus: Float[Array, ""] = eqx.field(default=20.0, converter=as_param)
    tau_minus: Float[Array, ""] = eqx.field(default=20.0, converter=as_param)
    tau_c: Float[Array, ""] = eqx.field(default=1000.0, converter=as_param)
    tau_d: Float[Array, ""] | None = eqx.field(default=None, converter=_optional_param)
    learning_rate: Float[Array, ""] = eqx.field(default=1.0, converter=as_param)
    w_min: Float[Array, ""] = eqx.field(default=0.0, converter=as_param)
    w_max: Float[Array, ""] = eqx.field(default=float("inf"), converter=as_param)
    pairing: str = eqx.field(default="all_to_all", static=True)

    def __check_init__(self):
        check_positive("A_plus", self.A_plus, allow_zero=True)
        check_positive("A_minus", self.A_minus, allow_zero=True)
        check_positive("learning_rate", self.learning_rate, allow_zero=True)
        for name in ("tau_plus", "tau_minus", "tau_c"):
            check_positive(name, getattr(self, name))
        if self.tau_d is not None:
            check_positive("tau_d", self.tau_d)
        check_bounds(self.w_min, self.w_max)
        check_pairing(self.pairing)

    @classmethod
    def izhikevich2007(cls, **overrides) -> EligibilitySTDP:
        """Dopamine-modulated STDP of Izhikevich (2007).

        A_plus = 1, A_minus = 1.5, tau_plus = tau_minus = 20 ms, tau_c = 1000 ms,
        tau_d = 200 ms, weights in [0, 4] (mV); `overrides` (e.g. `learning_rate`) replace any
        field. The paper delivers 0.5 µM of dopamine per reward (`modulator=0.5` in one call)
        on a tonic level of 0.01 µM/s.
        """
        constants = dict(A_plus=1.0, A_minus=1.5, tau_plus=20.0, tau_minus=20.0, tau_c=1000.0,
                         tau_d=200.0, w_min=0.0, w_max=4.0)
        return cls(**(constants | overrides))

    def init(self, conn) -> EligibilityTraces:
        """Zero traces, eligibility and modulator for `conn` (a `brainsim_ops` connectivity)."""
        dtype = trace_dtype(conn)
        return EligibilityTraces(
            pre=jnp.zeros((conn.n_pre,), dtype),
            post=jnp.zeros((conn.n_post,), dtype),
            eligibility=jnp.zeros(synapse_shape(conn), dtype),
            modulator=jnp.zeros((conn.n_post,), dtype),
        )

    def update(self, traces: EligibilityTraces, weights, pre_spikes, post_spikes, *, dt,
               conn=None, modulator=None) -> tuple[Array, EligibilityTraces]:
        """Advance by `dt` ms with this call's spikes and third factor.

        Args:
            traces: as in `STDP.update`.
            weights (Array): as in `STDP.update`.
            pre_spikes (Array): as in `STDP.update`.
            post_spikes (Array): as in `STDP.update`.
            dt (float): as in `STDP.update`.
            conn (CSR | ELL | Dense | None): as in `STDP.update`.
            modulator (float | Array | None): a scalar or shape `(n_post,)`: the dopamine released
                in this call (with `tau_d`) or the third factor itself (without); `None` means 0.

        Returns:
            `(weights, traces)`.
        """
        dtype = traces.pre.dtype
        conn, w, pre, post = begin_update(conn, weights, pre_spikes, post_spikes, dt, dtype)
        release = as_modulator(modulator, conn.n_post, dtype)
        x = decay(traces.pre, self.tau_plus, dt)
        y = decay(traces.post, self.tau_minus, dt)
        c = decay(traces.eligibility, self.tau_c, dt)
        c = bo.update_rows_on_events(conn, pre, -self.A_minus * y, weights=c)
        c = bo.update_cols_on_events(conn, post, self.A_plus * x, weights=c)
        if self.tau_d is None:
            m = release
        else:
            m = decay(traces.modulator, self.tau_d, dt) + release
        rate = jnp.broadcast_to(self.learning_rate * dt, (conn.n_pre,)).astype(dtype)
        w = bo.update_cols_on_events(conn, m, rate, weights=w, scale=c, w_min=self.w_min,
                                     w_max=self.w_max)
        new = EligibilityTraces(pre=jump(x, pre, self.pairing), post=jump(y, post, self.pairing),
                                eligibility=c, modulator=m)
        return w, new
