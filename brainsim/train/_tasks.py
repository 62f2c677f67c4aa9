"""Synthetic spike-train tasks generated from a key: relative timing, and several timescales."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray


def _check_positive_ints(**values):
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}.")


def _check_probability(name, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"`{name}` must be a probability in [0, 1], got {p!r}.")


def relative_timing_task(
    key: PRNGKeyArray,
    n_samples: int,
    *,
    task_key: PRNGKeyArray,
    n_classes: int = 4,
    n_channels: int = 8,
    n_steps: int = 40,
    max_offset: int = 10,
    jitter: int = 0,
    noise_prob: float = 0.0,
) -> tuple[Float[Array, "n_samples n_steps n_channels"], Int[Array, " n_samples"]]:
    """Spike patterns whose classes differ only in the relative timing across channels.

    Class `c` has a template of offsets `o_c[i]` (steps), one per channel: a permutation, drawn
    from `task_key`, of the offsets `round(k · max_offset / (n_channels - 1))`,
    `k = 0 … n_channels - 1`. Every class thus uses the same set of offsets, and no two channels
    of a template spike together (when `max_offset >= n_channels - 1`). A sample of class `c`
    starts at a random onset `t0` and channel `i` spikes once, at step `t0 + o_c[i] + ε_i`
    (`ε_i` uniform in `[-jitter, jitter]`), plus independent background spikes with probability
    `noise_prob` per step and channel. Every class has one spike per channel, at random
    absolute times: only the relative timing tells the classes apart, which delays can align
    into a coincidence.

    Args:
        key: key for the samples (labels, onsets, jitter, noise).
        n_samples: number of samples.
        task_key: key for the class templates (the same key gives the same task).
        n_classes: number of classes.
        n_channels: number of input channels.
        n_steps: steps per sample, `> max_offset + 2 jitter`.
        max_offset: largest template offset (steps).
        jitter: largest timing jitter (steps, >= 0).
        noise_prob: background spike probability per step and channel.

    Returns:
        `(inputs, labels)`: spikes `(n_samples, n_steps, n_channels)` (0/1 floats) and integer
        labels `(n_samples,)`, balanced (sample `k` has label `k mod n_classes`).

    Examples:
        >>> import jax
        >>> from brainsim.train import relative_timing_task
        >>> x, y = relative_timing_task(jax.random.key(1), 8, task_key=jax.random.key(0))
        >>> x.shape, [int(v) for v in x.sum((1, 2))[:2]]   # 8 channels, one spike each
        ((8, 40, 8), [8, 8])
    """
    _check_positive_ints(
        n_samples=n_samples, n_classes=n_classes, n_channels=n_channels, n_steps=n_steps,
        max_offset=max_offset,
    )  # fmt: skip
    if not isinstance(jitter, int) or jitter < 0:
        raise ValueError(f"`jitter` must be an int >= 0, got {jitter!r}.")
    if n_steps <= max_offset + 2 * jitter:
        raise ValueError(
            f"`n_steps` ({n_steps}) must exceed max_offset + 2 jitter ({max_offset + 2 * jitter})."
        )
    _check_probability("noise_prob", noise_prob)
    offsets = jnp.round(jnp.arange(n_channels) * max_offset / max(n_channels - 1, 1))
    keys = jax.random.split(task_key, n_classes)
    templates = jnp.stack([jax.random.permutation(k, offsets) for k in keys]).astype(jnp.int32)
    k_onset, k_jitter, k_noise = jax.random.split(key, 3)
    labels = jnp.arange(n_samples) % n_classes
    onset = jax.random.randint(k_onset, (n_samples, 1), 0, n_steps - max_offset - 2 * jitter)
    shift = jax.random.randint(k_jitter, (n_samples, n_channels), -jitter, jitter + 1)
    times = onset + jitter + templates[labels] + shift
    pattern = jax.nn.one_hot(times, n_steps, axis=1)  # (n_samples, n_steps, n_channels)
    noise = jax.random.bernoulli(k_noise, noise_prob, pattern.shape)
    return jnp.maximum(pattern, noise).astype(jnp.result_type(float)), labels


def two_timescale_task(
    key: PRNGKeyArray,
    n_samples: int,
    *,
    n_channels: int = 8,
    n_steps: int = 60,
    cue_steps: int = 30,
    burst_steps: int = 5,
    rate_high: float = 0.3,
    rate_low: float = 0.1,
    burst_prob: float = 0.6,
) -> tuple[Float[Array, "n_samples n_steps channels"], Int[Array, " n_samples"]]:
    """A task that needs a slow and a fast memory: a rate cue early, a brief burst at the end.

    The inputs have four groups of `n_channels` channels. During the first `cue_steps` steps,
    group A1 spikes with probability `rate_high` per step and A2 with `rate_low`, or the
    reverse (the slow bit `a`); then silence. In the last `burst_steps` steps, group B1 or
    group B2 spikes with probability `burst_prob` (the fast bit `b`). The label is `2 a + b`:
    the answer at the end needs the burst of the last few steps and the cue of many steps
    before, so a network must hold information over both timescales.

    Args:
        key: key for labels and spikes.
        n_samples: number of samples.
        n_channels: channels per group (4 groups).
        n_steps: steps per sample, `>= cue_steps + burst_steps`.
        cue_steps: length of the rate cue (steps).
        burst_steps: length of the final burst (steps).
        rate_high: spike probability per step of the cue group that is on.
        rate_low: spike probability per step of the other cue group.
        burst_prob: spike probability per step of the burst group.

    Returns:
        `(inputs, labels)`: spikes `(n_samples, n_steps, 4 n_channels)` and labels in
        `{0, 1, 2, 3}`, balanced (`k mod 4`).

    Examples:
        >>> import jax
        >>> from brainsim.train import two_timescale_task
        >>> x, y = two_timescale_task(jax.random.key(0), 8)
        >>> x.shape, [int(v) for v in y[:4]]
        ((8, 60, 32), [0, 1, 2, 3])
    """
    _check_positive_ints(
        n_samples=n_samples, n_channels=n_channels, n_steps=n_steps, cue_steps=cue_steps,
        burst_steps=burst_steps,
    )  # fmt: skip
    if n_steps < cue_steps + burst_steps:
        raise ValueError(
            f"`n_steps` ({n_steps}) must be >= cue_steps + burst_steps ({cue_steps + burst_steps})."
        )
    for name, p in (("rate_high", rate_high), ("rate_low", rate_low), ("burst_prob", burst_prob)):
        _check_probability(name, p)
    labels = jnp.arange(n_samples) % 4
    slow, fast = labels // 2, labels % 2
    t = jnp.arange(n_steps)[None, :, None]
    group = jnp.arange(4 * n_channels)[None, None, :] // n_channels  # 0: A1, 1: A2, 2: B1, 3: B2
    cue = jnp.where(group == slow[:, None, None], rate_high, rate_low)
    p = jnp.where((t < cue_steps) & (group < 2), cue, 0.0)
    burst = (t >= n_steps - burst_steps) & (group == 2 + fast[:, None, None])
    p = jnp.where(burst, burst_prob, p)
    spikes = jax.random.bernoulli(key, p, (n_samples, n_steps, 4 * n_channels))
    return spikes.astype(jnp.result_type(float)), labels
