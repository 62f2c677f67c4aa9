"""NALSM feature phase: samples per second at 1000 liquid neurons (250 ms each, astro-STDP on).

One JSON line per measurement: compile time (first call minus a run) and run time kept
apart, samples per second, and the liquid's firing rate so that a silent liquid cannot look
fast. The weights come from a short initialisation phase (as in the protocol), the inputs
are the 8x8 digits (scikit-learn, offline). The static LSM (no plasticity) runs as a baseline.

    python bench/nalsm.py
    python bench/nalsm.py --samples 256 --batch-size 8 --cores 2
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, nargs="+", default=[10, 10, 10])
    parser.add_argument("--samples", type=int, default=128, help="digits per timed call")
    parser.add_argument("--batch-size", type=int, default=16, help="vmapped digits per kernel")
    parser.add_argument("--init", type=int, default=200, help="initialisation presentations")
    parser.add_argument("--cores", type=int, default=None, help="pin to this many CPU cores")
    args = parser.parse_args()

    import brainsim as bs

    if args.cores:
        bs.use_cpu_cores(args.cores)
    import jax
    import numpy as np
    from sklearn.datasets import load_digits

    from brainsim import nalsm

    x = np.asarray(nalsm.normalise_images(load_digits().data / 16.0))
    liquid = nalsm.build_liquid(jax.random.key(0), x.shape[1], grid=tuple(args.grid))
    model = nalsm.NALSM(liquid, liquid.rule(w_A=0.05))
    w_ini = model.initialise(liquid.weights, x[: args.init], jax.random.key(1))
    static = liquid.with_magnitude(1.0)
    cases = [("nalsm", model, w_ini), ("static_lsm", nalsm.NALSM(static, None), static.weights)]
    for name, m, w in cases:
        images = x[: args.samples]
        timings = []
        for k in range(2):
            began = time.perf_counter()
            counts = m.feature_matrix(w, images, jax.random.key(10 + k),
                                      batch_size=args.batch_size)
            jax.block_until_ready(counts)
            timings.append(time.perf_counter() - began)
        run = timings[1]
        print(json.dumps({
            "bench": "nalsm_feature_phase", "model": name, "neurons": liquid.n_liquid,
            "synapses": liquid.conn.n_syn, "samples": args.samples,
            "batch_size": args.batch_size, "duration_ms": m.feature_duration,
            "compile_s": round(max(timings[0] - run, 0.0), 3), "run_s": round(run, 3),
            "samples_per_s": round(args.samples / run, 2),
            "rate_hz": round(nalsm.rate_hz(counts, m.feature_duration), 2),
            "backend": jax.default_backend(),
        }), flush=True)


if __name__ == "__main__":
    main()
