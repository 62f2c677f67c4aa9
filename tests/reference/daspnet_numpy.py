"""Independent NumPy/numba implementation of Izhikevich (2007)'s distal-reward network.

Written from the algorithm of the paper's published code (daspnet.m), as described in
/work/shared/ALGORITHMS.md §4 and examples/distal_reward.py, not from brainsim: it shares no
code with the library and serves as a reference for the closed loop of
examples/distal_reward.py.

The algorithm, per step of 1 ms (step `t`, 0-based):

1. thalamic input `I` uniform in [-6.5, 6.5] for every neuron;
2. neurons with `v >= 30` fire: `v <- c`, `u <- u + d`;
3. STDP, nearest pairing, into the eligibility `sd` of every excitatory synapse (E->E and
   E->I): a firing neuron potentiates its incoming excitatory synapses by `0.1 · f_+(Δ)`,
   and each spike, delivered to its targets in the same step (all delays 1 ms), depresses the
   synapse by `0.15 · f_-(Δ)` (Δ: steps since the other neuron's last spike);
4. synaptic input: each spike adds its weight to its targets' `I`;
5. `v`, `u` integrated (see `euler` below);
6. dopamine `DA <- 0.995 DA`; every 10 steps `s <- clip(s + (0.002 + DA) sd, 0, 4)` for the
   excitatory synapses, then `sd <- 0.99 sd`;
7. reward: when the chosen synapse's postsynaptic neuron fires 1-19 ms after its presynaptic
   one, `DA += 0.5` at a time 1001-3000 ms later.

Two switches give the deviations of examples/distal_reward.py from the paper's code:

- `euler="half"` (paper's code): `v += 0.5 (0.04 v² + 5 v + 140 - u + I)` twice, then
  `u += a (0.2 v - u)` with the new `v`; `euler="full"` (brainsim's `Izhikevich`, dt = 1):
  one forward-Euler step of 1 ms for `v` and `u`, both from the old state.
- `stdp="code"` (paper's code): `f_+(Δ) = 0.95^(Δ-1)` for Δ >= 1 (the presynaptic spike of the
  previous step pairs at full strength), `f_-(Δ) = 0.95^Δ` for Δ >= 0 (a pre and a post spike
  in the same step depress); `stdp="emission"` (brainsim's `EligibilitySTDP`, nearest):
  `f_±(Δ) = exp(-Δ/20)` for Δ >= 1, no pairing within one step.

Usage (about 20 s for n = 1000 and 23 simulated minutes on one core; 50 s for 60 min):

    python tests/reference/daspnet_numpy.py --n 1000 --minutes 23
    python tests/reference/daspnet_numpy.py --n 1000 --minutes 23 --euler full --stdp emission

Reference: Izhikevich (2007), *Solving the distal reward problem through linkage of STDP and
dopamine signaling*, Cereb. Cortex 17:2443.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

M = 100            # synapses per neuron
W_MAX = 4.0        # mV
NOISE = 6.5        # thalamic input: uniform in [-NOISE, NOISE] per ms
_TABLE = 2000      # longest Δ (ms) with a nonzero STDP factor


def build(n: int, seed: int):
    """Targets of the `n · M` synapses (row `i`: neuron i's), initial weights and the chosen
    E->E synapse `(index, pre, post)`, as in the paper's code (targets drawn with replacement;
    excitatory neurons project onto any neuron, inhibitory ones onto excitatory neurons)."""
    n_e = int(round(0.8 * n))
    rng = np.random.default_rng(seed)
    post = np.concatenate([rng.integers(0, n, (n_e, M)), rng.integers(0, n_e, (n - n_e, M))])
    s = np.concatenate([np.ones((n_e, M)), -np.ones((n - n_e, M))])
    pre = np.repeat(np.arange(n), M).reshape(n, M)
    candidates = np.flatnonzero((pre[:n_e] != post[:n_e]) & (post[:n_e] < n_e))
    chosen = int(rng.choice(candidates))
    s.reshape(-1)[chosen] = 0.0
    return post.reshape(-1), s.reshape(-1), (chosen, chosen // M, int(post.reshape(-1)[chosen]))


def incoming(post: np.ndarray, n: int, n_e: int):
    """CSR (`indptr`, synapse indices) of the excitatory synapses onto each neuron."""
    exc = np.arange(n_e * M)
    order = exc[np.argsort(post[exc], kind="stable")]
    counts = np.bincount(post[exc], minlength=n)
    return np.concatenate([[0], np.cumsum(counts)]), order


@numba.njit(cache=True)
def _run(steps, t0, v, u, s, sd, last, before, state, rewards, post, indptr, syn_in, a, d, c,
         f_plus, f_minus, n_e, half, chosen_pre, chosen_post, counts):
    """Advance by `steps` ms. `state` = [DA, n1 last spike, n2 last spike, n rewards pending];
    `rewards[:state[3]]` hold the pending reward times; `counts` = [spikes E, pairings,
    rewards delivered]."""
    n = v.size
    for k in range(steps):
        t = t0 + k
        current = (np.random.random(n) - 0.5) * (2 * NOISE)   # noqa: NPY002 (numba's RNG)
        fired = np.flatnonzero(v >= 30.0)
        for i in fired:
            v[i] = c[i]
            u[i] += d[i]
        for i in fired:                    # potentiation: post spike reads the pre traces
            if i < n_e:
                counts[0] += 1
            for q in range(indptr[i], indptr[i + 1]):
                syn = syn_in[q]
                delta = t - last[syn // M]
                if delta < f_plus.size:
                    sd[syn] += 0.1 * f_plus[delta]
        for i in fired:
            before[i] = last[i]
            last[i] = t
        for i in fired:                    # delivery and depression (post traces)
            for syn in range(i * M, (i + 1) * M):
                j = post[syn]
                current[j] += s[syn]
                delta = t - last[j]
                if delta == 0 and f_minus[0] == 0.0:   # no same-step pairing: the spike before
                    delta = t - before[j]
                if delta < f_minus.size:
                    sd[syn] -= 0.15 * f_minus[delta]
        if half:
            for j in range(n):
                v[j] += 0.5 * ((0.04 * v[j] + 5.0) * v[j] + 140.0 - u[j] + current[j])
                v[j] += 0.5 * ((0.04 * v[j] + 5.0) * v[j] + 140.0 - u[j] + current[j])
                u[j] += a[j] * (0.2 * v[j] - u[j])
        else:
            for j in range(n):
                vj = v[j]
                v[j] = vj + (0.04 * vj + 5.0) * vj + 140.0 - u[j] + current[j]
                u[j] += a[j] * (0.2 * vj - u[j])
        state[0] *= 0.995
        if (t + 1) % 10 == 0:
            da = 0.002 + state[0]
            for syn in range(n_e * M):
                w = s[syn] + da * sd[syn]
                s[syn] = min(max(w, 0.0), W_MAX)
                sd[syn] *= 0.99
            for syn in range(n_e * M, n * M):
                sd[syn] *= 0.99
        # reward: the chosen post fires 1-19 ms after the chosen pre (same step: no pairing)
        n1_fired = False
        n2_fired = False
        for i in fired:
            if i == chosen_pre:
                n1_fired = True
            if i == chosen_post:
                n2_fired = True
        if n1_fired:
            state[1] = t
        if n2_fired:
            state[2] = t
            if t - state[1] < 20 and state[2] > state[1]:
                counts[1] += 1
                rewards[int(state[3])] = t + 1000 + np.ceil(2000 * np.random.random())  # noqa: NPY002
                state[3] += 1
        m = int(state[3])
        released = False
        q = 0
        while q < m:
            if rewards[q] == t:
                released = True
                rewards[q] = rewards[m - 1]
                m -= 1
                counts[2] += 1
            else:
                q += 1
        state[3] = m
        if released:
            state[0] += 0.5


@numba.njit(cache=True)
def _seed(seed):
    np.random.seed(seed)   # noqa: NPY002 (seeds numba's generator)


def simulate(n: int = 1000, minutes: float = 23.0, seed: int = 0, *, euler: str = "half",
             stdp: str = "code", rewarded: bool = True, record_s: float = 10.0,
             verbose: bool = False) -> dict:
    """Run the network for `minutes` of simulated time; statistics every `record_s` seconds.

    `rewarded=False` releases no reward at all (dopamine stays at its 0.002 µM baseline).

    Returns a dict: `times` (s), `chosen` weight, `mean`, `std`, `near_zero` (fraction
    < 0.1 mV) and `at_bound` (fraction >= 0.99 w_max) of the other E->E weights (mV), the
    per-interval excitatory rate `rate_e` (Hz), the final `others`, `rewards` delivered,
    `pairings` and `wall` (s)."""
    if euler not in ("half", "full") or stdp not in ("code", "emission"):
        raise ValueError(f"`euler` must be 'half' or 'full' and `stdp` 'code' or 'emission', "
                         f"got {euler!r}, {stdp!r}.")
    n_e = int(round(0.8 * n))
    post, s, chosen = build(n, seed)
    indptr, syn_in = incoming(post, n, n_e)
    ee = np.flatnonzero((np.arange(n * M) < n_e * M) & (post < n_e))
    others_idx = ee[ee != chosen[0]]
    a = np.where(np.arange(n) < n_e, 0.02, 0.1)
    d = np.where(np.arange(n) < n_e, 8.0, 2.0)
    c = np.full(n, -65.0)
    v = np.full(n, -65.0)
    u = 0.2 * v
    sd = np.zeros(n * M)
    last = np.full(n, -10**9, np.int64)
    before = last.copy()
    delta = np.arange(_TABLE)
    if stdp == "code":
        f_plus = np.where(delta >= 1, 0.95 ** (delta - 1.0), 0.0)
        f_minus = 0.95 ** delta.astype(float)
    else:
        f_plus = np.where(delta >= 1, np.exp(-delta / 20.0), 0.0)
        f_minus = f_plus.copy()           # f_minus[0] = 0: no same-step pairing
    state = np.array([0.0, -1e9, -1e9, 0.0])
    rewards = np.zeros(100_000)
    counts = np.zeros(3, np.int64)
    _seed(seed)
    record = int(round(record_s * 1000))
    n_rec = int(round(minutes * 60 * 1000 / record))

    def stats():
        o = s[others_idx]
        return o.mean(), o.std(), (o < 0.1).mean(), (o >= 0.99 * W_MAX).mean()

    out = {k: [] for k in ("times", "chosen", "mean", "std", "near_zero", "at_bound", "rate_e")}
    for key, value in zip(("mean", "std", "near_zero", "at_bound"), stats(), strict=True):
        out[key].append(value)
    out["times"].append(0.0)
    out["chosen"].append(s[chosen[0]])
    start = time.perf_counter()
    for r in range(n_rec):
        spikes_before = counts[0]
        _run(record, r * record, v, u, s, sd, last, before, state, rewards, post, indptr,
             syn_in, a, d, c, f_plus, f_minus, n_e, euler == "half",
             chosen[1] if rewarded else -1, chosen[2], counts)
        out["times"].append((r + 1) * record / 1000)
        out["chosen"].append(s[chosen[0]])
        for key, value in zip(("mean", "std", "near_zero", "at_bound"), stats(), strict=True):
            out[key].append(value)
        out["rate_e"].append((counts[0] - spikes_before) / n_e / (record / 1000))
        if verbose and (r + 1) % max(1, int(round(60 / record_s))) == 0:
            print(f"  t = {out['times'][-1] / 60:5.1f} min  chosen {out['chosen'][-1]:.3f} mV  "
                  f"others {out['mean'][-1]:.3f} ± {out['std'][-1]:.3f} mV "
                  f"(< 0.1: {out['near_zero'][-1]:.1%}, at bound: {out['at_bound'][-1]:.1%})  "
                  f"rewards {counts[2]}  E rate {out['rate_e'][-1]:.2f} Hz  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    result = {k: np.asarray(x) for k, x in out.items()}
    result.update(others=s[others_idx].copy(), rewards=int(counts[2]),
                  pairings=int(counts[1]), wall=time.perf_counter() - start, chosen_synapse=chosen)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=23.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--euler", choices=("half", "full"), default="half")
    parser.add_argument("--stdp", choices=("code", "emission"), default="code")
    parser.add_argument("--no-reward", action="store_true", help="no reward at all")
    args = parser.parse_args()
    print(f"daspnet (numba): n = {args.n}, {args.minutes} min, seed {args.seed}, "
          f"euler {args.euler}, stdp {args.stdp}" + (", no reward" if args.no_reward else ""))
    r = simulate(args.n, args.minutes, args.seed, euler=args.euler, stdp=args.stdp,
                 rewarded=not args.no_reward, verbose=True)
    print(f"chosen {r['chosen'][-1]:.3f} mV; others {r['mean'][-1]:.3f} ± {r['std'][-1]:.3f} mV "
          f"(< 0.1: {r['near_zero'][-1]:.1%}, at bound {r['at_bound'][-1]:.1%}); chosen is "
          f"{(r['chosen'][-1] - r['mean'][-1]) / r['std'][-1]:.1f} std above; "
          f"{r['pairings']} pairings, {r['rewards']} rewards; mean E rate "
          f"{r['rate_e'].mean():.2f} Hz; wall {r['wall']:.0f} s")


if __name__ == "__main__":
    main()
