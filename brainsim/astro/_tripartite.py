"""The tripartite synapse: Tsodyks–Markram release modulated by gliotransmitter receptors."""

from __future__ import annotations

import dataclasses
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

import brainsim_ops as bo
from brainsim._validation import as_param, check_at_most, check_positive
from brainsim.astro._gchi import AstrocyteDrive
from brainsim_ops._pure import rows_of_positions

_PER_S = 1e-3  # rates are given per second; time steps are in ms


class TripartiteState(NamedTuple):
    """State of the tripartite synapses of one projection.

    Per synapse (storage order of the connectivity), updated only when its presynaptic neuron
    spikes; per presynaptic neuron, the step of that last update; per astrocyte (plus one last
    slot shared by the synapses without astrocyte), the quantities its synapses share.

    Attributes:
        u: utilisation `u_S` right after the last update (dimensionless), `(n_syn,)`.
        x: available resources `x_S` right after the last update (dimensionless), `(n_syn,)`.
        r: release `r_S` of the last presynaptic spike (dimensionless), `(n_syn,)`.
        last: step count at the last update of each presynaptic neuron's synapses, `(n_pre,)`.
        Gamma_S: activated presynaptic gliotransmitter receptors per astrocyte, `(n_astro + 1,)`.
        Y_S: neurotransmitter summed over each astrocyte's synapses (µM), `(n_astro + 1,)`.
    """

    u: Float[Array, " n_syn"]
    x: Float[Array, " n_syn"]
    r: Float[Array, " n_syn"]
    last: Int[Array, " n_pre"]
    Gamma_S: Float[Array, " n_slots"]
    Y_S: Float[Array, " n_slots"]


class TripartiteRelease(eqx.Module):
    """Synaptic release modulated by an astrocyte's gliotransmitter (a `Projection`'s `stp`).

    Each synapse `k` is covered by astrocyte `a(k)` of population `astrocytes` (or by none,
    `a(k) = -1`). Between spikes (exact propagators, `G_A` of the start of the step held):

        du_S/dt = −Ω_f u_S,   dx_S/dt = Ω_d (1 − x_S),   dY_S/dt = −Ω_c Y_S,
        dΓ_S/dt = O_G G_A (1 − Γ_S) − Ω_G Γ_S

    and at a presynaptic spike, in this order: `U_0 = (1 − Γ_S) U_0* + α Γ_S`,
    `u_S ← u_S + U_0 (1 − u_S)`, `r_S = u_S x_S`, `x_S ← x_S − r_S`, `Y_S ← Y_S + ρ_c Y_T r_S`,
    and the postsynaptic neuron receives `w r_S` (the projection's weight times the release).

    The work is event-driven and exact: `Γ_S` depends only on the astrocyte's `G_A`, so it is
    kept once per astrocyte; the astrocyte needs only the sum (or mean) of its synapses' `Y_S`,
    which decays with one rate, so that sum is kept per astrocyte too; `u_S` and `x_S` are
    touched only for the synapses of neurons that spiked, decayed over the time since their
    last spike. Per step the cost is O(n_astro) plus O(synapses of spiking neurons), taken in
    chunks of `max_events` spiking presynaptic neurons. With `max_events >= n_pre` a step is
    one pass (reverse-mode `grad` needs this: the chunk loop is a `while_loop`, which JAX
    differentiates only in forward mode); smaller values serve long simulations.

    With `listen=True` (closed loop) the astrocytes receive `Y_S` (their synapses' mean, or sum
    with `signal="sum"`) as `AstrocyteDrive.Y_S`; with `listen=False` (open loop) they only
    send `G_A`. Units: concentrations µM, rates 1/s (`O_G` in 1/(µM·s)), as published.

    Args:
        astrocytes: name of the astrocyte population (a `brainsim.astro` model) in the Network.
        astrocyte_index (int | Int[Array, 'n_syn']): the astrocyte covering each synapse (storage
            order of the projection's CSR), `-1` for none; an int, or an int array of shape
            `(n_syn,)`.
        U_0_star (float): resting release probability (0, 1].
        alpha (float): release probability at full receptor activation, [0, 1] (α < U_0*:
            gliotransmission decreases release).
        Omega_f (float): facilitation decay rate (1/s).
        Omega_d (float): resource recovery rate (1/s).
        O_G (float): receptor activation rate (1/(µM·s)).
        Omega_G (float): receptor deactivation rate (1/s).
        rho_c (float): vesicle-to-cleft volume ratio.
        Y_T (float): vesicular neurotransmitter (µM).
        Omega_c (float): neurotransmitter clearance rate (1/s).
        listen: whether the astrocytes receive the synapses' neurotransmitter (closed loop).
        signal: `"mean"` (the astrocyte sees its synapses' mean `Y_S`) or `"sum"`.
        max_events: spiking presynaptic neurons handled per chunk (static; `>= n_pre` for
            reverse-mode gradients).

    Examples:
        >>> import jax, numpy as np, brainsim as bs, brainsim_ops as bo
        >>> conn = bo.fixed_prob(jax.random.key(0), 80, 100, 0.1, weight=0.05)
        >>> release = bs.astro.TripartiteRelease("A", np.arange(conn.n_syn) % 10)
        >>> proj = bs.Projection("E", "E", conn, stp=release)

    Reference: De Pittà et al. (2011) Front. Comput. Neurosci. 5:5; Stimberg et al. (2019).
    """

    astrocytes: str = eqx.field(static=True)
    astrocyte_index: Int[Array, " n_syn"]
    U_0_star: Float[Array, ""] = eqx.field(converter=as_param)
    alpha: Float[Array, ""] = eqx.field(converter=as_param)
    Omega_f: Float[Array, ""] = eqx.field(converter=as_param)
    Omega_d: Float[Array, ""] = eqx.field(converter=as_param)
    O_G: Float[Array, ""] = eqx.field(converter=as_param)
    Omega_G: Float[Array, ""] = eqx.field(converter=as_param)
    rho_c: Float[Array, ""] = eqx.field(converter=as_param)
    Y_T: Float[Array, ""] = eqx.field(converter=as_param)
    Omega_c: Float[Array, ""] = eqx.field(converter=as_param)
    n_astrocytes: int = eqx.field(static=True)
    listen: bool = eqx.field(static=True)
    signal: str = eqx.field(static=True)
    max_events: int = eqx.field(static=True)
    max_row: int = eqx.field(static=True)

    def __init__(self, astrocytes: str, astrocyte_index, *, U_0_star=0.6, alpha=0.0,
                 Omega_f=3.33, Omega_d=2.0, O_G=1.5, Omega_G=0.5 / 60, rho_c=0.005,
                 Y_T=500_000.0, Omega_c=40.0, listen: bool = True,
                 signal: Literal["mean", "sum"] = "mean", max_events: int = 32,
                 n_astrocytes: int | None = None, max_row: int = -1):  # fmt: skip
        if not isinstance(astrocytes, str) or not astrocytes:
            raise TypeError(f"`astrocytes` must be a population name, got {astrocytes!r}.")
        concrete = not isinstance(astrocyte_index, jax.core.Tracer)
        index = np.asarray(astrocyte_index) if concrete else astrocyte_index
        if not jnp.issubdtype(index.dtype, jnp.integer) or index.ndim > 1:
            raise ValueError("`astrocyte_index` must be an int or a 1-D int array (one astrocyte "
                             "per synapse, -1 for none).")  # fmt: skip
        if concrete and index.size and index.min() < -1:
            raise ValueError(f"`astrocyte_index` must be >= -1, got {index.min()}.")
        if signal not in ("mean", "sum"):
            raise ValueError(f"`signal` must be 'mean' or 'sum', got {signal!r}.")
        if not isinstance(max_events, int) or max_events < 1:
            raise ValueError(f"`max_events` must be a positive int, got {max_events!r}.")
        bound = int(index.max(initial=-1)) + 1 if concrete else 0
        n_astrocytes = bound if n_astrocytes is None else n_astrocytes
        if n_astrocytes < bound:
            raise ValueError(f"`astrocyte_index` refers to astrocyte {bound - 1}, but there are "
                             f"{n_astrocytes} astrocytes.")  # fmt: skip
        self.astrocytes = astrocytes
        self.astrocyte_index = jnp.asarray(index, jnp.int32)
        self.U_0_star, self.alpha, self.Omega_f, self.Omega_d = U_0_star, alpha, Omega_f, Omega_d
        self.O_G, self.Omega_G, self.rho_c = O_G, Omega_G, rho_c
        self.Y_T, self.Omega_c = Y_T, Omega_c
        self.n_astrocytes, self.listen, self.signal = n_astrocytes, listen, signal
        self.max_events, self.max_row = max_events, max_row

    def __check_init__(self):
        for name in ("Omega_f", "Omega_d", "O_G", "Omega_G", "rho_c", "Y_T", "Omega_c"):
            check_positive(name, getattr(self, name), allow_zero=True)
        check_positive("U_0_star", self.U_0_star)
        check_at_most("U_0_star", self.U_0_star, 1.0)
        check_positive("alpha", self.alpha, allow_zero=True)
        check_at_most("alpha", self.alpha, 1.0)

    def bind(self, conn, n_astrocytes: int | None = None) -> TripartiteRelease:
        """This release configured for `conn` (a CSR) and a population of `n_astrocytes`."""
        if not isinstance(conn, bo.CSR):
            raise TypeError("a TripartiteRelease needs a CSR connectivity (`conn`).")
        index = self.astrocyte_index
        if index.ndim == 1 and index.shape != (conn.n_syn,):
            raise ValueError(f"`astrocyte_index` has {index.shape[0]} entries, but the "
                             f"connectivity has {conn.n_syn} synapses.")  # fmt: skip
        n = self.n_astrocytes if n_astrocytes is None else n_astrocytes
        if n < self.n_astrocytes:
            raise ValueError(f"`astrocyte_index` refers to astrocyte {self.n_astrocytes - 1}, but "
                             f"population {self.astrocytes!r} has {n} astrocytes.")  # fmt: skip
        if isinstance(conn.indptr, jax.core.Tracer):
            raise ValueError("bind a TripartiteRelease to a concrete connectivity (outside jit).")
        return dataclasses.replace(
            self,
            astrocyte_index=jnp.broadcast_to(index, (conn.n_syn,)),
            n_astrocytes=n,
            max_row=int(np.diff(np.asarray(conn.indptr)).max(initial=0)),
        )

    def init(self, conn, *, u: float = 0.0, x: float = 1.0) -> TripartiteState:
        """Rested synapses (`u_S = u`, `x_S = x`), no receptor activation, no neurotransmitter."""
        dtype = jnp.result_type(float)
        for name, value in (("u", u), ("x", x)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` (a fraction) must lie in [0, 1], got {value}.")
        n_syn, slots = conn.n_syn, self.n_astrocytes + 1
        return TripartiteState(
            u=jnp.full((n_syn,), u, dtype),
            x=jnp.full((n_syn,), x, dtype),
            r=jnp.zeros((n_syn,), dtype),
            last=jnp.zeros((conn.n_pre,), jnp.int32),
            Gamma_S=jnp.zeros((slots,), dtype),
            Y_S=jnp.zeros((slots,), dtype),
        )

    def _slots(self) -> Int[Array, " n_syn"]:
        return jnp.where(self.astrocyte_index < 0, self.n_astrocytes, self.astrocyte_index)

    def synapse_counts(self) -> Float[Array, " n_slots"]:
        """Number of synapses of each astrocyte (and, last, of none)."""
        counts = jnp.zeros((self.n_astrocytes + 1,)).at[self._slots()].add(1.0)
        return counts

    def astrocyte_drive(self, state: TripartiteState) -> AstrocyteDrive:
        """What the astrocytes receive: their synapses' `Y_S` (mean or sum, µM)."""
        Y = state.Y_S[: self.n_astrocytes]
        if self.signal == "mean":
            Y = Y / jnp.maximum(self.synapse_counts()[: self.n_astrocytes], 1.0)
        return AstrocyteDrive(Y_S=Y)

    def synapse_values(self, state: TripartiteState, conn, step_count, *, dt):
        """`(u_S, x_S)` of every synapse after `step_count` steps of `dt` ms (decayed to then)."""
        indptr, _, storage = _positions(conn)
        pre_of_syn = rows_of_positions(indptr, conn.n_syn)
        if storage is not None:
            pre_of_syn = jnp.zeros_like(pre_of_syn).at[storage].set(pre_of_syn)
        elapsed = (step_count - state.last[pre_of_syn]) * dt * _PER_S
        u = state.u * jnp.exp(-self.Omega_f * elapsed)
        x = 1.0 + (state.x - 1.0) * jnp.exp(-self.Omega_d * elapsed)
        return u, x

    def deliver(self, state: TripartiteState, pre_spikes, conn, *, G_A, step_index, dt):
        """Advance over one step of `dt` ms and release at this step's presynaptic spikes.

        Args:
            state: the synapses' state.
            pre_spikes (Float[Array, 'n_pre']): this step's presynaptic spikes (0.0 / 1.0),
                `(n_pre,)`.
            conn (CSR): the projection's CSR (its weights scale the releases).
            G_A (Array | None): gliotransmitter of each astrocyte at the start of the step (µM), or
                `None`.
            step_index (Int[Array, '']): the step's index (`Network` state `"step"`).
            dt (float): step (ms).

        Returns:
            (tuple[TripartiteState, Array]): the new state and `Σ_k w_k r_k` arriving at each
                postsynaptic neuron.
        """
        dt_s = dt * _PER_S
        n_astro = self.n_astrocytes
        G = jnp.zeros((n_astro + 1,), state.Gamma_S.dtype)
        if G_A is not None:
            G = G.at[:n_astro].set(jnp.broadcast_to(G_A, (n_astro,)))
        rate = self.O_G * G + self.Omega_G
        Gamma_inf = self.O_G * G / jnp.where(rate > 0, rate, 1.0)
        Gamma = Gamma_inf + (state.Gamma_S - Gamma_inf) * jnp.exp(-rate * dt_s)
        Y = state.Y_S * jnp.exp(-self.Omega_c * dt_s)
        now = jnp.asarray(step_index + 1, jnp.int32)
        spikes = jnp.asarray(pre_spikes, state.u.dtype)
        weights = conn.flat_weights()
        indptr, post_of, storage = _positions(conn)

        def release(carry, rows):
            """Release at the synapses of presynaptic neurons `rows` (`n_pre`: padding)."""
            u_all, x_all, r_all, last, Y, arriving = carry
            padded = jnp.concatenate([indptr, indptr[-1:]])
            start = padded[rows]
            offset = jnp.arange(max(self.max_row, 1))
            valid = offset[None, :] < (padded[rows + 1] - start)[:, None]
            pos = jnp.where(valid, start[:, None] + offset[None, :], 0).reshape(-1)
            valid = valid.reshape(-1)
            pre = jnp.repeat(jnp.minimum(rows, conn.n_pre - 1), offset.shape[0])
            syn = pos if storage is None else storage[pos]
            elapsed = (now - last[pre]) * dt_s
            u = u_all[syn] * jnp.exp(-self.Omega_f * elapsed)
            x = 1.0 + (x_all[syn] - 1.0) * jnp.exp(-self.Omega_d * elapsed)
            astrocyte = self.astrocyte_index[syn]
            slot = jnp.where(astrocyte < 0, n_astro, astrocyte)
            U_0 = (1.0 - Gamma[slot]) * self.U_0_star + self.alpha * Gamma[slot]
            u = u + U_0 * (1.0 - u)
            r = u * x
            x = x - r
            drop = jnp.where(valid, syn, conn.n_syn)
            target = jnp.where(valid, post_of[pos], conn.n_post)
            effect = (weights if weights.ndim == 0 else weights[syn]) * r * spikes[pre]
            return (
                u_all.at[drop].set(u, mode="drop"),
                x_all.at[drop].set(x, mode="drop"),
                r_all.at[drop].set(r, mode="drop"),
                last.at[rows].set(now, mode="drop"),
                Y.at[jnp.where(valid, slot, n_astro + 1)].add(self.rho_c * self.Y_T * r,
                                                            mode="drop"),
                arriving.at[target].add(effect, mode="drop"),
            )  # fmt: skip

        def spiking(pending):
            return jnp.nonzero(pending, size=self.max_events, fill_value=conn.n_pre)[0]

        if self.max_row < 0:
            raise ValueError("this TripartiteRelease is not bound to a connectivity: use it as "
                             "the `stp` of a Projection (or call `bind(conn)`).")  # fmt: skip
        arriving = jnp.zeros((conn.n_post,), jnp.result_type(state.u, weights))
        carry = (state.u, state.x, state.r, state.last, Y, arriving)
        pending = spikes > 0
        if self.max_events >= conn.n_pre:  # one pass, reverse-differentiable
            carry = release(carry, spiking(pending))
        else:  # chunks of `max_events` spiking neurons until none is left (forward only)

            def more(loop):
                return jnp.any(loop[1])

            def next_chunk(loop):
                carry, pending = loop
                rows = spiking(pending)
                return release(carry, rows), pending.at[rows].set(False, mode="drop")

            carry, _ = jax.lax.while_loop(more, next_chunk, (carry, pending))
        u, x, r, last, Y, arriving = carry
        return TripartiteState(u=u, x=x, r=r, last=last, Gamma_S=Gamma, Y_S=Y), arriving


def _positions(conn):
    """Pre-major view of a CSR: `(indptr, post, storage)`, storage being the synapse index of
    each position (`None`: the position itself)."""
    indptr, post, storage, _, _ = conn.layout.view(False)
    return indptr, post, None if storage.shape[0] == 0 else storage
