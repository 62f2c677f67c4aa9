"""The usual loss for fitting recorded sweeps: subthreshold trace, spike count and timing."""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim.fit._simulate import Simulation
from brainsim.fit._spike_losses import spike_count_loss, van_rossum_loss
from brainsim.fit._sweeps import SweepData
from brainsim.fit._trace import trace_mse
from brainsim.fit._weighted_sum import WeightedSum, weighted_sum


def _trace_term(sim: Simulation, data: SweepData, *, spike_window) -> Float[Array, ""]:
    if data.voltage is None:
        return jnp.zeros((), sim.v.dtype)
    return trace_mse(
        sim.v, data.voltage, dt=data.dt, t_start=data.t_start, spike_times=data.spike_times,
        spike_window=spike_window,
    )


def _count_term(sim: Simulation, data: SweepData) -> Float[Array, ""]:
    if data.spike_times is None:
        return jnp.zeros((), sim.v.dtype)
    return spike_count_loss(sim.spikes, data.spike_times, dt=data.dt, t_start=data.t_start)


def _van_rossum_term(sim: Simulation, data: SweepData, *, tau) -> Float[Array, ""]:
    if data.spike_times is None:
        return jnp.zeros((), sim.v.dtype)
    return van_rossum_loss(sim.spikes, data.spike_times, tau=tau, dt=data.dt)


@functools.lru_cache(maxsize=32)
def recording_loss(
    *,
    trace: float = 1.0,
    count: float = 1.0,
    van_rossum: float = 1.0,
    tau: float = 10.0,
    spike_window: tuple[float, float] = (2.0, 5.0),
) -> WeightedSum:
    """The default fitting loss: `L = w_trace MSE_sub + w_count ΔN² + w_vR D²_vR`.

    Each term is a loss of `brainsim.fit` evaluated on `(sim, data)`, a `Simulation` and its
    `SweepData`, from `data.t_start` on:

    - `MSE_sub = trace_mse(sim.v, data.voltage, spike_times=data.spike_times)`: the
      subthreshold voltage error (mV²), the windows `[s - before, s + after)` around recorded
      spikes `s` masked (`spike_window = (before, after)`, ms);
    - `ΔN² = spike_count_loss(...)`: squared spike-count error per sweep (spikes²);
    - `D²_vR = van_rossum_loss(..., tau=tau)`: spike timing (about ½ per unmatched spike).

    A term whose data are missing (no voltage or no spike times) is 0; a weight of 0 drops it.
    The same arguments return the same object, so fits that share it share compiled code.

    Args:
        trace: weight of the trace error (1/mV²).
        count: weight of the spike-count error (1/spikes²).
        van_rossum: weight of the van Rossum distance (dimensionless).
        tau: van Rossum kernel time constant (ms, > 0).
        spike_window: time masked before and after each recorded spike (ms).

    Returns:
        A `WeightedSum` called as `loss(sim, data)` (`.parts(sim, data)` gives each term).

    Examples:
        >>> import numpy as np
        >>> from brainsim.fit import Simulation, SweepData, recording_loss
        >>> data = SweepData(np.zeros((100, 1)), np.full((100, 1), -70.0), [[50.0]], dt=1.0)
        >>> sim = Simulation(v=np.full((100, 1), -72.0), spikes=np.zeros((100, 1)))
        >>> loss = recording_loss(van_rossum=0.0)
        >>> {k: float(x) for k, x in loss.parts(sim, data).items()}   # 2² mV², one missing spike
        {'trace': 4.0, 'count': 1.0}

    Reference: Rossant et al. (2011), Front. Neurosci. 5:9; van Rossum (2001), Neural Comput.
    13:751; Jolivet et al. (2008), J. Neurosci. Methods 169:417 (subthreshold and spike-timing
    criteria).
    """
    terms = {
        "trace": (trace, functools.partial(_trace_term, spike_window=tuple(spike_window))),
        "count": (count, _count_term),
        "van_rossum": (van_rossum, functools.partial(_van_rossum_term, tau=tau)),
    }
    kept = {name: term for name, term in terms.items() if term[0] != 0}
    if not kept:
        raise ValueError("every weight is 0: give at least one of trace, count, van_rossum > 0.")
    return weighted_sum(**kept)
