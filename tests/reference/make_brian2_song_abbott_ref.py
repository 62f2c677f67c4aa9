"""Generate the Brian2 reference of the Song, Miller & Abbott (2000) STDP experiment.

Brian2 is not a test dependency: run this with an environment that has it (and a C++
compiler, for the standalone build), e.g.

    /path/to/venv-with-brian2/bin/python tests/reference/make_brian2_song_abbott_ref.py

Each trial is one conductance-based LIF neuron driven by its own 1000 Poisson inputs at 15 Hz
through additive, all-to-all pair STDP with hard bounds [0, g_max]; trials share nothing, so
they are independent realisations of the experiment (like seeds). All trials run side by side
in one C++ standalone build. The file `brian2_song_abbott.npz` holds, per trial, the final
weights (float32), the output rate, and every `SNAPSHOT_S` seconds the mean weight, the
fractions of weights in the lowest and highest decile of [0, g_max] and the output rate over
the next `SNAPSHOT_S` seconds; plus the constants.

Model (units as in brainsim: ms, mV; conductances in units of the leak conductance):

    tau_m dv/dt = (E_L - v) + g (E_e - v),     spike when v > v_th, then v <- v_reset
    tau_e dg/dt = -g,                          g <- g + w at each presynaptic spike
    x, y: pre / post traces, tau_plus dx/dt = -x, tau_minus dy/dt = -y
    pre spike:  w <- clip(w - A_minus y, 0, g_max), then the spike delivers w; x <- x + 1
    post spike: w <- clip(w + A_plus x, 0, g_max); y <- y + 1

with A_plus = 0.01 g_max and A_minus = 1.05 A_plus tau_plus / tau_minus. The potential is
integrated by exponential Euler (exact for the conductance held over a step, as brainsim's
default `exp_euler`); v starts at E_L, w uniform in [0, g_max].

A presynaptic and a postsynaptic spike in the same step do not pair, as in brainsim. A second
set of `N_TRIALS` trials (keys `paired_`: final weights and rates) uses Brian2's default
instead, where they pair as pre-before-post; this raises the output rate by about 3 Hz.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import time

import brian2 as b2
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SEED = 2000
N_TRIALS = 8
N_INPUTS = 1000
RATE = 15.0  # Hz
DURATION = 100.0  # s
DT = 0.1  # ms
SNAPSHOT_S = 5.0  # s between weight snapshots
CONSTANTS = {
    "tau_m": 10.0,  # ms
    "E_L": -74.0,  # mV
    "v_th": -54.0,  # mV
    "v_reset": -60.0,  # mV
    "E_e": 0.0,  # mV
    "tau_e": 5.0,  # ms
    "g_max": 0.01,  # units of the leak conductance
    "tau_plus": 20.0,  # ms
    "tau_minus": 20.0,  # ms
}
CONSTANTS["A_plus"] = 0.01 * CONSTANTS["g_max"]
CONSTANTS["A_minus"] = 1.05 * CONSTANTS["A_plus"] * CONSTANTS["tau_plus"] / CONSTANTS["tau_minus"]


def end_decile_fractions(w: np.ndarray, g_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of the weights (last axis) below `0.1 g_max` and above `0.9 g_max`."""
    return np.mean(w < 0.1 * g_max, axis=-1), np.mean(w > 0.9 * g_max, axis=-1)


def _plastic_synapses(source, neuron, offset: int, same_step_pairs: bool, ns: dict):
    """STDP synapses from inputs `offset + k` to neurons `offset // N_INPUTS + k // N_INPUTS`.

    Brian2 runs the presynaptic pathway of a step before the postsynaptic one, so by default a
    presynaptic and a postsynaptic spike in the same step pair as pre-before-post (the post
    spike reads `x` after this step's jump). With `same_step_pairs=False` they do not pair, as
    in brainsim: the potentiation subtracts this step's jump again (`t_last`: time of the
    synapse's last presynaptic spike).
    """
    potentiation = "x" if same_step_pairs else "(x - int(t_last == t))"
    synapses = b2.Synapses(
        source,
        neuron,
        model="""
        w : 1
        t_last : second
        dx/dt = -x / tau_plus : 1 (event-driven)
        dy/dt = -y / tau_minus : 1 (event-driven)
        """,
        on_pre="""
        w = clip(w - A_minus * y, 0, g_max)
        g_post += w
        x += 1
        t_last = t
        """,
        on_post=f"""
        w = clip(w + A_plus * {potentiation}, 0, g_max)
        y += 1
        """,
        namespace=ns,
    )
    inputs = offset + np.arange(N_TRIALS * N_INPUTS)
    synapses.connect(i=inputs, j=inputs // N_INPUTS)
    synapses.w = "rand() * g_max"
    synapses.t_last = -1 * b2.second
    return synapses


def _final(synapses) -> np.ndarray:
    """Final weights as `(N_TRIALS, N_INPUTS)`, sorted by (neuron, input)."""
    order = np.lexsort((np.asarray(synapses.i[:]), np.asarray(synapses.j[:])))
    return np.asarray(synapses.w[:])[order].reshape(N_TRIALS, N_INPUTS)


def simulate(duration_s: float, build_dir: str) -> dict:
    """Run all trials of both pairing conventions for `duration_s` s; the arrays to store.

    Neurons `0 .. N_TRIALS - 1` follow brainsim's convention (no pairing within a step), the
    next `N_TRIALS` Brian2's default (keys prefixed `paired_`).
    """
    c = CONSTANTS
    b2.set_device("cpp_standalone", directory=build_dir)
    b2.seed(SEED)
    b2.defaultclock.dt = DT * b2.ms
    ns = {
        "tau_m": c["tau_m"] * b2.ms, "E_L": c["E_L"] * b2.mV, "v_th": c["v_th"] * b2.mV,
        "v_reset": c["v_reset"] * b2.mV, "E_e": c["E_e"] * b2.mV, "tau_e": c["tau_e"] * b2.ms,
        "g_max": c["g_max"], "tau_plus": c["tau_plus"] * b2.ms,
        "tau_minus": c["tau_minus"] * b2.ms, "A_plus": c["A_plus"], "A_minus": c["A_minus"],
    }  # fmt: skip
    membrane = """
    dv/dt = ((E_L - v) + g * (E_e - v)) / tau_m : volt
    dg/dt = -g / tau_e : 1
    """
    neuron = b2.NeuronGroup(
        2 * N_TRIALS,
        membrane,
        threshold="v > v_th",
        reset="v = v_reset",
        method="exponential_euler",
        namespace=ns,
    )
    neuron.v = c["E_L"] * b2.mV
    source = b2.PoissonGroup(2 * N_TRIALS * N_INPUTS, rates=RATE * b2.Hz)
    stepwise = _plastic_synapses(source, neuron, 0, False, ns)
    paired = _plastic_synapses(source, neuron, N_TRIALS * N_INPUTS, True, ns)
    spikes = b2.SpikeMonitor(neuron)
    snapshots = b2.StateMonitor(
        stepwise, "w", record=np.arange(N_TRIALS * N_INPUTS), dt=SNAPSHOT_S * b2.second
    )
    b2.run(duration_s * b2.second)

    # Synapse k of `stepwise` connects input k to neuron k // N_INPUTS (the order of connect).
    history = np.asarray(snapshots.w).reshape(N_TRIALS, N_INPUTS, -1).transpose(0, 2, 1)
    low, high = end_decile_fractions(history, c["g_max"])
    rate = np.bincount(np.asarray(spikes.i[:]), minlength=2 * N_TRIALS) / duration_s
    stepwise_spikes = np.asarray(spikes.i[:]) < N_TRIALS
    window = np.floor(np.asarray(spikes.t[:] / b2.second)[stepwise_spikes] / SNAPSHOT_S)
    n_windows = int(np.ceil(duration_s / SNAPSHOT_S))
    counts = np.zeros((N_TRIALS, n_windows))
    t_windows = SNAPSHOT_S * np.arange(n_windows)
    np.add.at(counts, (np.asarray(spikes.i[:])[stepwise_spikes], window.astype(int)), 1)
    return {
        "final_weights": _final(stepwise).astype(np.float32),
        "rate": rate[:N_TRIALS],
        "snapshot_t": np.asarray(snapshots.t / b2.second),
        "snapshot_mean_w": history.mean(axis=-1),
        "snapshot_low": low,
        "snapshot_high": high,
        "snapshot_rate": counts / np.minimum(SNAPSHOT_S, duration_s - t_windows),
        "paired_final_weights": _final(paired).astype(np.float32),
        "paired_rate": rate[N_TRIALS:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds")
    parser.add_argument("--out", default=str(HERE / "brian2_song_abbott.npz"))
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as build_dir:
        result = simulate(args.duration, build_dir)
    elapsed = time.perf_counter() - began
    for prefix, label in (("", "no pairing within a step"), ("paired_", "Brian2's default")):
        rate = result[f"{prefix}rate"]
        low, high = end_decile_fractions(result[f"{prefix}final_weights"], CONSTANTS["g_max"])
        print(f"{label}:")
        for k in range(N_TRIALS):
            print(
                f"  trial {k}: rate {rate[k]:5.2f} Hz, lowest decile {low[k]:.3f}, "
                f"highest decile {high[k]:.3f}"
            )
        print(
            f"  mean ± sd: lowest {low.mean():.3f} ± {low.std(ddof=1):.3f}, highest "
            f"{high.mean():.3f} ± {high.std(ddof=1):.3f}, rate {rate.mean():.2f} ± "
            f"{rate.std(ddof=1):.2f} Hz"
        )
    print(f"build and run: {elapsed:.0f} s")
    np.savez_compressed(
        args.out, **result, **{f"p_{k}": v for k, v in CONSTANTS.items()},
        seed=SEED, n_trials=N_TRIALS, n_inputs=N_INPUTS, input_rate=RATE, duration_s=args.duration,
        dt_ms=DT, method="exponential_euler", brian2_version=b2.__version__,
    )  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
