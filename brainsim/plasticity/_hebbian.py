"""Hebbian rate rules that extract principal components: Oja's rule and the subspace rule."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from brainsim._validation import as_param, check_positive


def _check_input(name: str, x, n: int) -> Array:
    x = jnp.asarray(x)
    if x.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},) (one value per input), got {x.shape}.")
    return x


class Oja(eqx.Module):
    """Oja's rule: a linear neuron whose weight vector converges to the first principal component.

        y = w · x
        w ← w + learning_rate · y · (x - y · w)

    For zero-mean inputs and a small enough rate, `w` converges to the unit-norm eigenvector of
    the input covariance with the largest eigenvalue. The rule acts on rates (or any
    activities) and a dense weight vector; it has no traces: `update(w, x) -> w` is pure, and a
    run over samples is a `jax.lax.scan`.

    Attributes:
        learning_rate: `η` (1 / (input unit)², > 0).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.plasticity import Oja
        >>> xs = jax.random.normal(jax.random.key(0), (5000, 2)) * jnp.array([3.0, 0.5])
        >>> oja = Oja(learning_rate=0.002)
        >>> w, _ = jax.lax.scan(lambda w, x: (oja.update(w, x), None), jnp.array([0.6, 0.8]), xs)
        >>> [round(abs(float(v)), 1) for v in w]
        [1.0, 0.0]

    Reference: Oja (1982), J. Math. Biol. 15:267.
    """

    learning_rate: Float[Array, ""] = eqx.field(default=1e-3, converter=as_param)

    def __check_init__(self):
        check_positive("learning_rate", self.learning_rate)

    def update(self, w: Float[Array, " n"], x: Float[Array, " n"]) -> Float[Array, " n"]:
        """One step for input `x` (shape `(n,)`); returns the new weights `w` (shape `(n,)`)."""
        w = jnp.asarray(w)
        if w.ndim != 1:
            raise ValueError(f"`w` must be a weight vector of shape (n,), got {w.shape}.")
        x = _check_input("x", x, w.shape[0])
        y = w @ x
        return w + self.learning_rate * y * (x - y * w)


class Subspace(eqx.Module):
    """Oja's subspace rule: `k` linear units whose weight rows span the top-`k` principal subspace.

        y = W x
        W ← W + learning_rate · (y xᵀ - y yᵀ W)

    `W` has shape `(k, n)`: row `a` holds the input weights of output unit `a` (for lateral
    weights between populations, the projection from `n` inputs onto `k` units). For zero-mean
    inputs the rows converge to an orthonormal basis of the subspace of the `k` leading
    eigenvectors of the input covariance (the basis itself is not unique). Pure and stateless,
    like `Oja`; with `k = 1` it is Oja's rule. `delta` gives the batch-mean step for many
    inputs at once; `LateralSubspace` (HLOP's lateral neurons) is built on it.

    Attributes:
        learning_rate: `η` (1 / (input unit)², > 0).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from brainsim.plasticity import Subspace
        >>> xs = jax.random.normal(jax.random.key(0), (4000, 3)) * jnp.array([3.0, 2.0, 0.3])
        >>> rule = Subspace(learning_rate=0.002)
        >>> W0 = jnp.array([[0.6, 0.0, 0.8], [0.0, 0.6, 0.8]])
        >>> W, _ = jax.lax.scan(lambda W, x: (rule.update(W, x), None), W0, xs)
        >>> round(float(jnp.linalg.norm(W[:, 2])), 1)     # no weight on the smallest direction
        0.0

    Reference: Oja (1989), Int. J. Neural Syst. 1:61.
    """

    learning_rate: Float[Array, ""] = eqx.field(default=1e-3, converter=as_param)

    def __check_init__(self):
        check_positive("learning_rate", self.learning_rate)

    def update(self, W: Float[Array, "k n"], x: Float[Array, " n"]) -> Float[Array, "k n"]:
        """One step for input `x` (shape `(n,)`); returns the new weights `W` (shape `(k, n)`)."""
        x = _check_input("x", x, _check_weights(W).shape[1])
        return W + self.learning_rate * self.delta(W, x)

    def delta(
        self,
        W: Float[Array, "k n"],
        X: Float[Array, "*batch n"],
        Y: Float[Array, "*batch k"] | None = None,
    ) -> Float[Array, "k n"]:
        """The batch-mean step without the learning rate: `Yᵀ (X - Y W) / B`.

        `X` holds `B` input vectors as rows, `(B, n)` (or one vector, `(n,)`); `Y = X Wᵀ` are
        the units' responses unless given (e.g. spike-coded responses, see
        `LateralSubspace`). For one vector this is `y xᵀ - y yᵀ W`, the step of `update`.
        """
        W = _check_weights(W)
        X = jnp.asarray(X)
        if X.shape[-1:] != W.shape[1:] or X.ndim > 2:
            raise ValueError(
                f"`X` must have shape (n,) or (B, n) with n = {W.shape[1]}, got {X.shape}."
            )
        X = jnp.atleast_2d(X)
        Y = X @ W.T if Y is None else jnp.atleast_2d(Y)
        if Y.shape != (X.shape[0], W.shape[0]):
            raise ValueError(
                f"`Y` must have shape {(X.shape[0], W.shape[0])} (one response per unit and "
                f"input), got {Y.shape}."
            )
        return Y.T @ (X - Y @ W) / X.shape[0]

    def delta_from_moment(
        self,
        W: Float[Array, "k n"],
        C: Float[Array, "n n"],
        units: Float[Array, "u n"] | None = None,
    ) -> Float[Array, "u n"]:
        """The batch-mean step from the input's second moment `C = XᵀX / B`: `W C - W C Wᵀ W`.

        Equal to `delta(W, X)` for linear units (`Y = X Wᵀ`); cheaper when a batch has more
        rows than inputs and several steps reuse `C`. With `units` (some rows `U` of `W`), only
        their step is computed, `U C - U C Wᵀ W`: the reconstruction still uses every row.
        """
        W = _check_weights(W)
        C = jnp.asarray(C)
        if C.shape != (W.shape[1], W.shape[1]):
            raise ValueError(f"`C` must have shape {(W.shape[1],) * 2}, got {C.shape}.")
        UC = (W if units is None else units) @ C
        return UC - (UC @ W.T) @ W


def _check_weights(W) -> Array:
    W = jnp.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"`W` must be a (k, n) weight matrix, got shape {W.shape}.")
    return W
