"""The Jansen-Rit neural-mass model of a cortical column."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from brainsim import integrators
from brainsim._validation import _concrete, as_param, check_finite, check_positive
from brainsim.rate._base import RatePopulation, rate_input


class JansenRitState(NamedTuple):
    """State of Jansen-Rit columns (potentials in mV, their derivatives in mV/ms).

    Attributes:
        y0, y1, y2: postsynaptic potentials of the pyramidal cells (from the interneurons'
            excitation), of the excitatory and of the inhibitory interneuron input to the
            pyramidal cells (mV), shape `(n,)`.
        y3, y4, y5: their time derivatives (mV/ms).
        output: the pyramidal firing rate `S(y1 - y2)` (Hz), what a column sends.
        history: the last `history` outputs (None without history).
        head: the number of steps taken.
        key: the random key for the input `p` (None when `p_low == p_high`).
    """

    y0: Float[Array, " n"]
    y1: Float[Array, " n"]
    y2: Float[Array, " n"]
    y3: Float[Array, " n"]
    y4: Float[Array, " n"]
    y5: Float[Array, " n"]
    output: Float[Array, " n"]
    history: Float[Array, "d n"] | None
    head: Int[Array, ""]
    key: PRNGKeyArray | None


class JansenRit(RatePopulation):
    """Jansen-Rit columns: pyramidal cells with excitatory and inhibitory interneurons.

    With the sigmoid `S(v) = 2 e0 / (1 + e^{r (v0 - v)})` (Hz) and `C1 = C`, `C2 = 0.8 C`,
    `C3 = C4 = 0.25 C`:

        dy0/dt = y3,   dy3/dt = A a S(y1 - y2) - 2 a y3 - a² y0
        dy1/dt = y4,   dy4/dt = A a (p + h + C2 S(C1 y0)) - 2 a y4 - a² y1
        dy2/dt = y5,   dy5/dt = B b C4 S(C3 y0) - 2 b y5 - b² y2

    The EEG is `y1 - y2` (mV), the step's output; a column sends its pyramidal rate
    `S(y1 - y2)` (Hz) to `RateCoupling`s, and its input `h` (Hz) adds to `p`. The external rate
    `p` is drawn each step uniformly from `[p_low, p_high]` (Hz; Jansen & Rit used 120-320 Hz)
    and held over the step, which is integrated with RK4. Rates and inverse times are given in
    Hz (1/s) as in the paper and converted to 1/ms inside. The defaults are the paper's, and
    give an alpha rhythm near 10 Hz.

    Attributes:
        A, B: maximum excitatory / inhibitory postsynaptic potentials (mV, > 0).
        a, b: inverse time constants of the excitatory / inhibitory synapses (Hz, > 0).
        C: connectivity constant (> 0).
        e0: half the maximum firing rate (Hz, > 0).
        v0: potential at half the maximum rate (mV).
        r: slope of the sigmoid (1/mV, > 0).
        p_low, p_high: range of the external input rate (Hz, 0 <= p_low <= p_high); needs a
            key in `init` when `p_low < p_high`.

    Examples:
        >>> import jax, brainsim as bs
        >>> jr = bs.rate.JansenRit()
        >>> state, eeg = jr.step(jr.init(4, key=jax.random.key(0)), None, t=0.0, dt=0.1)

    Reference:
        Jansen BH, Rit VG (1995). Electroencephalogram and visual evoked potential generation
        in a mathematical model of coupled cortical columns. Biol. Cybern. 73:357-366.
    """

    A: Float[Array, "*n"] = eqx.field(default=3.25, converter=as_param)
    B: Float[Array, "*n"] = eqx.field(default=22.0, converter=as_param)
    a: Float[Array, "*n"] = eqx.field(default=100.0, converter=as_param)
    b: Float[Array, "*n"] = eqx.field(default=50.0, converter=as_param)
    C: Float[Array, "*n"] = eqx.field(default=135.0, converter=as_param)
    e0: Float[Array, "*n"] = eqx.field(default=2.5, converter=as_param)
    v0: Float[Array, "*n"] = eqx.field(default=6.0, converter=as_param)
    r: Float[Array, "*n"] = eqx.field(default=0.56, converter=as_param)
    p_low: Float[Array, "*n"] = eqx.field(default=120.0, converter=as_param)
    p_high: Float[Array, "*n"] = eqx.field(default=320.0, converter=as_param)

    def __check_init__(self):
        for name in ("A", "B", "a", "b", "C", "e0", "r"):
            check_positive(name, getattr(self, name))
        check_finite("v0", self.v0)
        check_positive("p_low", self.p_low, allow_zero=True)
        check_positive("p_high", self.p_high, allow_zero=True)
        low, high = _concrete(self.p_low), _concrete(self.p_high)
        if low is not None and high is not None and np.any(low > high):
            raise ValueError(f"`p_low` ({low} Hz) must be at most `p_high` ({high} Hz).")
        self._check_history()

    @property
    def random(self) -> bool:
        """Whether `p` is drawn at random (`p_low < p_high`, when known)."""
        low, high = _concrete(self.p_low), _concrete(self.p_high)
        return low is None or high is None or bool(np.any(low != high))

    def sigmoid(self, v: Float[Array, "*n"]) -> Float[Array, "*n"]:
        """The firing rate `S(v)` (Hz) at mean membrane potential `v` (mV)."""
        return 2.0 * self.e0 / (1.0 + jnp.exp(self.r * (self.v0 - v)))

    def init(self, n: int, key: PRNGKeyArray | None = None) -> JansenRitState:
        """`n` columns at rest (all potentials 0); `key` is needed when `p_low < p_high`."""
        self._check_shapes(n)
        if key is None and self.random:
            raise ValueError(
                "JansenRit.init needs `key` when `p_low` < `p_high` (random input), e.g. "
                "key=jax.random.key(0)."
            )
        zeros = jnp.zeros((n,), jnp.result_type(float))
        history, head = self._init_history(zeros)
        output = self.sigmoid(zeros)
        return JansenRitState(*([zeros] * 6), output, history, head, key)

    def derivatives(self, y, p):
        """Time derivatives (per ms) of `(y0, ..., y5)` at external rate `p` (Hz)."""
        y0, y1, y2, y3, y4, y5 = y
        a, b = self.a * 1e-3, self.b * 1e-3
        C1, C2, C3, C4 = self.C, 0.8 * self.C, 0.25 * self.C, 0.25 * self.C

        def s(v):  # the sigmoid in 1/ms
            return self.sigmoid(v) * 1e-3

        return (
            y3,
            y4,
            y5,
            self.A * a * s(y1 - y2) - 2.0 * a * y3 - a**2 * y0,
            self.A * a * (p * 1e-3 + C2 * s(C1 * y0)) - 2.0 * a * y4 - a**2 * y1,
            self.B * b * C4 * s(C3 * y0) - 2.0 * b * y5 - b**2 * y2,
        )

    def step(self, state: JansenRitState, inputs=None, *, t, dt):
        """Advance by `dt` ms; returns the new state and the EEG `y1 - y2` (mV)."""
        n = state.y0.shape[0]
        h = rate_input(inputs, n, state.y0.dtype)
        key = state.key
        if key is None:
            p = jnp.broadcast_to(self.p_low, (n,))
        else:
            key, draw = jax.random.split(key)
            u = jax.random.uniform(draw, (n,), state.y0.dtype)
            p = self.p_low + (self.p_high - self.p_low) * u
        y = integrators.rk4(lambda _, y: self.derivatives(y, p + h), tuple(state[:6]), t, dt)
        output = self.sigmoid(y[1] - y[2])
        history, head = self._push_history(state.history, state.head, state.output)
        return JansenRitState(*y, output, history, head, key), y[1] - y[2]
