"""HLOP's lateral subspace neurons: a Hebbian subspace grown for each task, frozen after it."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from brainsim._validation import as_param, check_positive
from brainsim.plasticity._hebbian import Subspace


class LateralSubspaceState(NamedTuple):
    """State of the lateral subspace neurons of one layer.

    Rows of `H` are preallocated (`k_max` of them) so that shapes stay fixed under `jax.jit`;
    rows that are not `active` are zero and take no part.

    Attributes:
        H: lateral weights, one row per subspace neuron, `(k_max, n)` (unit: 1 / input unit).
        velocity: exponential average of the Hebbian steps (the momentum), `(k_max, n)`.
        active: rows in use (frozen ones and those learning the current task), `(k_max,)`.
        frozen: rows consolidated at the end of an earlier task, `(k_max,)`.
    """

    H: Float[Array, "k_max n"]
    velocity: Float[Array, "k_max n"]
    active: Bool[Array, " k_max"]
    frozen: Bool[Array, " k_max"]


def signed_rate_code(
    y: Float[Array, "*shape"], steps: int, full_scale: float | Float[Array, ""]
) -> Float[Array, "*shape"]:
    """The response `y` as read out from a burst of spikes of signed integrate-and-fire neurons.

    Each value drives an integrate-and-fire neuron (threshold 1, reset by subtraction, initial
    potential 1/2) with the constant input `|y| / full_scale` per step, clipped to 1, for
    `steps` steps; the sign selects a positive or a negative neuron. The neuron emits
    `floor(steps · min(|y| / full_scale, 1) + 1/2)` spikes, the count rounded to the nearest
    integer, and the read-out is

        `y_q = sign(y) · count / steps · full_scale`,

    i.e. `y` clipped to `[-full_scale, full_scale]` and quantised to `2 · steps + 1` levels.
    This is the closed form of the spike count, so no time loop runs.

    Args:
        y: responses (any shape, unit of `full_scale`).
        steps: `T_s`, number of steps in the burst (int > 0).
        full_scale: `S`, the response read out from a spike at every step (> 0).

    Examples:
        >>> import jax.numpy as jnp
        >>> from brainsim.plasticity import signed_rate_code
        >>> signed_rate_code(jnp.array([0.2, 0.8, -3.0, 50.0]), steps=4, full_scale=2.0)
        Array([ 0.,  1., -2.,  2.], dtype=float32)

    Reference: Xiao et al. (2024), ICLR, section 4.2 (spiking lateral neurons).
    """
    if not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"`steps` must be a positive int, got {steps!r}.")
    drive = jnp.minimum(jnp.abs(y) / full_scale, 1.0)
    count = jnp.floor(steps * drive + 0.5)
    return jnp.sign(y) * count / steps * full_scale


def _svd_of_span(rows: Float[Array, "m n"]):
    """`(u, kept, vt)`: the SVD of `rows` (zero rows allowed) and which singular values are
    above the rounding level, i.e. which right singular vectors span the rows."""
    u, sigma, vt = jnp.linalg.svd(rows, full_matrices=False)
    kept = sigma > jnp.max(sigma) * max(rows.shape) * jnp.finfo(rows.dtype).eps
    return u, kept, vt


def _outside_span(x: Float[Array, "k n"], rows: Float[Array, "m n"]) -> Float[Array, "k n"]:
    """`x` with the span of `rows` (zero rows allowed, not necessarily orthonormal) removed."""
    _, kept, vt = _svd_of_span(rows)
    basis = jnp.where(kept[:, None], vt, 0.0)
    return x - (x @ basis.T) @ basis


class LateralSubspace(eqx.Module):
    """Lateral subspace neurons of one layer: the Hebbian half of HLOP.

    `k` lateral neurons with weights `H` (`(k, n)`) respond to the layer's presynaptic
    activity `x` with `y = H x` and feed back `-Hᵀ y`. On each batch `X` (`(B, n)`, one
    activity vector a row) the rows of `H` that belong to the current task learn by Oja's
    subspace rule (`Subspace.delta`), with the published clamp and momentum, `iterations`
    times:

        Y = X Hᵀ                                   (every active row, frozen ones too)
        Δ = clip(Yᵀ (X - Y H) / B, -clip, clip),   Δ = 0 on frozen rows
        M = momentum · M + (1 - momentum) · Δ       (rows that learn)
        H = H + learning_rate · M                   (rows that learn)

    Because the reconstruction `Y H` uses the frozen rows, new rows learn the principal
    subspace of the residual `x - H₀ᵀ H₀ x`. Over a task the learning rows converge to an
    orthonormal basis of the top subspace of `E[x xᵀ]` (the data is not centred). A task starts
    with `grow` (new rows, orthonormal among themselves) and ends with `consolidate` (they are
    frozen); `basis` gives the frozen rows, against which `brainsim.train.orthogonal_projection`
    projects the weight updates of later tasks.

    For linear lateral neurons and batches with many more rows than inputs, the step is
    computed from the batch's second moment `XᵀX / B` (`Subspace.delta_from_moment`), the same
    step at a fraction of the cost; `update_from_moment` takes that moment directly (e.g.
    summed over the steps of a trial). With `spike_steps` set, the lateral neurons are spiking:
    `Y` is replaced by its signed rate code over `spike_steps` steps with full scale
    `full_scale` (`signed_rate_code`).

    Stability and convergence (rule of thumb from the reference code): `learning_rate ·
    λ_max ≲ 0.5` and `learning_rate · λ_k · (Hebbian steps) ≳ 5`, with `λ` the eigenvalues of
    `E[x xᵀ]`; `orthonormality_error` (`max |H Hᵀ - I|`) should fall to ≲ 0.05-0.1.

    Args:
        learning_rate: `η` (1 / (input unit)², > 0); 0.001-0.05 in the reference code.
        momentum: factor of the exponential average (in [0, 1)).
        clip: bound on each entry of `Δ` (> 0).
        iterations: Hebbian iterations per batch (int > 0).
        spike_steps: `T_s` for spiking lateral neurons (int > 0), or `None` for linear ones.
        full_scale: `S`, the response coded by a spike at every step (> 0; spiking only).
        window: the most rows that learn at once (int > 0, at least the largest `grow`), or
            `None`. Rows are frozen from the first one on, so the learning rows are a window
            after them; with a window only those rows' steps are computed, which saves most of
            the work once many rows are frozen (linear lateral neurons).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.plasticity import LateralSubspace
        >>> x = jax.random.normal(jax.random.key(0), (256, 6)) * jnp.array([3, 2, 1, .1, .1, .1])
        >>> lateral = LateralSubspace(learning_rate=0.02)
        >>> state = lateral.grow(lateral.init(6, k_max=4), 2, key=jax.random.key(1))
        >>> for _ in range(40):
        ...     state = lateral.update(state, x)
        >>> state = lateral.consolidate(state)
        >>> float(lateral.orthonormality_error(state)) < 0.05
        True
        >>> float(jnp.abs(lateral.basis(state)[:, 2:]).max()) < 0.05   # top-2 subspace
        True

    Reference: Xiao, Meng, Zhang, He & Lin (2024), *Hebbian learning based orthogonal
    projection for continual learning of spiking neural networks*, ICLR; Oja (1989).
    """

    subspace: Subspace
    momentum: Float[Array, ""] = eqx.field(converter=as_param)
    clip: Float[Array, ""] = eqx.field(converter=as_param)
    full_scale: Float[Array, ""] = eqx.field(converter=as_param)
    iterations: int = eqx.field(static=True)
    spike_steps: int | None = eqx.field(static=True)
    window: int | None = eqx.field(static=True)

    def __init__(
        self,
        learning_rate: float = 0.01,
        *,
        momentum: float = 0.9,
        clip: float = 10.0,
        iterations: int = 5,
        spike_steps: int | None = None,
        full_scale: float = 20.0,
        window: int | None = None,
    ):
        self.subspace = Subspace(learning_rate=learning_rate)
        self.momentum = momentum
        self.clip = clip
        self.full_scale = full_scale
        self.iterations = iterations
        self.spike_steps = spike_steps
        self.window = window

    def __check_init__(self):
        check_positive("clip", self.clip)
        check_positive("full_scale", self.full_scale)
        m = self.momentum
        if not isinstance(m, jax.core.Tracer) and not bool(jnp.all((m >= 0) & (m < 1))):
            raise ValueError(f"`momentum` must be in [0, 1), got {m}.")
        if not isinstance(self.iterations, int) or self.iterations <= 0:
            raise ValueError(f"`iterations` must be a positive int, got {self.iterations!r}.")
        if self.window is not None and (not isinstance(self.window, int) or self.window <= 0):
            raise ValueError(f"`window` must be a positive int or None, got {self.window!r}.")
        if self.spike_steps is not None and (
            not isinstance(self.spike_steps, int) or self.spike_steps <= 0
        ):
            raise ValueError(
                f"`spike_steps` must be a positive int or None, got {self.spike_steps!r}."
            )

    @property
    def learning_rate(self) -> Float[Array, ""]:
        """`η`, held by the underlying `Subspace` rule."""
        return self.subspace.learning_rate

    def init(self, n: int, k_max: int, dtype=None) -> LateralSubspaceState:
        """No subspace neurons yet: room for `k_max` rows over `n` inputs (ints > 0)."""
        for name, value in (("n", n), ("k_max", k_max)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
        dtype = jnp.result_type(float) if dtype is None else dtype
        zeros = jnp.zeros((k_max, n), dtype)
        no_rows = jnp.zeros(k_max, bool)
        return LateralSubspaceState(zeros, zeros, no_rows, no_rows)

    def grow(
        self, state: LateralSubspaceState, k: int, *, key: PRNGKeyArray
    ) -> LateralSubspaceState:
        """Add `k` rows (a Python int) for a new task after the rows in use: a Gaussian matrix
        with the span of the rows in use removed, then orthonormalised (QR), so the new rows
        are orthonormal among themselves and to the old ones even where the residual activity
        is too weak for them to move. Raises if fewer than `k` rows are free."""
        k_max, n = state.H.shape
        if not isinstance(k, int) or not 0 < k <= min(k_max, n):
            raise ValueError(f"`k` must be an int in [1, {min(k_max, n)}], got {k!r}.")
        if self.window is not None and k > self.window:
            raise ValueError(f"`k` ({k}) exceeds the `window` of learning rows ({self.window}).")
        start = jnp.sum(state.active)
        free = eqx.error_if(
            start, start + k > k_max, f"no room to grow {k} rows: `k_max` ({k_max}) is used up"
        )
        if self.window is not None:
            free = eqx.error_if(
                free,
                start + k - jnp.sum(state.frozen) > self.window,
                f"more learning rows than the `window` ({self.window}): consolidate first",
            )
        gaussian = jax.random.normal(key, (k, n), state.H.dtype)
        q, _ = jnp.linalg.qr(_outside_span(gaussian, state.H).T)
        H = jax.lax.dynamic_update_slice(state.H, q.T, (free, 0))
        velocity = jax.lax.dynamic_update_slice(state.velocity, jnp.zeros_like(q.T), (free, 0))
        rows = jnp.arange(k_max)
        active = state.active | ((rows >= free) & (rows < free + k))
        return LateralSubspaceState(H, velocity, active, state.frozen)

    def consolidate(self, state: LateralSubspaceState) -> LateralSubspaceState:
        """End of a task: every active row is frozen (the momentum is cleared).

        The active rows are replaced by the nearest orthonormal rows with the same span
        (`U Vᵀ` from the SVD `H = U S Vᵀ`; a change of the order of `orthonormality_error`),
        so that `Hᵀ H` is an exact projector: rows that are not quite orthonormal would make
        the projection of later updates overshoot along old directions. From then on the
        frozen rows do not change."""
        u, kept, vt = _svd_of_span(state.H)
        nearest = (u * kept) @ vt
        H = jnp.where((state.active & ~state.frozen)[:, None], nearest, state.H)
        return LateralSubspaceState(H, jnp.zeros_like(state.velocity), state.active, state.active)

    def responses(self, state: LateralSubspaceState, X: Float[Array, "B n"]) -> Float[Array, "B k"]:
        """`Y = X Hᵀ`, or its signed rate code when the lateral neurons spike."""
        Y = X @ state.H.T
        if self.spike_steps is None:
            return Y
        return signed_rate_code(Y, self.spike_steps, self.full_scale)

    def update(self, state: LateralSubspaceState, X: Float[Array, "*B n"]) -> LateralSubspaceState:
        """`iterations` Hebbian steps on the batch `X` (`(B, n)` or `(n,)`)."""
        X = jnp.atleast_2d(jnp.asarray(X, state.H.dtype))
        if X.ndim != 2 or X.shape[1] != state.H.shape[1]:
            raise ValueError(
                f"`X` must have shape (B, {state.H.shape[1]}) (one activity vector a row), "
                f"got {X.shape}."
            )
        (k, n), rows, steps = state.H.shape, X.shape[0], self.iterations
        units = k if self.window is None else self.window
        moment_cost = rows * n * n + steps * (units * n * n + 2 * units * k * n)
        if self.spike_steps is None and moment_cost < 3 * steps * rows * k * n:
            return self.update_from_moment(state, X.T @ X / rows)

        def hebbian_step(H):
            return self.subspace.delta(H, X, self.responses(state._replace(H=H), X))

        learning = state.active & ~state.frozen
        H, velocity = self._iterate(hebbian_step, state.H, state.velocity, learning)
        return state._replace(H=H, velocity=velocity)

    def update_from_moment(
        self, state: LateralSubspaceState, C: Float[Array, "n n"]
    ) -> LateralSubspaceState:
        """`iterations` Hebbian steps given the batch's second moment `C = XᵀX / B` (`(n, n)`),
        e.g. accumulated over the steps of a trial; linear lateral neurons only. Same result as
        `update(state, X)`; with `window` set, only the window of learning rows is computed."""
        if self.spike_steps is not None:
            raise ValueError("spiking lateral neurons need the activity itself: use `update`.")
        C = jnp.asarray(C, state.H.dtype)
        k, n = state.H.shape
        learning = state.active & ~state.frozen
        if self.window is None or self.window >= k:
            H, velocity = self._iterate(
                lambda H: self.subspace.delta_from_moment(H, C), state.H, state.velocity, learning
            )
            return state._replace(H=H, velocity=velocity)
        start = jnp.sum(state.frozen)          # rows are frozen from the first one on
        rows = jax.lax.dynamic_slice(state.H, (start, 0), (self.window, n))
        velocity = jax.lax.dynamic_slice(state.velocity, (start, 0), (self.window, n))
        window_learning = jax.lax.dynamic_slice(learning, (start,), (self.window,))
        first = jnp.minimum(start, k - self.window)      # where dynamic_slice puts the window
        in_window = (jnp.arange(k) >= first) & (jnp.arange(k) < first + self.window)
        frozen = jnp.where(in_window[:, None], 0.0, state.H)

        def hebbian_step(window_rows):
            W = jax.lax.dynamic_update_slice(frozen, window_rows, (start, 0))
            return self.subspace.delta_from_moment(W, C, units=window_rows)

        rows, velocity = self._iterate(hebbian_step, rows, velocity, window_learning)
        H = jax.lax.dynamic_update_slice(state.H, rows, (start, 0))
        velocity = jax.lax.dynamic_update_slice(state.velocity, velocity, (start, 0))
        return state._replace(H=H, velocity=velocity)

    def _iterate(self, hebbian_step, H, velocity, learning):
        """`iterations` clipped, momentum-averaged steps of the rows where `learning` holds."""
        learning = learning[:, None]

        def iteration(_, carry):
            H, velocity = carry
            delta = jnp.where(learning, jnp.clip(hebbian_step(H), -self.clip, self.clip), 0.0)
            velocity = jnp.where(
                learning, self.momentum * velocity + (1 - self.momentum) * delta, velocity
            )
            return H + self.learning_rate * jnp.where(learning, velocity, 0.0), velocity

        return jax.lax.fori_loop(0, self.iterations, iteration, (H, velocity))

    def basis(self, state: LateralSubspaceState) -> Float[Array, "k_max n"]:
        """The frozen rows (the subspace of earlier tasks), other rows zero: `(k_max, n)`."""
        return jnp.where(state.frozen[:, None], state.H, 0.0)

    def project(self, state: LateralSubspaceState, x: Float[Array, "*B n"]) -> Float[Array, "*B n"]:
        """`x - x H₀ᵀ H₀`: the part of `x` outside the frozen subspace (the lateral feedback)."""
        basis = self.basis(state)
        return x - (x @ basis.T) @ basis

    def orthonormality_error(self, state: LateralSubspaceState) -> Float[Array, ""]:
        """`max |H Hᵀ - I|` over the active rows (0 for an orthonormal basis)."""
        gram = state.H @ state.H.T
        target = jnp.diag(state.active.astype(gram.dtype))
        both = state.active[:, None] & state.active[None, :]
        return jnp.max(jnp.where(both, jnp.abs(gram - target), 0.0))
