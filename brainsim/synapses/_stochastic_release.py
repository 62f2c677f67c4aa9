"""Stochastic transmitter release per synapse: Bernoulli and quantal (binomial) with STP."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

import brainsim_ops as bo
from brainsim._validation import as_param, check_at_most, check_positive

KEY_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")


def _release_key(key, seed: int, impl: str) -> PRNGKeyArray:
    if key is None:
        return jax.random.key(seed, impl=impl)
    if not (isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)):
        raise TypeError(f"`key` must be a typed JAX key (jax.random.key), got {key!r}.")
    return key


def _straight_through(sample, mean):
    """`sample` forward; the gradient of `mean` backward (unbiased for linear readouts)."""
    return sample + mean - jax.lax.stop_gradient(mean)


def _check_seed(seed, key_impl) -> None:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative int, got {seed!r}.")
    if key_impl not in KEY_IMPLS:
        raise ValueError(f"`key_impl` must be one of {KEY_IMPLS}, got {key_impl!r}.")


class BernoulliState(NamedTuple):
    """State of Bernoulli release: only the key, split at every step."""

    key: PRNGKeyArray


class BernoulliRelease(eqx.Module):
    """Probabilistic transmission: each synapse passes each presynaptic spike with `p_transmit`.

    At a spike of neuron `i`, synapse `i → j` draws `b ~ Bernoulli(p_transmit)` independently
    of every other synapse and spike, and delivers `w_ij b`. So the transmitted weight per spike
    has mean `p w` and variance `p (1 - p) w²` (NEST's `bernoulli_synapse`).

    The key lives in the state and is split every step, so the same key gives the same
    releases, and `vmap` over keys equals a loop. Gradients: `w` gets the pathwise gradient
    `b`; `p_transmit` gets the straight-through gradient `w` (the sample is `b + p -
    stop_gradient(p)`), an unbiased estimate of `∂E[w b]/∂p` for anything linear in the
    releases.

    Use it as the `stp` of a `brainsim.Projection` (any connectivity, with or without delay).

    Attributes:
        p_transmit: transmission probability (dimensionless, in [0, 1]; scalar or one per
            synapse, `conn.synapse_shape`).
        seed: seed of the default key when `init` gets none (a non-negative int).
        key_impl: the PRNG of that default key: `"threefry2x32"` (JAX's default: `vmap` over
            keys equals a loop), or `"rbg"` / `"unsafe_rbg"` (XLA's bit generator: far
            faster on CPU, but `vmap` over keys no longer equals a loop).

    Examples:
        >>> import jax, jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.synapses import BernoulliRelease
        >>> conn = bo.all_to_all(1, 10_000, weight=2.0)
        >>> release = BernoulliRelease(p_transmit=0.3)
        >>> state, w = release.transmit(release.init(conn, jax.random.key(0)), jnp.ones(1),
        ...                             conn, dt=0.1)
        >>> round(float(w.mean()), 1)                     # 0.3 * 2.0
        0.6

    Reference: Gewaltig & Diesmann (2007), Scholarpedia 2:1430 (NEST, `bernoulli_synapse`);
    Katz (1969), The release of neural transmitter substances.
    """

    p_transmit: Float[Array, "*syn"] = eqx.field(default=1.0, converter=as_param)
    seed: int = eqx.field(default=0, static=True)
    key_impl: str = eqx.field(default="threefry2x32", static=True)

    def __check_init__(self):
        check_positive("p_transmit", self.p_transmit, allow_zero=True)
        check_at_most("p_transmit", self.p_transmit, 1.0)
        _check_seed(self.seed, self.key_impl)

    def init(self, conn, key: PRNGKeyArray | None = None) -> BernoulliState:
        """The state for `conn` (checks the shape of `p_transmit`); `key` default: `seed`."""
        _check_shape("p_transmit", self.p_transmit, conn)
        return BernoulliState(key=_release_key(key, self.seed, self.key_impl))

    def transmit(self, state: BernoulliState, pre_spikes, conn, *, dt):
        """Draw this step's releases; `dt` (ms) is unused.

        Returns:
            (tuple[BernoulliState, Array]): the new state and the weight each synapse
                transmits for a spike of its presynaptic neuron this step
                (`conn.synapse_shape`; meaningful where it spiked).
        """
        key, sub = jax.random.split(state.key)
        w = jnp.broadcast_to(conn.weights, conn.synapse_shape)
        p = jnp.broadcast_to(self.p_transmit, conn.synapse_shape).astype(w.dtype)
        sample = jax.random.bernoulli(sub, jax.lax.stop_gradient(p)).astype(w.dtype)
        return BernoulliState(key=key), w * _straight_through(sample, p)


class QuantalState(NamedTuple):
    """State of quantal release, per synapse (the weights' storage order).

    Attributes:
        u: release probability at the last spike (dimensionless).
        a: available release sites (a count, stored as float).
        since: time since the last spike (ms; -1 before the first spike).
        key: the key, split at every step.
    """

    u: Float[Array, "*syn"]
    a: Float[Array, "*syn"]
    since: Float[Array, "*syn"]
    key: PRNGKeyArray


class QuantalRelease(eqx.Module):
    """Quantal release with short-term depression and facilitation (Fuhrmann et al. 2002).

    A synapse has `n` release sites; `a` of them hold a vesicle. At a presynaptic spike, `h`
    ms after the previous one (`h = ∞` at the first spike, as in NEST's `quantal_stp_synapse`):

        u ← U + u (1 - U) exp(-h / tau_fac)          (u ← U if tau_fac = 0)
        a ← a + Binomial(n - a, 1 - exp(-h / tau_rec))   depleted sites refill
        k ~ Binomial(a, u);   a ← a - k                   k sites release
        transmitted weight = k w

    Sites act independently and `u` does not depend on the draws, so the number released at
    the `m`-th spike of a train is exactly Binomial(`n`, `P_m u_m`) with `P_m` the
    probability that a site is full, `P_1 = 1` and
    `P_(m+1) = P_m (1 - u_m) + (1 - P_m (1 - u_m)) (1 - exp(-h_m / tau_rec))`.

    The key lives in the state and is split every step (same key, same releases; `vmap` over
    keys equals a loop). Gradients: `w` gets the pathwise gradient `k`; `U`, `tau_fac` (and the
    weights' upstream) get the straight-through gradient of `k` as `a u` (the sample is `k +
    a (u - stop_gradient(u))`); the site counts `a` are discrete and carry no gradient, so
    `tau_rec` gets none.

    Use it as the `stp` of a `brainsim.Projection` (any connectivity, with or without delay).

    Attributes:
        U: utilisation increment, the release probability of a rested synapse
            (dimensionless, in (0, 1]).
        tau_rec: recovery time constant of a site (ms, > 0).
        tau_fac: facilitation time constant (ms, >= 0; 0: no facilitation).
        n: number of release sites per synapse (int >= 1, the same for all synapses).
        seed: seed of the default key when `init` gets none (a non-negative int).
        key_impl: the PRNG of that default key: `"threefry2x32"` (JAX's default: `vmap` over
            keys equals a loop), or `"rbg"` / `"unsafe_rbg"` (XLA's bit generator: far
            faster on CPU, but `vmap` over keys no longer equals a loop).

    Examples:
        >>> import jax, jax.numpy as jnp, brainsim_ops as bo
        >>> from brainsim.synapses import QuantalRelease
        >>> conn = bo.all_to_all(1, 10_000, weight=1.0)
        >>> release = QuantalRelease(U=0.5, n=4)
        >>> state, w = release.transmit(release.init(conn, jax.random.key(0)), jnp.ones(1),
        ...                             conn, dt=0.1)
        >>> round(float(w.mean()), 1)                     # n U w: all sites full at first
        2.0

    Reference: Fuhrmann, Segev, Markram & Tsodyks (2002), J. Neurophysiol. 87:140; Loebel et
    al. (2009), Front. Comput. Neurosci. 3:27; NEST's `quantal_stp_synapse`.
    """

    U: Float[Array, "*syn"] = eqx.field(default=0.5, converter=as_param)
    tau_rec: Float[Array, "*syn"] = eqx.field(default=800.0, converter=as_param)
    tau_fac: Float[Array, "*syn"] = eqx.field(default=0.0, converter=as_param)
    n: int = eqx.field(default=1, static=True)
    seed: int = eqx.field(default=0, static=True)
    key_impl: str = eqx.field(default="threefry2x32", static=True)

    def __check_init__(self):
        check_positive("U", self.U)
        check_at_most("U", self.U, 1.0)
        check_positive("tau_rec", self.tau_rec)
        check_positive("tau_fac", self.tau_fac, allow_zero=True)
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise ValueError(f"`n` (release sites per synapse) must be an int >= 1, got "
                             f"{self.n!r}.")  # fmt: skip
        _check_seed(self.seed, self.key_impl)

    def init(self, conn, key: PRNGKeyArray | None = None) -> QuantalState:
        """Rested synapses for `conn` (all `n` sites full, no spike yet); `key` default:
        `jax.random.key(seed)`."""
        for name in ("U", "tau_rec", "tau_fac"):
            _check_shape(name, getattr(self, name), conn)
        shape, dtype = conn.synapse_shape, jnp.result_type(float)
        return QuantalState(
            u=jnp.broadcast_to(self.U, shape).astype(dtype),
            a=jnp.full(shape, self.n, dtype),
            since=jnp.full(shape, -1.0, dtype),
            key=_release_key(key, self.seed, self.key_impl),
        )

    def _binomial(self, key, count, p):
        """Binomial(count, p) with count <= n: the sum of `n` masked Bernoulli trials."""
        trials = jax.random.uniform(key, (self.n, *count.shape), p.dtype)
        sites = jnp.arange(self.n).reshape((self.n,) + (1,) * count.ndim)
        return jnp.sum((trials < p) & (sites < count), axis=0).astype(p.dtype)

    def transmit(self, state: QuantalState, pre_spikes, conn, *, dt):
        """Advance by `dt` ms and release at this step's presynaptic spikes.

        Returns:
            (tuple[QuantalState, Array]): the new state and the weight each synapse
                transmits this step (`k w`; `conn.synapse_shape`; 0 where the presynaptic
                neuron did not spike).
        """
        key, k_refill, k_release = jax.random.split(state.key, 3)
        shape = conn.synapse_shape
        w = jnp.broadcast_to(conn.weights, shape)
        pre, _ = bo.synapse_neurons(conn)
        spiking = jnp.asarray(pre_spikes, bool)[pre]
        first = state.since < 0
        h = jnp.where(first, 0.0, state.since + dt)
        facilitates = self.tau_fac > 0
        u_decay = jnp.exp(-h / jnp.where(facilitates, self.tau_fac, 1.0))
        u_decay = jnp.where(first | ~facilitates, 0.0, u_decay)
        u = self.U + state.u * (1.0 - self.U) * u_decay
        refill = jnp.where(first, 1.0, 1.0 - jnp.exp(-h / self.tau_rec))
        a = state.a + self._binomial(k_refill, self.n - state.a, jax.lax.stop_gradient(refill))
        k = self._binomial(k_release, a, jax.lax.stop_gradient(u))
        released = _straight_through(k, a * u)
        new = QuantalState(
            u=jnp.where(spiking, u, state.u),
            a=jnp.where(spiking, a - k, state.a),
            since=jnp.where(spiking, 0.0, jnp.where(first, -1.0, h)),
            key=key,
        )
        return new, jnp.where(spiking, w * released, 0.0)


def _check_shape(name: str, value, conn) -> None:
    shape = jnp.shape(value)
    if shape and shape != tuple(conn.synapse_shape):
        raise ValueError(f"`{name}` must be a scalar or have one value per synapse, shape "
                         f"{tuple(conn.synapse_shape)}, got {shape}.")  # fmt: skip
