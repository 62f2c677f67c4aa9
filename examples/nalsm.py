"""Neuron-astrocyte liquid state machine (Ivanov & Michmizos 2021) on the 8x8 digits.

A liquid of LIF neurons on a grid (`brainsim.nalsm.build_liquid`) starts with every weight at
its maximum, 3; astrocyte-modulated STDP (`brainsim.plasticity.AstroSTDP`) run over
initialisation presentations (20 ms each) organises it; every digit is then presented for
250 ms with the plasticity annealed and the liquid's spike counts are the features of a
softmax-regression readout. The script compares, over liquid seeds:

- the branching factor as the astrocyte's gain w_A rises (it should fall monotonically);
- NALSM against LSM+STDP without the astrocyte (super-critical: a higher branching factor);
- NALSM against a static LSM (one weight magnitude for every synapse, no plasticity) at each
  weight of a sweep, and against logistic regression on the raw pixels.

The digits are scikit-learn's bundled 8x8 images (1797, offline), split 2:1 into training and
test sets; pixels scaled to [0, 1], then each image divided by its pixel sum and each split by
its largest value. Run:

    python examples/nalsm.py                  # 216 neurons, 450 digits: ~1 min of CPU time
    python examples/nalsm.py --full           # 1000 neurons, all digits, 5 seeds: ~1.5 h
    python examples/nalsm.py --full --seeds 2 --out nalsm_full.png
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from brainsim import nalsm  # noqa: E402


@dataclass(frozen=True)
class Config:
    grid: tuple[int, ...]
    n_digits: int           # digits used (train + test), 1797 = all
    n_init: int             # initialisation presentations (cycling through the training set)
    w_A: float              # the NALSM's astrocyte gain (retuned for 64 inputs)
    w_A_sweep: tuple[float, ...]
    static_weights: tuple[float, ...]
    bf_samples: int = 20    # digits whose feature-phase rasters give the branching factor
    l2: float = 1e-3        # readout weight penalty


SMALL = Config(grid=(6, 6, 6), n_digits=450, n_init=400, w_A=0.05,
               w_A_sweep=(0.005, 0.05, 0.2), static_weights=(0.6, 1.0, 1.4))
FULL = Config(grid=(10, 10, 10), n_digits=1797, n_init=2000, w_A=0.05,
              w_A_sweep=(0.002, 0.005, 0.015, 0.05, 0.1, 0.2),
              static_weights=(0.6, 0.8, 1.0, 1.2))


def load(n_digits: int, seed: int = 0):
    """Training and test intensities (normalised per split) and labels."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))[:n_digits]
    n_train = (2 * len(order)) // 3
    train, test = order[:n_train], order[n_train:]
    x = digits.data / 16.0
    return (np.asarray(nalsm.normalise_images(x[train])), digits.target[train],
            np.asarray(nalsm.normalise_images(x[test])), digits.target[test])


def evaluate(model, weights, data, key, l2):
    """Accuracy (%), branching factor, rate (Hz) and silent feature vectors of one model."""
    x_train, y_train, x_test, y_test = data
    k_train, k_test, k_bf = jax.random.split(key, 3)
    c_train = model.feature_matrix(weights, x_train, k_train)
    c_test = model.feature_matrix(weights, x_test, k_test)
    readout = nalsm.fit_readout(nalsm.normalise_counts(c_train), y_train, n_classes=10, l2=l2)
    return dict(
        accuracy=100 * readout.accuracy(nalsm.normalise_counts(c_test), y_test),
        bf=model.branching_factor(weights, x_train[:20], k_bf),   # the paper: 20 samples
        rate=nalsm.rate_hz(c_train, model.feature_duration),
        silent=int(np.sum(np.asarray(c_train).sum(1) == 0) + np.sum(np.asarray(c_test).sum(1)
                                                                    == 0)),
    )


def one_seed(seed: int, cfg: Config, data):
    """Every measurement of one liquid."""
    liquid = nalsm.build_liquid(jax.random.key(seed), data[0].shape[1], grid=cfg.grid)
    k_init, k_eval = jax.random.split(jax.random.key(1000 + seed))
    cycle = np.random.default_rng(seed).permutation(cfg.n_init) % len(data[0])
    init_images = data[0][cycle]
    out = {"seed": seed, "sweep": {}, "static": {}, "n_syn": liquid.conn.n_syn,
           "n_recurrent": liquid.recurrent().n_syn, "liquid": liquid}
    min_activity = np.inf
    for w_A in sorted(set(cfg.w_A_sweep) | {cfg.w_A}):
        model = nalsm.NALSM(liquid, liquid.rule(w_A=w_A))
        w, activity = model.initialise_with_activity(liquid.weights, init_images, k_init)
        min_activity = min(min_activity, float(np.min(activity)))
        if w_A == cfg.w_A:
            out["nalsm"] = evaluate(model, w, data, k_eval, cfg.l2)
            out["nalsm_weights"], out["nalsm_model"] = w, model
        if w_A in cfg.w_A_sweep:
            bf = out["nalsm"]["bf"] if w_A == cfg.w_A else model.branching_factor(
                w, data[0][:cfg.bf_samples], jax.random.fold_in(k_eval, 2))
            out["sweep"][w_A] = bf
    out["min_activity"] = min_activity
    ablation = nalsm.NALSM(liquid, liquid.rule(astrocyte=False))
    w = ablation.initialise(liquid.weights, init_images, k_init)
    out["ablation"] = evaluate(ablation, w, data, k_eval, cfg.l2)
    for magnitude in cfg.static_weights:
        static = liquid.with_magnitude(magnitude)
        out["static"][magnitude] = evaluate(nalsm.NALSM(static, None), static.weights, data,
                                            k_eval, cfg.l2)
    return out


def _ms(values):
    values = np.asarray(values, float)
    return f"{values.mean():.2f} ± {values.std():.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="1000 neurons, all 1797 digits, 2000 presentations, full sweeps")
    parser.add_argument("--seeds", type=int, default=None,
                        help="liquid seeds (default: 5 with --full, else 1)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="first liquid seed (to split the seeds over processes)")
    parser.add_argument("--digits", type=int, default=None, help="digits used (train + test)")
    parser.add_argument("--grid", type=int, nargs="+", default=None,
                        help="liquid grid shape (default 6 6 6; --full: 10 10 10)")
    parser.add_argument("--init", type=int, default=None,
                        help="initialisation presentations (default 400; --full: 2000)")
    parser.add_argument("--out", default="nalsm.png", help="figure file to write")
    args = parser.parse_args()
    cfg = FULL if args.full else SMALL
    overrides = {"n_digits": args.digits, "n_init": args.init,
                 "grid": None if args.grid is None else tuple(args.grid)}
    cfg = Config(**{**cfg.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    n_seeds = args.seeds or (5 if args.full else 1)
    data = load(cfg.n_digits)
    began = time.perf_counter()
    runs = []
    for seed in range(args.first_seed, args.first_seed + n_seeds):
        runs.append(one_seed(seed, cfg, data))
        r = runs[-1]
        summary = {"seed": seed, "nalsm": r["nalsm"], "ablation": r["ablation"],
                   "static": r["static"], "bf_vs_w_A": r["sweep"],
                   "min_activity": r["min_activity"], "seconds": time.perf_counter() - began}
        print(json.dumps(summary, default=float), flush=True)   # one line per seed
    elapsed = time.perf_counter() - began

    n_liquid = int(np.prod(cfg.grid))
    print(f"liquid: {n_liquid} neurons on a {'x'.join(map(str, cfg.grid))} grid, "
          f"{runs[0]['n_recurrent']} recurrent + {runs[0]['n_syn'] - runs[0]['n_recurrent']} "
          f"input synapses (seed {args.first_seed}); {len(data[1])} training / "
          f"{len(data[3])} test digits; "
          f"{cfg.n_init} initialisation presentations; {n_seeds} seed(s); {elapsed:.0f} s")
    print("branching factor vs w_A (mean ± sd over seeds):")
    sweep = {w_A: [r["sweep"][w_A] for r in runs] for w_A in cfg.w_A_sweep}
    for w_A, bfs in sweep.items():
        print(f"  w_A = {w_A:<6g}: BF {_ms(bfs)}")
    means = [np.mean(b) for b in sweep.values()]
    monotonic = all(a > b for a, b in zip(means, means[1:], strict=False))
    print(f"  falls monotonically: {'yes' if monotonic else 'no'}")

    def line(label, key):
        rows = [r[key] for r in runs]
        print(f"{label:32s} accuracy {_ms([x['accuracy'] for x in rows])} %, "
              f"BF {_ms([x['bf'] for x in rows])}, rate {_ms([x['rate'] for x in rows])} Hz")

    line(f"NALSM (w_A = {cfg.w_A:g}):", "nalsm")
    line("LSM+STDP (no astrocyte):", "ablation")
    for magnitude in cfg.static_weights:
        rows = [r["static"][magnitude] for r in runs]
        print(f"{'static LSM, weight ' + format(magnitude, 'g') + ':':32s} accuracy "
              f"{_ms([x['accuracy'] for x in rows])} %, BF {_ms([x['bf'] for x in rows])}, "
              f"rate {_ms([x['rate'] for x in rows])} Hz")
    best_static = [max(r["static"].values(), key=lambda x: x["accuracy"])["accuracy"]
                   for r in runs]
    print(f"{'best static LSM per seed:':32s} accuracy {_ms(best_static)} %")
    x_train, y_train, x_test, y_test = data
    pixels = 100 * nalsm.fit_readout(x_train, y_train, n_classes=10, l2=cfg.l2).accuracy(
        x_test, y_test)
    print(f"{'raw pixels (logistic regression):':32s} accuracy {pixels:.2f} %")
    nal = np.array([r["nalsm"]["accuracy"] for r in runs])
    abl = np.array([r["ablation"]["accuracy"] for r in runs])
    d_bf = np.array([r["ablation"]["bf"] - r["nalsm"]["bf"] for r in runs])
    print(f"ablation minus NALSM: BF {_ms(d_bf)} (super-critical without the astrocyte: "
          f"{'yes' if d_bf.mean() >= 0.1 else 'no'}), accuracy {_ms(abl - nal)} pp")
    print(f"NALSM minus best static LSM: accuracy {_ms(nal - np.array(best_static))} pp")
    silent = sum(r["nalsm"]["silent"] for r in runs)
    print(f"liquid never silent: fewest liquid spikes in one initialisation presentation "
          f"{min(r['min_activity'] for r in runs):.0f}, silent NALSM feature vectors {silent}")
    _figure(args.out, cfg, runs, sweep, pixels, data)
    print(f"figure: {args.out}")


def _figure(path, cfg, runs, sweep, pixels, data):
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    w_As = list(sweep)
    ax.errorbar(w_As, [np.mean(v) for v in sweep.values()], [np.std(v) for v in sweep.values()],
                marker="o", label="NALSM, 8x8 digits")
    paper = {0.002: 1.42, 0.0075: 1.33, 0.015: 1.25, 0.025: 1.18, 0.05: 1.09, 0.1: 0.99,
             0.2: 0.89}
    ax.plot(list(paper), list(paper.values()), "k--", marker="x", label="paper, MNIST")
    ax.axhline(np.mean([r["ablation"]["bf"] for r in runs]), color="C3", ls=":",
               label="no astrocyte")
    ax.set(xscale="log", xlabel="astrocyte gain w_A", ylabel="branching factor",
           title="criticality set by the astrocyte")
    ax.legend(fontsize=8)
    ax = axes[1]
    labels = ["NALSM", "no astro"] + [f"static {m:g}" for m in cfg.static_weights] + ["pixels"]
    accs = [[r["nalsm"]["accuracy"] for r in runs], [r["ablation"]["accuracy"] for r in runs]]
    accs += [[r["static"][m]["accuracy"] for r in runs] for m in cfg.static_weights]
    accs += [[pixels]]
    ax.bar(range(len(labels)), [np.mean(a) for a in accs], yerr=[np.std(a) for a in accs],
           color=["C0", "C3"] + ["C7"] * len(cfg.static_weights) + ["C2"])
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    low = min(np.mean(a) for a in accs)
    ax.set(ylim=(max(0.0, low - 5), 100), ylabel="test accuracy (%)", title="readout accuracy")
    ax = axes[2]
    run = runs[0]
    counts, raster = run["nalsm_model"].features(run["nalsm_weights"], data[0][0],
                                                 jax.random.key(0), record=True)
    t, neuron = np.nonzero(np.asarray(raster))
    ax.plot(t, neuron, ",k")
    ax.set(xlabel="time (ms)", ylabel="liquid neuron",
           title=f"NALSM feature phase, digit {data[1][0]} (seed {run['seed']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
