"""The neuron-astrocyte liquid state machine (NALSM) of Ivanov & Michmizos (2021).

A liquid of current-based LIF neurons on a 3-D grid with distance-dependent recurrent synapses
and random input synapses (`build_liquid`), made plastic by astrocyte-modulated STDP
(`brainsim.plasticity.AstroSTDP`): one global astrocyte compares the liquid's activity with
the input's and sets how strongly STDP depresses, which organises the liquid near the edge of
chaos (branching factor near 1). The protocol (`NALSM`): an initialisation phase presents
training images one at a time to obtain the weights `W_INI`; then every image is presented
for 250 ms from `W_INI`, with plasticity annealed, and each liquid neuron's spike count is a
feature; a softmax regression (`fit_readout`) classifies the normalised counts. The static LSM
(one weight magnitude, no plasticity) and LSM+STDP (no astrocyte) ablations are the same
objects with other rules.

Everything runs on 1 ms Euler steps (`DT`), is pure, and works under `jax.jit` and `jax.vmap`;
randomness comes from explicit keys.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Bool, Float, Int

import brainsim_ops as bo
from brainsim._validation import as_param, check_at_most, check_positive
from brainsim.analysis import branching_factor
from brainsim.plasticity import AstroSTDP
from brainsim_ops import spatial

DT = 1.0
"""The NALSM's time step (ms): every equation is a 1 ms Euler step."""


class LiquidState(NamedTuple):
    """State of the liquid and input neurons (liquid first, then inputs).

    Attributes:
        v: membrane potential (dimensionless), shape `(n_total,)`.
        r: synaptic output of each neuron (1/ms), shape `(n_total,)`.
        refractory: steps left in which the neuron cannot spike (int32), `(n_total,)`.
    """

    v: Float[Array, " n_total"]
    r: Float[Array, " n_total"]
    refractory: Int[Array, " n_total"]


class Liquid(eqx.Module):
    """A NALSM liquid: current-based LIF neurons, the input neurons, and the synapses onto it.

    Neurons `0 .. n_liquid - 1` are the liquid (grid order), `n_liquid .. n_total - 1` the
    input neurons (one per pixel). Every step of `DT` = 1 ms, in this order:

        s = (v >= v_th) and refractory == 0         spikes
        v ← v (1 - s)                                reset to 0
        r ← 1 / tau_u where s                        synaptic output of a spike
        v ← v + W r + I_ext - v / tau_v              Euler step (W: `conn`, onto the liquid)
        r ← r exp(-DT / tau_u)                       decay
        refractory ← t_ref where s, else max(refractory - 1, 0)

    with `I_ext = input_current · Bernoulli(p)` for an input neuron whose pixel has intensity
    `p` and 0 for liquid neurons. Refractory neurons keep integrating.

    Attributes:
        conn: all synapses onto the liquid, `(n_total, n_total)` CSR (none onto inputs); its
            weights (one per synapse, dimensionless) are the initial weights and carry the
            signs: + from excitatory, - from inhibitory, ± from input neurons.
        inhibitory: bool, `(n_total,)`: the inhibitory liquid neurons.
        n_liquid: number of liquid neurons.
        tau_v: membrane time constant (ms, > 0).
        v_th: threshold (dimensionless, > 0).
        tau_u: synaptic time constant (ms, > 0).
        input_current: current into an input neuron at a Bernoulli event (dimensionless, >= 0).
        t_ref: refractory period (steps of 1 ms, int >= 0).

    Examples:
        >>> import jax
        >>> from brainsim import nalsm
        >>> liquid = nalsm.build_liquid(jax.random.key(0), 64, grid=(5, 5, 5))
        >>> liquid.n_liquid, liquid.n_input
        (125, 64)

    Reference: Ivanov & Michmizos (2021), NeurIPS 34 (arXiv:2111.01760).
    """

    conn: bo.CSR
    inhibitory: Bool[Array, " n_total"]
    tau_v: Float[Array, ""] = eqx.field(default=64.0, converter=as_param)
    v_th: Float[Array, ""] = eqx.field(default=20.0, converter=as_param)
    tau_u: Float[Array, ""] = eqx.field(default=1.0, converter=as_param)
    input_current: Float[Array, ""] = eqx.field(default=100.0, converter=as_param)
    n_liquid: int = eqx.field(default=0, static=True)
    t_ref: int = eqx.field(default=2, static=True)

    def __check_init__(self):
        if not isinstance(self.conn, bo.CSR) or self.conn.n_pre != self.conn.n_post:
            raise TypeError("`conn` must be a square brainsim_ops CSR over liquid and inputs.")
        if not 0 < self.n_liquid <= self.conn.n_pre:
            raise ValueError(f"`n_liquid` must be in [1, {self.conn.n_pre}], got "
                             f"{self.n_liquid}.")
        if jnp.shape(self.inhibitory) != (self.conn.n_pre,):
            raise ValueError(f"`inhibitory` must have shape ({self.conn.n_pre},), got "
                             f"{jnp.shape(self.inhibitory)}.")
        if self.conn.weights.shape != (self.conn.n_syn,):
            raise ValueError("`conn` must have one weight per synapse (per_synapse=True).")
        for name in ("tau_v", "v_th", "tau_u"):
            check_positive(name, getattr(self, name))
        check_positive("input_current", self.input_current, allow_zero=True)
        if isinstance(self.t_ref, bool) or not isinstance(self.t_ref, int) or self.t_ref < 0:
            raise ValueError(f"`t_ref` must be an int >= 0 (steps), got {self.t_ref!r}.")

    @property
    def n_total(self) -> int:
        """Liquid and input neurons."""
        return self.conn.n_pre

    @property
    def n_input(self) -> int:
        """Input neurons (one per pixel)."""
        return self.conn.n_pre - self.n_liquid

    @property
    def is_input(self) -> Bool[Array, " n_total"]:
        """True for the input neurons."""
        return jnp.arange(self.n_total) >= self.n_liquid

    @property
    def weights(self) -> Float[Array, " n_syn"]:
        """The initial weights, one per synapse of `conn`."""
        return self.conn.weights

    def with_magnitude(self, magnitude) -> Liquid:
        """The same liquid with every weight magnitude set to `magnitude` (signs kept): the
        static LSM ablation's single weight for all synapse classes."""
        return eqx.tree_at(lambda m: m.conn,
                           self, self.conn.with_weights(jnp.sign(self.conn.weights) * magnitude))

    def rule(self, **overrides) -> AstroSTDP:
        """The NALSM's astro-STDP for this liquid's classes (`AstroSTDP.ivanov2021`):
        bounds ±`w_max` (3 by default); `overrides` replace constants (`w_A=...`,
        `astrocyte=False` for the LSM+STDP ablation)."""
        return AstroSTDP.ivanov2021(np.asarray(self.inhibitory), np.asarray(self.is_input),
                                    **overrides)

    def recurrent(self) -> bo.CSR:
        """The liquid-to-liquid synapses, `(n_liquid, n_liquid)` (for `branching_factor`)."""
        indptr = np.asarray(self.conn.indptr)
        pre = np.repeat(np.arange(self.n_total), np.diff(indptr))
        post = np.asarray(self.conn.indices)
        keep = pre < self.n_liquid
        return bo.from_edges(pre[keep], post[keep], n_pre=self.n_liquid, n_post=self.n_liquid)

    def init(self) -> LiquidState:
        """All neurons at rest: `v = 0`, `r = 0`, not refractory."""
        zeros = jnp.zeros((self.n_total,), self.conn.weights.dtype)
        return LiquidState(v=zeros, r=zeros, refractory=jnp.zeros((self.n_total,), jnp.int32))

    def step(self, state: LiquidState, weights, pixels, key) -> tuple[LiquidState, Array]:
        """One 1 ms step with the weights `weights` and pixel intensities `pixels`.

        Args:
            state: the state before the step.
            weights (Float[Array, 'n_syn']): one per synapse of `conn` (dimensionless).
            pixels (Float[Array, 'n_input']): input intensities in [0, 1].
            key (PRNGKeyArray): `jax.random` key of this step's Bernoulli input events.

        Returns:
            `(state, spikes)`: spikes of all `n_total` neurons (float 0/1) in this step.
        """
        dtype = state.v.dtype
        events = jax.random.bernoulli(key, pixels).astype(dtype)
        drive = jnp.concatenate([jnp.zeros((self.n_liquid,), dtype),
                                 self.input_current * events])
        s = ((state.v >= self.v_th) & (state.refractory == 0)).astype(dtype)
        v = state.v * (1.0 - s)
        r = jnp.where(s > 0, 1.0 / self.tau_u, state.r).astype(dtype)
        current = bo.matvec(r, self.conn.with_weights(weights))
        v = v + current + drive - v / self.tau_v
        r = r * jnp.exp(-DT / self.tau_u)
        refractory = jnp.where(s > 0, self.t_ref, jnp.maximum(state.refractory - 1, 0))
        return LiquidState(v.astype(dtype), r.astype(dtype), refractory.astype(jnp.int32)), s


def _class_edges(key, positions, members, C, lam, same: bool):
    """Edges (global pre, global post) between two classes: pairwise Bernoulli with the
    Gaussian kernel `C exp(-(D / lam)²)` (σ = lam / √2) of `brainsim_ops.spatial`."""
    pre_idx, post_idx = members
    rule = spatial.PairwiseBernoulli(spatial.Gaussian(sigma=lam / np.sqrt(2.0), amplitude=C))
    conn = spatial.connect(key, positions[pre_idx], positions[post_idx], rule,
                           allow_autapses=not same).conn
    rows = np.repeat(np.arange(len(pre_idx)), np.diff(np.asarray(conn.indptr)))
    return pre_idx[rows], post_idx[np.asarray(conn.indices)]


def build_liquid(key, n_input: int, *, grid=(10, 10, 10), excitatory_fraction: float = 0.8,
                 C_EE: float = 0.2, C_EI: float = 0.1, C_IE: float = 0.3, C_II: float = 0.05,
                 lam: float = 3.0, input_density: float = 0.15, weight: float = 3.0,
                 dtype=None, **neuron) -> Liquid:
    """The NALSM liquid: LIF neurons on a grid, distance-dependent recurrence, random input.

    - Liquid neurons sit on the integer grid `grid`; `round(excitatory_fraction · N)` of them,
      chosen by a random permutation, are excitatory, the rest inhibitory.
    - Recurrent synapse `i → j` with probability `C_XY exp(-(D_ij / lam)²)` (X, Y the classes
      of `i` and `j`; `D` the grid distance), no self-connections.
    - Exactly `int(input_density · N · n_input)` input synapses, chosen uniformly among all
      (input, liquid) pairs, each with a random sign.
    - Every weight has magnitude `weight`: + from excitatory, - from inhibitory, ± from input.

    Args:
        key (PRNGKeyArray): `jax.random` key (same key and arguments give the same liquid).
        n_input: number of input neurons (pixels).
        grid (tuple[int, ...]): grid shape (3 ints for the paper's cube; any dimension works).
        excitatory_fraction: fraction of excitatory liquid neurons, in [0, 1].
        C_EE: connection probability at distance 0, excitatory → excitatory.
        C_EI: connection probability at distance 0, excitatory → inhibitory.
        C_IE: connection probability at distance 0, inhibitory → excitatory.
        C_II: connection probability at distance 0, inhibitory → inhibitory.
        lam: length constant λ (grid units, > 0).
        input_density: fraction of (input, liquid) pairs connected, in [0, 1].
        weight: initial magnitude of every weight (dimensionless, >= 0; 3 in the NALSM).
        dtype (jax.typing.DTypeLike | None): weight and state dtype (default: JAX's default
            float).
        **neuron (float | int): `Liquid` neuron constants (`tau_v`, `v_th`, `tau_u`,
            `input_current`, `t_ref`).

    Returns:
        A `Liquid`.

    Examples:
        >>> import jax
        >>> from brainsim import nalsm
        >>> liquid = nalsm.build_liquid(jax.random.key(0), 64, grid=(6, 6, 6))
        >>> liquid.n_liquid, liquid.conn.n_syn - liquid.recurrent().n_syn   # 0.15 · 216 · 64
        (216, 2073)

    Reference: Ivanov & Michmizos (2021), NeurIPS 34 (arXiv:2111.01760); Maass, Natschläger &
    Markram (2002), Neural Comput. 14:2531 (the liquid).
    """
    if isinstance(n_input, bool) or not isinstance(n_input, int | np.integer) or n_input < 0:
        raise ValueError(f"`n_input` must be an int >= 0, got {n_input!r}.")
    positions = bo.grid_positions(grid)
    n = positions.shape[0]
    for name, value in (("excitatory_fraction", excitatory_fraction),
                        ("input_density", input_density)):
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"`{name}` must be in [0, 1], got {value!r}.")
    check_positive("weight", weight, allow_zero=True)
    check_positive("lam", lam)
    for name, value in (("C_EE", C_EE), ("C_EI", C_EI), ("C_IE", C_IE), ("C_II", C_II)):
        check_positive(name, value, allow_zero=True)
        check_at_most(name, value, 1.0)
    keys = jax.random.split(key, 7)
    order = np.asarray(jax.random.permutation(keys[0], n))
    n_exc = int(round(excitatory_fraction * n))
    inhibitory = np.zeros(n + n_input, bool)
    inhibitory[order[n_exc:]] = True
    exc, inh = np.sort(order[:n_exc]), np.sort(order[n_exc:])
    pres, posts = [], []
    for k, (a, b), C in zip(keys[1:5], ((exc, exc), (exc, inh), (inh, exc), (inh, inh)),
                            (C_EE, C_EI, C_IE, C_II), strict=True):
        p, q = _class_edges(k, positions, (a, b), C, lam, a is b)
        pres.append(p)
        posts.append(q)
    n_in_syn = int(input_density * n * n_input)
    flat = np.asarray(jax.random.choice(keys[5], n * n_input, (n_in_syn,), replace=False))
    pres.append(n + flat // n)
    posts.append(flat % n)
    signs = np.where(np.asarray(jax.random.bernoulli(keys[6], 0.5, (n_in_syn,))), 1.0, -1.0)
    pre, post = np.concatenate(pres), np.concatenate(posts)
    sign = np.where(inhibitory[pre], -1.0, 1.0)
    sign[pre >= n] = signs
    conn = bo.from_edges(pre, post, sign * weight, n_pre=n + n_input, n_post=n + n_input,
                         dtype=dtype)
    return Liquid(conn=conn, inhibitory=jnp.asarray(inhibitory), n_liquid=n, **neuron)


def normalise_images(images) -> Float[Array, "n_images n_pixels"]:
    """The NALSM's input intensities: each image divided by its pixel sum, then all by the
    largest value of that over the whole set, so intensities lie in [0, 1].

    Args:
        images (Array): non-negative pixel values, shape `(n_images, n_pixels)`.

    Examples:
        >>> x = normalise_images(jnp.array([[1.0, 3.0], [2.0, 2.0]]))   # sums 4, 4; max 0.75
        >>> [[round(float(v), 4) for v in row] for row in x]
        [[0.3333, 1.0], [0.6667, 0.6667]]
    """
    x = jnp.asarray(images)
    if x.ndim != 2:
        raise ValueError(f"`images` must have shape (n_images, n_pixels), got {x.shape}.")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    if bool(jnp.any(x < 0)) or bool(jnp.any(x.sum(1) <= 0)):
        raise ValueError("`images` must be non-negative with at least one positive pixel each.")
    per_image = x / x.sum(1, keepdims=True)
    return per_image / per_image.max()


class NALSM(eqx.Module):
    """The NALSM protocol on a liquid: initialisation, plastic feature phase, features.

    - `initialise`: images presented one at a time for `init_duration` ms each; liquid state
      and plasticity state (traces, astrocyte) reset for every image, weights carried over;
      no annealing. The result is `W_INI`.
    - `features`: for one image, from `W_INI` and a reset state, `feature_duration` ms with the
      rule on and its constants annealed (η, A, w_A and b_A times `anneal` every ms); the
      feature vector is each liquid neuron's spike count.

    With `rule=None` the weights are static (the LSM ablation; `initialise` returns them as
    they are). With `rule = liquid.rule(astrocyte=False)` it is the LSM+STDP ablation.

    Attributes:
        liquid: the `Liquid`.
        rule: the plasticity rule (`liquid.rule()`: astro-STDP) or `None`.
        anneal: per-ms factor of the rule's constants in the feature phase (dimensionless,
            in (0, 1]; 0.99 in the paper).
        init_duration: presentation per image in the initialisation phase (ms, int).
        feature_duration: presentation per image in the feature phase (ms, int).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim import nalsm
        >>> liquid = nalsm.build_liquid(jax.random.key(0), 4, grid=(3, 3, 3))
        >>> model = nalsm.NALSM(liquid, liquid.rule(), feature_duration=50)
        >>> images = jnp.full((3, 4), 0.5)
        >>> w_ini = model.initialise(liquid.weights, images, jax.random.key(1))
        >>> model.features(w_ini, images[0], jax.random.key(2)).shape
        (27,)

    Reference: Ivanov & Michmizos (2021), NeurIPS 34 (arXiv:2111.01760).
    """

    liquid: Liquid
    rule: AstroSTDP | None
    anneal: Float[Array, ""] = eqx.field(default=0.99, converter=as_param)
    init_duration: int = eqx.field(default=20, static=True)
    feature_duration: int = eqx.field(default=250, static=True)

    def __check_init__(self):
        if not isinstance(self.liquid, Liquid):
            raise TypeError(f"`liquid` must be a Liquid, got {type(self.liquid).__name__}.")
        if self.rule is not None and not isinstance(self.rule, AstroSTDP):
            raise TypeError(f"`rule` must be an AstroSTDP or None, got "
                            f"{type(self.rule).__name__}.")
        for name in ("init_duration", "feature_duration"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1 (ms), got {value!r}.")
        check_positive("anneal", self.anneal)
        check_at_most("anneal", self.anneal, 1.0)

    def _check_pixels(self, pixels, ndim: int):
        x = jnp.asarray(pixels)
        want = (self.liquid.n_input,) if ndim == 1 else (x.shape[0], self.liquid.n_input)
        if x.ndim != ndim or x.shape != want:
            shape = "(n_input,)" if ndim == 1 else "(n_images, n_input)"
            raise ValueError(f"`pixels` must have shape {shape} with n_input = "
                             f"{self.liquid.n_input}, got {x.shape}.")
        return x.astype(self.liquid.conn.weights.dtype)

    def _run(self, rule, weights, pixels, key, steps: int, record: bool):
        liquid = self.liquid
        n = liquid.n_liquid
        plastic = rule is not None

        def step(carry, t):
            state, w, rule_state, counts = carry
            state, s = liquid.step(state, w, pixels, jax.random.fold_in(key, t))
            if plastic:
                drive = jnp.sum(s[:n]) - jnp.sum(s[n:])
                w, rule_state = rule.update(rule_state, w, s, s, dt=DT, conn=liquid.conn,
                                            modulator=drive)
            counts = counts + s[:n]
            return (state, w, rule_state, counts), (s[:n] > 0 if record else None)

        rule_state = rule.init(liquid.conn) if plastic else None
        counts = jnp.zeros((n,), liquid.conn.weights.dtype)
        carry = (liquid.init(), jnp.asarray(weights), rule_state, counts)
        (_, w, _, counts), raster = jax.lax.scan(step, carry, jnp.arange(steps))
        return w, counts, raster

    def initialise(self, weights, images, key) -> Float[Array, " n_syn"]:
        """`W_INI`: `weights` after presenting `images` one at a time (in order).

        Args:
            weights (Float[Array, 'n_syn']): starting weights, one per synapse
                (`liquid.weights`: all at 3).
            images (Float[Array, 'n_images n_input']): intensities in [0, 1].
            key (PRNGKeyArray): `jax.random` key (image `k` uses `fold_in(key, k)`).

        Returns:
            The weights after the last image.
        """
        return self.initialise_with_activity(weights, images, key)[0]

    def initialise_with_activity(self, weights, images, key):
        """`initialise`, also returning the liquid's spike count for every presentation
        (`(n_images,)`), to check that the liquid never falls silent."""
        images = self._check_pixels(images, 2)
        if self.rule is None:
            return jnp.asarray(weights), jnp.zeros((images.shape[0],))
        return _initialise(self, weights, images, key)

    def features(self, weights, pixels, key, *, record: bool = False):
        """Liquid spike counts of one image (the feature vector), optionally with the raster.

        Args:
            weights (Float[Array, 'n_syn']): `W_INI` (one per synapse).
            pixels (Float[Array, 'n_input']): intensities in [0, 1].
            key (PRNGKeyArray): `jax.random` key of this presentation.
            record: also return the liquid's raster, bool `(feature_duration, n_liquid)`.

        Returns:
            (Array | tuple[Array, Array]): counts `(n_liquid,)` (spikes), or `(counts, raster)`.
        """
        pixels = self._check_pixels(pixels, 1)
        rule = None
        if self.rule is not None:
            rule = eqx.tree_at(lambda r: r.anneal, self.rule, self.anneal)
        _, counts, raster = self._run(rule, weights, pixels, key, self.feature_duration, record)
        return (counts, raster) if record else counts

    def feature_matrix(self, weights, images, key, *, batch_size: int = 16):
        """`features` of every image, vmapped in batches of `batch_size` (jit-compiled once).

        Image `k` uses the key `jax.random.split(key, n_images)[k]`, so the result does not
        depend on `batch_size` (small batches keep the per-sample weights in cache: on CPU,
        8-16 is faster than 128).

        Returns:
            (Float[Array, 'n_images n_liquid']): spike counts.
        """
        images = self._check_pixels(images, 2)
        n_images = images.shape[0]
        keys = jax.random.split(key, n_images)
        size = max(1, min(batch_size, n_images))
        out = []
        for start in range(0, n_images, size):
            chunk, chunk_keys = images[start:start + size], keys[start:start + size]
            pad = size - chunk.shape[0]
            if pad:
                chunk = jnp.concatenate([chunk, jnp.zeros((pad, chunk.shape[1]), chunk.dtype)])
                chunk_keys = jnp.concatenate([chunk_keys, keys[:pad]])
            out.append(_features_batch(self, weights, chunk, chunk_keys)[:size - pad])
        return jnp.concatenate(out)

    def branching_factor(self, weights, images, key) -> float:
        """The liquid's branching factor over the feature phase of `images` (the paper uses
        20 images; spikes in [25, 225) ms, windows of 4 ms; see
        `brainsim.analysis.branching_factor`)."""
        images = self._check_pixels(images, 2)
        keys = jax.random.split(key, images.shape[0])
        rasters = _rasters_batch(self, weights, images, keys)
        return branching_factor(np.asarray(rasters), self.liquid.recurrent())


@eqx.filter_jit
def _initialise(model: NALSM, weights, images, key):
    rule = eqx.tree_at(lambda r: r.anneal, model.rule, jnp.ones_like(model.rule.anneal))

    def present(w, inputs):
        k, pixels = inputs
        w, counts, _ = model._run(rule, w, pixels, jax.random.fold_in(key, k),
                                  model.init_duration, False)
        return w, counts.sum()

    return jax.lax.scan(present, jnp.asarray(weights), (jnp.arange(images.shape[0]), images))


@eqx.filter_jit
def _features_batch(model: NALSM, weights, images, keys):
    return jax.vmap(lambda p, k: model.features(weights, p, k))(images, keys)


@eqx.filter_jit
def _rasters_batch(model: NALSM, weights, images, keys):
    return jax.vmap(lambda p, k: model.features(weights, p, k, record=True)[1])(images, keys)


def normalise_counts(counts) -> Float[Array, "n_images n_liquid"]:
    """Spike counts divided by each image's total (L1 normalisation; all-zero rows stay 0)."""
    c = jnp.asarray(counts, jnp.result_type(float))
    total = c.sum(-1, keepdims=True)
    return c / jnp.where(total > 0, total, 1.0)


class Readout(eqx.Module):
    """A softmax-regression readout: `logits = ((x - mean) / scale) W + b`.

    Made by `fit_readout`; `predict(x)` gives class indices, `accuracy(x, y)` the fraction
    right.

    Attributes:
        W: weights, `(n_features, n_classes)`.
        b: biases, `(n_classes,)`.
        mean, scale: feature standardisation from the training set, `(n_features,)`.
    """

    W: Float[Array, "n_features n_classes"]
    b: Float[Array, " n_classes"]
    mean: Float[Array, " n_features"]
    scale: Float[Array, " n_features"]

    def logits(self, x) -> Float[Array, "n n_classes"]:
        """Class scores of features `x`, `(n, n_features)`."""
        return ((jnp.asarray(x) - self.mean) / self.scale) @ self.W + self.b

    def predict(self, x) -> Int[Array, " n"]:
        """The most likely class of each row of `x`."""
        return jnp.argmax(self.logits(x), axis=-1)

    def accuracy(self, x, labels) -> float:
        """Fraction of rows of `x` classified as `labels`."""
        return float(jnp.mean(self.predict(x) == jnp.asarray(labels)))


def fit_readout(features, labels, *, n_classes: int | None = None, l2: float = 1e-3,
                steps: int = 300) -> Readout:
    """Multinomial logistic regression by full-batch L-BFGS (optax) on standardised features.

    Minimises the mean cross-entropy plus `l2 · |W|²`.

    Args:
        features (Float[Array, 'n n_features']): the features (e.g. `normalise_counts(counts)`).
        labels (Int[Array, 'n']): class indices.
        n_classes: number of classes (default: `max(labels) + 1`).
        l2: weight penalty (>= 0).
        steps: L-BFGS iterations (int >= 1).

    Examples:
        >>> x = jnp.array([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]])
        >>> fit_readout(x, jnp.array([0, 1, 0, 1])).accuracy(x, jnp.array([0, 1, 0, 1]))
        1.0
    """
    x = jnp.asarray(features, jnp.result_type(float))
    y = jnp.asarray(labels)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"`features` must be (n, n_features) and `labels` (n,), got "
                         f"{x.shape} and {y.shape}.")
    if not jnp.issubdtype(y.dtype, jnp.integer):
        raise TypeError(f"`labels` must be integers, got dtype {y.dtype}.")
    check_positive("l2", l2, allow_zero=True)
    n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be an int >= 1, got {steps!r}.")
    mean, sd = x.mean(0), x.std(0)
    scale = jnp.where(sd > 0, sd, 1.0)
    W, b = _lbfgs_softmax((x - mean) / scale, y, jnp.asarray(l2, x.dtype), n_classes, steps)
    return Readout(W=W, b=b, mean=mean, scale=scale)


@jax.jit(static_argnums=(3, 4))
def _lbfgs_softmax(z, y, l2, n_classes: int, steps: int):
    """Full-batch L-BFGS on the mean cross-entropy plus `l2 |W|^2` (one compilation per shape)."""
    params = (jnp.zeros((z.shape[1], n_classes), z.dtype), jnp.zeros((n_classes,), z.dtype))

    def loss(params):
        W, b = params
        logits = z @ W + b
        return (optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
                + l2 * jnp.sum(W**2))

    solver = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(loss)

    def body(carry, _):
        params, state = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = solver.update(grad, state, params, value=value, grad=grad,
                                       value_fn=loss)
        return (optax.apply_updates(params, updates), state), None

    (params, _), _ = jax.lax.scan(body, (params, solver.init(params)), None, length=steps)
    return params


def rate_hz(counts, duration_ms: float) -> float:
    """Mean firing rate (Hz) of spike counts over `duration_ms`."""
    return float(jnp.mean(jnp.asarray(counts)) / duration_ms * 1e3)


__all__ = [
    "DT",
    "Liquid",
    "LiquidState",
    "NALSM",
    "Readout",
    "build_liquid",
    "fit_readout",
    "normalise_counts",
    "normalise_images",
    "rate_hz",
]
