"""AdEx fitted to a real neuron by brainsim and by brian2modelfitting: held-out scores, wall time.

The data and model of `examples/fit_recordings.py`: cell B6 of the BluePyEfe IDRest recordings
(`brainsim.datasets.load_idrest`), trained on the steps of 119, 238 and 353 pA and tested on 175
and 297 pA, cut to a window and resampled to `--dt`; the example's AdEx template with its eight
fitted parameters (C, g_L, E_L, V_T, tau_w, a, b, V_r; Δ_T = 2 mV and V_peak = -30 mV fixed).

- **brainsim**: `brainsim.fit.fit_model`: a global stage of `--samples` candidates (evosax's
  CMA-ES, `--population` a generation, or `--strategy random`) ranked by `--search-loss`
  (`gamma`: `gamma_loss()`, the peer's Γ error; or `recording`), then `--starts` of them
  refined by `--steps` steps of Adam through the simulation (surrogate gradients) on the
  default loss `recording_loss()` (subthreshold voltage with the recorded spikes' windows
  masked + spike count + van Rossum); the result is the best by the search loss. One fit per
  `--seeds` key: the first in the process includes XLA's compilation, the others reuse it.
- **brian2modelfitting** (`bench/fit_brian2modelfitting.py`, run by `--peer-python`, an
  interpreter with brian2modelfitting 0.4 and numpy < 2): the same equations in Brian, fitted by
  Nevergrad's differential evolution, `--popsize` parameter sets a round, with its built-in
  metrics (`--metrics`): `gamma` (`SpikeFitter`, `GammaFactor`, Δ = 4 ms, rate corrected)
  and/or `mse` (`TraceFitter`, `MSEMetric` on the whole voltage trace). Its box bounds are
  brainsim's search ranges (`E_L`, `V_T`, `V_r`, `a`, `b` as the example gives them, the others
  `b + (v - b)·[1/4, 4]` from their lower bound `b` and the template's value `v`). Its best
  parameters so far are kept after each of `--checkpoints` rounds; the peer simulates the
  held-out sweeps with each and writes the voltages and spike times for this script to score.

Both are scored by one implementation, `brainsim.fit.evaluate` (the peer's simulation played
back through `Replay`): on the held-out sweeps from `t_start` on, the coincidence factor Γ
(Δ = 4 ms), the spike-count error, the subthreshold RMSE (mV, spike windows masked) and
`gamma_error = 1 - Γ + 2 |ΔN| / N_data` (brian2modelfitting's own error), each averaged over the
two sweeps. The peer's parameters are also simulated by brainsim (`held_out_in_brainsim`),
which separates the fit from the two integrators' differences. Lines: each brainsim fit
(`fit_s` and `cpu_s`, `compiled`: whether compiled code was reused; `total_s` of the first,
from data loading to its scores; `train` and `held_out` scores), each peer fit with its
checkpoints (`train_error`: its own Γ error on the training sweeps, a mean over sweeps as
brainsim's), and two `summary` lines per peer fit, for the training and the held-out sweeps:
brainsim's mean `gamma_error` over its fits (and sd), the first peer checkpoint whose error
there is at most that, and `speedup`, its `fit_s` over brainsim's first (compiling) fit
(`>x` when no checkpoint gets there: x is then a lower bound). Pin the run to one core:

    taskset -c 0 python bench/fit.py --peer-python /path/to/venv-with-b2mf/bin/python
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from brainsim.datasets import load_idrest
from brainsim.fit import (
    Evaluation,
    SweepData,
    bin_spike_times,
    evaluate,
    fit_model,
    gamma_loss,
    parametrize,
)
from brainsim.fit._search import search_ranges
from brainsim.neurons import AdEx

ROOT = pathlib.Path(__file__).resolve().parent.parent
PEER = ROOT / "bench" / "fit_brian2modelfitting.py"
ADEX_PARAMETERS = ("C", "g_L", "E_L", "V_T", "delta_T", "a", "tau_w", "b", "V_r", "V_peak")


def _example():
    """`examples/fit_recordings.py` as a module (its sweeps and model templates)."""
    spec = importlib.util.spec_from_file_location("fit_recordings", ROOT / "examples" /
                                                  "fit_recordings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # equinox's dataclasses look their module up
    spec.loader.exec_module(module)
    return module


class ReplayState(NamedTuple):
    """Where a `Replay` is: the voltage (mV) of each sweep now, and the step reached."""

    v: Float[Array, " sweeps"]
    step: Int[Array, ""]


class Replay(eqx.Module):
    """A stand-in model that plays back a simulation made elsewhere, so that
    `brainsim.fit.evaluate` scores it exactly as it scores a brainsim model.

    `init(sweeps)` starts at `voltage[0]`; step `n` ignores its input and returns the voltage
    `voltage[n + 1]` and the spikes `spikes[n]` of the recorded simulation.

    Attributes:
        voltage: membrane potential (mV) on the data's grid, `(T, sweeps)`.
        spikes: spike count per step, `(T, sweeps)`.
    """

    voltage: Float[Array, "T sweeps"]
    spikes: Float[Array, "T sweeps"]

    @classmethod
    def from_spike_times(cls, voltage, spike_times, *, dt: float) -> Replay:
        """From a voltage `(T, sweeps)` (mV) and spike times `(sweeps, k)` (ms, `inf`-padded)."""
        voltage = jnp.asarray(voltage, jnp.float32)
        spikes = bin_spike_times(np.asarray(spike_times, np.float32), n_steps=voltage.shape[0],
                                 dt=dt)
        return cls(voltage, spikes)

    def init(self, n: int, key=None) -> ReplayState:
        if n != self.voltage.shape[1]:
            raise ValueError(f"this replay holds {self.voltage.shape[1]} sweeps, not {n}.")
        return ReplayState(self.voltage[0], jnp.zeros((), jnp.int32))

    def step(self, state: ReplayState, inputs=None, *, t, dt):
        return ReplayState(self.voltage[state.step + 1], state.step + 1), self.spikes[state.step]


def held_out_scores(evaluation: Evaluation) -> dict[str, float]:
    """The summary of `evaluate` and the mean `gamma_error = 1 - Γ + 2 |ΔN| / N_data`."""
    n_data = np.maximum(evaluation.n_data, 1)
    error = 1 - evaluation.gamma + 2 * np.abs(evaluation.count_error) / n_data
    scores = evaluation.summary()
    scores["gamma_error"] = float(np.mean(error))
    return {name: round(value, 4) for name, value in scores.items()}


def export_sweeps(path, train: SweepData, test: SweepData, template: AdEx,
                  ranges: dict[str, tuple[float, float]]) -> None:
    """Write what `bench/fit_brian2modelfitting.py` needs to an `.npz`.

    Arrays: `{train,test}_current` (pA), `{train,test}_voltage` (mV), each `(T, sweeps)`;
    `{train,test}_spikes` (ms, `(sweeps, k)` padded with `inf`); `dt`, `t_start` (ms);
    `fit_names`, `fit_low`, `fit_high` (the fitted AdEx parameters and their box bounds, in
    AdEx units); `fixed_names`, `fixed_values` (the other AdEx parameters).

    Raises:
        ValueError: when the two data sets differ in `dt` or `t_start`, or the template has a
            refractory period (the peer's equations have none).
    """
    if (train.dt, train.t_start) != (test.dt, test.t_start):
        raise ValueError("train and test sweeps must share `dt` and `t_start`, got "
                         f"{(train.dt, train.t_start)} and {(test.dt, test.t_start)}.")
    if np.any(np.asarray(template.t_ref) != 0):
        raise ValueError(f"the peer's AdEx has no refractory period; got t_ref = {template.t_ref}.")
    fixed = [name for name in ADEX_PARAMETERS if name not in ranges]
    arrays = {
        f"{prefix}_{field}": np.asarray(getattr(data, field), dtype=float)
        for prefix, data in (("train", train), ("test", test))
        for field in ("current", "voltage")
    }
    np.savez(
        path, **arrays, train_spikes=np.asarray(train.spike_times, dtype=float),
        test_spikes=np.asarray(test.spike_times, dtype=float), dt=train.dt,
        t_start=train.t_start, fit_names=np.array(list(ranges)),
        fit_low=np.array([low for low, _ in ranges.values()]),
        fit_high=np.array([high for _, high in ranges.values()]),
        fixed_names=np.array(fixed),
        fixed_values=np.array([float(getattr(template, name)) for name in fixed]),
    )


def _with_values(model, values: dict[str, float]):
    """`model` with the named parameters set to `values`."""
    return eqx.tree_at(lambda m: [getattr(m, name) for name in values], model,
                       [jnp.asarray(v, jnp.float32) for v in values.values()])


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def _run_peer(python, data_path, metric, args, workdir) -> dict | None:
    """One fit by the peer: its JSON fields and the path of its held-out simulations."""
    out = pathlib.Path(workdir) / f"peer_{metric}.npz"
    command = [python, str(PEER), "--data", str(data_path), "--out", str(out), "--metric",
               metric, "--checkpoints", *map(str, args.checkpoints), "--popsize",
               str(args.popsize), "--method", args.method, "--seed", str(args.seed)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        _emit(tool="brian2modelfitting", metric=metric, skipped=f"over {args.timeout} s")
        return None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        _emit(tool="brian2modelfitting", metric=metric, skipped=reason[:300])
        return None
    return json.loads(lines[-1]) | {"out": out}


def _fit_brainsim(template, names, train, search, args, seed):
    """brainsim's fit and the CPU time it took (s)."""
    cpu = time.process_time()
    result = fit_model(template, names, train, search=search, n_samples=args.samples,
                       n_starts=args.starts, steps=args.steps, strategy=args.strategy,
                       population=args.population, key=jax.random.key(seed),
                       search_loss=gamma_loss() if args.search_loss == "gamma" else None,
                       progress=False)
    return result, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dt", type=float, default=1.0, help="time step (ms)")
    parser.add_argument("--window", type=float, nargs=2, default=(600.0, 1600.0),
                        help="part of each sweep used (ms, the recording's clock)")
    parser.add_argument("--t-start", type=float, default=50.0, help="first scored time (ms)")
    parser.add_argument("--samples", type=int, default=1920, help="brainsim: candidates")
    parser.add_argument("--strategy", default="CMA_ES", help="brainsim: global stage")
    parser.add_argument("--population", type=int, default=64, help="brainsim: per generation")
    parser.add_argument("--search-loss", choices=("gamma", "recording"), default="gamma",
                        help="brainsim: ranks the global stage and chooses the result")
    parser.add_argument("--starts", type=int, default=4, help="brainsim: candidates refined")
    parser.add_argument("--steps", type=int, default=50, help="brainsim: refinement steps")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="brainsim: keys of its fits")
    parser.add_argument("--peer-python", help="interpreter with brian2modelfitting 0.4")
    parser.add_argument("--metrics", nargs="+", default=["gamma"], choices=("gamma", "mse"),
                        help="the peer's metric(s), one fit each")
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[10, 30, 100, 200],
                        help="peer: rounds after which its best parameters are scored")
    parser.add_argument("--popsize", type=int, default=64, help="peer: parameter sets a round")
    parser.add_argument("--method", default="DE", help="peer: Nevergrad optimiser")
    parser.add_argument("--seed", type=int, default=0, help="peer: numpy seed")
    parser.add_argument("--timeout", type=float, default=900.0, help="peer: s per fit")
    args = parser.parse_args()

    start = time.perf_counter()
    example = _example()
    recording = load_idrest("B6")
    train, test = (SweepData.from_recording(recording, sweeps, dt=args.dt, window=args.window,
                                            t_start=args.t_start)
                   for sweeps in (example.TRAIN, example.TEST))
    name, template, names, search = example.models()[0]
    fits = []
    for seed in args.seeds:
        result, cpu_s = _fit_brainsim(template, names, train, search, args, seed)
        fits.append(dict(
            seed=seed, fit_s=round(result.wall_time, 2), cpu_s=round(cpu_s, 2),
            train=held_out_scores(evaluate(result.model, train)),
            held_out=held_out_scores(evaluate(result.model, test)),
            values={k: round(float(v), 4) for k, v in result.values.items()}))
        if len(fits) == 1:
            fits[0]["total_s"] = round(time.perf_counter() - start, 2)
        _emit(tool="brainsim", model=name, strategy=args.strategy, search_loss=args.search_loss,
              loss="recording_loss", samples=args.samples, population=args.population,
              starts=args.starts, steps=args.steps, compiled=len(fits) > 1, **fits[-1])
    brainsim = {
        part: [f[part]["gamma_error"] for f in fits] for part in ("train", "held_out")
    } | {"fit_s": [f["fit_s"] for f in fits]}

    python = args.peer_python
    if not python or not os.path.exists(python):
        _emit(tool="brian2modelfitting", skipped=f"no --peer-python ({python})")
        return
    params, to_model = parametrize(template, names)
    ranges = search_ranges(to_model, to_model.values(params), search)
    with tempfile.TemporaryDirectory() as workdir:
        data_path = pathlib.Path(workdir) / "sweeps.npz"
        export_sweeps(data_path, train, test, template, ranges)
        for metric in args.metrics:
            peer = _run_peer(python, data_path, metric, args, workdir)
            if peer is None:
                continue
            with np.load(peer.pop("out")) as out:
                simulations = list(zip(out["voltage"], out["spike_times"], strict=True))
            for point, (voltage, spikes) in zip(peer["checkpoints"], simulations, strict=True):
                replay = Replay.from_spike_times(voltage, spikes, dt=test.dt)
                point["held_out"] = held_out_scores(evaluate(replay, test))
                point["held_out_in_brainsim"] = held_out_scores(
                    evaluate(_with_values(template, point["values"]), test))
            _emit(**peer)
            for part, peer_error in (("train", lambda p: p["train_error"]),
                                     ("held_out", lambda p: p["held_out"]["gamma_error"])):
                _emit(**_summary(metric, part, brainsim, peer["checkpoints"], peer_error))


def _summary(metric, part, brainsim, checkpoints, peer_error) -> dict:
    """brainsim's mean `gamma_error` on the `part` sweeps over its fits, the first peer
    checkpoint whose error there is at most that, and the ratio of its fitting time to
    brainsim's first (compiling) fit (a lower bound from the last checkpoint if none is)."""
    errors = np.asarray(brainsim[part])
    target = float(errors.mean())
    reached = [p for p in checkpoints if peer_error(p) <= target]
    point = reached[0] if reached else checkpoints[-1]
    brainsim_s = brainsim["fit_s"][0]
    return dict(summary=metric, sweeps=part, brainsim_gamma_error=round(target, 4),
                brainsim_gamma_error_sd=round(float(errors.std(ddof=1)), 4)
                if errors.size > 1 else None,
                peer_gamma_error=[round(peer_error(p), 4) for p in checkpoints],
                peer_reached_at_rounds=point["rounds"] if reached else None,
                peer_fit_s=point["fit_s"], brainsim_fit_s=brainsim_s,
                speedup=("" if reached else ">") + f"{point['fit_s'] / brainsim_s:.1f}")


if __name__ == "__main__":
    main()
