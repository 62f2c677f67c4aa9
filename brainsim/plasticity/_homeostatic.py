"""Homeostatic synaptic plasticity: multiplicative scaling toward a target rate, normalisation."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import brainsim_ops as bo
from brainsim._validation import as_param, check_positive
from brainsim.plasticity._traces import resolve

_MS_PER_S = 1000.0
POLARITIES = ("excitatory", "inhibitory")


def _per_synapse(conn, values: Float[Array, " n_post"]) -> Array:
    """The value of each synapse's postsynaptic neuron, in the shape of the weights."""
    _, post = bo.synapse_neurons(conn)
    return values[post]


class ScalingTraces(NamedTuple):
    """Traces of synaptic scaling.

    Attributes:
        rate: low-pass estimate of each postsynaptic neuron's rate (Hz), shape `(n_post,)`.
    """

    rate: Float[Array, " n_post"]


class SynapticScaling(eqx.Module):
    """Multiplicative synaptic scaling toward a target firing rate (Turrigiano-style).

    Each postsynaptic neuron `j` keeps a rate estimate `r_j` (Hz), a low-pass filter of its
    spike train, and scales all its incoming weights by the same factor:

        tau_rate dr_j/dt = -r_j + 1000 Σ_k δ(t - t_j^k)           (r_j in Hz, t in ms)
        dw_ij/dt = ± w_ij (r_target - r_j) / (r_target tau_scaling)

    (`+` for excitatory inputs, `-` for inhibitory ones, which are strengthened when the neuron
    fires too much). Both are integrated exactly over a call of `dt` ms with `r_j` held: `w ←
    w exp(± dt (r_target - r_j) / (r_target tau_scaling))`. Scaling keeps the ratios of a
    neuron's input weights (what STDP wrote into them) and moves its rate to `r_target`: the
    only fixed point of the weights is `r_j = r_target`. Take `tau_scaling` well above
    `tau_rate` (slow scaling of a well-estimated rate), as in van Rossum et al. (2000).

    Attributes:
        target_rate: target rate `r_target` (Hz, > 0).
        tau_rate: time constant of the rate estimate (ms, > 0).
        tau_scaling: time constant of scaling at a relative rate error of 1 (ms, > 0).
        polarity: `"excitatory"` (`+`) or `"inhibitory"` (`-`).

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import SynapticScaling
        >>> conn = bo.Dense(jnp.full((2, 1), 0.5))
        >>> rule = SynapticScaling(target_rate=10.0, tau_rate=100.0, tau_scaling=1000.0)
        >>> traces = rule.init(conn)._replace(rate=jnp.array([5.0]))   # firing too little
        >>> w, traces = rule.update(traces, conn.weights, jnp.zeros(2), jnp.zeros(1), dt=1.0,
        ...                         conn=conn)
        >>> round(float(w[0, 0]), 6)                     # 0.5 exp(1 * 5 / (10 * 1000))
        0.50025

    Reference: Turrigiano, Leslie, Desai, Rutherford & Nelson (1998), Nature 391:892; van
    Rossum, Bi & Turrigiano (2000), J. Neurosci. 20:8812.
    """

    target_rate: Float[Array, ""] = eqx.field(default=5.0, converter=as_param)
    tau_rate: Float[Array, ""] = eqx.field(default=1000.0, converter=as_param)
    tau_scaling: Float[Array, ""] = eqx.field(default=100_000.0, converter=as_param)
    polarity: str = eqx.field(default="excitatory", static=True)

    def __check_init__(self):
        check_positive("target_rate", self.target_rate)
        check_positive("tau_rate", self.tau_rate)
        check_positive("tau_scaling", self.tau_scaling)
        if self.polarity not in POLARITIES:
            raise ValueError(f"`polarity` must be 'excitatory' or 'inhibitory', got "
                             f"{self.polarity!r}.")  # fmt: skip

    def init(self, conn) -> ScalingTraces:
        """Rate estimates at the target (no scaling until the activity says otherwise)."""
        rate = jnp.broadcast_to(self.target_rate, (conn.n_post,)).astype(jnp.result_type(float))
        return ScalingTraces(rate=rate)

    def update(self, traces: ScalingTraces, weights, pre_spikes, post_spikes, *, dt, conn=None,
               modulator=None) -> tuple[Array, ScalingTraces]:
        """Scale the weights over `dt` ms with the current estimates, then add `post_spikes`.

        `pre_spikes` and `modulator` are unused; arguments as in `brainsim.plasticity.STDP`.
        """
        conn, w = resolve(conn, weights)
        sign = 1.0 if self.polarity == "excitatory" else -1.0
        error = (self.target_rate - traces.rate) / (self.target_rate * self.tau_scaling)
        w = w * _per_synapse(conn, jnp.exp(sign * dt * error))
        decay = jnp.exp(-dt / self.tau_rate)
        rate = traces.rate * decay + jnp.asarray(post_spikes, w.dtype) * (
            _MS_PER_S / self.tau_rate)
        return w, ScalingTraces(rate=rate)


class WeightNormalization(eqx.Module):
    """Keep the sum of each postsynaptic neuron's incoming weights at `total`.

    At every call, `w_ij ← w_ij total / Σ_k w_kj` for each postsynaptic neuron `j` whose
    incoming weights sum to a positive value (others are left alone). Chained after a Hebbian
    rule (`chain(STDP(...), WeightNormalization(total))`) it turns growth into competition
    between a neuron's inputs (von der Malsburg 1973). No traces.

    Attributes:
        total: the sum of the incoming weights of each postsynaptic neuron (units of the
            weight, > 0; scalar or one per postsynaptic neuron).

    Examples:
        >>> import jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.plasticity import WeightNormalization
        >>> conn = bo.Dense(jnp.array([[1.0, 2.0], [3.0, 2.0]]))
        >>> w, _ = WeightNormalization(total=1.0).update((), conn.weights, None, None,
        ...                                              dt=0.1, conn=conn)
        >>> w.tolist()
        [[0.25, 0.5], [0.75, 0.5]]

    Reference: von der Malsburg (1973), Kybernetik 14:85; Miller & MacKay (1994), Neural
    Comput. 6:100.
    """

    total: Float[Array, "*n_post"] = eqx.field(default=1.0, converter=as_param)

    def __check_init__(self):
        check_positive("total", self.total)

    def init(self, conn) -> tuple[()]:
        """No traces (checks the shape of `total`)."""
        shape = jnp.shape(self.total)
        if shape not in ((), (conn.n_post,)):
            raise ValueError(f"`total` must be a scalar or have one value per postsynaptic "
                             f"neuron, shape ({conn.n_post},), got {shape}.")  # fmt: skip
        return ()

    def update(self, traces, weights, pre_spikes, post_spikes, *, dt, conn=None,
               modulator=None) -> tuple[Array, tuple[()]]:
        """Rescale the weights; spikes, `dt` and `modulator` are unused."""
        conn, w = resolve(conn, weights)
        _, post = bo.synapse_neurons(conn)
        sums = jax.ops.segment_sum(w.reshape(-1), post.reshape(-1), num_segments=conn.n_post)
        positive = sums > 0
        factor = jnp.where(positive, self.total / jnp.where(positive, sums, 1.0), 1.0)
        return w * factor[post], traces
