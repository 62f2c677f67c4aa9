"""e-prop: online eligibility-propagation training of recurrent spiking networks."""

from __future__ import annotations

import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from brainsim._validation import as_param, check_finite, check_less, check_positive
from brainsim.neurons import LIF, LIFState
from brainsim.neurons._base import Neuron, as_drive, next_refractory, refractory_mask
from brainsim.surrogate import Surrogate, Triangle
from brainsim.train._readout import LeakyReadout


def _triangle() -> Surrogate:
    """Bellec et al.'s pseudo-derivative: `0.3 max(0, 1 - |x|)` of the threshold distance."""
    return Triangle(gamma=0.3, width=1.0)


class EpropLIF(Neuron):
    """LIF neuron with reset by subtraction, the neuron of e-prop (Bellec et al. 2020) and of
    NEST's `eprop_iaf`.

        v(t) = E_L + (v(t-dt) - E_L) α + R I(t) (1 - α),   α = exp(-dt / τ_m)
        z(t) = H(v(t) - V_th) (0 while refractory);   v(t) ← v(t) - (V_th - E_L) z(t)

    The input current `I(t)` (pA) is held over the step, so a spike arriving through a weight
    `w` raises `v` by `R w (1 - α)`: with `R = 1 / (1 - α)` GΩ the weights are NEST's `eprop_iaf`
    weights (mV per spike). For `t_ref` after a spike the neuron cannot spike and its
    pseudo-derivative is zero, but its potential keeps integrating, as in NEST (which allows the
    next spike one step earlier, `t_ref` after the last). The surrogate `spike_fn` sees
    `x = (v - V_th) / (V_th - E_L)`, so `∂z/∂v = σ'(x) / (V_th - E_L)`; the default
    `Triangle(gamma=0.3, width=1)` is Bellec et al.'s
    `0.3 max(0, 1 - |v - V_th| / (V_th - E_L)) / (V_th - E_L)`, NEST's `piecewise_linear`
    surrogate with height `0.3 / (V_th - E_L)` and width `V_th - E_L`. With `detach_reset`
    (the default, as in e-prop) the reset carries no gradient, so `∂v(t)/∂v(t-dt) = α` and the
    eligibility vector is the low-pass-filtered presynaptic activity.

    Attributes:
        tau_m: membrane time constant (ms, > 0).
        E_L: resting potential (mV).
        V_th: threshold (mV), above `E_L`.
        t_ref: refractory period (ms, >= 0).
        R: membrane resistance (GΩ = mV/pA, > 0).
        spike_fn: surrogate Heaviside for the backward pass.
        detach_reset: stop the gradient through the reset.

    Each parameter is a scalar or one value per neuron (shape `(n,)`). The state is a
    `LIFState` (`v` in mV, `refractory_left` in ms). The defaults of `tau_m`, `E_L`, `V_th`,
    `t_ref` and `R` (`tau_m / C_m` with `C_m = 250` pF) are NEST's `eprop_iaf`.

    Examples:
        >>> import brainsim as bs
        >>> neuron = bs.train.EpropLIF(tau_m=30.0, E_L=0.0, V_th=0.03, t_ref=0.0)
        >>> state, z = neuron.step(neuron.init(2), 2.0, t=0.0, dt=1.0)   # 2 pA
        >>> z.shape
        (2,)

    Reference: Bellec, Scherr, Subramoney, Hajek, Salaj, Legenstein & Maass (2020), *A solution
    to the learning dilemma for recurrent networks of spiking neurons*, Nat. Commun. 11:3625
    (Methods, "Neuron models"); NEST 3.10, `eprop_iaf`.
    """

    tau_m: Float[Array, "*n"] = eqx.field(default=10.0, converter=as_param)
    E_L: Float[Array, "*n"] = eqx.field(default=-70.0, converter=as_param)
    V_th: Float[Array, "*n"] = eqx.field(default=-55.0, converter=as_param)
    t_ref: Float[Array, "*n"] = eqx.field(default=2.0, converter=as_param)
    R: Float[Array, "*n"] = eqx.field(default=0.04, converter=as_param)
    spike_fn: Surrogate = eqx.field(default_factory=_triangle)
    detach_reset: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_positive("tau_m", self.tau_m)
        check_positive("t_ref", self.t_ref, allow_zero=True)
        check_positive("R", self.R)
        check_finite("E_L", self.E_L)
        check_finite("V_th", self.V_th)
        check_less("E_L", self.E_L, "V_th", self.V_th)

    def init(self, n: int, key: PRNGKeyArray | None = None) -> LIFState:
        """State of `n` neurons at rest, or with `v` uniform in `[E_L, V_th]` given a key."""
        self._check_shapes(n)
        v = self._full(self.E_L, n)
        if key is not None:
            v = jax.random.uniform(key, (n,), minval=v, maxval=self._full(self.V_th, n))
        return LIFState(v=v, refractory_left=jnp.zeros_like(v))

    def step(self, state: LIFState, inputs=None, *, t, dt) -> tuple[LIFState, Float[Array, " n"]]:
        """Advance by `dt` ms with input current `inputs` (pA, array or `Drive`)."""
        alpha = jnp.exp(-dt / self.tau_m)
        current = as_drive(inputs, like=state.v).current(state.v)
        v = self.E_L + (state.v - self.E_L) * alpha + self.R * current * (1.0 - alpha)
        free = 1.0 - refractory_mask(state.refractory_left, dt).astype(v.dtype)
        spikes = self.spike_fn((v - self.V_th) / (self.V_th - self.E_L)) * free
        gate = jax.lax.stop_gradient(spikes) if self.detach_reset else spikes
        v = v - (self.V_th - self.E_L) * gate
        left = next_refractory(state.refractory_left, jax.lax.stop_gradient(spikes), self.t_ref, dt)
        return LIFState(v=v, refractory_left=left), spikes


class RecurrentState(NamedTuple):
    """State of a `RecurrentSNN`.

    Attributes:
        neurons: the state of the recurrent population (e.g. `LIFState`), arrays `(n,)`.
        spikes: the spikes of the last step (0.0 / 1.0), shape `(n,)`.
        readout: the readout's state (`ReadoutState`), shape `(n_out,)`.
    """

    neurons: NamedTuple
    spikes: Float[Array, " n"]
    readout: NamedTuple


class RecurrentSNN(eqx.Module):
    """A recurrent spiking network with a leaky readout, the architecture e-prop trains.

        I(t) = x(t) W_in + z(t - dt) W_rec,   (h(t), z(t)) = neuron step(h(t - dt), I(t))
        y(t) = κ y(t - dt) + (1 - κ) R z(t) W_out,   κ = exp(-dt / τ_out)

    `x` are the inputs (spikes or analog, `(n_in,)`), `z` the spikes of the `n` recurrent
    neurons, `y` the readout potentials (`LeakyReadout`, mV). Weights are pA per spike (`W_out`:
    pA per spike into the readout). Self-connections are excluded (the diagonal of `W_rec` is
    held at zero).

    Attributes:
        w_in: input weights (pA), `(n_in, n)`.
        w_rec: recurrent weights (pA), `(n, n)`.
        w_out: readout weights (pA), `(n, n_out)`.
        neuron: the recurrent neurons (`LIF`, `ALIF`, any elementwise model).
        readout: the readout (`LeakyReadout` with a scalar `tau_m`).

    Examples:
        >>> import jax, brainsim as bs
        >>> net = bs.train.RecurrentSNN.create(3, 10, 1, key=jax.random.key(0))
        >>> state = net.init()
        >>> state, y = net.step(state, jax.numpy.ones(3), t=0.0, dt=1.0)
        >>> y.shape
        (1,)

    Reference: Bellec, Scherr, Subramoney, Hajek, Salaj, Legenstein & Maass (2020), *A solution
    to the learning dilemma for recurrent networks of spiking neurons*, Nat. Commun. 11:3625.
    """

    w_in: Float[Array, "n_in n"] = eqx.field(converter=as_param)
    w_rec: Float[Array, "n n"] = eqx.field(converter=as_param)
    w_out: Float[Array, "n n_out"] = eqx.field(converter=as_param)
    neuron: eqx.Module = eqx.field(default_factory=LIF)
    readout: LeakyReadout = eqx.field(default_factory=LeakyReadout)

    def __check_init__(self):
        n = self.w_rec.shape[0] if self.w_rec.ndim == 2 else -1
        if self.w_rec.ndim != 2 or self.w_rec.shape[1] != n:
            raise ValueError(f"`w_rec` must be square (n, n), got shape {self.w_rec.shape}.")
        if self.w_in.ndim != 2 or self.w_in.shape[1] != n:
            raise ValueError(f"`w_in` must have shape (n_in, {n}), got {self.w_in.shape}.")
        if self.w_out.ndim != 2 or self.w_out.shape[0] != n:
            raise ValueError(f"`w_out` must have shape ({n}, n_out), got {self.w_out.shape}.")
        for name in ("w_in", "w_rec", "w_out"):
            check_finite(name, getattr(self, name))
        if jnp.ndim(self.readout.tau_m) != 0:
            raise ValueError("`readout.tau_m` must be a scalar for e-prop (one readout filter).")

    @classmethod
    def create(
        cls,
        n_in: int,
        n: int,
        n_out: int,
        *,
        key: PRNGKeyArray,
        neuron=None,
        readout=None,
        input_scale: float = 100.0,
        recurrent_scale: float = 50.0,
        output_scale: float = 10.0,
    ) -> RecurrentSNN:
        """Random weights `N(0, scale² / fan_in)` (pA); `neuron` defaults to `LIF()`,
        `readout` to `LeakyReadout()`."""
        k1, k2, k3 = jax.random.split(key, 3)
        w_rec = recurrent_scale * jax.random.normal(k2, (n, n)) / math.sqrt(n)
        return cls(
            w_in=input_scale * jax.random.normal(k1, (n_in, n)) / math.sqrt(n_in),
            w_rec=w_rec * (1.0 - jnp.eye(n)),
            w_out=output_scale * jax.random.normal(k3, (n, n_out)) / math.sqrt(n),
            neuron=LIF() if neuron is None else neuron,
            readout=LeakyReadout() if readout is None else readout,
        )

    @property
    def n(self) -> int:
        """Number of recurrent neurons."""
        return self.w_rec.shape[0]

    def init(self, key: PRNGKeyArray | None = None) -> RecurrentState:
        """The network at rest (`key` goes to the neuron model's `init`)."""
        neurons = self.neuron.init(self.n, key)
        return RecurrentState(
            neurons=neurons,
            spikes=jnp.zeros_like(neurons.v),
            readout=self.readout.init(self.w_out.shape[1]),
        )

    def current(self, state: RecurrentState, x: Float[Array, " n_in"]) -> Float[Array, " n"]:
        """The input current (pA) of the recurrent neurons in the next step."""
        w_rec = self.w_rec * (1.0 - jnp.eye(self.n, dtype=self.w_rec.dtype))
        return x @ self.w_in + state.spikes @ w_rec

    def step(self, state: RecurrentState, x, *, t, dt) -> tuple[RecurrentState, Array]:
        """Advance by `dt` ms with input `x` (`(n_in,)`); returns the readout potentials."""
        neurons, z = self.neuron.step(state.neurons, self.current(state, x), t=t, dt=dt)
        readout, y = self.readout.step(state.readout, z @ self.w_out, t=t, dt=dt)
        return RecurrentState(neurons=neurons, spikes=z, readout=readout), y


def random_feedback(key: PRNGKeyArray, net: RecurrentSNN) -> Float[Array, "n n_out"]:
    """Fixed random feedback weights for random e-prop: `B ~ N(0, 1/n)`, shape `(n, n_out)`,
    scaled to the spread of `net.w_out`."""
    scale = jnp.std(net.w_out) * math.sqrt(net.n)
    return scale * jax.random.normal(key, net.w_out.shape, net.w_out.dtype) / math.sqrt(net.n)


def _step_jacobians(neuron, h, current, t, dt):
    """One neuron step and its elementwise derivatives by forward mode: `∂h'/∂h` (d × d per
    neuron), `∂h'/∂I`, `∂z/∂h`, `∂z/∂I`, for the `d` floating leaves of the state."""
    leaves, treedef = jax.tree.flatten(h)
    floating = [i for i, leaf in enumerate(leaves) if jnp.issubdtype(leaf.dtype, jnp.floating)]

    def f(float_leaves, current):
        full = list(leaves)
        for i, leaf in zip(floating, float_leaves, strict=True):
            full[i] = leaf
        new, z = neuron.step(jax.tree.unflatten(treedef, full), current, t=t, dt=dt)
        new_leaves = jax.tree.leaves(new)
        return ([new_leaves[i] for i in floating], z), new

    primal = [leaves[i] for i in floating]
    columns = []
    for c in range(len(primal)):
        tangent = [jnp.ones_like(x) if i == c else jnp.zeros_like(x) for i, x in enumerate(primal)]
        _, (dh, dz), _ = jax.jvp(lambda p: f(p, current), (primal,), (tangent,), has_aux=True)
        columns.append((jnp.stack(dh), dz))
    (_, z), (dh_di, dz_di), new = jax.jvp(
        lambda i: f(primal, i), (current,), (jnp.ones_like(current),), has_aux=True
    )
    dh_dh = jnp.stack([col[0] for col in columns], axis=1)  # (d_out, d_in, n)
    dz_dh = jnp.stack([col[1] for col in columns])  # (d_in, n)
    return new, z, dh_dh, jnp.stack(dh_di), dz_dh, dz_di


class _Traces(NamedTuple):
    eps_in: Array  # eligibility vectors of the input synapses, (d, n_in, n)
    eps_rec: Array  # of the recurrent synapses, (d, n, n)
    ebar_in: Array  # readout-filtered eligibility traces, (n_in, n)
    ebar_rec: Array  # (n, n)
    zbar: Array  # readout-filtered spikes, (n,)
    ereg_in: Array  # rate-filtered eligibility traces, (n_in, n); (0, n) without regulariser
    ereg_rec: Array  # (n, n); (0, n) without regulariser
    rate: Array  # filtered firing rates f_j (spikes/ms), (n,)


def eprop_value_and_grad(
    net: RecurrentSNN,
    input_series: Float[Array, "T n_in"],
    target_series: Float[Array, "T n_out"],
    *,
    dt: float,
    feedback: Float[Array, "n n_out"] | None = None,
    state: RecurrentState | None = None,
    t0: float = 0.0,
    c_reg: float = 0.0,
    f_target: float = 10.0,
    tau_reg: float = 30.0,
):
    """Loss and e-prop gradient of a `RecurrentSNN` on a regression target, computed online.

    The loss is `E = ½ Σ_t Σ_k (y_k(t) - y*_k(t))²`. For a synapse `i → j` (input or recurrent)
    with presynaptic activity `x_i(t)` (the input, or `z_i(t - dt)`), each neuron's hidden
    state `h_j` (its floating state variables: `v`, and the threshold adaptation `a` of ALIF)
    carries an eligibility vector, and the synapse an eligibility trace:

        ε_ji(t) = (∂h_j(t)/∂h_j(t-dt)) ε_ji(t-dt) + (∂h_j(t)/∂I_j(t)) x_i(t)
        e_ji(t) = (∂z_j(t)/∂h_j(t-dt)) ε_ji(t-dt) + (∂z_j(t)/∂I_j(t)) x_i(t)
        ∂E/∂W_ji = Σ_t L_j(t) ē_ji(t),   ē(t) = κ ē(t-dt) + e(t)
        L_j(t) = (1 - κ) R Σ_k B_jk (y_k(t) - y*_k(t))

    The neuron derivatives are those of the model's own step, taken by forward-mode
    differentiation (the spike's derivative is the surrogate `spike_fn`; with
    `detach_reset=False` the reset enters `∂h/∂h`). With `B = W_out` (symmetric e-prop, the
    default) this is exactly the gradient of `E` in which the recurrent spikes `z(t - dt)` are
    treated as constants in `I(t)` (the truncation of e-prop); a fixed random `B`
    (`random_feedback`) gives random e-prop. The readout weights get their exact gradient
    `Σ_t z̄_j(t) (1 - κ) R (y_k(t) - y*_k(t))`, `z̄` the κ-filtered spikes. Memory is
    `O(d · (n_in + n) · n)` whatever the number of steps; nothing is stored per step.

    With `c_reg > 0` the firing-rate regulariser of Bellec et al. (Methods, "Firing rate
    regularization") in the form of NEST's `eprop_iaf` is added: each neuron's rate is
    low-pass filtered and pulled towards `f_target`,

        f_j(t) = κ_reg f_j(t-dt) + (1 - κ_reg) z_j(t) / dt,   κ_reg = exp(-dt / τ_reg)
        E_reg = ½ c_reg Σ_t dt Σ_j (f_j(t) - f_target)²
        ∂E_reg/∂W_ji = c_reg Σ_t (f_j(t) - f_target) ē^reg_ji(t),
        ē^reg(t) = κ_reg ē^reg(t-dt) + (1 - κ_reg) e(t)

    (`f` in spikes/ms, `f_target` given in Hz; `c_reg` in ms), which is again the exact
    gradient of `E_reg` with the recurrent spikes in `I(t)` held constant. The returned loss is
    `E + E_reg`. At `dt = 1` ms this is the rule of NEST 3.10's `eprop_iaf` (its `kappa_reg`
    is `κ_reg`, its `c_reg` this `c_reg`), apart from the one-step offsets of NEST's
    event-driven histories; NEST compares the rate in spikes/ms with `f_target · dt`, which
    agree only at `dt = 1` ms.

    Args:
        net: the network.
        input_series: inputs, `(T, n_in)`; batches go through `jax.vmap`.
        target_series: targets `y*` (mV), `(T, n_out)`.
        dt: time step (ms, > 0).
        feedback: `B`, `(n, n_out)`; `None` for symmetric e-prop (`B = W_out`).
        state: initial state (default `net.init()`).
        t0: time of the first step (ms).
        c_reg: firing-rate regularisation coefficient (ms, >= 0); 0 turns it off.
        f_target: target rate of the regulariser (Hz, >= 0).
        tau_reg: time constant of the rate filter (ms, > 0); NEST's `kappa_reg = 0.97` at
            `dt = 1` ms is `tau_reg = -1 / ln 0.97 ≈ 32.8` ms.

    Returns:
        (tuple): `(loss, grads, final_state)`; `loss` is `E + E_reg`, `grads` has the
            structure of `equinox.filter(net, equinox.is_inexact_array)` with the weight
            gradients filled in and zeros for the neuron and readout parameters.

    Examples:
        >>> import jax, jax.numpy as jnp, brainsim as bs
        >>> net = bs.train.RecurrentSNN.create(2, 8, 1, key=jax.random.key(0))
        >>> x = (jax.random.uniform(jax.random.key(1), (50, 2)) < 0.2).astype(float)
        >>> loss, grads, _ = bs.train.eprop_value_and_grad(net, x, jnp.ones((50, 1)), dt=1.0)
        >>> grads.w_rec.shape
        (8, 8)

    Reference: Bellec, Scherr, Subramoney, Hajek, Salaj, Legenstein & Maass (2020), *A solution
    to the learning dilemma for recurrent networks of spiking neurons*, Nat. Commun. 11:3625.
    """
    if not isinstance(net, RecurrentSNN):
        raise TypeError(f"`net` must be a brainsim.train.RecurrentSNN, got {type(net).__name__}.")
    if not dt > 0:
        raise ValueError(f"`dt` must be a positive time step (ms), got {dt!r}.")
    n_in, n = net.w_in.shape
    n_out = net.w_out.shape[1]
    if jnp.ndim(input_series) != 2 or jnp.shape(input_series)[1] != n_in:
        raise ValueError(
            f"`input_series` must have shape (T, {n_in}), got {jnp.shape(input_series)}; "
            "batch with jax.vmap."
        )
    if jnp.shape(target_series) != (jnp.shape(input_series)[0], n_out):
        raise ValueError(
            f"`target_series` must have shape ({jnp.shape(input_series)[0]}, {n_out}), got "
            f"{jnp.shape(target_series)}."
        )
    if feedback is not None and jnp.shape(feedback) != (n, n_out):
        raise ValueError(f"`feedback` must have shape ({n}, {n_out}), got {jnp.shape(feedback)}.")
    check_positive("c_reg", c_reg, allow_zero=True)
    check_positive("f_target", f_target, allow_zero=True)
    check_positive("tau_reg", tau_reg)
    regularize = not (isinstance(c_reg, int | float) and c_reg == 0)
    state = net.init() if state is None else state
    kappa = jnp.exp(-dt / net.readout.tau_m)
    gain = (1.0 - kappa) * net.readout.R
    feedback = net.w_out if feedback is None else jnp.asarray(feedback)
    w_rec = net.w_rec * (1.0 - jnp.eye(n, dtype=net.w_rec.dtype))
    d = sum(jnp.issubdtype(x.dtype, jnp.floating) for x in jax.tree.leaves(state.neurons))
    dtype = state.spikes.dtype
    kappa_reg = jnp.exp(-dt / jnp.asarray(tau_reg, dtype))
    rate_target = jnp.asarray(f_target, dtype) / 1000.0  # Hz to spikes/ms
    traces = _Traces(
        eps_in=jnp.zeros((d, n_in, n), dtype),
        eps_rec=jnp.zeros((d, n, n), dtype),
        ebar_in=jnp.zeros((n_in, n), dtype),
        ebar_rec=jnp.zeros((n, n), dtype),
        zbar=jnp.zeros((n,), dtype),
        ereg_in=jnp.zeros((n_in if regularize else 0, n), dtype),
        ereg_rec=jnp.zeros((n if regularize else 0, n), dtype),
        rate=jnp.zeros((n,), dtype),
    )
    zeros = (jnp.zeros_like(net.w_in), jnp.zeros_like(w_rec), jnp.zeros_like(net.w_out))

    def one_step(carry, inputs):
        state, tr, loss, (g_in, g_rec, g_out) = carry
        x, target, k = inputs
        pre_rec = state.spikes
        current = x @ net.w_in + pre_rec @ w_rec
        neurons, z, dh_dh, dh_di, dz_dh, dz_di = _step_jacobians(
            net.neuron, state.neurons, current, t0 + k * dt, dt
        )

        def advance(eps, pre):
            # The sums over the d (static, small) state variables written out: as einsums, n
            # would be a batch dimension of n small matrix products.
            e = sum(dz_dh[c][None] * eps[c] for c in range(d)) + pre[:, None] * dz_di
            eps = jnp.stack([sum(dh_dh[o, c][None] * eps[c] for c in range(d)) for o in range(d)])
            eps = eps + pre[None, :, None] * dh_di[:, None]
            return eps, e

        eps_in, e_in = advance(tr.eps_in, x)
        eps_rec, e_rec = advance(tr.eps_rec, pre_rec)
        readout, y = net.readout.step(state.readout, z @ net.w_out, t=t0 + k * dt, dt=dt)
        error = y - target
        signal = gain * (feedback @ error)  # learning signal L_j, (n,)
        rate = kappa_reg * tr.rate + (1.0 - kappa_reg) * z / dt
        tr = _Traces(
            eps_in=eps_in,
            eps_rec=eps_rec,
            ebar_in=kappa * tr.ebar_in + e_in,
            ebar_rec=kappa * tr.ebar_rec + e_rec,
            zbar=kappa * tr.zbar + z,
            ereg_in=kappa_reg * tr.ereg_in + (1.0 - kappa_reg) * e_in if regularize else tr.ereg_in,
            ereg_rec=(
                kappa_reg * tr.ereg_rec + (1.0 - kappa_reg) * e_rec if regularize else tr.ereg_rec
            ),
            rate=rate,
        )
        loss = loss + 0.5 * jnp.sum(error**2)
        if regularize:
            pull = c_reg * (rate - rate_target)  # (n,)
            g_in = g_in + (tr.ebar_in * signal + tr.ereg_in * pull)
            g_rec = g_rec + (tr.ebar_rec * signal + tr.ereg_rec * pull)
            loss = loss + 0.5 * c_reg * dt * jnp.sum((rate - rate_target) ** 2)
        else:
            g_in = g_in + tr.ebar_in * signal
            g_rec = g_rec + tr.ebar_rec * signal
        grads = (g_in, g_rec, g_out + gain * tr.zbar[:, None] * error[None, :])
        state = RecurrentState(neurons=neurons, spikes=z, readout=readout)
        return (state, tr, loss, grads), None

    steps = jnp.shape(input_series)[0]
    carry = (state, traces, jnp.zeros((), dtype), zeros)
    (state, _, loss, (g_in, g_rec, g_out)), _ = jax.lax.scan(
        one_step,
        carry,
        (jnp.asarray(input_series, dtype), jnp.asarray(target_series, dtype), jnp.arange(steps)),
    )
    grads = jax.tree.map(jnp.zeros_like, eqx.filter(net, eqx.is_inexact_array))
    grads = eqx.tree_at(
        lambda g: (g.w_in, g.w_rec, g.w_out),
        grads,
        (g_in, g_rec * (1.0 - jnp.eye(n, dtype=dtype)), g_out),
    )
    return loss, grads, state
