"""A projection: connectivity, delay, synaptic kinetics and output between two populations."""

from __future__ import annotations

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

import brainsim_ops as bo
from brainsim.network._delays import (
    DelayState,
    arrive,
    delay_steps_from_ms,
    deliver,
    emit,
    init_delay,
    parse_delay,
)
from brainsim.neurons import Drive
from brainsim.synapses import Conductance, Exponential


class ProjectionState(NamedTuple):
    """State of a projection: kinetics (per post neuron), delay ring, STP (per pre neuron), and
    with plasticity the weights (one per synapse, `conn.synapse_shape`) and the rule's traces.
    A projection rewired by structural plasticity (`brainsim.plasticity.StructuralPlasticity`)
    keeps its slots' weights in `weights`, their targets in `wiring` (a `brainsim_ops` index
    layout) and which slots hold a synapse in `connected` (bool, `(n_pre, k)`)."""

    kinetics: Any
    delay: DelayState | None
    stp: Any
    weights: Array | None = None
    plasticity: Any = None
    wiring: Any = None
    connected: Array | None = None


class Projection(eqx.Module):
    """Synapses from population `pre` to population `post`.

    Each step, the presynaptic spikes (scaled by the Tsodyks-Markram release when `stp` is
    given) travel through `conn` (an event-driven `brainsim_ops` product) after `delay_steps`
    steps, are added to the `kinetics` variable of each postsynaptic neuron, and act on it
    through `output` (a conductance, a current or NMDA).

    With `plasticity` (a rule of `brainsim.plasticity`), the weights become state (one per
    synapse, starting from `conn.weights`): each step the rule first updates them from this
    step's presynaptic (emitted) and postsynaptic spikes, event-driven, and the presynaptic
    spikes are then delivered with the updated weights, as NEST's `stdp_synapse` does (a spike
    carries the weight after the depression it causes). The update then happens in place. A
    third factor reaches the rule as `inputs["modulators"][name]` of `Network.step`.

    Args:
        pre: name of the source population in the `Network`.
        post: name of the target population in the `Network`.
        conn (CSR | ELL | Dense): connectivity from `brainsim_ops` (`fixed_prob`, `fixed_in_degree`,
            ...); its weights are in nS for conductance outputs, pA for current outputs.
        kinetics (Exponential | ...): synaptic kinetics (default `Exponential(tau=5 ms)`).
        output (Conductance | Current | NMDA): `Conductance(E)`, `Current()` or `NMDA(...)` (default
            `Conductance(E=0 mV)`).
        delay (float | ArrayLike | None): delay in ms (needs `dt`): a scalar (whole projection), one
            per presynaptic neuron, or one per synapse (by the connectivity's synapse order). A
            spike emitted at `t` reaches the synaptic variable at `t + delay` and the neuron from
            the next step on, as in Brian2. Converted to `round(delay / dt)` steps by
            `delay_rounding`.
        dt: the time step (ms) the projection will run at; needed for `delay` in ms. Running it at
            another `dt` raises, since the delay in steps would no longer match.
        delay_rounding: `"exact"` (default): a delay must be a whole number of steps (to 1e-6 of a
            step), else a ValueError; `"nearest"`: round to the nearest step (Brian2).
        delay_steps (int | ArrayLike): the delay in steps instead of ms (an int or an array as for
            `delay`). 0 = no delay.
        delay_per: `"projection"`, `"pre"` or `"synapse"`; inferred from the shape of the delays
            unless ambiguous.
        stp (TsodyksMarkram | BernoulliRelease | QuantalRelease | TripartiteRelease | None):
            optional short-term plasticity: `TsodyksMarkram` (per presynaptic neuron), a stochastic
            release per synapse (`BernoulliRelease`, `QuantalRelease`: drawn at emission; with a
            delay it needs a CSR `conn`), or a `brainsim.astro.TripartiteRelease` (per synapse,
            modulated by astrocytes; no delay).
        plasticity (STDP | ... | None): optional long-term plasticity rule
            (`brainsim.plasticity.STDP`, ...).
        name: name of the projection (default `"pre->post"`).

    Examples:
        >>> import jax, brainsim as bs, brainsim_ops as bo
        >>> conn = bo.fixed_prob(jax.random.key(1), 3200, 4000, 0.02, weight=0.6)
        >>> proj = bs.Projection("E", "I", conn, bs.synapses.Exponential(tau=5.0),
        ...                      bs.synapses.Conductance(E=0.0), delay=1.5, dt=0.1)
        >>> int(proj.delay_steps)
        15
    """

    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    conn: Any
    kinetics: Any
    output: Any
    delay_steps: Int[Array, ...] | None
    stp: Any
    plasticity: Any
    delay_per: str | None = eqx.field(static=True)
    max_delay: int = eqx.field(static=True)
    dt: float | None = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def __init__(
        self,
        pre: str,
        post: str,
        conn,
        kinetics=None,
        output=None,
        *,
        delay=None,
        dt: float | None = None,
        delay_rounding: str = "exact",
        delay_steps=0,
        delay_per: str | None = None,
        stp=None,
        plasticity=None,
        name: str | None = None,
    ):
        for label, value in (("pre", pre), ("post", post)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"`{label}` must be a population name, got {value!r}.")
        if not hasattr(conn, "n_pre") or not hasattr(conn, "weights"):
            raise TypeError(
                f"`conn` must be a brainsim_ops connectivity (CSR, ELL, Dense), got "
                f"{type(conn).__name__}."
            )
        self.pre, self.post, self.conn = pre, post, conn
        self.kinetics = Exponential() if kinetics is None else kinetics
        self.output = Conductance() if output is None else output
        self.stp = stp
        if plasticity is not None and not (
            hasattr(plasticity, "init") and hasattr(plasticity, "update")
        ):
            raise TypeError(
                "`plasticity` must be a rule with `init(conn)` and `update(...)` (see "
                f"brainsim.plasticity), got {type(plasticity).__name__}."
            )
        self.plasticity = plasticity
        self.name = name or f"{pre}->{post}"
        n_syn = conn.n_syn if hasattr(conn, "n_syn") else conn.n_pre * conn.n_post
        self.dt = None if dt is None else float(dt)
        if delay is not None:
            if np.any(np.asarray(delay_steps) != 0):
                raise ValueError(
                    f"projection {self.name!r}: give the delay once, as `delay` (ms) or as "
                    "`delay_steps`, not both."
                )
            delay_steps = delay_steps_from_ms(delay, dt, delay_rounding)
        mode, steps, max_delay = parse_delay(delay_steps, delay_per, conn.n_pre, n_syn)
        self.max_delay = max_delay
        if mode == "projection" and max_delay == 0:
            self.delay_per, self.delay_steps = None, None
        else:
            self.delay_per, self.delay_steps = mode, steps
        if mode == "synapse" and not isinstance(conn, bo.CSR):
            raise TypeError("per-synapse delays need a CSR connectivity (`conn`).")
        if self.stochastic_release and self.delay_per in ("projection", "pre"):
            if not isinstance(conn, bo.CSR):
                raise TypeError(
                    f"projection {self.name!r}: a stochastic release (`stp`) with a delay needs "
                    "a CSR connectivity (`conn`)."
                )
            pre_of_synapse, _ = bo.synapse_neurons(conn)
            steps = self.delay_steps if self.delay_per == "projection" else (
                self.delay_steps[pre_of_synapse])
            self.delay_per = "synapse"
            self.delay_steps = jnp.broadcast_to(steps, (n_syn,)).astype(jnp.int32)
        if self.synapse_release:
            if self.delay_per is not None:
                raise ValueError(
                    f"projection {self.name!r}: a TripartiteRelease (`stp`) delivers without "
                    "delay; give `delay_steps=0`."
                )
            self.stp = stp.bind(conn)

    def _check_dt(self, dt) -> None:
        """A projection whose delays were given in ms runs only at the `dt` they were
        converted with (checked when `dt` is a concrete number)."""
        if self.dt is None:
            return
        try:
            value = float(dt)
        except (TypeError, jax.errors.ConcretizationTypeError):
            return
        if abs(value - self.dt) > 1e-9 * self.dt:
            raise ValueError(
                f"projection {self.name!r} converted its delays (ms) to steps of dt = "
                f"{self.dt:g} ms but runs at dt = {value:g} ms; build it with dt={value:g}."
            )

    @property
    def synapse_release(self) -> bool:
        """Whether `stp` keeps state per synapse (a `brainsim.astro.TripartiteRelease`)."""
        return hasattr(self.stp, "deliver")

    @property
    def stochastic_release(self) -> bool:
        """Whether `stp` draws a release per synapse and spike (`brainsim.synapses.
        BernoulliRelease`, `QuantalRelease`)."""
        return hasattr(self.stp, "transmit")

    def init(self, dtype=None, key=None) -> ProjectionState:
        """Empty synapses: zero kinetics, an empty delay ring, rested STP. `key`: the key of a
        stochastic release (default: its `seed`)."""
        dtype = dtype or jnp.result_type(float)
        delay = None
        if self.delay_per is not None:
            delay = init_delay(
                self.delay_per, self.max_delay, self.conn.n_pre, self.conn.n_post, dtype
            )
        stp = None
        if self.stochastic_release:
            stp = self.stp.init(self.conn, key)
        elif self.stp is not None:
            stp = self.stp.init(self.conn if self.synapse_release else self.conn.n_pre)
        weights = traces = None
        if self.plasticity is not None:
            weights = jnp.broadcast_to(self.conn.weights, self.conn.synapse_shape)
            traces = self.plasticity.init(self.conn)
        return ProjectionState(
            kinetics=self.kinetics.init(self.conn.n_post),
            delay=delay,
            stp=stp,
            weights=weights,
            plasticity=traces,
        )

    def drive(self, state: ProjectionState, v_post: Float[Array, " n_post"]) -> Drive:
        """The input this projection gives its postsynaptic population at potential `v_post`."""
        return self.output.drive(self.kinetics.value(state.kinetics), v_post)

    def step(
        self,
        state: ProjectionState,
        pre_spikes,
        step_index,
        *,
        dt,
        post_spikes=None,
        modulator=None,
        glia=None,
        binary_spikes: bool = False,
    ) -> ProjectionState:
        """With plasticity, first update the weights from `pre_spikes` and `post_spikes` (and
        `modulator`); then deliver this step's presynaptic spikes and advance the kinetics by
        `dt` ms. `glia` is the gliotransmitter (µM per astrocyte) seen by a tripartite `stp`.
        `binary_spikes`: `pre_spikes` are 0/1 (the presynaptic model's `binary_spikes`), so
        the kernel may read them as bytes."""
        self._check_dt(dt)
        weights, traces = state.weights, state.plasticity
        if self.plasticity is not None:
            if post_spikes is None:
                raise ValueError(f"projection {self.name!r} is plastic: pass `post_spikes`.")
            weights, traces = self.plasticity.update(
                traces, weights, pre_spikes, post_spikes, dt=dt, conn=self.conn,
                modulator=modulator,
            )  # fmt: skip
        if state.wiring is not None:  # rewired slots: the bound ones deliver
            conn = bo.ELL(layout=state.wiring, weights=jnp.where(state.connected, weights, 0.0),
                          rows="pre", k=self.conn.k)  # fmt: skip
        elif weights is not None:
            conn = self.conn.with_weights(weights)
        else:
            conn = self.conn
        stp, delay = state.stp, state.delay
        if self.synapse_release:
            stp, arriving = self.stp.deliver(
                stp, pre_spikes, conn, G_A=glia, step_index=step_index, dt=dt
            )
        else:
            events = pre_spikes
            if self.stochastic_release:  # this step's draws become the weights delivered
                stp, transmitted = self.stp.transmit(stp, pre_spikes, conn, dt=dt)
                conn = conn.with_weights(transmitted)
            elif self.stp is not None:
                stp, events = self.stp.step(stp, pre_spikes, dt=dt)
            binary = binary_spikes and self.stp is None  # STP makes graded events
            step_delivering = getattr(self.kinetics, "step_delivering", None)
            if self.delay_per is None and step_delivering is not None:
                kinetics = step_delivering(
                    state.kinetics,
                    lambda base, scale: bo.event_matvec(
                        events, conn, add_to=base, add_scale=scale, binary=binary),
                    dt=dt,
                )
                return ProjectionState(
                    kinetics, delay, stp, weights, traces, state.wiring, state.connected)
            if self.delay_per is None:
                arriving = bo.event_matvec(events, conn, binary=binary)
            else:
                delay, arriving = deliver(
                    self.delay_per, self.delay_steps, delay, events, conn, step_index
                )
        kinetics = self.kinetics.step(state.kinetics, arriving, dt=dt)
        return ProjectionState(
            kinetics, delay, stp, weights, traces, state.wiring, state.connected)

    def emit(self, state: ProjectionState, pre_spikes, step_index, *, dt) -> ProjectionState:
        """The emission half of `step`, for a delayed projection without plasticity: advance
        the short-term plasticity by this step's `pre_spikes` (emitted at `step_index`) and
        push the events into the delay ring. With `receive` at every step, this may run
        later, up to the smallest delay (a partitioned network exchanges spikes in blocks)."""
        stp, events = state.stp, pre_spikes
        if self.stp is not None:
            stp, events = self.stp.step(stp, pre_spikes, dt=dt)
        delay = emit(self.delay_per, self.delay_steps, state.delay, events, self.conn,
                     step_index)  # fmt: skip
        return state._replace(stp=stp, delay=delay)

    def receive(self, state: ProjectionState, step_index, *, dt) -> ProjectionState:
        """The arrival half of `step` (see `emit`): the input arriving at `step_index` enters
        the kinetics, which advance by `dt` ms."""
        delay, arriving = arrive(self.delay_per, self.delay_steps, state.delay, self.conn,
                                 step_index)  # fmt: skip
        return state._replace(delay=delay,
                              kinetics=self.kinetics.step(state.kinetics, arriving, dt=dt))
