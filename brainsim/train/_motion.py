"""Motion detection with heterogeneous delays: logistic regression over delay taps of a local
receptive field, and moving dots as event streams (Grimaldi & Perrinet 2023)."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

DIRECTIONS = ((0, 1), (-1, 0), (0, -1), (1, 0))  # (dy, dx) of right, up, left, down


def moving_dots(
    key: PRNGKeyArray,
    n_samples: int,
    *,
    size: int = 16,
    n_steps: int = 16,
    n_dots: int = 3,
    speed: int = 1,
    p_event: float = 0.9,
    noise_prob: float = 0.01,
) -> tuple[Float[Array, "n_samples n_steps 1 size size"], Int[Array, " n_samples"]]:
    """Event streams of dots moving on a periodic `size × size` retina, one direction per sample.

    Each sample has `n_dots` dots at random positions moving together in one of four
    directions (label 0: right, 1: up, 2: left, 3: down) at `speed` pixels per step, wrapping
    around the edges. In each step the pixel under a dot emits an event with probability
    `p_event`, and every pixel emits a background event with probability `noise_prob`. One
    event polarity, so one channel.

    Args:
        key: key for labels, positions and events.
        n_samples: number of samples.
        size: retina width and height (pixels).
        n_steps: steps per sample.
        n_dots: dots per sample.
        speed: pixels per step (int >= 1).
        p_event: probability that a dot's pixel emits an event in a step.
        noise_prob: background event probability per pixel and step.

    Returns:
        `(events, labels)`: 0/1 events `(n_samples, n_steps, 1, size, size)` and directions
        `(n_samples,)`, balanced (`k mod 4`).

    Examples:
        >>> import jax
        >>> from brainsim.train import moving_dots
        >>> events, labels = moving_dots(jax.random.key(0), 4, size=8, n_steps=5, noise_prob=0.0)
        >>> events.shape, [int(v) for v in labels]
        ((4, 5, 1, 8, 8), [0, 1, 2, 3])

    Reference: Grimaldi & Perrinet (2023), *Learning heterogeneous delays in a layer of spiking
    neurons for fast motion detection*, Biological Cybernetics 117.
    """
    for name, value in (("n_samples", n_samples), ("size", size), ("n_steps", n_steps),
                        ("n_dots", n_dots), ("speed", speed)):  # fmt: skip
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    for name, p in (("p_event", p_event), ("noise_prob", noise_prob)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"`{name}` must be a probability in [0, 1], got {p!r}.")
    k_pos, k_event, k_noise = jax.random.split(key, 3)
    labels = jnp.arange(n_samples) % 4
    velocity = speed * jnp.asarray(DIRECTIONS)[labels]  # (n_samples, 2)
    start = jax.random.randint(k_pos, (n_samples, n_dots, 2), 0, size)
    t = jnp.arange(n_steps)[None, :, None, None]
    position = (start[:, None] + t * velocity[:, None, None]) % size  # (n, T, dots, 2)
    flat = position[..., 0] * size + position[..., 1]
    emitted = jax.random.bernoulli(k_event, p_event, flat.shape)
    dots = (
        jnp.zeros((n_samples, n_steps, size * size))
        .at[jnp.arange(n_samples)[:, None, None], jnp.arange(n_steps)[None, :, None], flat]
        .max(emitted.astype(float))
    )
    noise = jax.random.bernoulli(k_noise, noise_prob, dots.shape)
    events = jnp.maximum(dots, noise).reshape(n_samples, n_steps, 1, size, size)
    return events.astype(jnp.result_type(float)), labels


class DelayTapLogistic(eqx.Module):
    """Logistic regression over the delay taps of a local receptive field (an HD-SNN layer).

    For each output `k` (e.g. a motion direction) and each position `(y, x)` of the input grid,

        p_k(t, y, x) = sigmoid(Σ_{c, τ, δy, δx} K[k, c, τ, δy, δx] s_c(t - τ, y + δy, x + δx)
                               + b_k),

    over input channels `c` (event polarities), delay taps `τ = 0 … D - 1` (steps) and offsets
    `|δy|, |δx| <= radius` (periodic edges): a spatio-temporal convolution, causal in time,
    whose weights are synapses with heterogeneous delays. Trained with a binary cross-entropy,
    it is the logistic-regression model of Grimaldi & Perrinet (2023); `D = 1` has no delays and
    cannot tell motion directions apart.

    Args:
        n_out: number of outputs (detectors).
        n_channels: number of input channels.
        n_taps: number of delay taps `D`.
        radius: half-width of the receptive field (pixels, >= 0).
        key: key for the initial kernel, `K ~ N(0, 1 / (n_channels D (2 radius + 1)²))`.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.train import DelayTapLogistic
        >>> layer = DelayTapLogistic(4, 1, n_taps=3, radius=1, key=jax.random.key(0))
        >>> layer(jnp.zeros((10, 1, 8, 8))).shape        # (T, n_out, H, W)
        (10, 4, 8, 8)

    Reference: Grimaldi & Perrinet (2023), *Learning heterogeneous delays in a layer of spiking
    neurons for fast motion detection*, Biological Cybernetics 117.
    """

    kernel: Float[Array, "n_out n_channels n_taps k k"]
    bias: Float[Array, " n_out"]
    n_channels: int = eqx.field(static=True)
    n_taps: int = eqx.field(static=True)
    radius: int = eqx.field(static=True)

    def __init__(self, n_out: int, n_channels: int, *, n_taps: int, radius: int, key: PRNGKeyArray):
        for name, value in (("n_out", n_out), ("n_channels", n_channels), ("n_taps", n_taps)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
        if not isinstance(radius, int) or isinstance(radius, bool) or radius < 0:
            raise ValueError(f"`radius` must be an int >= 0, got {radius!r}.")
        width = 2 * radius + 1
        shape = (n_out, n_channels, n_taps, width, width)
        std = 1.0 / math.sqrt(n_channels * n_taps * width * width)
        self.kernel = std * jax.random.normal(key, shape, jnp.result_type(float))
        self.bias = jnp.zeros((n_out,), jnp.result_type(float))
        self.n_channels, self.n_taps, self.radius = n_channels, n_taps, radius

    def logits(self, events: Float[Array, "T n_channels H W"]) -> Float[Array, "T n_out H W"]:
        """The argument of the sigmoid for every step and position (one causal convolution).

        The delay taps are folded into the input channels (the frames `t, t-1, …, t-D+1`
        stacked), so the sum is one 2-D convolution over the periodic grid, which XLA's CPU
        backend runs several times faster than the equivalent 3-D one."""
        if jnp.ndim(events) != 4 or jnp.shape(events)[1] != self.n_channels:
            raise ValueError(
                f"`events` must have shape (T, {self.n_channels}, H, W) (n_channels = "
                f"{self.n_channels}), got {jnp.shape(events)}; batch with jax.vmap."
            )
        r, n_taps = self.radius, self.n_taps
        steps, n_channels, height, width = jnp.shape(events)
        x = jnp.asarray(events, self.kernel.dtype)
        x = jnp.pad(x, ((0, 0), (0, 0), (r, r), (r, r)), mode="wrap")  # periodic edges
        x = jnp.pad(x, ((n_taps - 1, 0), (0, 0), (0, 0), (0, 0)))  # nothing before step 0
        # frames[t, tau] = s(t - tau): (T, D, C, H + 2r, W + 2r) -> (T, D C, H + 2r, W + 2r)
        last = n_taps - 1
        frames = jnp.stack([x[last - tau : last - tau + steps] for tau in range(n_taps)], axis=1)
        frames = frames.reshape(steps, n_taps * n_channels, height + 2 * r, width + 2 * r)
        kernel = jnp.swapaxes(self.kernel, 1, 2)  # (n_out, D, C, k, k) as the frames' channels
        kernel = kernel.reshape(-1, n_taps * n_channels, 2 * r + 1, 2 * r + 1)
        out = jax.lax.conv_general_dilated(
            frames, kernel, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        return out + self.bias[:, None, None]

    def __call__(self, events: Float[Array, "T n_channels H W"]) -> Float[Array, "T n_out H W"]:
        """Detection probabilities `p_k(t, y, x)`."""
        return jax.nn.sigmoid(self.logits(events))
