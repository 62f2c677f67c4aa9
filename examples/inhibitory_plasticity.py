"""Inhibitory plasticity (Vogels, Sprekeler et al. 2011) brings a neuron's rate to its target.

One conductance-based LIF neuron receives 400 excitatory Poisson inputs (10 Hz, fixed weights)
and 100 inhibitory ones (10 Hz) whose weights follow `InhibitorySTDP`: at an inhibitory spike
`w ← w + eta (x_post - 2 rho0 tau)`, at a postsynaptic spike `w ← w + eta x_pre`. Without
plasticity the neuron fires at about 38 Hz; with it the inhibitory weights grow until the rate is
`rho0`. The targets (default 5 and 15 Hz) and a control without plasticity (`eta = 0`) run side
by side under `jax.vmap`. Prints the rate over the second half of the run against the target and
plots the rate (1 s bins) and the mean inhibitory weight over time. Run:

    python examples/inhibitory_plasticity.py          # 40 s, writes inhibitory_plasticity.png
    python examples/inhibitory_plasticity.py --seconds 100 --targets 3 10 20 --out vogels.png
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim_ops as bo  # noqa: E402
from brainsim.neurons import LIF, Drive, PoissonSource  # noqa: E402
from brainsim.plasticity import InhibitorySTDP  # noqa: E402

DT = 0.5                    # ms
N_EXC, N_INH = 400, 100     # Poisson inputs, both at 10 Hz
W_EXC = 0.15                # nS per excitatory spike (fixed)
W_INH0 = 0.05               # nS per inhibitory spike, initially
TAU_EXC, TAU_INH = 5.0, 10.0  # ms, conductance decay
E_EXC, E_INH = 0.0, -80.0   # mV, reversal potentials


def simulate(rho0, eta, seconds: float, key):
    """Run the neuron for `seconds`; returns its spikes and the mean inhibitory weight (nS) per
    step. `rho0`: target rate (Hz); `eta`: learning rate (nS; 0 = no plasticity)."""
    lif = LIF(tau_m=20.0, v_rest=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, R=0.1)
    exc, inh = PoissonSource(rate=10.0), PoissonSource(rate=10.0)
    conn = bo.Dense(jnp.full((N_INH, 1), W_INH0))           # inhibitory inputs → the neuron
    rule = InhibitorySTDP(eta=eta, rho0=rho0, tau=20.0)     # weights bounded below by 0
    key_exc, key_inh = jax.random.split(key)

    def step(carry, t):
        neuron, source_e, source_i, g_e, g_i, w, traces = carry
        source_e, spikes_e = exc.step(source_e, t=t, dt=DT)
        source_i, spikes_i = inh.step(source_i, t=t, dt=DT)
        g_e = g_e * jnp.exp(-DT / TAU_EXC) + W_EXC * spikes_e.sum()
        g_i = g_i * jnp.exp(-DT / TAU_INH) + bo.event_matvec(spikes_i, conn.with_weights(w))
        drive = Drive(g=g_e + g_i, g_E=E_EXC * g_e + E_INH * g_i)   # Σ g_k (E_k - v)
        neuron, spike = lif.step(neuron, drive, t=t, dt=DT)
        w, traces = rule.update(traces, w, spikes_i, spike, dt=DT, conn=conn)
        return (neuron, source_e, source_i, g_e, g_i, w, traces), (spike[0], w.mean())

    carry = (lif.init(1), exc.init(N_EXC, key=key_exc), inh.init(N_INH, key=key_inh), 0.0,
             jnp.zeros(1), conn.weights, rule.init(conn))
    times = jnp.arange(int(seconds * 1000 / DT)) * DT
    _, (spikes, w_mean) = jax.lax.scan(step, carry, times)
    return spikes, w_mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="biological time (s)")
    parser.add_argument("--targets", type=float, nargs="+", default=[5.0, 15.0],
                        help="target rates rho0 (Hz)")
    parser.add_argument("--eta", type=float, default=0.01, help="learning rate (nS)")
    parser.add_argument("--out", default="inhibitory_plasticity.png", help="figure file to write")
    args = parser.parse_args()

    rho0 = jnp.array([*args.targets, args.targets[0]])      # the last run: no plasticity
    eta = jnp.array([args.eta] * len(args.targets) + [0.0])
    run = jax.jit(jax.vmap(lambda r, e: simulate(r, e, args.seconds, jax.random.key(0))))
    spikes, w_mean = (np.asarray(a) for a in run(rho0, eta))

    steps_per_s = int(1000 / DT)
    n_s = spikes.shape[1] // steps_per_s
    rate = spikes[:, : n_s * steps_per_s].reshape(len(rho0), n_s, steps_per_s).sum(axis=2)
    late = spikes[:, spikes.shape[1] // 2:].sum(axis=1) / (args.seconds / 2)
    print(f"{args.seconds:g} s, eta = {args.eta:g} nS; rate in the first second, and over the "
          "second half")
    for i, target in enumerate(args.targets):
        print(f"rho0 = {target:5.1f} Hz: {rate[i, 0]:5.1f} Hz -> {late[i]:5.2f} Hz "
              f"({100 * (late[i] / target - 1):+.0f} %), mean inhibitory weight "
              f"{W_INH0:.3f} -> {w_mean[i, -1]:.3f} nS")
    print(f"no plasticity:  {rate[-1, 0]:5.1f} Hz -> {late[-1]:5.2f} Hz")

    seconds = np.arange(n_s) + 0.5
    time_s = (np.arange(spikes.shape[1]) + 1) * DT / 1000
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for i in range(len(rho0)):
        plastic = i < len(args.targets)
        label = f"rho0 = {args.targets[i]:g} Hz" if plastic else "no plasticity"
        style = {"color": f"C{i}"} if plastic else {"color": "0.5", "ls": ":"}
        top.plot(seconds, rate[i], label=label, **style)
        if plastic:
            top.axhline(args.targets[i], lw=0.8, ls="--", **style)
        bottom.plot(time_s, w_mean[i], label=label, **style)
    top.set(ylabel="postsynaptic rate (Hz, 1 s bins)",
            title="inhibitory plasticity (Vogels et al. 2011): rate → rho0 (dashed)")
    top.legend()
    bottom.set(xlabel="time (s)", ylabel="mean inhibitory weight (nS)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
