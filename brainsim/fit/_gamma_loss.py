"""The Γ error on the simulation grid, in JAX: a search objective for fits to spike trains."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim.fit._simulate import Simulation
from brainsim.fit._spike_data import bin_spike_times
from brainsim.fit._sweeps import SweepData


class GammaLoss:
    """`gamma_loss(delta)(sim, data)`: the mean over sweeps of
    `1 - Γ + 2 |N_data - N_model| / N_data`, computed on the simulation's time grid.

    Each recorded spike at or after `data.t_start` counts as coincident when the model spikes
    in a step within `±delta` of its step (`round(delta / dt)` steps). This equals the exact
    one-to-one count of `coincidence_factor` when no two spikes of a train fall within
    `2 delta` of each other (true of most recordings at Δ = 4 ms), and is capped at the
    model's spike count otherwise. Γ is undefined for `2 ν Δ >= 1` and for a sweep without
    recorded spikes: such a sweep scores 3 (worse than any defined value, since `1 - Γ <= 2` for
    the rates met in fits). Not differentiable (step functions of the spike trains): use it to
    rank candidates (`fit_model(..., search_loss=gamma_loss())`), not for gradient steps.
    """

    def __init__(self, delta: float):
        if not delta > 0:
            raise ValueError(f"`delta` must be a positive time in ms, got {delta}.")
        self.delta = float(delta)

    def __call__(self, sim: Simulation, data: SweepData) -> Float[Array, ""]:
        if data.spike_times is None:
            raise ValueError("the Γ loss needs recorded spike times (`data.spike_times`).")
        spikes = (sim.spikes > 0).astype(jnp.float32)
        n_steps = spikes.shape[0]
        recorded = bin_spike_times(data.spike_times, n_steps=n_steps, dt=data.dt)
        recorded = (recorded > 0).astype(jnp.float32)
        scored = (jnp.arange(n_steps) * data.dt >= data.t_start)[:, None]
        spikes, recorded = spikes * scored, recorded * scored
        width = int(round(self.delta / data.dt))
        near = jax.lax.reduce_window(spikes, 0.0, jax.lax.add, (2 * width + 1, 1), (1, 1),
                                     ((width, width), (0, 0)))
        n_model, n_data = spikes.sum(0), recorded.sum(0)
        coincident = jnp.minimum((recorded * (near > 0)).sum(0), n_model)
        duration = n_steps * data.dt - data.t_start
        chance = 2 * (n_model / duration) * self.delta
        defined = (chance < 1) & (n_data > 0) & (n_model + n_data > 0)
        safe_chance = jnp.where(defined, chance, 0.0)
        safe_n_data = jnp.maximum(n_data, 1.0)
        gamma = ((coincident - safe_chance * n_data) / (0.5 * (n_data + n_model) + 1e-12)
                 / (1 - safe_chance))
        error = 1 - gamma + 2 * jnp.abs(n_data - n_model) / safe_n_data
        return jnp.mean(jnp.where(defined, error, 3.0))

    def __repr__(self) -> str:
        return f"gamma_loss(delta={self.delta})"


@functools.lru_cache(maxsize=8)
def gamma_loss(delta: float = 4.0) -> GammaLoss:
    """The Γ error of the model's spikes against the recorded ones, as a search objective.

    `gamma_loss(delta)(sim, data)` is brian2modelfitting's error
    `1 - Γ + 2 |N_data - N_model| / N_data` (`gamma_error`), averaged over the sweeps and
    computed in JAX on the simulation's grid (see `GammaLoss`), so that a fit's global stage can
    rank candidates by it in compiled, vmapped batches. The same `delta` returns the same
    object, so fits that share it share compiled code.

    Args:
        delta: coincidence window Δ (ms, > 0).

    Examples:
        >>> import numpy as np
        >>> from brainsim.fit import Simulation, SweepData, gamma_loss
        >>> data = SweepData(np.zeros((200, 1)), spike_times=[[50.0, 120.0]], dt=1.0)
        >>> spikes = np.zeros((200, 1)); spikes[[52, 140], 0] = 1.0   # one coincidence
        >>> round(float(gamma_loss()(Simulation(np.zeros((200, 1)), spikes), data)), 3)
        0.543

    Reference: Jolivet et al. (2008), J. Neurosci. Methods 169:417; Teska et al. (2020),
    brian2modelfitting (`GammaFactor(rate_correction=True)`).
    """
    return GammaLoss(delta)
