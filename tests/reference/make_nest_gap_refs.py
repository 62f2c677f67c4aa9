"""Generate NEST 3.10 and Brian2 references of gap-junction coupling (tests/network/).

Neither NEST nor Brian2 is a test dependency: run this with environments that have them, e.g.

    python3 -m venv /tmp/nest && /tmp/nest/bin/pip install nest-simulator==3.10.0 numpy
    /tmp/nest/bin/python tests/reference/make_nest_gap_refs.py --peer nest
    python3 -m venv /tmp/b2 && /tmp/b2/bin/pip install brian2 scipy "numpy<2.4"
    /tmp/b2/bin/python tests/reference/make_nest_gap_refs.py --peer brian2 --brian2-target cython

It writes `nest_gap_junctions.npz` and `brian2_gap_junctions.npz`. Both peers simulate the same
protocols with the Traub-Miles cell of the COBAHH benchmark (NEST's `hh_cond_beta_gap_traub`
with `V_T` = -63 mV; brainsim's `TraubHH`; the same equations in Brian2):

- `pair`: two cells joined by one gap junction of conductance `g` (nS); cell 0 receives
  300 pA, cell 1 nothing; both start at E_L = -60 mV with the gates at their steady state.
  dt = 0.01 ms, 100 ms, V recorded every 0.05 ms. One case per `g` in `PAIR_G`
  (5, 50 and 20000 nS: weak, strong enough to make cell 1 fire, and a near-syncytium whose
  coupling time C/(2g) = 5 µs is shorter than the step).
- `rect` (Brian2 only; NEST has no rectifying junction): the pair with a rectifying junction
  that passes current only from its `pre` cell to its `post` cell while v_pre > v_post,
  I_post = g [v_pre - v_post]_+ and I_pre = -I_post. Junction 0 -> 1 (`rect_forward`) and
  1 -> 0 (`rect_backward`), g = 50 nS.
- `net`: `NET_N` cells with drives drawn uniformly in [250, 350] pA, initial potentials in
  [-70, -55] mV (gates at steady state), and `NET_PAIRS` random gap junctions (distinct
  unordered pairs); dt = 0.025 ms, 500 ms. For each `g` in `NET_G`: the Golomb-Rinzel
  synchrony chi of the potentials (sampled every 0.25 ms after 100 ms), the population-mean
  potential, and the spike times. The pairs, drives and initial potentials are stored.

NEST couples the cells by waveform relaxation (Hahne et al. 2015; `use_wfr`, tolerance set here
to 1e-6 mV, at most 100 iterations), with its adaptive RKF45 integrator: close to the exact
solution of the coupled equations. Its iterations converge over a communication interval T
only when (g/C) T is not large: with the default T = 1 ms the 20000-nS pair (g/C = 100/ms)
stops at the iteration limit in every interval, so the pair protocol uses T = dt = 0.01 ms;
the network (g/C <= 0.15/ms) uses T = 1 ms. Brian2 (numpy or cython target, float64,
exponential Euler) couples them by a summed
variable `Igap_post = g*(v_pre - v_post)` computed from the potentials at the start of each
step: the explicit scheme of brainsim's `GapJunctions(method="explicit")`.

Saved units: ms, mV, nS, pA. The arrays `*_t` hold the sample times; a sample at `t` is the
state at time `t` in both (NEST stamps it with the end of the step it follows, Brian2 records
it at the start of the next step). Brian2's spike times are the upward crossings of -20 mV of
the recorded potential (linear interpolation); NEST's are its own (the peak of the spike).
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent

TRAUB = dict(C=200.0, g_L=10.0, E_L=-60.0, E_K=-90.0, E_Na=50.0, g_Na=20000.0, g_K=6000.0,
             V_T=-63.0)  # fmt: skip
PAIR_DT, PAIR_T, PAIR_EVERY = 0.01, 100.0, 5
PAIR_I = (300.0, 0.0)
PAIR_G = (5.0, 50.0, 20000.0)
RECT_G = 50.0
NET_N, NET_PAIRS, NET_SEED = 60, 120, 1234
NET_DT, NET_T, NET_EVERY, NET_SKIP = 0.025, 500.0, 10, 100.0
NET_G = (0.0, 1.0, 3.0, 10.0, 30.0)
TARGET = "numpy"  # Brian2's code generation target (`--brian2-target cython` is faster)


def exprel(x):
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-8
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 + x / 2, np.expm1(safe) / safe)


def traub_gates(v, V_T=TRAUB["V_T"]):
    """Steady-state m, h, n of the Traub-Miles cell at `v` (mV)."""
    am = 1.28 / exprel((13.0 - v + V_T) / 4.0)
    bm = 1.4 / exprel((v - V_T - 40.0) / 5.0)
    ah = 0.128 * np.exp((17.0 - v + V_T) / 18.0)
    bh = 4.0 / (1.0 + np.exp((40.0 - v + V_T) / 5.0))
    an = 0.16 / exprel((15.0 - v + V_T) / 5.0)
    bn = 0.5 * np.exp((10.0 - v + V_T) / 40.0)
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


def network_protocol():
    """Pairs (i < j), drives (pA) and initial potentials (mV) of the `net` protocol."""
    rng = np.random.default_rng(NET_SEED)
    pairs = set()
    while len(pairs) < NET_PAIRS:
        i, j = rng.choice(NET_N, 2, replace=False)
        pairs.add((min(i, j), max(i, j)))
    pairs = np.array(sorted(pairs), dtype=np.int64)
    drive = rng.uniform(250.0, 350.0, NET_N)
    v0 = rng.uniform(-70.0, -55.0, NET_N)
    return pairs[:, 0], pairs[:, 1], drive, v0


def chi(v):
    """Golomb-Rinzel chi of traces `v` (T, n)."""
    return float(np.sqrt(v.mean(1).var() / v.var(0).mean()))


def protocol_arrays() -> dict:
    pre, post, drive, v0 = network_protocol()
    return dict(
        pair_dt=PAIR_DT, pair_T=PAIR_T, pair_every=PAIR_EVERY, pair_I=np.array(PAIR_I),
        pair_g=np.array(PAIR_G), rect_g=RECT_G,
        net_dt=NET_DT, net_T=NET_T, net_every=NET_EVERY, net_skip=NET_SKIP,
        net_g=np.array(NET_G), net_pre=pre, net_post=post, net_drive=drive, net_v0=v0,
        **{f"traub_{k}": v for k, v in TRAUB.items()},
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# NEST


def nest_cells(nest, n, drive, v0):
    cells = nest.Create("hh_cond_beta_gap_traub", n)
    m, h, k = traub_gates(np.asarray(v0, float))
    p = {"C_m": TRAUB["C"], "g_L": TRAUB["g_L"], "E_L": TRAUB["E_L"], "E_K": TRAUB["E_K"],
         "E_Na": TRAUB["E_Na"], "g_Na": TRAUB["g_Na"], "g_K": TRAUB["g_K"],
         "V_T": TRAUB["V_T"]}  # fmt: skip
    cells.set(p)
    cells.set([{"V_m": float(v), "Act_m": float(a), "Inact_h": float(b), "Act_n": float(c),
                "I_e": float(i)}
               for v, a, b, c, i in zip(v0, m, h, k, drive, strict=True)])  # fmt: skip
    return cells


def nest_run(nest, dt, n, drive, v0, pairs, g, T, every, comm):
    nest.ResetKernel()
    nest.set_verbosity("M_WARNING")
    nest.SetKernelStatus({"resolution": dt, "use_wfr": True, "wfr_tol": 1e-6,
                          "wfr_max_iterations": 100, "wfr_comm_interval": comm,
                          "wfr_interpolation_order": 3, "rng_seed": 1})  # fmt: skip
    cells = nest_cells(nest, n, drive, v0)
    for i, j in pairs:
        nest.Connect(cells[int(i)], cells[int(j)], {"rule": "one_to_one", "make_symmetric": True},
                     {"synapse_model": "gap_junction", "weight": float(g)})  # fmt: skip
    mm = nest.Create("multimeter", {"interval": every * dt, "record_from": ["V_m"]})
    sr = nest.Create("spike_recorder")
    nest.Connect(mm, cells)
    nest.Connect(cells, sr)
    nest.Simulate(T)
    ev = mm.get("events")
    times, senders = np.asarray(ev["times"]), np.asarray(ev["senders"])
    ids = np.asarray(cells.tolist())
    t = np.unique(times)
    v = np.empty((t.size, n))
    for col, nid in enumerate(ids):
        sel = senders == nid
        v[:, col] = np.asarray(ev["V_m"])[sel][np.argsort(times[sel])]
    sp = sr.get("events")
    spike_t = np.asarray(sp["times"])
    spike_i = np.searchsorted(ids, np.asarray(sp["senders"]))
    return t, v, spike_t, spike_i


def make_nest():
    import nest

    out = protocol_arrays()
    out["nest_version"] = np.array(nest.__version__)
    for g in PAIR_G:
        t, v, st, si = nest_run(nest, PAIR_DT, 2, PAIR_I, [TRAUB["E_L"]] * 2, [(0, 1)], g,
                                PAIR_T, PAIR_EVERY, comm=PAIR_DT)  # fmt: skip
        out[f"pair_g{g:g}_t"], out[f"pair_g{g:g}_v"] = t, v
        out[f"pair_g{g:g}_spike_t"], out[f"pair_g{g:g}_spike_i"] = st, si
        print(f"pair g={g:g}: spikes {np.bincount(si, minlength=2)}")
    pre, post, drive, v0 = network_protocol()
    for g in NET_G:
        pairs = zip(pre, post, strict=True)
        t, v, st, si = nest_run(nest, NET_DT, NET_N, drive, v0, pairs, g, NET_T, NET_EVERY,
                                comm=1.0)  # fmt: skip
        keep = t > NET_SKIP
        out[f"net_g{g:g}_t"], out[f"net_g{g:g}_vmean"] = t, v.mean(1)
        out[f"net_g{g:g}_chi"] = chi(v[keep])
        out[f"net_g{g:g}_spike_t"], out[f"net_g{g:g}_spike_i"] = st, si
        print(f"net g={g:g}: chi {chi(v[keep]):.3f}, rate {st.size / NET_N / NET_T * 1e3:.1f} Hz")
    np.savez_compressed(HERE / "nest_gap_junctions.npz", **out)


# ---------------------------------------------------------------------------------------------
# Brian2

EQS = """
dv/dt = (g_L*(E_L - v) - g_Na*m**3*h*(v - E_Na) - g_K*n**4*(v - E_K) + I + Igap)/C : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 1.28/exprel((13*mV - v + V_T)/(4*mV))/ms : Hz
beta_m = 1.4/exprel((v - V_T - 40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV - v + V_T)/(18*mV))/ms : Hz
beta_h = 4/(1 + exp((40*mV - v + V_T)/(5*mV)))/ms : Hz
alpha_n = 0.16/exprel((15*mV - v + V_T)/(5*mV))/ms : Hz
beta_n = 0.5*exp((10*mV - v + V_T)/(40*mV))/ms : Hz
I : amp (constant)
Igap : amp
"""


def brian2_run(b2, dt, drive, v0, pre, post, g, T, every, rectifying=False):
    b2.start_scope()
    b2.prefs.codegen.target = TARGET
    b2.prefs.core.default_float_dtype = np.float64
    b2.defaultclock.dt = dt * b2.ms
    ns = {k: val * (b2.pF if k == "C" else b2.nS if k.startswith("g") else b2.mV)
          for k, val in TRAUB.items()}  # fmt: skip
    eqs = EQS.replace("Igap : amp", "Igap = Igap_f + Igap_b : amp\nIgap_f : amp\nIgap_b : amp")
    G = b2.NeuronGroup(len(drive), eqs, method="exponential_euler", namespace=ns)
    m, h, k = traub_gates(np.asarray(v0, float))
    G.v, G.m, G.h, G.n = np.asarray(v0) * b2.mV, m, h, k
    G.I = np.asarray(drive) * b2.pA
    pre, post = np.asarray(pre), np.asarray(post)
    gate = "*int(v_pre > v_post)" if rectifying else ""
    # Igap_f: current into each junction's post cell; Igap_b: current into its pre cell
    Sf = b2.Synapses(G, G, f"g_gap : siemens\nIgap_f_post = g_gap*(v_pre - v_post){gate} : amp "
                     "(summed)", namespace=ns)  # fmt: skip
    Sb = b2.Synapses(G, G, f"g_gap : siemens\nIgap_b_post = g_gap*(v_pre - v_post)"
                     f"{gate.replace('v_pre > v_post', 'v_post > v_pre')} : amp (summed)",
                     namespace=ns)  # fmt: skip
    Sf.connect(i=pre, j=post)
    Sb.connect(i=post, j=pre)
    Sf.g_gap = g * b2.nS
    Sb.g_gap = g * b2.nS
    mon = b2.StateMonitor(G, "v", record=True, dt=every * dt * b2.ms)
    b2.run(T * b2.ms)
    # StateMonitor records the state at the start of each step: sample k at k*every*dt
    t = np.asarray(mon.t / b2.ms)
    v = np.asarray(mon.v / b2.mV).T
    return t, v


def crossings(t, v, level=-20.0):
    """Upward crossings of `level` (linear interpolation) per column: (times, indices)."""
    times, idx = [], []
    for col in range(v.shape[1]):
        x = v[:, col]
        k = np.nonzero((x[:-1] <= level) & (x[1:] > level))[0]
        tc = t[k] + (level - x[k]) / (x[k + 1] - x[k]) * (t[k + 1] - t[k])
        times.append(tc)
        idx.append(np.full(k.size, col))
    return np.concatenate(times), np.concatenate(idx)


def make_brian2():
    import brian2 as b2

    out = protocol_arrays()
    out["brian2_version"] = np.array(b2.__version__)
    v0 = [TRAUB["E_L"]] * 2
    for g in PAIR_G[:2]:  # 20000 nS: 2 g dt / C = 2, the explicit scheme's stability limit
        t, v = brian2_run(b2, PAIR_DT, PAIR_I, v0, [0], [1], g, PAIR_T, PAIR_EVERY)
        out[f"pair_g{g:g}_t"], out[f"pair_g{g:g}_v"] = t, v
        print(f"pair g={g:g}: crossings {np.bincount(crossings(t, v)[1], minlength=2)}")
    for name, (pre, post) in (("rect_forward", ([0], [1])), ("rect_backward", ([1], [0]))):
        t, v = brian2_run(b2, PAIR_DT, PAIR_I, v0, pre, post, RECT_G, PAIR_T, PAIR_EVERY,
                          rectifying=True)  # fmt: skip
        out[f"{name}_t"], out[f"{name}_v"] = t, v
        print(f"{name}: crossings {np.bincount(crossings(t, v)[1], minlength=2)}, "
              f"min v1 {v[:, 1].min():.2f}, max v1 {v[:, 1].max():.2f}")  # fmt: skip
    pre, post, drive, v0 = network_protocol()
    for g in NET_G:
        t, v = brian2_run(b2, NET_DT, drive, v0, pre, post, g, NET_T, NET_EVERY)
        keep = t > NET_SKIP
        st, si = crossings(t, v)
        out[f"net_g{g:g}_t"], out[f"net_g{g:g}_vmean"] = t, v.mean(1)
        out[f"net_g{g:g}_chi"] = chi(v[keep])
        out[f"net_g{g:g}_spike_t"], out[f"net_g{g:g}_spike_i"] = st, si
        print(f"net g={g:g}: chi {chi(v[keep]):.3f}, rate {st.size / NET_N / NET_T * 1e3:.1f} Hz")
    np.savez_compressed(HERE / "brian2_gap_junctions.npz", **out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=["nest", "brian2"], required=True)
    parser.add_argument("--brian2-target", choices=["numpy", "cython"], default="numpy")
    args = parser.parse_args()
    TARGET = args.brian2_target
    make_nest() if args.peer == "nest" else make_brian2()
