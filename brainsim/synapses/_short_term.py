"""Tsodyks-Markram short-term plasticity, kept per presynaptic neuron."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim._validation import as_param, check_at_most, check_positive


class TsodyksMarkramState(NamedTuple):
    """Utilisation `u` and available resources `x` per presynaptic neuron (dimensionless)."""

    u: Float[Array, " n"]
    x: Float[Array, " n"]


class TsodyksMarkram(eqx.Module):
    """Short-term depression and facilitation (Tsodyks, Pawelzik & Markram 1998).

    Between spikes `u` decays to 0 with `tau_f` and `x` recovers to 1 with `tau_d` (exactly). At a
    spike, first `u ← u + U (1 - u)`, then the release `r = u x` is taken, then `x ← x - r`. The
    postsynaptic jump is `w · r`, so the first release of a rested synapse is `U`. The state is per
    presynaptic neuron (all its synapses share `U`, `tau_d`, `tau_f`).

    Attributes:
        U: utilisation increment (dimensionless, in (0, 1]).
        tau_d: recovery time constant of resources (ms, > 0).
        tau_f: facilitation time constant (ms, > 0).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.synapses import TsodyksMarkram
        >>> stp = TsodyksMarkram.depressing()
        >>> state, release = stp.step(stp.init(1), jnp.array([1.0]), dt=0.1)
        >>> release.tolist()
        [0.5]

    Reference: Tsodyks, Pawelzik & Markram (1998), Neural Comput. 10:821.
    """

    U: Float[Array, "*n"] = eqx.field(default=0.5, converter=as_param)
    tau_d: Float[Array, "*n"] = eqx.field(default=800.0, converter=as_param)
    tau_f: Float[Array, "*n"] = eqx.field(default=50.0, converter=as_param)

    def __check_init__(self):
        check_positive("U", self.U)
        check_positive("tau_d", self.tau_d)
        check_positive("tau_f", self.tau_f)
        check_at_most("U", self.U, 1.0)

    @classmethod
    def depressing(cls) -> TsodyksMarkram:
        """The depressing example: U = 0.5, tau_d = 800 ms, tau_f = 50 ms."""
        return cls(U=0.5, tau_d=800.0, tau_f=50.0)

    @classmethod
    def facilitating(cls) -> TsodyksMarkram:
        """The facilitating example: U = 0.15, tau_d = 50 ms, tau_f = 750 ms."""
        return cls(U=0.15, tau_d=50.0, tau_f=750.0)

    def init(self, n: int) -> TsodyksMarkramState:
        """Rested synapses: `u = 0`, `x = 1` for `n` presynaptic neurons."""
        zeros = jnp.zeros((n,), jnp.result_type(float))
        return TsodyksMarkramState(u=zeros, x=jnp.ones_like(zeros))

    def step(self, state: TsodyksMarkramState, spikes, *, dt):
        """Relax over `dt` ms, then apply this step's presynaptic `spikes` (0/1).

        Returns the new state and the release `r = u x` per presynaptic neuron (0 without spike).
        """
        u = state.u * jnp.exp(-dt / self.tau_f)
        x = 1.0 + (state.x - 1.0) * jnp.exp(-dt / self.tau_d)
        u = u + spikes * self.U * (1.0 - u)
        release = spikes * u * x
        return TsodyksMarkramState(u=u, x=x - release), release
