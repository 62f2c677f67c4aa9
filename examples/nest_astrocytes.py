"""NEST's astrocyte examples in brainsim: a single astrocyte, and a tripartite interaction.

NEST 3.10's `pynest/examples/astrocytes/` rebuilt with brainsim's versions of NEST's models
(`brainsim.astro.AstrocyteLR1994` = `astrocyte_lr_1994`, `AEIFCondAlphaAstro` =
`aeif_cond_alpha_astro`, `SlowInwardCurrent` = `sic_connection`), NEST's parameters, its
resolution (0.1 ms) and its default delays (1 ms):

- astrocyte_single.py: one astrocyte (`delta_IP3` = 0.2 µM) driven by a 1-Hz Poisson train of
  weight 1; IP3 and Ca²⁺ over 60 s.
- astrocyte_interaction.py: a neuron driven by 1500-Hz Poisson input (1 nS) projects to a
  second neuron and to an astrocyte, whose slow inward current (SIC) goes to the second neuron.
  With NEST's parameters the first neuron fires a few times a minute (4 times in 60 s in the
  NEST reference run), so by default it runs for 10 s driven harder, as the `driven`
  reference protocol of tests/reference: input 1.5 nS, neuron -> neuron 5 nS, second neuron
  `I_e` = 580 pA, SIC weight 3; `--full` runs NEST's parameters for 60 s.

The Poisson trains are brainsim's (one Bernoulli draw per step), not NEST's. Run:

    python examples/nest_astrocytes.py                  # single 60 s, driven interaction 10 s
    python examples/nest_astrocytes.py --full --out nest_astrocytes.png   # NEST's, 60 s

tests/astro/test_nest_astrocytes.py builds NEST's protocols with `single_astrocyte` and
`tripartite` below and checks them against NEST 3.10 (docs/astro_nest.md).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brainsim as bs  # noqa: E402
import brainsim_ops as bo  # noqa: E402
from brainsim.astro import (  # noqa: E402
    AEIFCondAlphaAstro,
    AlphaSpikeInput,
    AstrocyteLR1994,
    Instantaneous,
    IP3Input,
    SlowInwardCurrent,
)

DT = 0.1  # ms, NEST's default resolution
DELAY_STEPS = 10  # NEST's default delay, 1 ms


def single_astrocyte(source=None, *, delta_IP3=0.2, weight=1.0, delay_steps=DELAY_STEPS,
                     sic_delay_steps=0):  # fmt: skip
    """astrocyte_single.py: a one-cell spike `source` (a brainsim model) -> one astrocyte.

    Populations `"input"` (if `source` is given) and `"astrocyte"`; without a source, drive the
    astrocyte with `inputs={"astrocyte": LR1994Drive(J_syn=...)}`. The astrocyte keeps
    `sic_delay_steps` steps of SIC history.
    """
    astro = AstrocyteLR1994(delta_IP3=delta_IP3, max_sic_delay=sic_delay_steps)
    populations = {"astrocyte": (astro, 1)}
    projections = []
    if source is not None:
        populations["input"] = (source, 1)
        projections.append(bs.Projection("input", "astrocyte", bo.one_to_one(1, weight),
                                         Instantaneous(), IP3Input(),
                                         delay_steps=delay_steps))  # fmt: skip
    return bs.Network(populations, projections)


def tripartite(source=None, *, w_input=1.0, w_pre_post=1.0, w_pre_astro=1.0, w_sic=1.0,
               tau_syn_ex=2.0, post_I_e=0.0, delta_IP3=0.2, delay_steps=DELAY_STEPS,
               sic_delay_steps=DELAY_STEPS, substeps=5):  # fmt: skip
    """astrocyte_interaction.py: `source` -> "pre"; "pre" -> "post" and -> "astrocyte"; the
    astrocyte's SIC -> "post" (`SlowInwardCurrent`).

    Without a source, drive "pre" with `inputs={"pre": AEIFAstroInput(w_ex=...)}` (the
    weights arriving at the end of the previous step).
    """
    pre = AEIFCondAlphaAstro(tau_syn_ex=tau_syn_ex, substeps=substeps)
    post = AEIFCondAlphaAstro(tau_syn_ex=tau_syn_ex, I_e=post_I_e, substeps=substeps)
    astro = AstrocyteLR1994(delta_IP3=delta_IP3, max_sic_delay=sic_delay_steps)
    populations = {"pre": (pre, 1), "post": (post, 1), "astrocyte": (astro, 1)}
    projections = [
        bs.Projection("pre", "post", bo.one_to_one(1, w_pre_post), Instantaneous(),
                      AlphaSpikeInput(), delay_steps=delay_steps),
        bs.Projection("pre", "astrocyte", bo.one_to_one(1, w_pre_astro), Instantaneous(),
                      IP3Input(), delay_steps=delay_steps),
    ]  # fmt: skip
    if source is not None:
        populations["input"] = (source, 1)
        projections.append(bs.Projection("input", "pre", bo.one_to_one(1, w_input),
                                         Instantaneous(), AlphaSpikeInput(),
                                         delay_steps=delay_steps))  # fmt: skip
    coupling = SlowInwardCurrent("astrocyte", "post", bo.one_to_one(1, w_sic),
                                 delay_steps=sic_delay_steps)  # fmt: skip
    return bs.Network(populations, projections, [coupling])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="the interaction with NEST's parameters for 60 s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="nest_astrocytes.png", help="figure file to write")
    args = parser.parse_args()
    key_single, key_pair = jax.random.split(jax.random.key(args.seed))
    every = round(10.0 / DT)  # traces every 10 ms, as NEST's multimeter default of 1 ms / 10

    began = time.perf_counter()
    net = single_astrocyte(bs.neurons.PoissonSource(rate=1.0))
    single = bs.run(net, net.init(key_single), dt=DT, duration=60_000.0, every=every,
                    record=["input.spikes", "astrocyte.IP3", "astrocyte.Ca"])  # fmt: skip
    ip3, ca = single.traces["astrocyte.IP3"][:, 0], single.traces["astrocyte.Ca"][:, 0]
    print(f"astrocyte_single (60 s, {time.perf_counter() - began:.1f} s): "
          f"{len(single.spikes['input.spikes'])} input spikes, IP3 peak {float(ip3.max()):.3f} "
          f"µM, Ca peak {float(ca.max()):.3f} µM, Ca above SIC_th "
          f"{float((ca > 0.19669).mean()) * 100:.1f} % of the time")  # fmt: skip

    duration = 60_000.0 if args.full else 10_000.0
    drive = {} if args.full else {"w_input": 1.5, "w_pre_post": 5.0, "post_I_e": 580.0,
                                  "w_sic": 3.0}  # fmt: skip
    began = time.perf_counter()
    net = tripartite(bs.neurons.PoissonSource(rate=1500.0), **drive)
    pair = bs.run(net, net.init(key_pair), dt=DT, duration=duration, every=every,
                  record={"spikes": lambda s, o: jnp.concatenate([o["pre"], o["post"]]),
                          "V_pre": lambda s, o: s["pre"].v,
                          "SIC": lambda s, o: net.couplings[0].current(
                              s["astrocyte"].sic[DELAY_STEPS]),
                          "IP3": lambda s, o: s["astrocyte"].IP3,
                          "Ca": lambda s, o: s["astrocyte"].Ca})  # fmt: skip
    spikes = pair.spikes["spikes"]
    counts = [int((spikes.indices == i).sum()) for i in (0, 1)]
    sic = pair.traces["SIC"][:, 0]
    label = "NEST's parameters" if args.full else "driven"
    print(f"astrocyte_interaction ({label}, {duration / 1000:g} s, "
          f"{time.perf_counter() - began:.1f} s): "
          f"spikes pre {counts[0]}, post {counts[1]}; SIC peak {float(sic.max()):.2f} pA, "
          f"SIC > 0 {float((sic > 0).mean()) * 100:.1f} % of the time; IP3 peak "
          f"{float(pair.traces['IP3'].max()):.3f} µM")  # fmt: skip

    fig, axes = plt.subplots(3, 2, figsize=(11, 7), sharex="col")
    t1, t2 = single.t / 1000, pair.t / 1000
    axes[0, 0].plot(t1, ip3)
    axes[0, 0].set(title="astrocyte_single: 1-Hz input", ylabel="IP3 (µM)")
    axes[1, 0].plot(t1, ca, color="tab:green")
    axes[1, 0].axhline(0.19669, color="gray", lw=0.8, ls=":")
    axes[1, 0].set(ylabel="Ca²⁺ (µM)")
    axes[2, 0].eventplot(single.spikes["input.spikes"].times / 1000, color="k")
    axes[2, 0].set(ylabel="input spikes", xlabel="time (s)", yticks=[])
    axes[0, 1].plot(t2, pair.traces["V_pre"][:, 0], lw=0.6)
    axes[0, 1].set(title=f"astrocyte_interaction ({label}): 1500-Hz input",
                   ylabel="pre V_m (mV)")
    axes[1, 1].plot(t2, pair.traces["IP3"][:, 0], label="IP3")
    axes[1, 1].plot(t2, pair.traces["Ca"][:, 0], color="tab:green", label="Ca²⁺")
    axes[1, 1].set(ylabel="astrocyte (µM)")
    axes[1, 1].legend(loc="upper left", fontsize=8)
    axes[2, 1].plot(t2, sic, color="tab:purple")
    axes[2, 1].set(ylabel="post SIC (pA)", xlabel="time (s)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
