"""A model driven by recorded currents, its voltage and spikes on the recording's grid."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim._run import run
from brainsim.fit._sweeps import SweepData


class Simulation(NamedTuple):
    """A model's response to the current of some sweeps, on their grid (`t_n = n·dt`).

    Attributes:
        v: membrane potential (mV) at `t_n`, `(T, sweeps)`; `v[0]` is the initial state.
        spikes: spikes of the step from `t_n` to `t_n + dt` (0/1, differentiable through the
            surrogate), `(T, sweeps)`; the last step, after the data end, is not simulated (0).
    """

    v: Float[Array, "T sweeps"]
    spikes: Float[Array, "T sweeps"]


def simulate(
    model, data: SweepData, *, voltage: str = "v", checkpoint_every: int | None = None
) -> Simulation:
    """Run `model` with one neuron per sweep, each driven by its recorded current.

    The population `model.init(sweeps)` starts from the model's initial state and steps
    `n = 0 .. T-2` receive `data.current[n]` (pA) for `dt` ms
    (`brainsim.run(..., input_series=data.current)`, one on-device scan: differentiable and
    `vmap`-able over the model's parameters). The voltage after step `n` is the model's
    `v` at `t_{n+1}`, so `Simulation.v` lies on the data's grid.

    Args:
        model (Neuron | equinox.Module): a neuron model (or any module with `init(n)` and `step`)
            whose input is a current.
        data: the sweeps (their `current` and `dt` are used).
        voltage: the state variable compared with the recorded voltage (dotted for nested
            states).
        checkpoint_every: gradient checkpointing block of `brainsim.run` (steps), for long
            sweeps.

    Returns:
        A `Simulation` (`v` in mV and `spikes`, each `(T, sweeps)`).

    Examples:
        >>> import numpy as np
        >>> import brainsim as bs
        >>> from brainsim.fit import SweepData, simulate
        >>> data = SweepData(np.full((1000, 1), 300.0), spike_times=[[np.inf]], dt=0.1)
        >>> sim = simulate(bs.neurons.LIF(tau_m=10.0, R=0.1, v_th=-50.0), data)
        >>> float(sim.v[0, 0]), int(sim.spikes.sum())     # rest, then a spike every ~9 ms
        (-65.0, 11)

    Reference: Rossant et al. (2011), Front. Neurosci. 5:9 (the model driven by the recorded
    input current).
    """
    state = model.init(data.n_sweeps)
    result = run(
        model,
        state,
        dt=data.dt,
        steps=data.n_samples - 1,
        input_series=data.current,
        record=[voltage, "spikes"],
        stream=False,
        checkpoint_every=checkpoint_every,
    )
    v0 = functools.reduce(getattr, voltage.split("."), state)
    v = jnp.concatenate([jnp.broadcast_to(v0, (1, data.n_sweeps)), result.traces[voltage]])
    spikes = result.spikes["spikes"]
    spikes = jnp.concatenate([spikes, jnp.zeros_like(spikes[:1])])
    return Simulation(v=v.astype(data.current.dtype), spikes=spikes)
