"""A local field potential proxy from the synaptic currents of a point-neuron network."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from brainsim.analysis._spikes import check_time


def lfp_proxy(excitatory: Float[ArrayLike, " T *n"], inhibitory: Float[ArrayLike, " T *n"], *,
              dt: float, delay: float = 6.0, alpha: float = 1.65) -> Float[Array, " T"]:
    """LFP proxy of Mazzoni et al. (2015): a delayed, weighted sum of synaptic currents.

        LFP(t) = Σ_i |I_E,i(t - delay)| - alpha Σ_i |I_I,i(t)|

    summed over the pyramidal (excitatory) neurons `i`, with `I_E` and `I_I` the excitatory
    (AMPA) and inhibitory (GABA) synaptic currents into them. With `delay = 6 ms` and
    `alpha = 1.65` this is their reference weighted sum, which accounts for most of the
    variance of the LFP of a matching multi-compartment network near the soma layer; the result
    is in the currents' units (pA) and fixed only up to a scale and sign that depend on the
    electrode. Samples before `delay` use the first sample of `I_E`. For a `Conductance`
    output, the current is `g (E - v)` (nS · mV = pA) from recorded conductances and voltage.
    JAX, differentiable.

    Args:
        excitatory (Array): excitatory synaptic current (pA) sampled every `dt` ms, shape
            `(T,)` (already summed) or `(T, n)` (one column per neuron).
        inhibitory (Array): inhibitory synaptic current (pA), shaped as `excitatory`.
        dt: sampling interval (ms, > 0).
        delay: lag of the excitatory term (ms, >= 0).
        alpha: weight of the inhibitory term (dimensionless, >= 0).

    Returns:
        The proxy, shape `(T,)` (pA).

    Examples:
        >>> import numpy as np
        >>> from brainsim.analysis import lfp_proxy
        >>> e, i = np.ones((10, 3)), np.zeros((10, 3))
        >>> e[4:] = 2.0                                    # excitation doubles at 4 ms
        >>> lfp_proxy(e, i, dt=1.0, delay=2.0).tolist()    # seen 2 ms later
        [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 6.0, 6.0, 6.0, 6.0]

    Reference: Mazzoni et al. (2015), PLoS Comput. Biol. 11:e1004584 (the RWS proxy);
    Mazzoni et al. (2008), PLoS Comput. Biol. 4:e1000239.
    """
    dt = check_time("dt", dt)
    delay = check_time("delay", delay, allow_zero=True)
    if not alpha >= 0:
        raise ValueError(f"`alpha` must be >= 0, got {alpha!r}.")
    e, i = jnp.asarray(excitatory), jnp.asarray(inhibitory)
    if e.shape != i.shape or e.ndim not in (1, 2):
        raise ValueError(f"`excitatory` and `inhibitory` must have the same shape, (T,) or "
                         f"(T, n), got {e.shape} and {i.shape}.")
    e = jnp.abs(e).reshape(e.shape[0], -1).sum(1)
    i = jnp.abs(i).reshape(i.shape[0], -1).sum(1)
    lag = round(delay / dt)
    shifted = jnp.concatenate([jnp.full((min(lag, e.shape[0]),), e[0]), e])[:e.shape[0]]
    return shifted - alpha * i
