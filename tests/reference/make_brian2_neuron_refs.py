"""Generate Brian2 reference traces for brainsim's point-neuron models.

Brian2 is NOT a dependency of brainsim (neither at run time nor at test
time).  This script is run by hand, in a separate environment that has Brian2,
and its small ``.npz`` outputs are committed next to it::

    /path/to/venv-with-brian2/bin/python tests/reference/make_brian2_neuron_refs.py
    /path/to/venv-with-brian2/bin/python tests/reference/make_brian2_neuron_refs.py --check

``--check`` re-simulates every stored case with a small, independent NumPy
implementation (same integration method, same step order as Brian2) and
prints spike counts and the worst spike-time difference.  ``--check-only``
does only that, on the files already present, and needs NumPy only (no
Brian2).  ``--only NAME`` restricts to files whose name contains NAME.

Units of everything stored: ms, mV, nS, pA, pF (so nS*mV = pA and
pA/pF = mV/ms).  The Izhikevich model is dimensionless (v, u, I are plain
numbers, rates per ms).  See README.md in this folder for the file layout.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------
# Rate functions (NumPy, brainsim units: v in mV, rates in 1/ms).
# Written with exprel(x) = (exp(x) - 1)/x, exactly as in the Brian2 equations.
# ---------------------------------------------------------------------------


def exprel(x):
    """(exp(x) - 1)/x with the removable singularity at 0 filled in
    (same implementation as Brian2's numpy target)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.ones_like(x)
    nz = np.abs(x) >= 1e-16
    out[nz] = np.expm1(x[nz]) / x[nz]
    return out if out.shape else float(out)


def hh_classic_rates(v):
    # alpha_m = 0.1 (v+40)/(1 - exp(-(v+40)/10)).  With y = (v+40)/10:
    #   1 - exp(-y) = y * exprel(-y)  =>  alpha_m = y / (y exprel(-y)) = 1/exprel(-y)
    am = 1.0 / exprel(-(v + 40.0) / 10.0)
    bm = 4.0 * np.exp(-(v + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(v + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    # alpha_n = 0.01 (v+55)/(1 - exp(-(v+55)/10)) = 0.1/exprel(-(v+55)/10)
    an = 0.1 / exprel(-(v + 55.0) / 10.0)
    bn = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return am, bm, ah, bh, an, bn


def hh_classic_rates_naive(v):
    am = 0.1 * (v + 40.0) / (1.0 - np.exp(-(v + 40.0) / 10.0))
    bm = 4.0 * np.exp(-(v + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(v + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    an = 0.01 * (v + 55.0) / (1.0 - np.exp(-(v + 55.0) / 10.0))
    bn = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return am, bm, ah, bh, an, bn


def traub_rates(v, V_T):
    # alpha_m = 0.32 (13 - v + V_T)/(exp((13 - v + V_T)/4) - 1); z = (13-v+V_T)/4:
    #   exp(z) - 1 = z exprel(z)  =>  alpha_m = 0.32*4 z/(z exprel(z)) = 1.28/exprel(z)
    am = 1.28 / exprel((13.0 - v + V_T) / 4.0)
    # beta_m = 0.28 (v - V_T - 40)/(exp((v - V_T - 40)/5) - 1) = 1.4/exprel(...)
    bm = 1.4 / exprel((v - V_T - 40.0) / 5.0)
    ah = 0.128 * np.exp((17.0 - v + V_T) / 18.0)
    bh = 4.0 / (1.0 + np.exp((40.0 - v + V_T) / 5.0))
    # alpha_n = 0.032 (15 - v + V_T)/(exp((15 - v + V_T)/5) - 1) = 0.16/exprel(...)
    an = 0.16 / exprel((15.0 - v + V_T) / 5.0)
    bn = 0.5 * np.exp((10.0 - v + V_T) / 40.0)
    return am, bm, ah, bh, an, bn


def traub_rates_naive(v, V_T):
    am = 0.32 * (13.0 - v + V_T) / (np.exp((13.0 - v + V_T) / 4.0) - 1.0)
    bm = 0.28 * (v - V_T - 40.0) / (np.exp((v - V_T - 40.0) / 5.0) - 1.0)
    ah = 0.128 * np.exp((17.0 - v + V_T) / 18.0)
    bh = 4.0 / (1.0 + np.exp((40.0 - v + V_T) / 5.0))
    an = 0.032 * (15.0 - v + V_T) / (np.exp((15.0 - v + V_T) / 5.0) - 1.0)
    bn = 0.5 * np.exp((10.0 - v + V_T) / 40.0)
    return am, bm, ah, bh, an, bn


def verify_exprel_forms():
    """The exprel forms must equal the textbook forms away from the
    singularities (and stay finite on them)."""
    v = np.linspace(-100.0, 60.0, 1601)
    v = v[(np.abs(v + 40) > 1e-3) & (np.abs(v + 55) > 1e-3)]
    for a, b in zip(hh_classic_rates(v), hh_classic_rates_naive(v), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=0)
    V_T = -63.0
    v = np.linspace(-100.0, 60.0, 1601)
    v = v[(np.abs(13 - v + V_T) > 1e-3) & (np.abs(v - V_T - 40) > 1e-3)
          & (np.abs(15 - v + V_T) > 1e-3)]
    for a, b in zip(traub_rates(v, V_T), traub_rates_naive(v, V_T), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=0)
    # exactly on the singular points: finite, equal to the limit
    assert np.isclose(hh_classic_rates(np.array([-40.0]))[0][0], 1.0)
    assert np.isclose(hh_classic_rates(np.array([-55.0]))[4][0], 0.1)
    assert np.isclose(traub_rates(np.array([13.0 + V_T]), V_T)[0][0], 1.28)
    assert np.isclose(traub_rates(np.array([V_T + 40.0]), V_T)[1][0], 1.4)
    assert np.isclose(traub_rates(np.array([15.0 + V_T]), V_T)[4][0], 0.16)


def gates_inf(rates):
    am, bm, ah, bh, an, bn = rates
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


# ---------------------------------------------------------------------------
# Case definitions
# ---------------------------------------------------------------------------

HH_CLASSIC = dict(C=1.0, g_Na=120.0, g_K=36.0, g_L=0.3,
                  E_Na=50.0, E_K=-77.0, E_L=-54.387)
TRAUB = dict(C=200.0, g_L=10.0, E_L=-60.0, E_K=-90.0, E_Na=50.0,
             g_Na=20000.0, g_K=6000.0, V_T=-63.0)
TRAUB_CURRENTS = (200.0, 500.0)   # pA
IZH_REGIMES = {
    "RS": (0.02, 0.2, -65.0, 8.0),
    "IB": (0.02, 0.2, -55.0, 4.0),
    "CH": (0.02, 0.2, -50.0, 2.0),
    "FS": (0.1, 0.2, -65.0, 2.0),
    "LTS": (0.02, 0.25, -65.0, 2.0),
}
# (C, g_L, E_L, V_T, delta_T, a, tau_w, b, V_r, I)  -- Naud et al. 2008
ADEX_PATTERNS = {
    "tonic": (200, 10, -70, -50, 2, 2, 30, 0, -58, 500),
    "adapting": (200, 12, -70, -50, 2, 2, 300, 60, -58, 500),
    "initial_burst": (130, 18, -58, -50, 2, 4, 150, 120, -50, 400),
    "bursting": (200, 10, -58, -50, 2, 2, 120, 100, -46, 210),
}


def _fmt_current(x):
    return f"{x:g}".replace(".", "p")


def make_cases():
    cases = []
    # 1. classic HH
    m0, h0, n0 = gates_inf(hh_classic_rates(np.array([-65.0])))
    for I in (10.0, 7.0):
        cases.append(dict(
            model="hh_classic", case=f"I{_fmt_current(I)}",
            params=dict(HH_CLASSIC), I=I,
            init=dict(v=-65.0, m=float(m0[0]), h=float(h0[0]), n=float(n0[0])),
            method="exponential_euler", dt=0.01, duration=100.0, record_every=10,
            threshold="v > 0*mV", refractory="v > 0*mV", reset=""))
    # 2. Traub-Miles (COBAHH cell, no synapses)
    m0, h0, n0 = gates_inf(traub_rates(np.array([TRAUB["E_L"]]), TRAUB["V_T"]))
    for I in TRAUB_CURRENTS:
        cases.append(dict(
            model="traub", case=f"I{_fmt_current(I)}",
            params=dict(TRAUB), I=I,
            init=dict(v=TRAUB["E_L"], m=float(m0[0]), h=float(h0[0]), n=float(n0[0])),
            method="exponential_euler", dt=0.01, duration=200.0, record_every=10,
            threshold="v > -20*mV", refractory="v > -20*mV", reset=""))
    # 3. Izhikevich 2003
    for name, (a, b, c, d) in IZH_REGIMES.items():
        cases.append(dict(
            model="izhikevich", case=name,
            params=dict(a=a, b=b, c=c, d=d), I=10.0,
            init=dict(v=-65.0, u=b * -65.0),
            method="euler", dt=0.1, duration=300.0, record_every=1,
            threshold="v >= 30", refractory="", reset="v = c; u += d"))
    # 4. AdEx
    for name, pat in ADEX_PATTERNS.items():
        C, g_L, E_L, V_T, dT, a, tau_w, b, V_r, I = map(float, pat)
        cases.append(dict(
            model="adex", case=name,
            params=dict(C=C, g_L=g_L, E_L=E_L, V_T=V_T, delta_T=dT, a=a,
                        tau_w=tau_w, b=b, V_r=V_r, V_peak=0.0), I=I,
            init=dict(v=E_L, w=0.0),
            method="euler", dt=0.01, duration=500.0, record_every=10,
            threshold="v > V_peak", refractory="", reset="v = V_r; w += b"))
    return cases


def filename(case):
    return os.path.join(HERE, f"brian2_{case['model']}_{case['case']}.npz")


# ---------------------------------------------------------------------------
# Brian2 side
# ---------------------------------------------------------------------------

BRIAN2_EQS = {
    "hh_classic": """
dv/dt = (g_Na*m**3*h*(E_Na - v) + g_K*n**4*(E_K - v) + g_L*(E_L - v) + I)/C : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 1/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
beta_m = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
alpha_h = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
beta_h = 1/(1 + exp(-(v + 35*mV)/(10*mV)))/ms : Hz
alpha_n = 0.1/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
beta_n = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
""",
    "traub": """
dv/dt = (g_L*(E_L - v) - g_Na*m**3*h*(v - E_Na) - g_K*n**4*(v - E_K) + I)/C : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 1.28/exprel((13*mV - v + V_T)/(4*mV))/ms : Hz
beta_m = 1.4/exprel((v - V_T - 40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV - v + V_T)/(18*mV))/ms : Hz
beta_h = 4/(1 + exp((40*mV - v + V_T)/(5*mV)))/ms : Hz
alpha_n = 0.16/exprel((15*mV - v + V_T)/(5*mV))/ms : Hz
beta_n = 0.5*exp((10*mV - v + V_T)/(40*mV))/ms : Hz
""",
    "izhikevich": """
dv/dt = (0.04*v**2 + 5*v + 140 - u + I)/ms : 1
du/dt = a*(b*v - u)/ms : 1
""",
    "adex": """
dv/dt = (-g_L*(v - E_L) + g_L*delta_T*exp((v - V_T)/delta_T) - w + I)/C : volt
dw/dt = (a*(v - E_L) - w)/tau_w : amp
""",
}


def brian2_units(model):
    """name -> Brian2 unit of the brainsim number (ms, mV, nS, pA, pF)."""
    import brian2 as b2
    if model == "izhikevich":
        return dict(a=1, b=1, c=1, d=1, I=1, v=1, u=1)
    if model in ("hh_classic", "traub"):
        return dict(C=b2.pF, g_Na=b2.nS, g_K=b2.nS, g_L=b2.nS, E_Na=b2.mV,
                    E_K=b2.mV, E_L=b2.mV, V_T=b2.mV, I=b2.pA,
                    v=b2.mV, m=1, h=1, n=1)
    if model == "adex":
        return dict(C=b2.pF, g_L=b2.nS, E_L=b2.mV, V_T=b2.mV, delta_T=b2.mV,
                    a=b2.nS, tau_w=b2.ms, b=b2.pA, V_r=b2.mV, V_peak=b2.mV,
                    I=b2.pA, v=b2.mV, w=b2.pA)
    raise KeyError(model)


def run_brian2(case):
    import brian2 as b2
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.prefs.core.default_float_dtype = np.float64
    b2.defaultclock.dt = case["dt"] * b2.ms
    u = brian2_units(case["model"])
    ns = {k: val * u[k] for k, val in case["params"].items()}
    ns["I"] = case["I"] * u["I"]
    kw = dict(threshold=case["threshold"], method=case["method"], namespace=ns)
    if case["reset"]:
        kw["reset"] = case["reset"]
    if case["refractory"]:
        kw["refractory"] = case["refractory"]
    G = b2.NeuronGroup(1, BRIAN2_EQS[case["model"]], **kw)
    for var, val in case["init"].items():
        setattr(G, var, val * u[var])
    state_vars = list(case["init"])
    sm = b2.StateMonitor(G, state_vars, record=0,
                         dt=case["record_every"] * case["dt"] * b2.ms)
    spm = b2.SpikeMonitor(G)
    b2.run(case["duration"] * b2.ms)
    out = dict(
        t=np.asarray(sm.t / b2.ms, dtype=np.float64),
        spike_times=np.asarray(spm.t / b2.ms, dtype=np.float64),
    )
    for var in state_vars:
        out[var] = np.asarray(getattr(sm, var)[0] / u[var], dtype=np.float64)
    return out, b2.__version__


def save_case(case, res, version):
    dt = case["dt"]
    data = dict(
        model=np.array(case["model"]), case=np.array(case["case"]),
        dt=np.float64(dt), duration=np.float64(case["duration"]),
        method=np.array(case["method"]),
        threshold=np.array(case["threshold"]),
        refractory=np.array(case["refractory"]),
        reset=np.array(case["reset"]),
        equations=np.array(BRIAN2_EQS[case["model"]].strip()),
        I=np.float64(case["I"]),
        record_every=np.int64(case["record_every"]),
        brian2_version=np.array(version),
        spike_times=res["spike_times"],
        spike_steps=np.rint(res["spike_times"] / dt).astype(np.int64),
        t=res["t"], v=res["v"],
    )
    for k, val in case["params"].items():
        data[f"p_{k}"] = np.float64(val)
    for k, val in case["init"].items():
        data[f"init_{k}"] = np.float64(val)
        if k != "v":
            data[f"trace_{k}"] = res[k]
    np.savez_compressed(filename(case), **data)


# ---------------------------------------------------------------------------
# Independent NumPy re-implementation (for --check)
# Brian2's step order: not_refractory update (from the OLD v, only for the
# HH models' boolean refractory), integrate all variables from the old state,
# threshold on the new state, reset.  The spike is stamped with the time at the
# start of the step.  The StateMonitor (scheduled 'start') records the state
# before the step, i.e. after the previous step's reset.
# ---------------------------------------------------------------------------


def _expeuler(x, A, B, dt):
    """dx/dt = A x + B  ->  exact step with A, B frozen."""
    BA = B / A
    return -BA + (x + BA) * np.exp(A * dt)


def simulate_numpy(f):
    model = str(f["model"])
    dt = float(f["dt"])
    nsteps = int(round(float(f["duration"]) / dt))
    rec = int(f["record_every"])
    I = float(f["I"])
    p = {k[2:]: float(f[k]) for k in f.files if k.startswith("p_")}
    s = {k[5:]: float(f[k]) for k in f.files if k.startswith("init_")}
    spikes, vrec = [], []
    not_ref = True
    for i in range(nsteps):
        if i % rec == 0:
            vrec.append(s["v"])
        v = s["v"]
        if model in ("hh_classic", "traub"):
            theta = 0.0 if model == "hh_classic" else -20.0
            not_ref = not_ref or not (v > theta)
            if model == "hh_classic":
                am, bm, ah, bh, an, bn = hh_classic_rates(np.array([v]))
            else:
                am, bm, ah, bh, an, bn = traub_rates(np.array([v]), p["V_T"])
            m, h, n = s["m"], s["h"], s["n"]
            gna = p["g_Na"] * m ** 3 * h
            gk = p["g_K"] * n ** 4
            A = -(gna + gk + p["g_L"]) / p["C"]
            B = (gna * p["E_Na"] + gk * p["E_K"] + p["g_L"] * p["E_L"] + I) / p["C"]
            s["v"] = _expeuler(v, A, B, dt)
            for x, a_, b_ in (("m", am[0], bm[0]), ("h", ah[0], bh[0]),
                              ("n", an[0], bn[0])):
                s[x] = _expeuler(s[x], -(a_ + b_), a_, dt)
            if s["v"] > theta and not_ref:
                spikes.append(i * dt)
                not_ref = False
        elif model == "izhikevich":
            uu = s["u"]
            s["v"] = v + dt * (0.04 * v * v + 5 * v + 140 - uu + I)
            s["u"] = uu + dt * p["a"] * (p["b"] * v - uu)
            if s["v"] >= 30:
                spikes.append(i * dt)
                s["v"] = p["c"]
                s["u"] += p["d"]
        elif model == "adex":
            w = s["w"]
            dv = (-p["g_L"] * (v - p["E_L"])
                  + p["g_L"] * p["delta_T"] * np.exp((v - p["V_T"]) / p["delta_T"])
                  - w + I) / p["C"]
            dw = (p["a"] * (v - p["E_L"]) - w) / p["tau_w"]
            s["v"] = v + dt * dv
            s["w"] = w + dt * dw
            if s["v"] > p["V_peak"]:
                spikes.append(i * dt)
                s["v"] = p["V_r"]
                s["w"] += p["b"]
        else:
            raise KeyError(model)
    return np.array(spikes), np.array(vrec)


def check_file(path):
    f = np.load(path)
    spikes, vrec = simulate_numpy(f)
    ref = f["spike_times"]
    n_ref, n_np = len(ref), len(spikes)
    if n_ref == n_np:
        worst = float(np.max(np.abs(ref - spikes))) if n_ref else 0.0
    else:
        worst = float("inf")
    nrec = min(len(vrec), len(f["v"]))
    # trace comparison only up to the first spike-time disagreement is meaningful
    vdiff = float(np.max(np.abs(vrec[:nrec] - f["v"][:nrec])))
    return n_ref, n_np, worst, vdiff


# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true",
                    help="after generating, compare with the NumPy re-implementation")
    ap.add_argument("--check-only", action="store_true",
                    help="only check the stored files (needs NumPy only)")
    ap.add_argument("--only", default="", help="substring filter on file names")
    args = ap.parse_args(argv)

    verify_exprel_forms()
    cases = [c for c in make_cases() if args.only in os.path.basename(filename(c))]

    if not args.check_only:
        for case in cases:
            res, version = run_brian2(case)
            save_case(case, res, version)
            print(f"{os.path.basename(filename(case)):40s} spikes={len(res['spike_times']):4d}"
                  f"  size={os.path.getsize(filename(case))} B", flush=True)

    if args.check or args.check_only:
        ok = True
        print(f"\n{'file':40s} {'n_brian2':>8s} {'n_numpy':>8s} {'worst |dt_spike| ms':>20s}"
              f" {'max |dv| mV':>12s}")
        for case in cases:
            n_ref, n_np, worst, vdiff = check_file(filename(case))
            ok &= (n_ref == n_np) and worst < 1e-9
            print(f"{os.path.basename(filename(case)):40s} {n_ref:8d} {n_np:8d} "
                  f"{worst:20.3g} {vdiff:12.3g}", flush=True)
        if not ok:
            print("CHECK FAILED", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
