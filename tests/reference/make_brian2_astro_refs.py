"""Generate Brian2 references of the neuron–glia examples of Stimberg et al. (2019).

Brian2 is not a test dependency: run this with an environment that has it (and gcc for the
C++ standalone runs), e.g.

    /path/to/venv-with-brian2/bin/python tests/reference/make_brian2_astro_refs.py
    /path/to/venv-with-brian2/bin/python tests/reference/make_brian2_astro_refs.py --only ex3

Each example of the paper (scripts `examples/frompapers/Stimberg_et_al_2018/example_*.py` in
Brian2's repository) is rebuilt here with the published models, parameters, methods, time
steps and initial states, taken from `astro_protocols.py` (which brainsim's tests import too).
What differs from the published scripts:

- Poisson inputs (examples 4a, 4b) come from `astro_protocols` through a
  `SpikeGeneratorGroup` instead of a `PoissonGroup`, so that brainsim can replay the very same
  spikes; example 2's regular source stays a `NeuronGroup` (it is deterministic) and its
  spike steps are checked against `astro_protocols.example2_source_steps`.
- Astrocyte release events are recorded with a `SpikeMonitor`; where the published group has
  no threshold (examples 2, 5) the group gets `threshold='C>C_Theta'`,
  `refractory='C>C_Theta'` with no reset, which only detects events and changes nothing else.
- Extra monitors; example 4b sums r_S over the steps with a `run_regularly` operation instead
  of a `StateMonitor` of every step (the same numbers: both read r_S at the start of a step).
- The deterministic examples (2–5) are built without `-ffast-math`/`-march=native` (plain
  IEEE float64, `IEEE_FLAGS`); examples 1 and 6 (statistics only) keep Brian2's defaults.

Saved units: ms and µM (rates in Hz). The keys of each file are listed in README.md.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second, umolar
from brian2.devices.device import reinit_devices

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import astro_protocols as ap  # noqa: E402

BUILD_ROOT = pathlib.Path(tempfile.gettempdir()) / "brian2_astro_build"
IEEE_FLAGS = ["-w", "-O3", "-std=c++11"]
EXAMPLES = ("ex1", "ex2", "ex3", "ex4a", "ex4b", "ex5", "ex6")

_PER_UM_S = 1 / (umolar * second)
UNITS = {
    "O_P": umolar / second, "K_P": umolar, "C_T": umolar, "rho_A": 1, "Omega_C": 1 / second,
    "Omega_L": 1 / second, "d_1": umolar, "d_2": umolar, "O_2": _PER_UM_S, "d_3": umolar,
    "d_5": umolar, "O_beta": umolar / second, "O_N": _PER_UM_S, "Omega_N": 1 / second,
    "K_KC": umolar, "zeta": 1, "O_delta": umolar / second, "kappa_delta": umolar,
    "K_delta": umolar, "Omega_5P": 1 / second, "K_D": umolar, "K_3K": umolar,
    "O_3K": umolar / second, "F_ex": umolar / second, "F": umolar / second, "I_Theta": umolar,
    "omega_I": umolar, "C_Theta": umolar, "Omega_A": 1 / second, "U_A": 1, "G_T": umolar,
    "rho_e": 1, "Omega_e": 1 / second, "alpha": 1, "rho_c": 1, "Y_T": umolar,
    "Omega_c": 1 / second, "U_0__star": 1, "Omega_f": 1 / second, "Omega_d": 1 / second,
    "O_G": _PER_UM_S, "Omega_G": 1 / second, "f_0": Hz,
}  # fmt: skip
NEURON_UNITS = {
    "E_l": b2.mV, "g_l": b2.nS, "E_e": b2.mV, "E_i": b2.mV, "C_m": b2.pF, "tau_e": ms,
    "tau_i": ms, "tau_r": ms, "I_ex": b2.pA, "V_th": b2.mV, "V_r": b2.mV, "w_e": b2.nS,
    "w_i": b2.nS, "U_0": 1, "Omega_d": 1 / second, "Omega_f": 1 / second,
}  # fmt: skip


def namespace(params: dict, extra: dict | None = None) -> dict:
    """Brian2 quantities from a protocol dict (µM, s) and extra already-united values."""
    ns = {k: v * UNITS[k] for k, v in params.items()}
    ns.update(extra or {})
    return ns


def neuron_namespace(params: dict) -> dict:
    return {k: v * NEURON_UNITS[k] for k, v in params.items() if k in NEURON_UNITS}


# --------------------------------------------------------------------------------------------
# Equations (written from the model description)
# --------------------------------------------------------------------------------------------


def astro_equations(
    *,
    plc_beta: bool,
    j_ex: str | None,
    coupling: bool,
    glio: bool,
    clip_h_noise: bool = False,
    clip_gamma: bool = False,
) -> str:
    """G-ChI astrocyte. `j_ex`: None, 'clamp' (I - I_bias) or 'gated' (I - I_bias*stimulus)."""
    h = "clip(h, 0, 1)" if clip_h_noise else "h"
    eqs = f"""
    dC/dt = J_r + J_l - J_p : mmolar
    J_r = Omega_C*m_inf**3*{h}**3*(C_T - (1 + rho_A)*C) : mmolar/second
    J_l = Omega_L*(C_T - (1 + rho_A)*C) : mmolar/second
    J_p = O_P*C**2/(C**2 + K_P**2) : mmolar/second
    m_inf = I/(I + d_1)*C/(C + d_5) : 1
    h_inf = Q_2/(Q_2 + C) : 1
    tau_h = 1/(O_2*(Q_2 + C)) : second
    Q_2 = d_2*(I + d_1)/(I + d_3) : mmolar
    J_delta = O_delta/(1 + I/kappa_delta)*C**2/(C**2 + K_delta**2) : mmolar/second
    J_3K = O_3K*C**4/(C**4 + K_D**4)*I/(I + K_3K) : mmolar/second
    J_5P = Omega_5P*I : mmolar/second
    """
    if clip_h_noise:
        eqs += "dh/dt = (h_inf - clip(h, 0, 1))/tau_h*(1 + noise*xi*tau_h**0.5) : 1\n"
        eqs += "noise : 1 (constant)\n"
    else:
        eqs += "dh/dt = (h_inf - h)/tau_h : 1\n"
    terms = ["J_delta", "- J_3K", "- J_5P"]
    if plc_beta:
        terms.insert(0, "J_beta +")
        g = "clip(Gamma_A, 0, 1)" if clip_gamma else "Gamma_A"
        eqs += f"""
        dGamma_A/dt = O_N*Y_S*(1 - {g}) - Omega_N*(1 + zeta*C/(C + K_KC))*{g} : 1
        J_beta = O_beta*Gamma_A : mmolar/second
        Y_S : mmolar
        """
    if j_ex is not None:
        terms.append("+ J_ex")
        bias = "I_bias*stimulus" if j_ex == "gated" else "I_bias"
        eqs += f"""
        delta_I_bias = I - {bias} : mmolar
        J_ex = -F_ex/2*(1 + tanh((abs(delta_I_bias) - I_Theta)/omega_I))*sign(delta_I_bias) : mmolar/second
        I_bias : mmolar (constant)
        """  # noqa: E501
        if j_ex == "gated":
            eqs += "stimulus = int((t % (50*second)) < 20*second) : 1\n"
    if coupling:
        terms.append("+ J_coupling")
        eqs += "J_coupling : mmolar/second\n"
    eqs += f"dI/dt = {' '.join(terms)} : mmolar\n"
    if glio:
        eqs += """
        dx_A/dt = Omega_A*(1 - x_A) : 1
        dG_A/dt = -Omega_e*G_A : mmolar
        """
    return eqs


GLIO_RELEASE = """
G_A += rho_e*G_T*U_A*x_A
x_A -= U_A*x_A
"""
COUPLING_EQS = """
delta_I = I_post - I_pre : mmolar
J_coupling_post = -F/2*(1 + tanh((abs(delta_I) - I_Theta)/omega_I))*sign(delta_I) : mmolar/second (summed)
"""  # noqa: E501


def synapse_equations(stp: str, u0_variable: bool = False) -> str:
    """Tsodyks–Markram synapse with presynaptic receptors; `stp`: 'clock-driven'/'event-driven'."""
    eqs = f"""
    dY_S/dt = -Omega_c*Y_S : mmolar (clock-driven)
    dGamma_S/dt = O_G*G_A*(1 - Gamma_S) - Omega_G*Gamma_S : 1 (clock-driven)
    du_S/dt = -Omega_f*u_S : 1 ({stp})
    dx_S/dt = Omega_d*(1 - x_S) : 1 ({stp})
    r_S : 1
    G_A : mmolar
    """
    if u0_variable:
        eqs += "U_0 : 1\n"
    return eqs


SYNAPSE_ON_PRE = """
U_0 = (1 - Gamma_S)*U_0__star + alpha*Gamma_S
u_S += U_0*(1 - u_S)
r_S = u_S*x_S
x_S -= r_S
Y_S += rho_c*Y_T*r_S
"""


# --------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------


def use_runtime() -> str:
    reinit_devices()
    b2.set_device("runtime")
    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    return "runtime numpy"


def use_standalone(name: str, flags: list[str] | None) -> str:
    reinit_devices()
    directory = BUILD_ROOT / name
    b2.set_device("cpp_standalone", directory=str(directory), build_on_run=True)
    if flags is not None:
        b2.prefs.codegen.cpp.extra_compile_args_gcc = list(flags)
    b2.start_scope()
    return "cpp_standalone " + " ".join(b2.prefs.codegen.cpp.extra_compile_args_gcc)


def standalone_timers() -> dict:
    timers = b2.get_device().timers
    compile_s = sum(v or 0.0 for v in timers["compile"].values())
    return {"compile_s": float(compile_s), "run_s": float(timers["run_binary"] or 0.0)}


def events(monitor, dt_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """(indices int32, times ms) of a SpikeMonitor, times snapped to the step grid."""
    i = np.asarray(monitor.i[:], dtype=np.int32)
    t = np.rint(np.asarray(monitor.t[:] / ms) / dt_ms) * dt_ms
    return i, t


def save(name: str, out: pathlib.Path, **data) -> None:
    data.setdefault("brian2_version", b2.__version__)
    data.setdefault("numpy_version", np.__version__)
    path = out / f"brian2_astro_{name}.npz"
    np.savez_compressed(path, **data)
    print(f"  wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


def run_ex2(out: pathlib.Path, scale: float) -> None:
    """G-ChI astrocytes (deterministic + stochastic) driven by one regular synapse."""
    run = ap.RUNS["ex2"]
    device = use_runtime()
    b2.seed(run["brian2_seed"])
    dt_ms, duration_s = run["dt_ms"], run["duration_s"] * scale
    b2.defaultclock.dt = dt_ms * ms
    ns = namespace(ap.EXAMPLE2, {"C_Theta": 0.5 * umolar})
    source = b2.NeuronGroup(1, "dx/dt = f_0 : 1", threshold="x>1", reset="x=0", method="euler",
                            namespace=ns)  # fmt: skip
    target = b2.NeuronGroup(1, "")
    syn = b2.Synapses(source, target, "dY_S/dt = -Omega_c*Y_S : mmolar (clock-driven)",
                      on_pre="Y_S += rho_c*Y_T", method="exact", namespace=ns)  # fmt: skip
    syn.connect()
    eqs = astro_equations(plc_beta=True, j_ex="clamp", coupling=False, glio=False,
                          clip_h_noise=True)  # fmt: skip
    astro = b2.NeuronGroup(2, eqs, method="milstein", threshold="C>C_Theta",
                           refractory="C>C_Theta", namespace=ns)  # fmt: skip
    astro.h = run["init"]["h"]
    astro.noise = [0, 1]
    link = b2.Synapses(syn, astro, "Y_S_post = Y_S_pre : mmolar (summed)")
    link.connect()
    mon = b2.StateMonitor(astro, ["C", "h", "I", "Gamma_A"], record=True, dt=10 * ms)
    mon_c = b2.StateMonitor(astro, "C", record=True)  # every step, to cross-check crossings
    src_mon, ast_mon = b2.SpikeMonitor(source), b2.SpikeMonitor(astro)
    t0 = time.time()
    b2.run(duration_s * second)
    wall = time.time() - t0

    src_steps = np.rint(np.asarray(src_mon.t / ms) / dt_ms).astype(np.int64)
    expected = ap.example2_source_steps(duration_s, dt_ms, ap.EXAMPLE2["f_0"])
    assert np.array_equal(src_steps, expected), (src_steps, expected)
    ai, at = events(ast_mon, dt_ms)
    c_full = np.asarray(mon_c.C / umolar)
    for cell in (0, 1):  # the SpikeMonitor gives exactly the upward crossings of 0.5 µM
        c = c_full[cell]
        up = np.nonzero((c[:-1] <= 0.5) & (c[1:] > 0.5))[0]
        assert np.array_equal(up, np.rint(at[ai == cell] / dt_ms).astype(np.int64)), cell
    print(f"  ex2: {len(src_steps)} source spikes, crossings det {np.sum(ai == 0)}, "
          f"stoch {np.sum(ai == 1)}; wall {wall:.1f} s")  # fmt: skip
    save("ex2", out, dt_ms=dt_ms, duration_ms=duration_s * 1000, device=device,
         method="milstein (noise 0: Euler for the deterministic cell)",
         seed=run["brian2_seed"], source_spike_steps=src_steps,
         t_ms=np.asarray(mon.t / ms),
         C=np.asarray(mon.C[0] / umolar), h=np.asarray(mon.h[0]),
         I=np.asarray(mon.I[0] / umolar), Gamma_A=np.asarray(mon.Gamma_A[0]),
         crossings_ms=at[ai == 0], stoch_crossings_ms=at[ai == 1],
         stoch_C=np.asarray(mon.C[1] / umolar).astype(np.float32),
         threshold_uM=0.5, wall_s=wall)  # fmt: skip


def run_ex3(out: pathlib.Path, scale: float) -> None:
    """Three synapses (no / weak / stronger open-loop gliotransmission), 16 spikes."""
    run = ap.RUNS["ex3"]
    device = use_runtime()
    dt_ms, duration_s, transient_s = run["dt_ms"], run["duration_s"], run["transient_s"]
    b2.defaultclock.dt = dt_ms * ms
    ns = namespace(ap.EXAMPLE3)
    spikes_ms = ap.example3_spike_times_ms(transient_s)
    source = b2.SpikeGeneratorGroup(1, np.zeros(len(spikes_ms), dtype=int), spikes_ms * ms)
    target = b2.NeuronGroup(1, "")
    syn = b2.Synapses(source, target, synapse_equations("clock-driven"), on_pre=SYNAPSE_ON_PRE,
                      method="exact", namespace=ns)  # fmt: skip
    syn.connect(True, n=3)
    for k, v in run["init_synapse"].items():
        setattr(syn, k, v)
    eqs = astro_equations(plc_beta=False, j_ex="clamp", coupling=False, glio=True)
    astro = b2.NeuronGroup(2, eqs, threshold="C>C_Theta", refractory="C>C_Theta",
                           reset=GLIO_RELEASE, method="rk4", namespace=ns)  # fmt: skip
    ia = run["init_astro"]
    astro.x_A, astro.h, astro.I, astro.C = ia["x_A"], ia["h"], ia["I"] * umolar, ia["C"] * umolar
    astro.I_bias = np.asarray(ap.EXAMPLE3_I_BIAS) * umolar
    link = b2.Synapses(astro, syn, "G_A_post = G_A_pre : mmolar (summed)")
    link.connect(j="i+1")
    syn_mon = b2.StateMonitor(syn, ["u_S", "x_S", "r_S", "Y_S", "Gamma_S"], record=[0, 1, 2])
    ast_mon = b2.StateMonitor(astro, ["C", "G_A", "x_A"], record=True, dt=10 * ms)
    rel_mon = b2.SpikeMonitor(astro)
    t0 = time.time()
    b2.run(duration_s * second)
    wall = time.time() - t0

    first = int(round(transient_s * 1000 / dt_ms))
    sl = slice(first, first + int(round(0.6 * 1000 / dt_ms)))
    trace = {k: np.asarray(getattr(syn_mon, k)[:, sl]) for k in ("u_S", "x_S", "r_S", "Gamma_S")}
    trace["Y_S"] = np.asarray(syn_mon.Y_S[:, sl] / umolar)
    spike_steps = np.rint(spikes_ms / dt_ms).astype(np.int64)
    r_at = np.asarray(syn_mon.r_S)[:, spike_steps + 1]  # r_S holds from the spike's step on
    ri, rt = events(rel_mon, dt_ms)
    print(f"  ex3: releases {np.bincount(ri, minlength=2)}, r_S at spikes:\n{np.round(r_at, 4)}"
          f"\n  wall {wall:.1f} s")  # fmt: skip
    save("ex3", out, dt_ms=dt_ms, duration_ms=duration_s * 1000, transient_ms=transient_s * 1000,
         device=device, method="astrocytes rk4, synapses exact",
         I_bias_uM=np.asarray(ap.EXAMPLE3_I_BIAS), spike_times_ms=spikes_ms,
         t_syn_ms=np.asarray(syn_mon.t[sl] / ms), **trace, r_S_at_spikes=r_at,
         t_astro_ms=np.asarray(ast_mon.t / ms), C=np.asarray(ast_mon.C / umolar),
         G_A=np.asarray(ast_mon.G_A / umolar), x_A=np.asarray(ast_mon.x_A),
         release_i=ri, release_t_ms=rt, wall_s=wall)  # fmt: skip


def build_ex4(n: int, indices: np.ndarray, times_ms: np.ndarray, extra_eqs: str = ""):
    """Example 4's three blocks of n synapses (closed loop, open loop, none) and 2n astrocytes."""
    ns = namespace(ap.EXAMPLE4)
    source = b2.SpikeGeneratorGroup(n, indices, times_ms * ms)
    target = b2.NeuronGroup(n, "")
    syn = b2.Synapses(source, target, synapse_equations("event-driven") + extra_eqs,
                      on_pre=SYNAPSE_ON_PRE, method="exact", namespace=ns)  # fmt: skip
    for _ in range(3):  # synapse b*n + k is block b's synapse from source k
        syn.connect(j="i")
    syn.x_S = 1.0
    eqs = astro_equations(plc_beta=True, j_ex="clamp", coupling=False, glio=True)
    astro = b2.NeuronGroup(2 * n, eqs, threshold="C>C_Theta", refractory="C>C_Theta",
                           reset=GLIO_RELEASE, method="rk4", namespace=ns)  # fmt: skip
    astro.h = 0.9
    astro.x_A = 1.0
    astro.I_bias = np.r_[np.zeros(n), np.ones(n) * ap.EXAMPLE4_OPEN_LOOP_I_BIAS] * umolar
    to_astro = b2.Synapses(syn, astro, "Y_S_post = Y_S_pre : mmolar (summed)",
                           namespace={"N_synapses": n})  # fmt: skip
    to_astro.connect(j="i if i < N_synapses")
    to_syn = b2.Synapses(astro, syn, "G_A_post = G_A_pre : mmolar (summed)",
                         namespace={"N_synapses": n})  # fmt: skip
    to_syn.connect(j="i if i < N_synapses")
    to_syn.connect(j="i if i >= N_synapses and i < 2*N_synapses")
    return syn, astro, [source, target, to_astro, to_syn]


def run_ex4a(out: pathlib.Path, scale: float) -> None:
    """N = 500 synapses per block, rates 0.011/0.11/1.1/11 Hz in 5-s epochs: mean Y_S."""
    run = ap.RUNS["ex4a"]
    device = use_runtime()
    n, dt_ms, duration_s, seed = run["n"], run["dt_ms"], run["duration_s"] * scale, run["seed"]
    b2.defaultclock.dt = dt_ms * ms
    indices, times_ms = ap.example4a_trains(n, seed, duration_s, dt_ms)
    syn, astro, others = build_ex4(n, indices, times_ms)
    y_mon = b2.StateMonitor(syn, "Y_S", record=np.arange(3 * n), dt=10 * ms)
    rel_mon = b2.SpikeMonitor(astro)
    t0 = time.time()
    b2.Network(b2.collect(), *others).run(duration_s * second)  # `others`: not locals
    wall = time.time() - t0

    y = np.asarray(y_mon.Y_S / umolar).reshape(3, n, -1).mean(axis=1)
    ri, rt = events(rel_mon, dt_ms)
    open_times = [rt[ri == k] for k in range(n, 2 * n)]
    identical = all(np.array_equal(open_times[0], o) for o in open_times)
    epoch_ms = run["epoch_s"] * 1000
    n_epochs = max(1, int(round(duration_s * 1000 / epoch_ms)))
    closed = ri < n
    counts = np.zeros((n, n_epochs), dtype=np.int32)
    np.add.at(counts, (ri[closed], (rt[closed] // epoch_ms).astype(int)), 1)
    print(f"  ex4a: {len(indices)} input spikes; open-loop releases {len(open_times[0])} "
          f"(identical across cells: {identical}); closed-loop releases per epoch "
          f"{counts.sum(0)}; wall {wall:.1f} s")  # fmt: skip
    save("ex4a", out, dt_ms=dt_ms, duration_ms=duration_s * 1000, device=device,
         method="astrocytes rk4, synapses exact (u_S, x_S event-driven)", seed=seed, n=n,
         rates_hz=np.asarray(run["rates_hz"]), epoch_ms=epoch_ms,
         n_input_spikes=len(indices), train_checksum=ap.train_checksum(indices, times_ms, dt_ms),
         t_ms=np.asarray(y_mon.t / ms), Y_S_mean=y, blocks=np.array(["closed", "open", "none"]),
         open_release_t_ms=open_times[0], open_loop_identical=identical,
         closed_release_counts=counts, closed_release_i=ri[closed].astype(np.int16),
         closed_release_t_ms=rt[closed], wall_s=wall)  # fmt: skip


def run_ex4b(out: pathlib.Path, scale: float) -> None:
    """N = 100 synapses per block at log-spaced rates, 195 s: time-average of the held r_S."""
    run = ap.RUNS["ex4b"]
    device = use_standalone("ex4b", IEEE_FLAGS)
    n, dt_ms, duration_s, seed = run["n"], run["dt_ms"], run["duration_s"] * scale, run["seed"]
    transient_s = run["transient_s"] * scale
    b2.defaultclock.dt = dt_ms * ms
    indices, times_ms = ap.example4b_trains(n, seed, duration_s, dt_ms)
    syn, astro, others = build_ex4(n, indices, times_ms, "r_acc : 1\nr_acc2 : 1\n")
    # Σ r_S and Σ r_S² over the steps, r_S read before the step's spikes (as a StateMonitor)
    syn.run_regularly("r_acc += r_S\nr_acc2 += r_S**2", when="before_groups")
    acc_mon = b2.StateMonitor(syn, "r_acc", record=np.arange(3 * n), dt=transient_s * second)
    rel_mon = b2.SpikeMonitor(astro)
    t0 = time.time()
    b2.Network(b2.collect(), *others).run(duration_s * second)  # `others`: not locals
    wall = time.time() - t0
    timers = standalone_timers()

    n_steps = int(round(duration_s * 1000 / dt_ms))
    n_trans = int(round(transient_s * 1000 / dt_ms))
    r_acc = np.asarray(syn.r_acc[:]).reshape(3, n)
    r_acc2 = np.asarray(syn.r_acc2[:]).reshape(3, n)
    mean = r_acc / n_steps
    std = np.sqrt(np.maximum(r_acc2 / n_steps - mean**2, 0.0))
    t_acc = np.asarray(acc_mon.t / ms)
    at_trans = np.asarray(acc_mon.r_acc)[:, np.argmin(np.abs(t_acc - transient_s * 1000))]
    mean_after = (r_acc - at_trans.reshape(3, n)) / (n_steps - n_trans)
    ri, rt = events(rel_mon, dt_ms)
    counts = np.bincount(ri, minlength=2 * n).astype(np.int32)
    rates = ap.example4b_rates(n)
    for k in (0, 33, 66, 99):
        print(
            f"  ex4b: {rates[k]:7.3f} Hz: <r_S> closed {mean[0, k]:.4f} open {mean[1, k]:.4f}"
            f" none {mean[2, k]:.4f}; releases closed {counts[k]} open {counts[n + k]}"
        )
    print(f"  ex4b: {len(indices)} input spikes; wall {wall:.1f} s ({timers})")
    save("ex4b", out, dt_ms=dt_ms, duration_ms=duration_s * 1000,
         transient_ms=transient_s * 1000, device=device,
         method="astrocytes rk4, synapses exact (u_S, x_S event-driven)", seed=seed, n=n,
         rates_hz=rates, n_input_spikes=np.bincount(indices, minlength=n).astype(np.int32),
         train_checksum=ap.train_checksum(indices, times_ms, dt_ms),
         blocks=np.array(["closed", "open", "none"]), r_S_mean=mean, r_S_std=std,
         r_S_mean_after_transient=mean_after, release_counts=counts,
         release_i=ri.astype(np.int16), release_t_ms=rt, wall_s=wall, **timers)  # fmt: skip


def run_ex5(out: pathlib.Path, scale: float) -> None:
    """Ring of 50 astrocytes with gap junctions, cell 25 stimulated 20 s of every 50 s."""
    run = ap.RUNS["ex5"]
    device = use_standalone("ex5", IEEE_FLAGS)
    n, dt_ms, duration_s = run["n"], run["dt_ms"], run["duration_s"] * scale
    b2.defaultclock.dt = dt_ms * ms
    ns = namespace(ap.EXAMPLE5)
    eqs = astro_equations(plc_beta=False, j_ex="gated", coupling=True, glio=False)
    astro = b2.NeuronGroup(n, eqs, method="rk4", threshold="C>C_Theta", refractory="C>C_Theta",
                           namespace=ns)  # fmt: skip
    astro.I_bias[run["stimulated_cell"]] = run["I_bias"] * umolar
    astro.h = run["init"]["h"]
    ring = b2.Synapses(astro, astro, COUPLING_EQS, namespace=ns)
    ring.connect("j == (i + 1) % N_pre or j == (i + N_pre - 1) % N_pre")
    c_mon = b2.StateMonitor(astro, "C", record=True, dt=1 * second)
    rel_mon = b2.SpikeMonitor(astro)
    t0 = time.time()
    b2.run(duration_s * second)
    wall = time.time() - t0
    timers = standalone_timers()

    ri, rt = events(rel_mon, dt_ms)
    first = np.array([rt[ri == k].min() if np.any(ri == k) else np.nan for k in range(n)])
    print(
        f"  ex5: {len(ri)} events; first event (s) at cells 0, 12, 24, 25, 26, 38: "
        f"{first[[0, 12, 24, 25, 26, 38]] / 1000}; wall {wall:.1f} s ({timers})"
    )
    save("ex5", out, dt_ms=dt_ms, duration_ms=duration_s * 1000, device=device, method="rk4",
         stimulated_cell=run["stimulated_cell"], t_ms=np.asarray(c_mon.t / ms),
         C=np.asarray(c_mon.C / umolar).astype(np.float32), release_i=ri.astype(np.int16),
         release_t_ms=rt, first_release_ms=first, threshold_uM=ap.EXAMPLE5["C_Theta"],
         wall_s=wall, **timers)  # fmt: skip


def _rates_in_bins(times_ms: np.ndarray, n_cells: int, duration_ms: float, bin_ms: float):
    edges = np.arange(0.0, duration_ms + bin_ms / 2, bin_ms)
    counts, _ = np.histogram(times_ms, edges)
    return counts, counts / n_cells / (bin_ms / 1000.0)


def _cv(i: np.ndarray, t: np.ndarray, n: int) -> float:
    cvs = []
    for k in range(n):
        tk = np.sort(t[i == k])
        if len(tk) >= 3:
            isi = np.diff(tk)
            cvs.append(np.std(isi) / np.mean(isi))
    return float(np.mean(cvs)) if cvs else float("nan")


NEURON_EQS = """
dv/dt = (g_l*(E_l - v) + g_e*(E_e - v) + g_i*(E_i - v) + {drive})/C_m : volt (unless refractory)
dg_e/dt = -g_e/tau_e : siemens
dg_i/dt = -g_i/tau_i : siemens
"""


def run_ex1(out: pathlib.Path, scale: float) -> None:
    """COBA network with depressing/facilitating synapses, no astrocytes (statistics only)."""
    run, p = ap.RUNS["ex1"], ap.NEURON_EXAMPLE1
    device = use_runtime()
    b2.seed(run["brian2_seed"])
    dt_ms, duration_s = run["dt_ms"], run["duration_s"] * scale
    b2.defaultclock.dt = dt_ms * ms
    nns = neuron_namespace(p)
    n_e, n_i = p["N_e"], p["N_i"]
    neurons = b2.NeuronGroup(
        n_e + n_i,
        NEURON_EQS.format(drive="I_ex"),
        threshold="v>V_th",
        reset="v=V_r",
        refractory="tau_r",
        method="euler",
        namespace=nns,
    )
    neurons.v = "E_l + rand()*(V_th-E_l)"
    neurons.g_e = "rand()*w_e"
    neurons.g_i = "rand()*w_i"
    exc, inh = neurons[:n_e], neurons[n_e:]
    syn_eqs = """
    du_S/dt = -Omega_f*u_S : 1 (event-driven)
    dx_S/dt = Omega_d*(1 - x_S) : 1 (event-driven)
    """
    tm = "u_S += U_0*(1 - u_S)\nr_S = u_S*x_S\nx_S -= r_S\n"
    exc_syn = b2.Synapses(exc, neurons, syn_eqs, on_pre=tm + "g_e_post += w_e*r_S", namespace=nns)
    inh_syn = b2.Synapses(inh, neurons, syn_eqs, on_pre=tm + "g_i_post += w_i*r_S", namespace=nns)
    exc_syn.connect(p=p["p_e"])
    inh_syn.connect(p=p["p_i"])
    exc_syn.x_S = 1
    inh_syn.x_S = 1
    exc_mon, inh_mon = b2.SpikeMonitor(exc), b2.SpikeMonitor(inh)
    t0 = time.time()
    b2.run(duration_s * second)
    wall = time.time() - t0

    duration_ms = duration_s * 1000
    ei, et = np.asarray(exc_mon.i[:]), np.asarray(exc_mon.t / ms)
    ii, it = np.asarray(inh_mon.i[:]), np.asarray(inh_mon.t / ms)
    rate_e, rate_i = len(et) / n_e / duration_s, len(it) / n_i / duration_s
    cv_e, cv_i = _cv(ei, et, n_e), _cv(ii, it, n_i)
    _, bins_e = _rates_in_bins(et, n_e, duration_ms, 50.0)
    _, bins_i = _rates_in_bins(it, n_i, duration_ms, 50.0)
    print(f"  ex1: rates E {rate_e:.2f} I {rate_i:.2f} Hz, CV {cv_e:.3f} / {cv_i:.3f}; "
          f"{len(exc_syn)} E and {len(inh_syn)} I synapses; wall {wall:.1f} s")  # fmt: skip
    save("ex1", out, dt_ms=dt_ms, duration_ms=duration_ms, device=device, method="euler",
         seed=run["brian2_seed"], rate_E=rate_e, rate_I=rate_i, cv_E=cv_e, cv_I=cv_i,
         bin_ms=50.0, rate_E_bins=bins_e, rate_I_bins=bins_i, n_syn_E=len(exc_syn),
         n_syn_I=len(inh_syn), wall_s=wall)  # fmt: skip


def run_ex6(out: pathlib.Path, scale: float) -> None:
    """Example 1's network with astrocytes: 3200 E, 800 I, 3200 astrocytes (statistics only)."""
    t_start = time.time()
    run, p, q = ap.RUNS["ex6"], ap.NEURON_EXAMPLE6, ap.EXAMPLE6
    device = use_standalone("ex6", None)  # Brian2's default compiler flags, as published
    b2.seed(run["brian2_seed"])
    dt_ms, duration_s = run["dt_ms"], run["duration_s"] * scale
    b2.defaultclock.dt = dt_ms * ms
    n_e, n_i, n_a = p["N_e"], p["N_i"], p["N_a"]
    size = p["size"] * b2.um
    # lattices as in the script: the neurons' spacing is size/N_cols, the astrocytes' size/N_rows_a
    n_rows = int(np.sqrt(n_e))
    n_cols = n_e // n_rows
    n_rows_a = int(np.sqrt(n_a))
    n_cols_a = n_a / n_rows_a
    stimulus = b2.TimedArray(list(ap.EXAMPLE6_STIMULUS), dt=ap.EXAMPLE6_STIMULUS_EPOCH_S * second)
    nns = neuron_namespace(p)
    nns.update(stimulus=stimulus, N_rows=n_rows, N_cols=n_cols, grid_dist=size / n_cols)
    neurons = b2.NeuronGroup(
        n_e + n_i, NEURON_EQS.format(drive="I_ex*stimulus(t)") + "x : meter (constant)\n"
        "y : meter (constant)\n", threshold="v>V_th", reset="v=V_r", refractory="tau_r",
        method="euler", namespace=nns)  # fmt: skip
    exc, inh = neurons[:n_e], neurons[n_e:]
    exc.x = "(i // N_rows)*grid_dist - N_rows/2.0*grid_dist"
    exc.y = "(i % N_rows)*grid_dist - N_cols/2.0*grid_dist"
    neurons.v = "E_l + rand()*(V_th-E_l)"
    neurons.g_e = "rand()*w_e"
    neurons.g_i = "rand()*w_i"

    sns = namespace(q, {"w_e": p["w_e"] * b2.nS, "w_i": p["w_i"] * b2.nS,
                        "grid_dist": size / n_rows_a, "N_cols_a": n_cols_a})  # fmt: skip
    syn_eqs = synapse_equations("event-driven", u0_variable=True)
    syn_eqs += "astrocyte_index : integer (constant)\n"
    exc_syn = b2.Synapses(exc, neurons, syn_eqs, on_pre=SYNAPSE_ON_PRE + "g_e_post += w_e*r_S",
                          method="exact", namespace=sns)  # fmt: skip
    exc_syn.connect(True, p=p["p_e"])
    exc_syn.x_S = 1.0
    inh_syn = b2.Synapses(inh, neurons, syn_eqs, on_pre=SYNAPSE_ON_PRE + "g_i_post += w_i*r_S",
                          method="exact", namespace=sns)  # fmt: skip
    inh_syn.connect(True, p=p["p_i"])
    inh_syn.x_S = 1.0
    exc_syn.astrocyte_index = "int(x_post/grid_dist) + N_cols_a*int(y_post/grid_dist)"

    ans = namespace(q, {"N_rows_a": n_rows_a, "N_cols_a": n_cols_a, "grid_dist": size / n_rows_a})
    eqs = astro_equations(plc_beta=True, j_ex=None, coupling=True, glio=True, clip_gamma=True)
    eqs += "x : meter (constant)\ny : meter (constant)\n"
    astro = b2.NeuronGroup(n_a, eqs, threshold="C>C_Theta", refractory="C>C_Theta",
                           reset=GLIO_RELEASE, method="rk4", dt=run["astro_dt_ms"] * ms,
                           namespace=ans)  # fmt: skip
    astro.x = "(i // N_rows_a)*grid_dist - N_rows_a/2.0*grid_dist"
    astro.y = "(i % N_rows_a)*grid_dist - N_cols_a/2.0*grid_dist"
    ia = run["init_astro"]
    astro.C, astro.h, astro.I, astro.x_A = ia["C"] * umolar, ia["h"], ia["I"] * umolar, ia["x_A"]
    to_syn = b2.Synapses(astro, exc_syn, "G_A_post = G_A_pre : mmolar (summed)")
    to_syn.connect("i == astrocyte_index_post")
    to_astro = b2.Synapses(exc_syn, astro, "Y_S_post = Y_S_pre/N_incoming : mmolar (summed)")
    to_astro.connect("astrocyte_index_pre == j")
    gap = b2.Synapses(astro, astro, COUPLING_EQS, namespace=ans)
    gap.connect("i != j and sqrt((x_pre-x_post)**2 + (y_pre-y_post)**2) < 75*um")
    exc_mon, inh_mon, ast_mon = b2.SpikeMonitor(exc), b2.SpikeMonitor(inh), b2.SpikeMonitor(astro)
    t0 = time.time()
    b2.run(duration_s * second)
    wall = time.time() - t0
    timers = standalone_timers()

    duration_ms = duration_s * 1000
    et, it = np.asarray(exc_mon.t / ms), np.asarray(inh_mon.t / ms)
    ai, at = events(ast_mon, run["astro_dt_ms"])
    _, rate_e = _rates_in_bins(et, n_e, duration_ms, 100.0)
    _, rate_i = _rates_in_bins(it, n_i, duration_ms, 100.0)
    astro_counts, _ = _rates_in_bins(at, n_a, duration_ms, 100.0)
    c1 = {k: _rates_in_bins(t, 1, duration_ms, 1.0)[0].astype(np.int32)
          for k, t in (("E", et), ("I", it), ("astro", at))}  # fmt: skip
    epoch_ms = ap.EXAMPLE6_STIMULUS_EPOCH_S * 1000
    epochs = np.arange(0.0, duration_ms + epoch_ms / 2, epoch_ms)
    ep_e = np.histogram(et, epochs)[0] / n_e / (epoch_ms / 1000)
    ep_i = np.histogram(it, epochs)[0] / n_i / (epoch_ms / 1000)
    ep_a = np.histogram(at, epochs)[0]

    # the synapse -> astrocyte map, per postsynaptic neuron (-1: no astrocyte)
    syn_j = np.asarray(exc_syn.j[:])
    syn_idx = np.asarray(exc_syn.astrocyte_index[:]).astype(np.int64)
    valid = (syn_idx >= 0) & (syn_idx < n_a)
    per_post = np.full(n_e + n_i, -2, dtype=np.int64)  # -2: no incoming E synapse
    per_post[syn_j] = np.where(valid, syn_idx, -1)
    assert np.all(np.where(valid, syn_idx, -1) == per_post[syn_j])  # one value per post
    xy = np.zeros((n_e + n_i, 2))
    xy[:n_e] = ap.example6_neuron_positions(n_e, p["size"])
    proto = ap.example6_astrocyte_index(xy, n_a, p["size"])
    has = per_post > -2
    mismatch = int(np.sum(proto[has] != per_post[has]))
    n_exc = len(exc_syn)
    n_with = int(valid.sum())
    assert n_with == len(to_syn) == len(to_astro), (n_with, len(to_syn), len(to_astro))
    onto_i = syn_j >= n_e
    pos_err = float(np.max(np.abs(np.asarray(exc.x[:] / b2.um) - xy[:n_e, 0])))
    total_wall = time.time() - t_start
    print(
        f"  ex6: {n_exc} E, {len(inh_syn)} I synapses, {n_with} E synapses with an astrocyte "
        f"({1 - n_with / n_exc:.3%} without; E->I all to astrocyte 0: "
        f"{bool(np.all(syn_idx[onto_i] == 0))}), {len(gap)} gap junctions; protocol index "
        f"mismatches {mismatch}; position error {pos_err:.2e} um\n"
        f"  ex6: rates per epoch E {np.round(ep_e, 3)} I {np.round(ep_i, 3)} Hz, astrocyte "
        f"releases per epoch {ep_a}\n  ex6: wall {wall:.1f} s ({timers}), all {total_wall:.1f} s"
    )
    save("ex6", out, dt_ms=dt_ms, astro_dt_ms=run["astro_dt_ms"], duration_ms=duration_ms,
         device=device, method="neurons euler, synapses exact, astrocytes rk4",
         seed=run["brian2_seed"], bin_ms=100.0, rate_E=rate_e, rate_I=rate_i,
         astro_release_counts=astro_counts.astype(np.int32), counts_1ms_E=c1["E"],
         counts_1ms_I=c1["I"], counts_1ms_astro=c1["astro"], epoch_ms=epoch_ms,
         epoch_rate_E=ep_e, epoch_rate_I=ep_i, epoch_astro_releases=ep_a.astype(np.int32),
         n_syn_E=n_exc, n_syn_I=len(inh_syn), n_syn_E_with_astro=n_with,
         n_syn_E_onto_I=int(onto_i.sum()), frac_syn_E_without_astro=1 - n_with / n_exc,
         n_gap_junctions=len(gap), astro_index_of_post=per_post.astype(np.int16),
         astro_index_mismatch=mismatch, neuron_position_error_um=pos_err,
         release_i=ai.astype(np.int16), release_t_ms=at, wall_s=wall,
         total_wall_s=total_wall, codegen_s=total_wall - wall, **timers)  # fmt: skip


RUNNERS = {"ex1": run_ex1, "ex2": run_ex2, "ex3": run_ex3, "ex4a": run_ex4a, "ex4b": run_ex4b,
           "ex5": run_ex5, "ex6": run_ex6}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="run the examples whose name contains this")
    parser.add_argument("--out", type=pathlib.Path, default=HERE, help="output folder")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="scale the durations (smoke tests; write to another --out)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLES:
        if args.only in name:
            print(f"{name}:", flush=True)
            t0 = time.time()
            RUNNERS[name](args.out, args.scale)
            print(f"  {name} done in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
