"""Distal reward (Izhikevich 2007): dopamine-modulated STDP singles out one rewarded synapse.

The network of the paper's published code (daspnet.m): 1000 Izhikevich neurons (800
regular-spiking excitatory, 200 fast-spiking inhibitory), 100 synapses per neuron, every
conduction delay 1 ms, excitatory weights 1 mV and inhibitory -1 mV, each neuron driven by a
thalamic current uniform in [-6.5, 6.5] every ms. All excitatory synapses (E->E and E->I)
learn with `EligibilitySTDP` (nearest-neighbour pair STDP, A_+ = 1, A_- = 1.5, tau_± = 20 ms,
into an eligibility `c` with tau_c = 1 s; `dw/dt = 0.01 c d`, weights in [0, 4] mV). One
E->E synapse is chosen and starts at 0: whenever its postsynaptic neuron fires 1-19 ms after
its presynaptic one, `DistalReward` releases 0.5 µM of dopamine 1-3 s later
(`dd/dt = -d/tau_d + DA`, tau_d = 200 ms, baseline 0.002 µM).

As in the paper's code, dopamine acts on the weights every 10 ms (`modulator` = the dopamine
summed over those 10 steps, so `learning_rate` 0.01/ms gives the code's
`s += (0.002 + DA) · sd` with sd = c/10). The closed loop (network, reward logic, dopamine)
is one `lax.scan` around `Network.step`, jit-compiled and run in chunks of `--chunk` seconds.

Deviations from the paper's code: the neurons take one forward-Euler step of 1 ms (the code
takes two 0.5-ms steps for v: `--half-steps`, i.e. `Izhikevich(method="half_steps")`); STDP
sees the presynaptic spike when it is emitted, 1 ms before it arrives (the code times it at
arrival); repeated rewards wait in at most 8 slots.

    python examples/distal_reward.py --out distal.png    # default: until the bound, <= 60 min
    python examples/distal_reward.py --control --minutes 25 --out control.png

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
UPDATE_EVERY = 10        # steps between weight updates (the paper's 10 ms)
NOISE = 6.5              # thalamic input: uniform in [-NOISE, NOISE] per neuron and ms


def build_network(seed: int, n: int = 1000, *, m: int = 100, w_init: float = 1.0,
                  w_chosen: float = 0.0, w_max: float = 4.0, learning_rate: float = 0.01,
                  method: str = "euler"):
    """The network and its chosen E->E synapse `(index, pre, post)`.

    As in the paper's code: each excitatory neuron has `m` synapses onto random neurons of
    either type (drawn with replacement), each inhibitory one `m` onto random excitatory
    neurons; every conduction delay is 1 ms; excitatory weights start at `w_init`, inhibitory
    ones at `-w_init`, the chosen synapse at `w_chosen`. Synapses inject one-step current
    pulses, so a weight `w` kicks `v` by `w` mV. All excitatory synapses (E->E and E->I) learn
    with the same `EligibilitySTDP` rule; inhibitory ones are fixed.
    """
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    rng = np.random.default_rng(seed)
    pre = np.repeat(np.arange(n_e), m)
    post = rng.integers(0, n, n_e * m)
    to_e = post < n_e
    ee_pre, ee_post = pre[to_e], post[to_e]
    # the chosen synapse: a random E->E synapse between two different neurons (the paper's
    # code rewards the first synapse of neuron 1)
    chosen = int(rng.choice(np.flatnonzero(ee_pre != ee_post)))
    w_ee = np.full(ee_pre.size, w_init)
    w_ee[chosen] = w_chosen
    ee = bo.from_edges(ee_pre, ee_post, w_ee, n_pre=n_e, n_post=n_e)
    ei = bo.from_edges(pre[~to_e], post[~to_e] - n_e, w_init, n_pre=n_e, n_post=n_i)
    ie = bo.from_edges(np.repeat(np.arange(n_i), m), rng.integers(0, n_e, n_i * m), -w_init,
                       n_pre=n_i, n_post=n_e)
    pulse = bs.synapses.Exponential(tau=1e-3)       # decays to 0 within one 1-ms step
    current = bs.synapses.Current()
    # A_+ = 1, A_- = 1.5 (the code's 0.1 and 0.15, scaled by 10; learning_rate 0.01/ms undoes
    # it); the code sets the STDP traces to their peak at a spike: nearest-neighbour pairing
    rule = EligibilitySTDP(A_plus=1.0, A_minus=1.5, tau_plus=20.0, tau_minus=20.0,
                           tau_c=1000.0, learning_rate=learning_rate, w_min=0.0, w_max=w_max,
                           pairing="nearest")
    # delay_steps=0: a spike emitted at step k acts on its targets during step k + 1 (1 ms)
    net = bs.Network(
        {"E": (bs.neurons.Izhikevich.regime("RS", method=method), n_e),
         "I": (bs.neurons.Izhikevich.regime("FS", method=method), n_i)},
        [
            bs.Projection("E", "E", ee, pulse, current, plasticity=rule),
            bs.Projection("E", "I", ei, pulse, current, plasticity=rule),
            bs.Projection("I", "E", ie, pulse, current),
        ],
    )
    chosen_pre = int(np.searchsorted(np.asarray(ee.indptr), chosen, side="right") - 1)
    chosen_post = int(np.asarray(ee.indices)[chosen])
    assert (chosen_pre, chosen_post) == (ee_pre[chosen], ee_post[chosen])
    return net, (chosen, chosen_pre, chosen_post)


def make_chunk(net, reward: DistalReward, chosen, n_steps: int, *, rewarded: bool = True):
    """A jit-compiled function advancing the closed loop by `n_steps` steps.

    Thalamic input: each neuron receives, each ms, a current drawn uniformly from
    `[-NOISE, NOISE]` (as in the paper's code). `rewarded=False` is the control: rewards
    are then released at random times at the rate `random_rate` of the carry (1/ms) instead
    of after the chosen synapse's pairings. Returns the new carry, the dopamine every 10 ms
    (µM) and the mean excitatory rate (1/ms).
    """
    n_e, n_i = net.sizes["E"], net.sizes["I"]
    _, i, j = chosen

    def step(carry, _):
        state, loop, key, dopamine_sum, k, random_rate = carry
        key, k_noise, k_reward, k_random = jax.random.split(key, 4)
        thalamus = jax.random.uniform(k_noise, (n_e + n_i,), minval=-NOISE, maxval=NOISE)
        apply = k % UPDATE_EVERY == UPDATE_EVERY - 1
        modulator = jnp.where(apply, dopamine_sum, 0.0)
        inputs = {"E": thalamus[:n_e], "I": thalamus[n_e:],
                  "modulators": {"E->E": modulator, "E->I": modulator}}
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
        return (state, loop, key, dopamine_sum, k + 1, random_rate), (d, spikes["E"].sum())

    @jax.jit
    def chunk(carry):
        carry, (d, n_spikes) = jax.lax.scan(step, carry, None, length=n_steps)
        return carry, d.reshape(-1, 10).mean(axis=1), n_spikes.sum() / (n_e * n_steps * DT)

    return chunk


def simulate(*, n: int = 1000, minutes: float = 60.0, seed: int = 0, chunk_s: float = 20.0,
             learning_rate: float = 0.01, w_chosen: float = 0.0,
             reward: DistalReward | None = None, rewarded: bool = True,
             random_reward_rate: float = 0.0, stop_at_bound: bool = False,
             method: str = "euler", verbose: bool = False) -> dict:
    """Run the closed loop for up to `minutes` of simulated time, in compiled chunks of
    `chunk_s` seconds.

    `reward` defaults to the paper's code: a pairing is a postsynaptic spike 1-19 ms after the
    presynaptic one (`window=19`), rewarded by 0.5 µM of dopamine after 1-3 s, on a baseline
    of 0.002 µM. `rewarded=False` (control) releases the same rewards at random times, at
    `random_reward_rate` per ms. Returns a dict: per-chunk `times` (s), `chosen` weight,
    `mean` and `std` of the other E->E weights (mV), `dopamine` every 10 ms (µM), `rate_e`
    (Hz, per chunk), final `weights` and `others`, and the counts of `rewards` and
    `pairings`. `method` is the neurons' integrator (`"half_steps"`: the code's two 0.5-ms
    steps for v).
    """
    reward = DistalReward(window=19.0) if reward is None else reward
    net, chosen = build_network(seed, n, learning_rate=learning_rate, w_chosen=w_chosen,
                                method=method)
    w_max = float(net.projections[0].plasticity.w_max)
    n_steps = int(round(chunk_s * 1000 / DT))
    chunk = make_chunk(net, reward, chosen, n_steps, rewarded=rewarded)
    key_net, key_loop = jax.random.split(jax.random.key(seed))
    carry = (net.init(key_net), reward.init(), key_loop, jnp.zeros(()), jnp.zeros((), jnp.int32),
             jnp.asarray(random_reward_rate, jnp.result_type(float)))
    weights = np.asarray(carry[0]["synapses"]["E->E"].weights)
    others = np.delete(weights, chosen[0])
    times, w_chosen, mean, std = [0.0], [weights[chosen[0]]], [others.mean()], [others.std()]
    dopamine, rates = [], []
    start = time.perf_counter()
    for c in range(max(1, int(round(minutes * 60 / chunk_s)))):
        carry, d, rate = chunk(carry)
        rates.append(1000 * float(rate))
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
                  f"pairings {int(carry[1].pairings)}  E rate {rates[-1]:.2f} Hz  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        if stop_at_bound and w_chosen[-1] >= 0.99 * w_max:
            break
    wall = time.perf_counter() - start
    return dict(times=np.asarray(times), chosen=np.asarray(w_chosen), mean=np.asarray(mean),
                std=np.asarray(std), dopamine=np.concatenate(dopamine), weights=weights,
                others=others, w_max=w_max, rewards=int(carry[1].rewards),
                pairings=int(carry[1].pairings), wall=wall, rate_e=np.asarray(rates),
                chosen_synapse=chosen)


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
    parser.add_argument("--rewards-per-min", type=float, default=2.8,
                        help="reward rate of the control (default: the rewarded run's)")
    parser.add_argument("--half-steps", action="store_true",
                        help="the code's two 0.5-ms Euler steps for v (default: one 1-ms step)")
    parser.add_argument("--out", default=None, help="figure file (png)")
    args = parser.parse_args()
    print(f"distal reward: n = {args.n}, up to {args.minutes} simulated min, seed {args.seed}"
          + (" (control: random rewards)" if args.control else ""))
    result = simulate(n=args.n, minutes=args.minutes, seed=args.seed, chunk_s=args.chunk,
                      rewarded=not args.control, random_reward_rate=args.rewards_per_min / 60_000.0,
                      stop_at_bound=not args.control, verbose=True,
                      method="half_steps" if args.half_steps else "euler")
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
