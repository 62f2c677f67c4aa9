"""Distal reward (Izhikevich 2007): dopamine-modulated STDP singles out one rewarded synapse.

A network of Izhikevich neurons (80 % regular-spiking excitatory, 20 % fast-spiking
inhibitory, 100 outgoing synapses each, excitatory delays 1-20 ms, inhibitory 1 ms) is driven
by random "thalamic" kicks of 20 mV. Its E->E synapses learn with `EligibilitySTDP`
(eligibility `dc/dt = -c/tau_c + STDP`, tau_c = 1 s; `dw/dt = c d`). One E->E synapse is
chosen: whenever its presynaptic spike is followed within 10 ms by its postsynaptic spike,
`DistalReward` releases 0.5 µM of dopamine 1-3 s later (`dd/dt = -d/tau_d + DA`,
tau_d = 200 ms). Only the chosen synapse is consistently eligible when dopamine arrives, so
it grows to w_max while the other weights only wander.

The closed loop (network, reward logic, dopamine) is one `lax.scan` around `Network.step`,
jit-compiled and run in chunks of `--chunk` seconds; only per-chunk summaries and the dopamine
every 10 ms are kept. As in the paper's code, dopamine acts on the weights every 10 ms
(`modulator` = the dopamine summed over those 10 steps), so that the weight update visits all
synapses only once per 10 steps.

    python examples/distal_reward.py                     # default: until the bound, <= 60 min
    python examples/distal_reward.py --minutes 5 --n 400 --out distal.png
    python examples/distal_reward.py --control           # reward not tied to the pairing

Reference: Izhikevich (2007), Cereb. Cortex 17:2443.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import brainsim as bs
import brainsim_ops as bo
from brainsim.plasticity import DistalReward, EligibilitySTDP

DT = 1.0                 # ms, as in the paper
MAX_DELAY = 20           # ms, excitatory conduction delays 1..20
UPDATE_EVERY = 10        # steps between weight updates (the paper's 10 ms)


def build_network(seed: int, n: int = 1000, *, m: int = 100, w_init: float = 1.0,
                  w_max: float = 4.0, learning_rate: float = 0.01):
    """The network and its chosen E->E synapse `(index, pre, post)`.

    Each excitatory neuron projects to `m` distinct other neurons (any type), with delays
    1..20 ms in equal shares; each inhibitory neuron to `m` excitatory ones with delay 1 ms.
    Synapses inject one-step current pulses, so a weight `w` kicks `v` by `w` mV.
    """
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    m = min(m, n - 1)
    rng = np.random.default_rng(seed)
    targets = np.stack([rng.choice(np.delete(np.arange(n), i), m, replace=False)
                        for i in range(n_e)])
    pre = np.repeat(np.arange(n_e), m)
    post = targets.reshape(-1)
    delay = np.tile(1 + (np.arange(m) * MAX_DELAY) // m, n_e)       # ms
    to_e = post < n_e
    ee = bo.from_edges(pre[to_e], post[to_e], w_init, n_pre=n_e, n_post=n_e)
    ei = bo.from_edges(pre[~to_e], post[~to_e] - n_e, w_init, n_pre=n_e, n_post=n_i)
    m_i = min(m, n_e)
    ie = bo.from_edges(np.repeat(np.arange(n_i), m_i),
                       np.concatenate([rng.choice(n_e, m_i, replace=False) for _ in range(n_i)]),
                       -w_init, n_pre=n_i, n_post=n_e)
    pulse = bs.synapses.Exponential(tau=1e-3)       # decays to 0 within one 1-ms step
    current = bs.synapses.Current()
    rule = EligibilitySTDP(A_plus=1.0, A_minus=1.5, tau_plus=20.0, tau_minus=20.0,
                           tau_c=1000.0, learning_rate=learning_rate, w_min=0.0, w_max=w_max)
    # a spike emitted at step k acts on the target during step k + delay_steps + 1
    steps = (delay - 1).astype(np.int32)
    net = bs.Network(
        {"E": (bs.neurons.Izhikevich.regime("RS"), n_e),
         "I": (bs.neurons.Izhikevich.regime("FS"), n_i)},
        [
            bs.Projection("E", "E", ee, pulse, current, delay_steps=steps[to_e],
                          delay_per="synapse", plasticity=rule),
            bs.Projection("E", "I", ei, pulse, current, delay_steps=steps[~to_e],
                          delay_per="synapse"),
            bs.Projection("I", "E", ie, pulse, current, delay_steps=0),
        ],
    )
    chosen = int(rng.integers(ee.n_syn))
    chosen_pre = int(np.searchsorted(np.asarray(ee.indptr), chosen, side="right") - 1)
    chosen_post = int(np.asarray(ee.indices)[chosen])
    return net, (chosen, chosen_pre, chosen_post)


def make_chunk(net, reward: DistalReward, chosen, n_steps: int, *, kick: float = 20.0,
               kicks_per_ms: float = 1.0, rewarded: bool = True):
    """A jit-compiled function advancing the closed loop by `n_steps` steps.

    Thalamic input: each step, with probability `kicks_per_ms` (whole part: that many), one
    random neuron receives a `kick` (mV). `rewarded=False` is the control: rewards are then
    scheduled at random times at the rate `random_reward_rate` of the carry (1/ms) instead of
    after the chosen synapse's pairings.
    """
    n_e, n_i = net.sizes["E"], net.sizes["I"]
    n = n_e + n_i
    _, i, j = chosen
    whole, frac = int(kicks_per_ms), kicks_per_ms - int(kicks_per_ms)

    def step(carry, _):
        state, loop, key, dopamine_sum, k, random_rate = carry
        key, k_who, k_extra, k_reward, k_random = jax.random.split(key, 5)
        who = jax.random.randint(k_who, (whole + 1,), 0, n)
        amp = jnp.full((whole + 1,), kick).at[-1].multiply(
            jax.random.uniform(k_extra) < frac)
        thalamus = jnp.zeros(n).at[who].add(amp)
        apply = k % UPDATE_EVERY == UPDATE_EVERY - 1
        modulator = jnp.where(apply, dopamine_sum, 0.0)
        inputs = {"E": thalamus[:n_e], "I": thalamus[n_e:], "modulators": {"E->E": modulator}}
        state, spikes = net.step(state, inputs, t=k * DT, dt=DT)
        pre, post = spikes["E"][i], spikes["E"][j]
        if rewarded:
            loop, d = reward.step(loop, pre, post, k_reward, dt=DT)
        else:   # control: pairings counted, rewards at random times
            fake = jax.random.uniform(k_random) < random_rate
            loop, d = reward.step(loop, pre, post, k_reward, dt=DT, rewarded=False)
            loop = loop._replace(dopamine=loop.dopamine + reward.amount * fake,
                                 rewards=loop.rewards + fake)
            d = loop.dopamine
        dopamine_sum = jnp.where(apply, 0.0, dopamine_sum) + d
        return (state, loop, key, dopamine_sum, k + 1, random_rate), d

    @jax.jit
    def chunk(carry):
        carry, d = jax.lax.scan(step, carry, None, length=n_steps)
        return carry, d.reshape(-1, 10).mean(axis=1)

    return chunk


def simulate(*, n: int = 1000, minutes: float = 60.0, seed: int = 0, chunk_s: float = 20.0,
             learning_rate: float = 0.01, reward: DistalReward | None = None,
             kicks_per_ms: float | None = None, rewarded: bool = True,
             random_reward_rate: float = 0.0, stop_at_bound: bool = False,
             verbose: bool = False) -> dict:
    """Run the closed loop; returns per-chunk times (s), the chosen weight, mean and std of
    the other E->E weights, the dopamine every 10 ms (µM), final weights and counts.

    `kicks_per_ms` defaults to `n / 1000` (each neuron is kicked at 1 Hz, as in the paper's
    one random neuron per ms at n = 1000)."""
    reward = DistalReward() if reward is None else reward
    kicks_per_ms = n / 1000 if kicks_per_ms is None else kicks_per_ms
    net, chosen = build_network(seed, n, learning_rate=learning_rate)
    w_max = float(net.projections[0].plasticity.w_max)
    n_steps = int(round(chunk_s * 1000 / DT))
    chunk = make_chunk(net, reward, chosen, n_steps, kicks_per_ms=kicks_per_ms,
                       rewarded=rewarded)
    key_net, key_loop = jax.random.split(jax.random.key(seed))
    carry = (net.init(key_net), reward.init(), key_loop, jnp.zeros(()), jnp.zeros((), jnp.int32),
             jnp.asarray(random_reward_rate, jnp.result_type(float)))
    weights = np.asarray(carry[0]["synapses"]["E->E"].weights)
    others = np.delete(weights, chosen[0])
    times, w_chosen, mean, std = [0.0], [weights[chosen[0]]], [others.mean()], [others.std()]
    dopamine = []
    start = time.perf_counter()
    for c in range(max(1, int(round(minutes * 60 / chunk_s)))):
        carry, d = chunk(carry)
        weights = np.asarray(carry[0]["synapses"]["E->E"].weights)
        others = np.delete(weights, chosen[0])
        times.append((c + 1) * chunk_s)
        w_chosen.append(weights[chosen[0]])
        mean.append(others.mean())
        std.append(others.std())
        dopamine.append(np.asarray(d))
        if verbose and (c + 1) % max(1, int(60 / chunk_s)) == 0:
            print(f"  t = {times[-1] / 60:5.1f} min  chosen w = {w_chosen[-1]:.3f} mV  others "
                  f"{mean[-1]:.3f} ± {std[-1]:.3f} mV  rewards {int(carry[1].rewards)}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        if stop_at_bound and w_chosen[-1] >= 0.99 * w_max:
            break
    wall = time.perf_counter() - start
    return dict(times=np.asarray(times), chosen=np.asarray(w_chosen), mean=np.asarray(mean),
                std=np.asarray(std), dopamine=np.concatenate(dopamine), weights=weights,
                others=others, w_max=w_max, rewards=int(carry[1].rewards),
                pairings=int(carry[1].pairings), wall=wall, chosen_synapse=chosen)


def plot(result: dict, out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_w, ax_h, ax_d) = plt.subplots(1, 3, figsize=(13, 3.6))
    minutes = result["times"] / 60
    ax_w.plot(minutes, result["chosen"], color="C3", label="chosen synapse")
    ax_w.plot(minutes, result["mean"], color="k", label="others, mean")
    ax_w.fill_between(minutes, result["mean"] - result["std"], result["mean"] + result["std"],
                      color="0.8", label="others, ± std")
    ax_w.axhline(result["w_max"], color="0.5", ls=":")
    ax_w.set(xlabel="time (min)", ylabel="weight (mV)", title="E→E weights")
    ax_w.legend(frameon=False, fontsize=8)
    ax_h.hist(result["others"], bins=60, color="0.4")
    ax_h.axvline(result["chosen"][-1], color="C3", label="chosen")
    ax_h.set(xlabel="weight (mV)", ylabel="synapses", title="final weights (others)")
    ax_h.legend(frameon=False, fontsize=8)
    t = np.arange(result["dopamine"].size) * 10 * DT / 1000 / 60
    ax_d.plot(t, result["dopamine"], color="C0", lw=0.5)
    ax_d.set(xlabel="time (min)", ylabel="dopamine (µM)",
             title=f"dopamine ({result['rewards']} rewards)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0,
                        help="simulated minutes at most (stops early at the bound)")
    parser.add_argument("--n", type=int, default=1000, help="neurons (80 %% excitatory)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=float, default=20.0, help="seconds per compiled chunk")
    parser.add_argument("--control", action="store_true",
                        help="rewards at random times, not tied to the pairing")
    parser.add_argument("--out", default=None, help="figure file (png)")
    args = parser.parse_args()
    print(f"distal reward: n = {args.n}, up to {args.minutes} simulated min, seed {args.seed}"
          + (" (control: random rewards)" if args.control else ""))
    result = simulate(n=args.n, minutes=args.minutes, seed=args.seed, chunk_s=args.chunk,
                      rewarded=not args.control, random_reward_rate=1 / 100_000.0,
                      stop_at_bound=not args.control, verbose=True)
    s, i, j = result["chosen_synapse"]
    print(f"chosen synapse {s} (E{i} -> E{j}): {result['chosen'][0]:.2f} -> "
          f"{result['chosen'][-1]:.2f} mV (w_max {result['w_max']:.1f}) after "
          f"{result['times'][-1] / 60:.1f} min; {result['pairings']} pairings, "
          f"{result['rewards']} rewards")
    print(f"other E->E weights: mean {result['mean'][0]:.3f} -> {result['mean'][-1]:.3f} mV, "
          f"std {result['std'][-1]:.3f} mV; chosen is "
          f"{(result['chosen'][-1] - result['mean'][-1]) / result['std'][-1]:.1f} std above")
    print(f"wall time {result['wall']:.1f} s (compile included)")
    if args.out:
        plot(result, args.out)
        print(f"figure written to {args.out}")


if __name__ == "__main__":
    main()
