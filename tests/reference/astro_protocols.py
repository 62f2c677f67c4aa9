"""Protocols of the neuron–glia examples of Stimberg et al. (2019), shared by Brian2 and brainsim.

NumPy only (no Brian2): `make_brian2_astro_refs.py` imports it to build the Brian2 reference
runs, and brainsim's tests import it to replay exactly the same experiments. It holds

- the parameters of each example as published (one dict per example, `EXAMPLE2` ...
  `EXAMPLE6`; concentrations in µM, times in s, rates in 1/s, e.g. `O_2` in 1/(µM·s),
  `F_ex` in µM/s; `Y_T` = 500 mM = 5e5 µM and `G_T` = 200 mM = 2e5 µM),
- the neuron and synapse parameters of examples 1 and 6 in brainsim's units
  (`NEURON_EXAMPLE1`, `NEURON_EXAMPLE6`: ms, mV, nS, pF, pA),
- the initial states, time steps and durations of each run,
- deterministic generators of every input spike train. Brian2 receives them through a
  `SpikeGeneratorGroup` wherever the published script drew them at random (`PoissonGroup`),
  so that both simulators see the very same spikes. Every spike time is a multiple of the
  time step: a spike at `times_ms[k]` belongs to step `round(times_ms[k] / dt_ms)`, and both
  simulators deliver it in that step.
- the deterministic geometry of example 6 (cell positions, the published
  synapse→astrocyte index formula, the gap-junction pairs).

Sources: the scripts `examples/frompapers/Stimberg_et_al_2018/example_{1..6}*.py` of Brian2
and the project's astrocyte spec (the models' equations).
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------------------------
# Parameters (µM, s), one dict per example, with the scripts' names
# --------------------------------------------------------------------------------------------

_CA_FLUXES = {  # Ca²⁺ fluxes and IP3R kinetics (Li–Rinzel)
    "O_P": 0.9,  # µM/s, maximal SERCA uptake rate
    "K_P": 0.05,  # µM, SERCA Ca²⁺ affinity (0.1 in example 2)
    "C_T": 2.0,  # µM, total free Ca²⁺ content
    "rho_A": 0.18,  # ER-to-cytoplasm volume ratio
    "Omega_C": 6.0,  # 1/s, maximal IP3R release rate
    "Omega_L": 0.1,  # 1/s, maximal ER leak rate
    "d_1": 0.13,  # µM, IP3 binding affinity
    "d_2": 1.05,  # µM, Ca²⁺ inactivation dissociation constant
    "O_2": 0.2,  # 1/(µM s), IP3R binding rate for Ca²⁺ inhibition
    "d_3": 0.9434,  # µM, IP3 dissociation constant
    "d_5": 0.08,  # µM, Ca²⁺ activation dissociation constant
}
_RECEPTORS = {  # agonist-dependent IP3 production (PLCβ) and receptor kinetics
    "O_N": 0.3,  # 1/(µM s), agonist binding rate
    "Omega_N": 0.5,  # 1/s, maximal inactivation rate
    "K_KC": 0.5,  # µM, Ca²⁺ affinity of PKC
    "zeta": 10.0,  # maximal reduction of receptor affinity by PKC
}
_IP3_LATER = {  # PLCδ and degradation as in examples 3–6
    "kappa_delta": 1.5,  # µM
    "K_delta": 0.1,  # µM
    "Omega_5P": 0.05,  # 1/s
    "K_D": 0.7,  # µM
    "K_3K": 1.0,  # µM
    "O_3K": 4.5,  # µM/s
}
_DIFFUSION = {"I_Theta": 0.3, "omega_I": 0.05}  # µM, µM (exogenous / gap-junction IP3 flux)
_GLIO = {  # gliotransmitter release
    "C_Theta": 0.5,  # µM, release threshold
    "Omega_A": 0.6,  # 1/s, recycling rate
    "U_A": 0.6,  # release probability
    "G_T": 2.0e5,  # µM (200 mM)
    "rho_e": 6.5e-4,  # astrocytic vesicle-to-extracellular volume ratio
    "Omega_e": 60.0,  # 1/s, clearance rate
    "alpha": 0.0,  # gliotransmission nature (0: release-decreasing)
}
_SYNAPSE = {  # Tsodyks–Markram synapse with presynaptic gliotransmitter receptors
    "rho_c": 0.005,  # vesicle-to-extracellular volume ratio
    "Y_T": 5.0e5,  # µM (500 mM)
    "Omega_c": 40.0,  # 1/s, neurotransmitter clearance
    "U_0__star": 0.6,  # resting release probability
    "Omega_f": 3.33,  # 1/s, facilitation rate
    "Omega_d": 2.0,  # 1/s, depression rate
    "O_G": 1.5,  # 1/(µM s), receptor activation rate
    "Omega_G": 0.5 / 60,  # 1/s, receptor deactivation rate
}

#: Example 2 (G-ChI astrocyte driven by one synapse). `f_0` (Hz) is the source rate.
EXAMPLE2 = {
    "f_0": 0.5,
    "rho_c": 0.001, "Y_T": 5.0e5, "Omega_c": 40.0,
    **_CA_FLUXES, "K_P": 0.1,
    "O_beta": 5.0, **_RECEPTORS,
    "O_delta": 0.2, "kappa_delta": 1.5, "K_delta": 0.3,
    "Omega_5P": 0.1, "K_D": 0.5, "K_3K": 1.0, "O_3K": 4.5,
    "F_ex": 0.09, **_DIFFUSION,
}  # fmt: skip

#: Example 3 (gliotransmission modulates a synapse, open loop with an IP3 clamp).
EXAMPLE3 = {
    **_SYNAPSE,
    **_CA_FLUXES,
    "O_delta": 0.6, **_IP3_LATER,
    "F_ex": 2.0, **_DIFFUSION,
    **_GLIO,
}  # fmt: skip

#: Example 4 (closed vs open loop; the same parameters for 4a `synrel` and 4b `rsmean`).
#: The scripts also define `F` = 2 µM/s, unused (no gap junctions).
EXAMPLE4 = {
    **_SYNAPSE,
    **_CA_FLUXES,
    "O_beta": 3.2, **_RECEPTORS,
    "O_delta": 0.6, **_IP3_LATER,
    "F_ex": 2.0, **_DIFFUSION,
    **_GLIO,
}  # fmt: skip

#: Example 5 (ring of 50 astrocytes with gap junctions). `C_Theta` is not in the script: it is
#: only used here to detect Ca²⁺ events (threshold `C > C_Theta`, refractory `C > C_Theta`).
EXAMPLE5 = {
    **_CA_FLUXES,
    "O_delta": 0.6, **_IP3_LATER,
    "F_ex": 0.09, "F": 0.09, **_DIFFUSION,
    "C_Theta": 0.5,
}  # fmt: skip

#: Example 6 (COBA network with astrocytes): the glial and synaptic parameters (µM, s).
#: Neuron parameters: `NEURON_EXAMPLE6`.
EXAMPLE6 = {
    **_SYNAPSE,
    **_CA_FLUXES,
    "O_beta": 0.5, **_RECEPTORS,
    "O_delta": 1.2, **_IP3_LATER,
    "F": 0.09, **_DIFFUSION,
    **_GLIO,
}  # fmt: skip

#: Example 1 (COBA network with Tsodyks–Markram synapses, no astrocytes), brainsim units:
#: ms, mV, nS, pF, pA; `Omega_d`, `Omega_f` in 1/s. `U_0` is the (fixed) release probability.
NEURON_EXAMPLE1 = {
    "N_e": 3200, "N_i": 800, "p_e": 0.05, "p_i": 0.2,
    "E_l": -60.0, "g_l": 9.99, "E_e": 0.0, "E_i": -80.0, "C_m": 198.0,
    "tau_e": 5.0, "tau_i": 10.0, "tau_r": 5.0, "I_ex": 150.0, "V_th": -50.0, "V_r": -60.0,
    "w_e": 0.05, "w_i": 1.0, "U_0": 0.6, "Omega_d": 2.0, "Omega_f": 3.33,
}  # fmt: skip

#: Example 6's neurons (units as `NEURON_EXAMPLE1`); `I_ex` is multiplied by
#: `EXAMPLE6_STIMULUS` (one factor per `EXAMPLE6_STIMULUS_EPOCH_S`-second epoch). `size` (µm)
#: is the side of the square on which the cells lie.
NEURON_EXAMPLE6 = {
    "N_e": 3200, "N_i": 800, "N_a": 3200, "p_e": 0.05, "p_i": 0.2,
    "size": 3750.0, "distance": 50.0,
    "E_l": -60.0, "g_l": 9.99, "E_e": 0.0, "E_i": -80.0, "C_m": 198.0,
    "tau_e": 5.0, "tau_i": 10.0, "tau_r": 5.0, "I_ex": 100.0, "V_th": -50.0, "V_r": -60.0,
    "w_e": 0.05, "w_i": 1.0,
}  # fmt: skip
EXAMPLE6_STIMULUS = (1.0, 1.2, 1.0, 1.0)
EXAMPLE6_STIMULUS_EPOCH_S = 2.0

# --------------------------------------------------------------------------------------------
# Runs: time steps (ms), durations (s), seeds, initial states
# --------------------------------------------------------------------------------------------

RUNS = {
    "ex1": {"dt_ms": 0.1, "duration_s": 1.0, "brian2_seed": 11922},
    "ex2": {"dt_ms": 1.0, "duration_s": 30.0, "brian2_seed": 790824,
            "init": {"h": 0.9}},  # everything else 0 (C, I, Gamma_A, Y_S)
    "ex3": {"dt_ms": 1.0, "duration_s": 17.1, "transient_s": 16.5,
            "init_astro": {"I": 0.4, "C": 0.0, "h": 0.9, "x_A": 1.0, "G_A": 0.0},
            "init_synapse": {"u_S": 0.0, "x_S": 0.0, "Y_S": 0.0, "Gamma_S": 0.0}},
    "ex4a": {"dt_ms": 1.0, "duration_s": 20.0, "n": 500, "seed": 16283,
             "rates_hz": (0.011, 0.11, 1.1, 11.0), "epoch_s": 5.0,
             "init_astro": {"h": 0.9, "x_A": 1.0},  # everything else 0
             "init_synapse": {"x_S": 1.0}},  # u_S, Y_S, Gamma_S 0
    "ex4b": {"dt_ms": 1.0, "duration_s": 195.0, "transient_s": 15.0, "n": 100, "seed": 1929,
             "init_astro": {"h": 0.9, "x_A": 1.0},
             "init_synapse": {"x_S": 1.0}},
    "ex5": {"dt_ms": 50.0, "duration_s": 4000.0, "n": 50, "stimulated_cell": 25,
            "I_bias": 1.0, "period_s": 50.0, "on_s": 20.0,
            "init": {"h": 0.9}},  # C, I 0
    "ex6": {"dt_ms": 0.1, "astro_dt_ms": 10.0, "duration_s": 8.0, "brian2_seed": 28371,
            "init_astro": {"C": 0.01, "I": 0.01, "h": 0.9, "x_A": 1.0},
            "init_synapse": {"x_S": 1.0}},
}  # fmt: skip
#: Example 3: IP3 clamp of the two astrocytes (µM); astrocyte k drives synapse k + 1.
EXAMPLE3_I_BIAS = (0.8, 1.25)
#: Example 3: spike offsets (ms) after the transient; all three synapses get them.
EXAMPLE3_OFFSETS_MS = (0, 50, 100, 150, 200, 300, 310, 320, 330, 340, 350, 360, 370, 380, 390,
                       400)  # fmt: skip
#: Example 4: I_bias (µM) of the open-loop astrocytes (the closed-loop ones have 0).
EXAMPLE4_OPEN_LOOP_I_BIAS = 1.0


# --------------------------------------------------------------------------------------------
# Input spike trains
# --------------------------------------------------------------------------------------------


def example2_source_steps(
    duration_s: float = 30.0, dt_ms: float = 1.0, f_0: float = 0.5
) -> np.ndarray:
    """Steps at which example 2's regular source fires.

    The script's source is a `NeuronGroup` `dx/dt = f_0`, Euler, threshold `x > 1`, reset
    `x = 0`: each step adds `dt·f_0` (float64, dt in s) to x, and the step after which x > 1
    emits a spike (stamped with the step's start time, `step · dt`) and resets x. With dt = 1 ms
    and f_0 = 0.5 Hz this takes 2001 steps: spikes at steps 2000, 4001, 6002, ... (every
    2.001 s, not 2 s). The Brian2 script checks these steps against Brian2's own.
    """
    n_steps = int(round(duration_s * 1000.0 / dt_ms))
    inc = (dt_ms / 1000.0) * f_0
    x, steps = 0.0, []
    for k in range(n_steps):
        x = x + inc
        if x > 1.0:
            steps.append(k)
            x = 0.0
    return np.asarray(steps, dtype=np.int64)


def example3_spike_times_ms(transient_s: float = 16.5) -> np.ndarray:
    """The 16 presynaptic spike times of example 3 (ms), on the 1-ms grid."""
    return transient_s * 1000.0 + np.asarray(EXAMPLE3_OFFSETS_MS, dtype=float)


def poisson_trains(
    rates_hz: np.ndarray,
    duration_s: float,
    seed: int,
    dt_ms: float = 1.0,
    epoch_s: float | None = None,
    chunk: int = 1000,
) -> tuple[np.ndarray, np.ndarray]:
    """Independent Poisson (Bernoulli-per-step) spike trains on the `dt_ms` grid.

    Neuron `j` fires in step `k` (time `k·dt_ms`) if `U[k, j] < rate_j(k)·dt` with
    `U = numpy.random.default_rng(seed).random((n_steps, n))`, drawn row by row (step-major;
    generated in chunks of rows, which gives the same numbers as one big draw). This is how
    Brian2's `PoissonGroup` decides (`rand() < rates*dt`), with a reproducible generator.

    Args:
        rates_hz: `(n,)` constant rates, or `(n_epochs, n)` (or `(n_epochs, 1)`) rates that
            are constant over epochs of `epoch_s` seconds; the epoch of step k is
            `k·dt // epoch`, computed on integer steps.
        duration_s: duration (s); `n_steps = round(duration_s·1000/dt_ms)`.
        seed: seed of `numpy.random.default_rng`.
        dt_ms: time step (ms).
        epoch_s: epoch length (s) when `rates_hz` is 2-D.

    Returns:
        `(indices, times_ms)`: int32 neuron indices and float64 times (exact multiples of
        `dt_ms`), sorted by time, then by index.
    """
    rates = np.asarray(rates_hz, dtype=float)
    n_steps = int(round(duration_s * 1000.0 / dt_ms))
    dt_s = dt_ms / 1000.0
    if rates.ndim == 1:
        rates = rates[None, :]
        epoch_steps = n_steps
    else:
        if epoch_s is None:
            raise ValueError("2-D `rates_hz` need `epoch_s`.")
        epoch_steps = int(round(epoch_s * 1000.0 / dt_ms))
    n = rates.shape[1]
    rng = np.random.default_rng(seed)
    idx_parts, step_parts = [], []
    start = 0
    while start < n_steps:
        epoch = min(start // epoch_steps, rates.shape[0] - 1)
        stop = min(start + chunk, n_steps, (start // epoch_steps + 1) * epoch_steps)
        u = rng.random((stop - start, n))
        k, j = np.nonzero(u < rates[epoch] * dt_s)
        step_parts.append(k + start)
        idx_parts.append(j)
        start = stop
    steps = np.concatenate(step_parts).astype(np.int64)
    indices = np.concatenate(idx_parts).astype(np.int32)
    return indices, steps * dt_ms


def example4a_trains(
    n: int = 500, seed: int = 16283, duration_s: float = 20.0, dt_ms: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Example 4a's `n` Poisson trains: all at 0.011, 0.11, 1.1, 11 Hz in 5-s epochs.

    Returns `(indices, times_ms)` as `poisson_trains` (times on the `dt_ms` grid).
    """
    run = RUNS["ex4a"]
    rates = np.repeat(np.asarray(run["rates_hz"], dtype=float)[:, None], n, axis=1)
    return poisson_trains(rates, duration_s, seed, dt_ms, epoch_s=run["epoch_s"])


def example4b_rates(n: int = 100) -> np.ndarray:
    """Example 4b's input rates (Hz): `n` values log-spaced from 0.1 to 100 Hz."""
    return np.logspace(-1, 2, n)


def example4b_trains(
    n: int = 100, seed: int = 1929, duration_s: float = 195.0, dt_ms: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Example 4b's `n` Poisson trains at `example4b_rates(n)`; see `poisson_trains`."""
    return poisson_trains(example4b_rates(n), duration_s, seed, dt_ms)


def train_checksum(indices: np.ndarray, times_ms: np.ndarray, dt_ms: float) -> int:
    """An integer fingerprint of a spike train, stored with the references to check a replay:
    `sum((step + 1) * (index + 1)) mod 2**61 - 1` over all spikes."""
    steps = np.rint(np.asarray(times_ms) / dt_ms).astype(np.int64)
    prod = (steps + 1) * (np.asarray(indices, dtype=np.int64) + 1)
    return int(np.sum(prod % (2**61 - 1)) % (2**61 - 1))


# --------------------------------------------------------------------------------------------
# Example 5: stimulus
# --------------------------------------------------------------------------------------------


def example5_stimulus(t_s):
    """Example 5's gate of cell 25's IP3 clamp: 1 for the first 20 s of every 50 s, else 0.

    Brian2 evaluates `int((t % (50*second)) < 20*second)` at the RK4 stage times `t`,
    `t + dt/2`, `t + dt` with `t = k·dt` in seconds (float64). Evaluated on exact ms stage
    times instead (`k·50`, `k·50 + 25`, `k·50 + 50` ms) it gives the same values at every
    stage of the 80 000 steps (checked), so either clock works.
    """
    return (np.fmod(np.asarray(t_s, dtype=float), 50.0) < 20.0).astype(float)


# --------------------------------------------------------------------------------------------
# Example 6: geometry
# --------------------------------------------------------------------------------------------


def example6_neuron_positions(n_e: int = 3200, size_um: float = 3750.0) -> np.ndarray:
    """`(n_e, 2)` positions (µm) of example 6's excitatory neurons (inhibitory ones are at 0).

    As the script: `N_rows = int(sqrt(n_e))` (56), `N_cols = n_e // N_rows` (57), spacing
    `size / N_cols`, `x = (i // N_rows)·g − N_rows/2·g`, `y = (i % N_rows)·g − N_cols/2·g`.
    (Brian2 evaluates the same expressions in SI units after sympy rewrites them, so the values
    may differ from these in the last bit; `example6_astrocyte_index` is not sensitive to it
    except at exact lattice coincidences, see the npz's `astro_index_mismatch`.)
    """
    n_rows = int(np.sqrt(n_e))
    n_cols = n_e // n_rows
    g = size_um / n_cols
    i = np.arange(n_e)
    return np.stack([(i // n_rows) * g - n_rows / 2.0 * g, (i % n_rows) * g - n_cols / 2.0 * g],
                    axis=1)  # fmt: skip


def example6_astrocyte_positions(n_a: int = 3200, size_um: float = 3750.0) -> np.ndarray:
    """`(n_a, 2)` positions (µm) of example 6's astrocytes: `N_rows_a = int(sqrt(n_a))` (56),
    `N_cols_a = n_a / N_rows_a` (57.14..., a float), spacing `size / N_rows_a`,
    `x = (i // N_rows_a)·g − N_rows_a/2·g`, `y = (i % N_rows_a)·g − N_cols_a/2·g`."""
    n_rows = int(np.sqrt(n_a))
    n_cols = n_a / n_rows
    g = size_um / n_rows
    i = np.arange(n_a)
    return np.stack([(i // n_rows) * g - n_rows / 2.0 * g, (i % n_rows) * g - n_cols / 2.0 * g],
                    axis=1)  # fmt: skip


def example6_astrocyte_index(
    post_xy: np.ndarray, n_a: int = 3200, size_um: float = 3750.0
) -> np.ndarray:
    """The published synapse→astrocyte formula, applied to postsynaptic positions (µm).

    `astrocyte_index = int(x_post/g) + N_cols_a·int(y_post/g)` with `g = size/N_rows_a`,
    `N_cols_a = n_a/N_rows_a` (float), `int` truncating toward zero, and the float sum then
    truncated toward zero again when stored in an integer variable. Values outside
    `[0, n_a)` match no astrocyte (the script connects `i == astrocyte_index_post`): returned
    as -1. This is the script's quirk: about 42 % of the excitatory synapses have no
    astrocyte, and every synapse onto an inhibitory neuron (position 0, 0) has astrocyte 0.
    """
    n_rows = int(np.sqrt(n_a))
    n_cols = n_a / n_rows
    g = size_um / n_rows
    xy = np.asarray(post_xy, dtype=float)
    val = np.trunc(xy[:, 0] / g) + n_cols * np.trunc(xy[:, 1] / g)
    idx = np.trunc(val).astype(np.int64)
    return np.where((idx >= 0) & (idx < n_a), idx, -1)


def example6_gap_junction_pairs(
    n_a: int = 3200, size_um: float = 3750.0, max_um: float = 75.0
) -> tuple[np.ndarray, np.ndarray]:
    """Directed gap-junction pairs `(pre, post)` of example 6: all `i != j` closer than 75 µm
    (the 4 lattice neighbours; spacing 66.96 µm, diagonals 94.7 µm). Sorted by pre, then post."""
    xy = example6_astrocyte_positions(n_a, size_um)
    d2 = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    pre, post = np.nonzero((np.sqrt(d2) < max_um) & ~np.eye(n_a, dtype=bool))
    return pre.astype(np.int32), post.astype(np.int32)
