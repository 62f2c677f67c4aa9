"""Oja's rule finds the first principal component; the subspace rule finds the top-k subspace.

Zero-mean Gaussian inputs in 8 dimensions with a known covariance (a random rotation of the
standard deviations 3, 2.2, 1.6, 0.6, 0.5, 0.4, 0.3, 0.2) are presented one sample at a time.
`Oja` (one linear unit) learns a weight vector whose cosine with the first principal component
of the data (numpy's SVD) approaches 1 and whose norm approaches 1; `Subspace` (k = 3 units)
learns weight rows whose principal angles to the top-3 SVD subspace approach 0. Learning is a
`jax.lax.scan` over samples, recorded every `--every` samples. Run:

    python examples/hebbian_subspace.py               # writes hebbian_subspace.png
    python examples/hebbian_subspace.py --samples 50000 --rate 5e-4 --out pca.png
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from brainsim.plasticity import Oja, Subspace  # noqa: E402

STD = np.array([3.0, 2.2, 1.6, 0.6, 0.5, 0.4, 0.3, 0.2])   # along the principal axes
K = 3                                                       # units of the subspace rule


def gaussian_data(n_samples: int, seed: int = 0):
    """Samples `(n_samples, 8)` and the principal axes of their covariance (columns, by
    decreasing variance): `x = B diag(STD) z` with `z` standard normal and `B` a random
    rotation, so the covariance is `B diag(STD²) Bᵀ`."""
    rng = np.random.default_rng(seed)
    axes, _ = np.linalg.qr(rng.normal(size=(STD.size, STD.size)))
    x = (rng.normal(size=(n_samples, STD.size)) * STD) @ axes.T
    return (x - x.mean(axis=0)).astype(np.float32), axes


def learn(rule, w0, xs, every: int):
    """Weights every `every` samples, one `rule.update` per sample: `(n_records, *w.shape)`."""
    def one_sample(w, x):
        return rule.update(w, x), None

    def block(w, x_block):
        w, _ = jax.lax.scan(one_sample, w, x_block)
        return w, w

    n_records = xs.shape[0] // every
    blocks = jnp.asarray(xs[: n_records * every]).reshape(n_records, every, xs.shape[1])
    _, history = jax.jit(lambda w, b: jax.lax.scan(block, w, b))(jnp.asarray(w0), blocks)
    return np.asarray(history)


def principal_angles(W, basis) -> np.ndarray:
    """Principal angles (degrees, ascending) between the row space of `W` `(k, n)` and the
    column space of `basis` `(n, k)`."""
    q, _ = np.linalg.qr(W.T)
    cosines = np.linalg.svd(q.T @ basis, compute_uv=False)
    return np.sort(np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000, help="number of input samples")
    parser.add_argument("--rate", type=float, default=1e-3, help="learning rate η")
    parser.add_argument("--every", type=int, default=100, help="record every this many samples")
    parser.add_argument("--out", default="hebbian_subspace.png", help="figure file to write")
    args = parser.parse_args()

    xs, true_axes = gaussian_data(args.samples)
    _, _, vt = np.linalg.svd(xs, full_matrices=False)          # the data's principal axes
    rng = np.random.default_rng(1)
    oja = learn(Oja(learning_rate=args.rate), rng.normal(size=STD.size) * 0.1, xs, args.every)
    sub = learn(Subspace(learning_rate=args.rate), rng.normal(size=(K, STD.size)) * 0.1, xs,
                args.every)
    seen = args.every * np.arange(1, oja.shape[0] + 1)

    norms = np.linalg.norm(oja, axis=1)
    cosine = np.abs(oja @ vt[0]) / norms
    angles = np.array([principal_angles(W, vt[:K].T) for W in sub])
    w, W = oja[-1], sub[-1]
    print(f"{args.samples} samples, η = {args.rate:g}")
    print(f"Oja: |cos(w, first PC)| = {cosine[-1]:.5f}, |w| = {norms[-1]:.4f} "
          f"(cosine with the covariance's first axis {abs(w @ true_axes[:, 0]) / norms[-1]:.5f})")
    print("Subspace (k = 3): principal angles to the top-3 SVD subspace = "
          + ", ".join(f"{a:.2f}" for a in angles[-1]) + " degrees; "
          f"max |W Wᵀ - I| = {np.abs(W @ W.T - np.eye(K)).max():.1e}")

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    left.plot(seen, np.degrees(np.arccos(np.clip(cosine, 0.0, 1.0))), label="angle to first PC")
    left.set(xlabel="samples presented", ylabel="angle (degrees)", xscale="log", yscale="log",
             title="Oja's rule")
    norm_axis = left.twinx()
    norm_axis.plot(seen, norms, "--", color="C1", label="|w| (right axis)")
    norm_axis.set(ylabel="|w|", ylim=(0.0, 1.2))
    left.legend(handles=left.lines + norm_axis.lines, loc="upper right")
    for a in range(K):
        right.plot(seen, angles[:, a], label=f"principal angle {a + 1}")
    right.set(xlabel="samples presented", xscale="log",
              title=f"subspace rule, k = {K}, to the top-{K} SVD subspace")
    right.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
