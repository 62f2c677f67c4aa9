"""Distal reward (Izhikevich 2007): dopamine released a random delay after a chosen pairing."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from brainsim._validation import as_param, check_positive


class DistalRewardState(NamedTuple):
    """State of `DistalReward`.

    Attributes:
        dopamine: extracellular dopamine `d` (µM), scalar.
        since_pre: steps since the chosen presynaptic neuron last spiked (int32, capped).
        pending: steps left until each scheduled reward (int32, `-1`: free slot),
            shape `(max_pending,)`.
        rewards: rewards delivered so far (int32).
        pairings: pre-then-post pairings detected so far (int32).
    """

    dopamine: Float[Array, ""]
    since_pre: Int[Array, ""]
    pending: Int[Array, " max_pending"]
    rewards: Int[Array, ""]
    pairings: Int[Array, ""]


_NEVER = 2**30


class DistalReward(eqx.Module):
    """Delayed reward for one chosen synapse, and the dopamine it releases.

    Whenever the chosen synapse's presynaptic spike is followed within `window` by its
    postsynaptic spike, a reward is scheduled after a delay drawn uniformly from
    `[delay_min, delay_max]`; at a reward, `amount` of dopamine is released. Dopamine follows

        dd/dt = -d / tau_d + DA(t),   DA(t) = tonic + amount · Σ_k δ(t - t_reward,k)

    integrated exactly over each step. A pairing counts when `1 ≤ (t_post - t_pre)/dt ≤
    window/dt` steps (a pre and a post spike in the same step do not pair, as in the rules of
    `brainsim.plasticity`); at most `max_pending` rewards wait at once (further pairings are
    then dropped). The dopamine is the third factor of `EligibilitySTDP` (without its own
    `tau_d`), passed to a plastic projection as `inputs={"modulators": {name: d}}`.

    Attributes:
        window: longest pre-to-post interval that is rewarded (ms, > 0).
        delay_min, delay_max: range of the reward delay (ms, 0 <= delay_min <= delay_max).
        amount: dopamine released per reward (µM, >= 0).
        tonic: tonic dopamine release (µM/ms, >= 0); the baseline is `tonic · tau_d`.
        tau_d: dopamine time constant (ms, > 0).
        max_pending: how many rewards may wait at once (static int, >= 1).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.plasticity import DistalReward
        >>> reward = DistalReward(delay_min=5.0, delay_max=5.0, tonic=0.0)
        >>> state, key = reward.init(), jax.random.key(0)
        >>> for pre, post in [(1, 0), (0, 0), (0, 1)] + [(0, 0)] * 5:   # pre, post 2 ms later
        ...     state, d = reward.step(state, pre, post, key, dt=1.0)
        >>> float(d), int(state.rewards)                  # released 5 ms after the pairing
        (0.5, 1)

    Reference: Izhikevich (2007), *Solving the distal reward problem through linkage of STDP
    and dopamine signaling*, Cereb. Cortex 17:2443.
    """

    window: Float[Array, ""] = eqx.field(default=10.0, converter=as_param)
    delay_min: Float[Array, ""] = eqx.field(default=1000.0, converter=as_param)
    delay_max: Float[Array, ""] = eqx.field(default=3000.0, converter=as_param)
    amount: Float[Array, ""] = eqx.field(default=0.5, converter=as_param)
    tonic: Float[Array, ""] = eqx.field(default=1e-5, converter=as_param)
    tau_d: Float[Array, ""] = eqx.field(default=200.0, converter=as_param)
    max_pending: int = eqx.field(default=8, static=True)

    def __check_init__(self):
        check_positive("window", self.window)
        check_positive("delay_min", self.delay_min, allow_zero=True)
        check_positive("amount", self.amount, allow_zero=True)
        check_positive("tonic", self.tonic, allow_zero=True)
        check_positive("tau_d", self.tau_d)
        if not isinstance(self.delay_min, jax.core.Tracer) and not isinstance(
            self.delay_max, jax.core.Tracer
        ) and float(self.delay_max) < float(self.delay_min):
            raise ValueError(
                f"`delay_max` ({float(self.delay_max)}) must be >= `delay_min` "
                f"({float(self.delay_min)})."
            )
        if not isinstance(self.max_pending, int) or self.max_pending < 1:
            raise ValueError(f"`max_pending` must be an int >= 1, got {self.max_pending!r}.")

    def init(self, dopamine=None) -> DistalRewardState:
        """No pending reward; dopamine at `dopamine` µM (default: the tonic baseline)."""
        d = self.tonic * self.tau_d if dopamine is None else jnp.asarray(dopamine)
        zero = jnp.zeros((), jnp.int32)
        return DistalRewardState(
            dopamine=jnp.asarray(d, jnp.result_type(float)),
            since_pre=jnp.asarray(_NEVER, jnp.int32),
            pending=jnp.full((self.max_pending,), -1, jnp.int32),
            rewards=zero,
            pairings=zero,
        )

    def step(
        self,
        state: DistalRewardState,
        pre_spike: Bool[Array, ""] | Float[Array, ""],
        post_spike: Bool[Array, ""] | Float[Array, ""],
        key: PRNGKeyArray,
        *,
        dt,
        rewarded: Bool[Array, ""] | bool = True,
    ) -> tuple[DistalRewardState, Float[Array, ""]]:
        """Advance by one step of `dt` ms with this step's spikes of the chosen synapse.

        Args:
            state: from `init` or the previous step.
            pre_spike: spike (nonzero) of the chosen presynaptic neuron.
            post_spike: spike (nonzero) of the chosen postsynaptic neuron.
            key: draws the delay of a reward scheduled in this step.
            dt (float): step (ms).
            rewarded: `False` detects and counts pairings but schedules no reward (control).

        Returns:
            `(state, d)`: `d` is the dopamine (µM) at the end of the step, after this step's
            release.
        """
        since = jnp.minimum(state.since_pre + 1, _NEVER)
        paired = (jnp.asarray(post_spike) != 0) & (since * dt <= self.window)
        since = jnp.where(jnp.asarray(pre_spike) != 0, 0, since)
        pending = jnp.where(state.pending > 0, state.pending - 1, state.pending)
        due = pending == 0
        pending = jnp.where(due, -1, pending)
        delay = jax.random.uniform(key, (), minval=self.delay_min, maxval=self.delay_max)
        delay_steps = jnp.maximum(jnp.round(delay / dt).astype(jnp.int32), 1)
        free = pending < 0
        slot = jnp.argmax(free)
        schedule = paired & jnp.asarray(rewarded) & free[slot]
        pending = jnp.where(schedule & (jnp.arange(self.max_pending) == slot), delay_steps,
                            pending)
        n_due = due.sum()
        release = self.tonic * dt + self.amount * n_due
        d = state.dopamine * jnp.exp(-dt / self.tau_d) + release
        new = DistalRewardState(
            dopamine=d,
            since_pre=since,
            pending=pending,
            rewards=state.rewards + n_due.astype(jnp.int32),
            pairings=state.pairings + paired.astype(jnp.int32),
        )
        return new, d
