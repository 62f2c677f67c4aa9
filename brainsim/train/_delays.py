"""Learnable per-synapse delays: dilated convolution with learnable spacings (DCLS).

Each synapse `i -> j` has a weight `w_ij` and a continuous delay `d_ij` (steps). Its temporal
kernel over the taps `τ = 0 … D-1` is a Gaussian bump centred on the delay, normalised over the
taps, `k_ij(τ) = w_ij g(τ - d_ij) / Σ_τ' g(τ' - d_ij)`, `g(u) = exp(-u² / 2σ²)`, so the delay
receives a gradient through the neighbouring taps. σ shrinks during training
(`sigma_schedule`); at the end the delays are rounded and each kernel is one tap, which the
event-driven per-synapse delay path of `brainsim.Network` runs exactly.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

import brainsim_ops as bo
from brainsim._run import run
from brainsim.network import Network, Projection
from brainsim.synapses import Current, Exponential
from brainsim.train._parameters import unwrap


class DCLSState(NamedTuple):
    """State of a `DCLSDense` layer.

    Attributes:
        history: the inputs of the last `D - 1` steps, most recent first, `(D - 1, n_in)`.
        synapse: state of the synaptic kinetics (`None` for instantaneous synapses).
        neuron: state of the `n_out` neurons.
    """

    history: Float[Array, "taps_minus_one n_in"]
    synapse: Any
    neuron: Any


def tap_weights(
    delay: Float[Array, "*syn"], sigma: Float[Array, ""] | float, n_taps: int
) -> Float[Array, " taps *syn"]:
    """Normalised Gaussian spread of each delay over the taps `τ = 0 … n_taps - 1`.

    `a(τ) = g(τ - d) / Σ_τ' g(τ' - d)`, `g(u) = exp(-u² / 2σ²)`, computed as a softmax over the
    taps so that it stays finite for any σ > 0. `σ = 0` selects the single tap `round(d)`
    (exactly one-hot, no gradient). σ carries no gradient (it is a schedule, not a parameter).

    Args:
        delay: delays (steps), any shape.
        sigma: Gaussian width (steps, >= 0).
        n_taps: number of taps `D`.

    Returns:
        Tap weights of shape `(n_taps, *delay.shape)`, summing to 1 over the first axis.

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.train import tap_weights
        >>> tap_weights(jnp.array(2.0), 0.0, 4)
        Array([0., 0., 1., 0.], dtype=float32)
    """
    delay = jnp.asarray(delay)
    sigma = jax.lax.stop_gradient(jnp.asarray(sigma, delay.dtype))
    taps = jnp.arange(n_taps, dtype=delay.dtype).reshape((n_taps,) + (1,) * delay.ndim)
    width = jnp.where(sigma > 0, sigma, 1.0)
    smooth = jax.nn.softmax(-0.5 * jnp.square((taps - delay) / width), axis=0)
    hard = (taps == jnp.round(delay)).astype(delay.dtype)
    return jnp.where(sigma > 0, smooth, hard)


def sigma_schedule(
    step: int | Float[Array, ""], total_steps: int, sigma_start: float, sigma_end: float = 0.5
) -> Float[Array, ""]:
    """Width of the DCLS Gaussian at training step `step`: a cosine decay from `sigma_start`
    to `sigma_end` over `total_steps`, constant afterwards.

    `σ(s) = σ_end + (σ_start - σ_end) (1 + cos(π min(s, S) / S)) / 2`.

    Args:
        step: current optimisation step (from 0).
        total_steps: number of steps `S` of the decay (> 0).
        sigma_start: initial width (steps), typically `D / 2`.
        sigma_end: final width (steps), typically 0.5.

    Examples:
        >>> from brainsim.train import sigma_schedule
        >>> [round(float(sigma_schedule(s, 10, 8.0)), 3) for s in (0, 5, 10, 20)]
        [8.0, 4.25, 0.5, 0.5]

    Reference: Hammouamri, Khalfaoui-Hassani & Masquelier (2023), *Learning delays in spiking
    neural networks using dilated convolutions with learnable spacings*, ICLR 2024
    (σ decays to a final value during training).
    """
    if not isinstance(total_steps, int) or total_steps <= 0:
        raise ValueError(f"`total_steps` must be a positive int, got {total_steps!r}.")
    if sigma_start < 0 or sigma_end < 0:
        raise ValueError(
            f"`sigma_start` and `sigma_end` must be >= 0, got {sigma_start}, {sigma_end}."
        )
    progress = jnp.minimum(jnp.asarray(step, jnp.result_type(float)), total_steps) / total_steps
    return sigma_end + (sigma_start - sigma_end) * 0.5 * (1.0 + jnp.cos(jnp.pi * progress))


class DCLSDense(eqx.Module):
    """All-to-all synapses with learnable weights and learnable per-synapse delays (DCLS).

    The input `x(t)` (spikes, shape `(n_in,)`) reaches the neurons through a kernel over
    `D = n_taps` delay taps,

        k_ij(τ) = w_ij g(τ - d_ij) / Σ_τ' g(τ' - d_ij),   g(u) = exp(-u² / 2σ²),
        I_j(n) = Σ_i Σ_{τ=0}^{D-1} k_ij(τ) x_i(n - τ),

    applied causally: the state keeps the last `D - 1` inputs. `I(n)` (pA) drives the neurons in
    step `n` directly (`kinetics=None`), or is added to synaptic kinetics (e.g.
    `Exponential(tau)`) whose value is the current. `d = 0` is no delay, as in `SpikingDense`.

    σ (steps) is a field without gradient: lower it during training with `with_sigma` and
    `sigma_schedule` (from about `D / 2` to 0.5), keep delays in range with `clamp_delays`, and
    finish with `round_delays`: integer delays, `σ = 0`, a single tap per synapse.
    `to_network` then builds the event-driven `brainsim.Network` with the same outputs.

    Args:
        n_in: number of inputs.
        n_out: number of neurons.
        neuron: the neuron model (`LIF`, `LeakyReadout`, ...); parameters may be `Positive`.
        n_taps: number of delay taps `D` (delays range over `[0, D - 1]` steps).
        key: key for the initial weights `W ~ N(0, weight_scale² / n_in)` and delays
            `d ~ U(0, D - 1)`.
        weight_scale: input current (pA) when all inputs spike with unit-variance weights.
        sigma: initial Gaussian width (steps, >= 0); default `D / 2`.
        kinetics: synaptic kinetics the delayed input is added to (`None`: instantaneous).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> import brainsim as bs
        >>> layer = bs.train.DCLSDense(3, 2, bs.neurons.LIF(), n_taps=5, key=jax.random.key(0))
        >>> layer.kernel().shape                      # (taps, n_in, n_out)
        (5, 3, 2)
        >>> state, spikes = layer.step(layer.init(), jnp.ones(3), t=0.0, dt=1.0)
        >>> hard = layer.round_delays()               # integer delays, one tap per synapse
        >>> bool(jnp.all(jnp.sum(hard.kernel() != 0, axis=0) <= 1))
        True

    Reference: Hammouamri, Khalfaoui-Hassani & Masquelier (2023), *Learning delays in spiking
    neural networks using dilated convolutions with learnable spacings*, ICLR 2024.
    """

    weight: Float[Array, "n_in n_out"]
    delay: Float[Array, "n_in n_out"]
    sigma: Float[Array, ""]
    neuron: eqx.Module
    kinetics: Any
    n_in: int = eqx.field(static=True)
    n_out: int = eqx.field(static=True)
    n_taps: int = eqx.field(static=True)

    def __init__(
        self,
        n_in: int,
        n_out: int,
        neuron: eqx.Module,
        *,
        n_taps: int,
        key: PRNGKeyArray,
        weight_scale: float = 1000.0,
        sigma: float | None = None,
        kinetics: Any = None,
    ):
        for name, value in (("n_in", n_in), ("n_out", n_out), ("n_taps", n_taps)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
        if not (hasattr(neuron, "init") and hasattr(neuron, "step")):
            raise TypeError(
                f"`neuron` must have `init(n, key)` and `step(state, inputs, *, t, dt)`, "
                f"got {type(neuron).__name__}."
            )
        if kinetics is not None and not all(
            hasattr(kinetics, a) for a in ("init", "step", "value")
        ):
            raise TypeError(
                "`kinetics` must be None or synaptic kinetics with `init`, `step` and `value` "
                f"(e.g. brainsim.synapses.Exponential), got {type(kinetics).__name__}."
            )
        sigma = n_taps / 2 if sigma is None else sigma
        if not np.isfinite(sigma) or sigma < 0:
            raise ValueError(f"`sigma` (steps) must be finite and >= 0, got {sigma!r}.")
        self.n_in, self.n_out, self.n_taps = n_in, n_out, n_taps
        self.neuron, self.kinetics = neuron, kinetics
        dtype = jnp.result_type(float)
        k_w, k_d = jax.random.split(key)
        self.weight = weight_scale / math.sqrt(n_in) * jax.random.normal(k_w, (n_in, n_out), dtype)
        self.delay = jax.random.uniform(k_d, (n_in, n_out), dtype, 0.0, n_taps - 1)
        self.sigma = jnp.asarray(sigma, dtype)

    def kernel(self) -> Float[Array, "n_taps n_in n_out"]:
        """The kernel `k_ij(τ)` (pA per input spike), shape `(n_taps, n_in, n_out)`."""
        return unwrap(self.weight) * tap_weights(self.delay, self.sigma, self.n_taps)

    def with_sigma(self, sigma: float | Float[Array, ""]) -> DCLSDense:
        """A copy with Gaussian width `sigma` (steps), e.g. from `sigma_schedule`."""
        return eqx.tree_at(lambda m: m.sigma, self, jnp.asarray(sigma, self.sigma.dtype))

    def clamp_delays(self) -> DCLSDense:
        """A copy with the delays clipped to `[0, n_taps - 1]` (apply after each update)."""
        return eqx.tree_at(lambda m: m.delay, self, jnp.clip(self.delay, 0, self.n_taps - 1))

    def round_delays(self) -> DCLSDense:
        """A copy with integer delays `round(clip(d, 0, D - 1))` and `σ = 0`: every synapse's
        kernel is the single tap `w_ij` at its delay."""
        rounded = jnp.round(jnp.clip(self.delay, 0, self.n_taps - 1))
        return eqx.tree_at(lambda m: m.delay, self, rounded).with_sigma(0.0)

    def init(self, key: PRNGKeyArray | None = None) -> DCLSState:
        """Empty input history, zero synaptic state, and the neurons' `init(n_out, key)`."""
        dtype = self.weight.dtype
        return DCLSState(
            history=jnp.zeros((self.n_taps - 1, self.n_in), dtype),
            synapse=None if self.kinetics is None else self.kinetics.init(self.n_out),
            neuron=unwrap(self.neuron).init(self.n_out, key),
        )

    def _check_inputs(self, inputs, leading: str):
        shape = jnp.shape(inputs)
        if len(shape) != len(leading.split()) + 1 or shape[-1] != self.n_in:
            raise ValueError(
                f"`inputs` must have shape ({leading}{', ' if leading else ''}{self.n_in}) "
                f"(n_in = {self.n_in}), got {shape}; batch with jax.vmap."
            )

    def _post(self, synapse, current, *, t, dt, neuron_state):
        if self.kinetics is not None:
            synapse = self.kinetics.step(synapse, current, dt=dt)
            current = self.kinetics.value(synapse)
        neuron_state, outputs = unwrap(self.neuron).step(neuron_state, current, t=t, dt=dt)
        return synapse, neuron_state, outputs

    def step(self, state: DCLSState, inputs: Float[Array, " n_in"], *, t, dt):
        """One step of `dt` ms: push `inputs` into the history, form `I(n)` (pA), advance the
        kinetics and the neurons; returns `(state, neuron outputs)`."""
        self._check_inputs(inputs, "")
        window = jnp.concatenate([jnp.asarray(inputs, state.history.dtype)[None], state.history])
        current = jnp.einsum("ti,tij->j", window, self.kernel())
        synapse, neuron_state, outputs = self._post(
            state.synapse, current, t=t, dt=dt, neuron_state=state.neuron
        )
        return DCLSState(window[:-1], synapse, neuron_state), outputs

    def currents(self, input_series: Float[Array, "T n_in"]) -> Float[Array, "T n_out"]:
        """`I(n)` for a whole input sequence at once (one causal convolution, zero history),
        the same currents `step` forms one step at a time."""
        self._check_inputs(input_series, "T")
        x = jnp.asarray(input_series, self.weight.dtype)[None]
        flipped = self.kernel()[::-1]  # conv is a correlation: tap D-1-w meets x(n - D + 1 + w)
        return jax.lax.conv_general_dilated(
            x, flipped, (1,), [(self.n_taps - 1, 0)], dimension_numbers=("NWC", "WIO", "NWC")
        )[0]

    def run(
        self,
        input_series: Float[Array, "T n_in"],
        *,
        dt: float,
        key: PRNGKeyArray | None = None,
        checkpoint_every: int | None = None,
    ) -> Float[Array, "T n_out"]:
        """Outputs over time for an input series (one row per step of `dt` ms), from the empty
        state: the currents come from `currents` (the kernel is formed once), the neurons run
        in `brainsim.run`'s on-device scan. Batches: `jax.vmap`."""
        state = self.init(key)
        series = self.currents(input_series)

        def post(carry, current, *, t, dt):
            synapse, neuron_state = carry
            synapse, neuron_state, outputs = self._post(
                synapse, current, t=t, dt=dt, neuron_state=neuron_state
            )
            return (synapse, neuron_state), outputs

        result = run(
            post,
            (state.synapse, state.neuron),
            dt=dt,
            steps=series.shape[0],
            input_series=series,
            record={"out": lambda state, outputs: outputs},
            stream=False,
            checkpoint_every=checkpoint_every,
        )
        return result.traces["out"]

    def to_projection(self, pre: str, post: str, *, dt: float, name: str | None = None):
        """The event-driven `brainsim.Projection` of the rounded layer: an all-to-all CSR
        (synapse `i·n_out + j`) with weights `w_ij` (pA), integer per-synapse delays
        `round(clip(d_ij))` and a current output.

        The network delivers a spike of step `n` to the postsynaptic drive of step `n + d + 1`
        (synaptic variables act from the step after their arrival), the layer in step `n + d`:
        the network's outputs are the layer's one step later. Instantaneous synapses
        (`kinetics=None`) become `Exponential(tau = dt / 1000)`, whose decay over a step,
        `exp(-1000)`, is exactly 0 in float32 and float64.

        Args:
            pre: name of the presynaptic population in the network.
            post: name of the postsynaptic population in the network.
            dt: time step (ms) the network will run with.
            name: projection name (default `"pre->post"`).
        """
        if not dt > 0:
            raise ValueError(f"`dt` (ms) must be > 0, got {dt!r}.")
        hard = self.round_delays()
        pre_index, post_index = np.divmod(np.arange(self.n_in * self.n_out), self.n_out)
        conn = bo.from_edges(
            pre_index, post_index, unwrap(hard.weight).reshape(-1),
            n_pre=self.n_in, n_post=self.n_out,
        )  # fmt: skip
        kinetics = Exponential(tau=dt * 1e-3) if self.kinetics is None else self.kinetics
        return Projection(
            pre, post, conn, kinetics, Current(),
            delay_steps=np.asarray(hard.delay).astype(np.int64).reshape(-1),
            delay_per="synapse", name=name,
        )  # fmt: skip

    def to_network(
        self, source: eqx.Module, *, dt: float, pre: str = "input", post: str = "output"
    ) -> Network:
        """A `brainsim.Network` of the rounded layer: population `pre` (the spike `source`,
        e.g. `SpikeTimes`, `n_in` neurons) projects through `to_projection` onto population
        `post` (the layer's neurons); its `post` spikes are the layer's one step later.

        Args:
            source: spike source model of `n_in` neurons.
            dt: time step (ms) the network will run with.
            pre: name of the source population.
            post: name of the layer's population.
        """
        return Network(
            {pre: (source, self.n_in), post: (unwrap(self.neuron), self.n_out)},
            [self.to_projection(pre, post, dt=dt)],
        )
