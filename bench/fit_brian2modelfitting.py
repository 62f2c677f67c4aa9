"""brian2modelfitting peer of `bench/fit.py`: AdEx fitted to the same sweeps, then held out.

Run by `bench/fit.py --peer-python` with an interpreter that has brian2modelfitting 0.4 (which
needs numpy < 2); it imports neither brainsim nor JAX. The data come from the `.npz` that
`bench/fit.py` writes (`export_sweeps`): training and held-out sweeps on one grid, `current`
(pA) and `voltage` (mV) as `(T, sweeps)`, recorded spike times (ms, `(sweeps, k)` padded with
`inf`), `dt` and `t_start` (ms), the fitted parameters' box bounds and the fixed parameters'
values (AdEx units: pF, nS, mV, ms, pA).

The model is brainsim's `AdEx` written in Brian's equations,

    C dv/dt = -g_L (v - E_L) + g_L Δ_T exp((v - V_T)/Δ_T) - w + I
    tau_w dw/dt = a (v - E_L) - w,    v > V_peak:  v <- V_r,  w <- w + b,

started at `v = E_L`, `w = 0`, driven by the recorded current of step `n` during `[t_n, t_n + dt)`
(a `TimedArray`, as `brainsim.fit.simulate` does) and integrated by Brian's
`exponential_euler` (exact for the leak and adaptation; Brian freezes the exponential term over
the step, brainsim's `exp_euler` linearises it, so the two simulators differ near threshold).

Fit (`--metric`):

- `gamma`: `SpikeFitter` with the built-in `GammaFactor(delta=4 ms, rate_correction=True)`,
  i.e. `1 - Γ + 2 |r_data - r_model| / r_data` averaged over sweeps, from `t_start` on;
- `mse`: `TraceFitter` on `v` with the built-in `MSEMetric(t_start)` (whole trace, spikes
  included: the metric takes one weight per sample shared by all sweeps, so it cannot mask
  each sweep's spike windows as brainsim's loss does).

Both use `NevergradOptimizer` (differential evolution by default) with `--popsize` parameter
sets a round, each round one Brian run of `popsize × sweeps` neurons, until the last of
`--checkpoints` (rounds). At each checkpoint the best parameters so far are kept; after the fit
each set drives the held-out sweeps (`fitter.generate` on a fitter built on them) and the
script writes their voltages `(checkpoints, T, sweeps)` (mV) and spike times
`(checkpoints, sweeps, k)` (ms, `inf`-padded) to `--out` for `bench/fit.py` to score. One JSON
line; per checkpoint: `rounds`, `simulations` (`rounds × popsize` parameter sets, each over
all training sweeps), `fit_s` (wall time since the `fit` call began: code generation, Cython
compilation when Brian's cache is cold, the rounds), `cpu_s` (CPU time of the process and its
compiler children over the same span), the best training error and values; then `total_s`
(from the end of the imports to the end), versions.

    python bench/fit_brian2modelfitting.py --data sweeps.npz --out peer.npz --checkpoints 10 30
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import time

import numpy as np

EQUATIONS = """
dv/dt = (-g_L*(v - E_L) + g_L*delta_T*exp((v - V_T)/delta_T) - w + I)/C : volt
dw/dt = (a*(v - E_L) - w)/tau_w : amp
"""
THRESHOLD, RESET = "v > V_peak", "v = V_r; w += b"
UNITS = {"C": "pF", "g_L": "nS", "E_L": "mV", "V_T": "mV", "delta_T": "mV", "a": "nS",
         "tau_w": "ms", "b": "pA", "V_r": "mV", "V_peak": "mV"}  # brainsim's AdEx units
DIMENSIONS = {"pF": "farad", "nS": "siemens", "mV": "volt", "ms": "second", "pA": "amp"}


def _substitute(code: str, fixed: dict[str, float]) -> str:
    """`code` with each fixed parameter replaced by its value, e.g. `V_peak` -> `(-30.0*mV)`."""
    for name, value in fixed.items():
        code = re.sub(rf"\b{name}\b", f"({value!r}*{UNITS[name]})", code)
    return code


def _model(fixed: dict[str, float]) -> tuple[str, str, str]:
    """Equations (the fitted parameters declared constant), threshold and reset."""
    fitted = [name for name in UNITS if name not in fixed]
    declared = "".join(f"{name} : {DIMENSIONS[UNITS[name]]} (constant)\n" for name in fitted)
    return (_substitute(EQUATIONS, fixed) + declared, _substitute(THRESHOLD, fixed),
            _substitute(RESET, fixed))


def _trains(padded: np.ndarray) -> list[np.ndarray]:
    return [row[np.isfinite(row)] for row in padded]


def _fitter(kind: str, data, prefix: str, fixed: dict[str, float], popsize: int):
    """A brian2modelfitting fitter on the `prefix` ("train" or "test") sweeps of `data`."""
    import brian2 as b2
    from brian2modelfitting import SpikeFitter, TraceFitter

    equations, threshold, reset = _model(fixed)
    current = data[f"{prefix}_current"].T.astype(float) * b2.pA
    common = dict(model=equations, input=current, dt=float(data["dt"]) * b2.ms,
                  n_samples=popsize, method="exponential_euler", threshold=threshold,
                  reset=reset, param_init={"v": "E_L" if "E_L" not in fixed else
                                           f"{fixed['E_L']!r}*mV", "w": "0*pA"})
    if kind == "gamma":
        # in seconds without units: 0.4's `SpikeMetric` compares them with a unitless t_start
        trains = [t / 1000.0 for t in _trains(data[f"{prefix}_spikes"])]
        return SpikeFitter(output=trains, input_var="I", **common)
    voltage = data[f"{prefix}_voltage"].T.astype(float) * b2.mV
    return TraceFitter(input_var="I", output_var="v", output=voltage, **common)


def _cpu_s() -> float:
    """CPU time (s) of this process and its children (Cython builds run as children)."""
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def _held_out(kind, data, fixed, params) -> tuple[np.ndarray, np.ndarray]:
    """Voltage `(T, sweeps)` (mV) and spike times `(sweeps, k)` (ms, `inf`-padded) of the
    held-out sweeps simulated with `params`."""
    import brian2 as b2

    response = _fitter(kind, data, "test", fixed, 1).generate(output_var=["v", "spikes"],
                                                              params=params)
    trains = [1000.0 * np.asarray(t) for t in response["spikes"]]  # s -> ms
    padded = np.full((len(trains), max([len(t) for t in trains] + [1])), np.inf)
    for row, train in zip(padded, trains, strict=True):
        row[: len(train)] = train
    return np.asarray(response["v"] / b2.mV).T, padded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help=".npz written by bench/fit.py")
    parser.add_argument("--out", required=True, help=".npz to write the held-out simulation to")
    parser.add_argument("--metric", choices=("gamma", "mse"), default="gamma")
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[10, 30],
                        help="rounds after which the best parameters are kept (the last one "
                             "ends the fit)")
    parser.add_argument("--popsize", type=int, default=64, help="parameter sets per round")
    parser.add_argument("--method", default="DE", help="Nevergrad optimiser")
    parser.add_argument("--seed", type=int, default=0, help="numpy seed (Nevergrad draws from it)")
    args = parser.parse_args()

    import brian2 as b2
    import brian2modelfitting
    from brian2modelfitting import GammaFactor, MSEMetric, NevergradOptimizer

    start = time.perf_counter()
    b2.prefs.codegen.target = "cython"
    np.random.seed(args.seed)  # noqa: NPY002 (Nevergrad 0.3 draws from numpy's global state)
    data = dict(np.load(args.data))
    units = {name: getattr(b2, unit) for name, unit in UNITS.items()}
    names = [str(n) for n in data["fit_names"]]
    bounds = {n: [lo * units[n], hi * units[n]]
              for n, lo, hi in zip(names, data["fit_low"], data["fit_high"], strict=True)}
    fixed = {str(n): float(v) for n, v in zip(data["fixed_names"], data["fixed_values"],
                                              strict=True)}
    dt, t_start = float(data["dt"]), float(data["t_start"])
    duration = data["train_current"].shape[0] * dt

    fitter = _fitter(args.metric, data, "train", fixed, args.popsize)
    if args.metric == "gamma":
        metric = GammaFactor(delta=4 * b2.ms, time=(duration - t_start) * b2.ms,
                             t_start=t_start * b2.ms, rate_correction=True)
    else:
        metric = MSEMetric(t_start=t_start * b2.ms)
    checkpoints = sorted(set(args.checkpoints))
    kept, kept_params = [], []
    fit_start, cpu_start = time.perf_counter(), _cpu_s()

    def keep_checkpoints(parameters, errors, best_parameters, best_error, index):
        if index + 1 in checkpoints:
            kept.append(dict(rounds=index + 1, simulations=(index + 1) * args.popsize,
                             fit_s=round(time.perf_counter() - fit_start, 2),
                             cpu_s=round(_cpu_s() - cpu_start, 2),
                             train_error=float(best_error),
                             values={n: float(best_parameters[n] / units[n]) for n in names}))
            kept_params.append(dict(best_parameters))

    fitter.fit(optimizer=NevergradOptimizer(method=args.method), metric=metric,
               n_rounds=checkpoints[-1], callback=keep_checkpoints, **bounds)
    held_out = [_held_out(args.metric, data, fixed, params) for params in kept_params]
    width = max(spikes.shape[1] for _, spikes in held_out)
    np.savez(args.out, voltage=np.stack([v for v, _ in held_out]),
             spike_times=np.stack([np.pad(s, ((0, 0), (0, width - s.shape[1])),
                                          constant_values=np.inf) for _, s in held_out]))
    print(json.dumps(dict(
        tool="brian2modelfitting", metric=args.metric, optimizer=args.method,
        popsize=args.popsize, checkpoints=kept, total_s=round(time.perf_counter() - start, 2),
        versions={"brian2modelfitting": brian2modelfitting.__version__,
                  "brian2": b2.__version__, "numpy": np.__version__},
    )), flush=True)


if __name__ == "__main__":
    main()
