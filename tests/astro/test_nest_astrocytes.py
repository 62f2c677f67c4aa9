"""NEST's neuron–astrocyte family in brainsim, against NEST 3.10.

`AstrocyteLR1994` (`astrocyte_lr_1994`), `AEIFCondAlphaAstro` (`aeif_cond_alpha_astro`),
`SlowInwardCurrent` (`sic_connection`) and `brainsim_ops.tripartite_bernoulli_with_pool`
(`third_factor_bernoulli_with_pool`). The references are NEST runs of NEST's astrocyte examples
(tests/reference/make_nest_astro_refs.py; keys in tests/reference/README.md), rebuilt here with
the builders of examples/nest_astrocytes.py, replaying NEST's input spikes. Time bookkeeping:
NEST stamps samples and spikes with the end of their step, brainsim's spike events with its
start; an input spike that NEST delivers at the end of step n reaches brainsim's neuron (or
astrocyte) at the start of step n + 1, so brainsim's IP3 after a step plus `delta_IP3` times
the weights still in the `Instantaneous` kinetics is NEST's IP3.
"""

from __future__ import annotations

import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
import brainsim_ops as bo
from brainsim.astro import (
    AEIFAstroInput,
    AEIFCondAlphaAstro,
    AlphaSpikeInput,
    AstrocyteLR1994,
    Instantaneous,
    IP3Input,
    LR1994Drive,
    SlowInwardCurrent,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference"
DT = 0.1


@pytest.fixture(scope="module")
def example():
    """examples/nest_astrocytes.py, whose `single_astrocyte` and `tripartite` build the
    protocols."""
    path = ROOT / "examples" / "nest_astrocytes.py"
    spec = importlib.util.spec_from_file_location("nest_astrocytes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference(name: str) -> dict:
    with np.load(REFERENCE / f"nest_astro_{name}.npz") as data:
        return {key: data[key] for key in data.files}


def nest_steps(times) -> np.ndarray:
    """NEST spike times (end of their step) as brainsim step indices."""
    return np.round(np.asarray(times) / DT).astype(np.int64) - 1


def spike_steps(events, n: int) -> list[np.ndarray]:
    """brainsim spike events as sorted step indices per neuron."""
    steps = np.round(np.asarray(events.times) / DT).astype(np.int64)
    return [np.sort(steps[np.asarray(events.indices) == i]) for i in range(n)]


def compare_spikes(ours: list[np.ndarray], times, index, *, before: int) -> list[np.ndarray]:
    """Assert equal counts per neuron (spikes in steps < `before`); the step differences."""
    differences = []
    for i, mine in enumerate(ours):
        theirs = nest_steps(times[index == i])
        theirs, mine = theirs[theirs < before], mine[mine < before]
        assert mine.size == theirs.size, f"neuron {i}: {mine.size} spikes, NEST {theirs.size}"
        differences.append(mine - theirs)
    return differences


# --------------------------------------------------------------------------- astrocyte_single


def run_single(example, d, steps):
    times = d["input_times"]
    assert np.unique(times).size == times.size  # SpikeTimes gives one spike per step
    source = bs.neurons.SpikeTimes(times=times - DT, indices=np.zeros(times.size, np.int32))
    net = example.single_astrocyte(source, delta_IP3=float(d["delta_IP3"]), sic_delay_steps=1)
    astro = net.models["astrocyte"]
    record = {
        "IP3": lambda s, o: s["astrocyte"].IP3
        + astro.delta_IP3 * s["synapses"]["input->astrocyte"].kinetics,
        "Ca": lambda s, o: s["astrocyte"].Ca,
        "h_IP3R": lambda s, o: s["astrocyte"].h_IP3R,
        "SIC": lambda s, o: s["astrocyte"].sic[1],  # the probe's sic_connection: one step
    }
    every = round(float(d["t"][1] - d["t"][0]) / DT)
    result = bs.run(net, net.init(), dt=DT, steps=steps, record=record, every=every,
                    progress=False)  # fmt: skip
    n = min(len(result.t), len(d["t"]))  # NEST's multimeter leaves out the final time
    np.testing.assert_allclose(np.asarray(result.t)[:n], d["t"][:n], rtol=0, atol=1e-6)
    return {key: np.abs(np.asarray(result.traces[key])[:n, 0] - d[key][:n]).max()
            for key in record}  # fmt: skip


def test_single_astrocyte_matches_nest_to_rounding(x64, example):
    # NEST takes one RKF45 step per 0.1-ms step (its 1e-3 µM tolerance never rejects one for
    # these slow equations), brainsim one RK4 step: both are exact far below float64 rounding
    # at this step, so 20 s (200 000 steps) agree to ~1e-15 (measured 4e-16
    # µM, SIC 8e-15 pA; 1e-12 leaves room for rounding that grows along the run)
    errors = run_single(example, reference("single"), 200_000)
    assert max(errors["IP3"], errors["Ca"], errors["h_IP3R"]) < 1e-12, errors
    assert errors["SIC"] < 1e-10, errors


@pytest.mark.slow
def test_single_astrocyte_matches_nest_over_the_whole_minute(x64, example):
    d = reference("single")
    errors = run_single(example, d, round(float(d["duration"]) / DT))
    assert max(errors["IP3"], errors["Ca"], errors["h_IP3R"]) < 1e-12, errors
    assert errors["SIC"] < 1e-10, errors


# ----------------------------------------------------- astrocyte_interaction (tripartite)


def run_tripartite(example, d, steps):
    """NEST's input replayed into "pre" (its generator spike at τ, delay d, arrives at the end
    of the step ending at τ + d: brainsim's step (τ + d)/dt starts with it)."""
    arrive = np.cumsum(d["input_gaps"].astype(np.int64)) + round(float(d["delay"]) / DT)
    w_ex = np.bincount(arrive, minlength=steps)[:steps] * float(d["w_input"])
    zeros = jnp.zeros((steps, 1))
    series = {"pre": AEIFAstroInput(I=zeros, w_ex=jnp.asarray(w_ex[:, None]), w_in=zeros)}
    net = example.tripartite(
        None, w_pre_post=float(d["w_pre_post"]), w_sic=float(d["w_sic"]),
        tau_syn_ex=float(d["tau_syn_ex"]), post_I_e=float(d["post_I_e"]),
        delta_IP3=float(d["delta_IP3"]),
    )  # fmt: skip
    astro, sic = net.models["astrocyte"], net.couplings[0]
    record = {
        "spikes": lambda s, o: jnp.concatenate([o["pre"], o["post"]]),
        "V_m": lambda s, o: jnp.concatenate([s["pre"].v, s["post"].v]),
        "w": lambda s, o: jnp.concatenate([s["pre"].w, s["post"].w]),
        "g_ex": lambda s, o: jnp.concatenate([s["pre"].g_ex, s["post"].g_ex]),
        "I_SIC": lambda s, o: sic.current(s["astrocyte"].sic[sic.delay_steps]),
        "IP3": lambda s, o: s["astrocyte"].IP3
        + astro.delta_IP3 * s["synapses"]["pre->astrocyte"].kinetics,
        "Ca": lambda s, o: s["astrocyte"].Ca,
        "h_IP3R": lambda s, o: s["astrocyte"].h_IP3R,
    }
    return bs.run(net, net.init(), dt=DT, steps=steps, input_series=series, record=record,
                  progress=False)  # fmt: skip


def tripartite_errors(d, result, steps):
    """Spike step differences and the largest trace differences: at NEST's multimeter samples
    (NEST's sample at t is brainsim's state after step t/dt − 1) and in the full-resolution
    window."""
    spikes = spike_steps(result.spikes["spikes"], 2)
    differences = np.concatenate(
        compare_spikes(spikes, d["spike_times"], d["spike_index"], before=steps - 1))
    errors = {}
    for prefix, times in (("", d["t"]), ("fine_", d["t_fine"])):
        at = nest_steps(times)
        keep = at < steps
        keys = ("V_m", "w", "g_ex") if prefix else ("V_m", "I_SIC", "IP3", "Ca", "h_IP3R")
        for key in keys:
            ours = np.asarray(result.traces[key])[at[keep]].reshape(keep.sum(), -1)
            theirs = d[f"{key}_fine" if prefix else key][keep].reshape(keep.sum(), -1)
            errors[prefix + key] = np.abs(ours - theirs).max()
    return differences, errors


def test_driven_interaction_spikes_and_traces_match_nest(x64, example):
    # 2 s of the driven protocol: 26 spikes of the two neurons, each in the same 0.1-ms step
    # as NEST's. Membrane traces: NEST's RKF45 keeps errors near 1e-6 per step; brainsim's RK4
    # spans leave spike times within ~1 µs of the exact ones (docs/astro_nest.md), so V
    # differs by up to ~3 mV/ms x 1 µs after a spike (measured 4e-4 mV at the 20-ms samples,
    # 2.7e-3 mV in the 0.1-ms window around the first spikes; w 6e-4 pA, g_ex 3e-8 nS). The
    # astrocyte sees the same spikes in the same steps: rounding (measured 2e-16 µM, SIC 4e-15
    # pA)
    d = reference("driven")
    steps = 20_000
    differences, errors = tripartite_errors(d, run_tripartite(example, d, steps), steps)
    assert differences.size == 26 and np.all(differences == 0), differences
    assert errors["V_m"] < 0.01 and errors["fine_V_m"] < 0.01, errors
    assert errors["fine_w"] < 0.005 and errors["fine_g_ex"] < 1e-6, errors
    assert max(errors["IP3"], errors["Ca"], errors["h_IP3R"]) < 1e-12, errors
    assert errors["I_SIC"] < 1e-10, errors


@pytest.mark.slow
@pytest.mark.parametrize("name", ["driven", "tripartite"])
def test_interaction_matches_nest_over_the_whole_run(x64, example, name):
    # driven: 10 s, 88 + 33 spikes; tripartite (NEST's parameters): 60 s, 4 + 0 spikes
    d = reference(name)
    steps = round(float(d["duration"]) / DT)
    differences, errors = tripartite_errors(d, run_tripartite(example, d, steps), steps)
    assert differences.size == d["spike_times"].size and np.all(np.abs(differences) <= 1)
    assert np.mean(differences == 0) > 0.97, differences
    assert errors["V_m"] < 0.05, errors
    assert max(errors["IP3"], errors["Ca"], errors["h_IP3R"]) < 1e-10, errors
    assert errors["I_SIC"] < 1e-8, errors


# --------------------------------------------------------- astrocyte_small_network (tripartite)


def small_network(d, duration):
    n, n_astro = int(d["n_neurons"]), int(d["n_astro"])
    rule = bo.tripartite_bernoulli_with_pool(jax.random.key(0), n, n, n_astro, 1.0, 1.0,
                                             pool_size=1, pool_type="block")  # fmt: skip
    neuron = AEIFCondAlphaAstro(tau_syn_ex=float(d["tau_syn_ex"]), I_e=float(d["I_e"]))
    astro = AstrocyteLR1994(delta_IP3=float(d["delta_IP3"]), max_sic_delay=10)
    net = bs.Network(
        {"pre": (neuron, n), "post": (neuron, n), "A": (astro, n_astro)},
        [bs.Projection("pre", "post", rule.primary, Instantaneous(), AlphaSpikeInput(),
                       delay_steps=10),
         bs.Projection("pre", "A", rule.third_in, Instantaneous(), IP3Input(), delay_steps=10)],
        [SlowInwardCurrent("A", "post", rule.third_out, delay_steps=10)],
    )  # fmt: skip
    state = net.init()
    state["A"] = astro.init(n_astro, IP3=float(d["IP3_init"]))
    record = {
        "spikes": lambda s, o: jnp.concatenate([o["pre"], o["post"]]),
        "post_V_m": lambda s, o: s["post"].v,
        "post_I_SIC": lambda s, o: bo.matvec(s["A"].sic[10], rule.third_out),
        "IP3": lambda s, o: s["A"].IP3 + astro.delta_IP3 * s["synapses"]["pre->A"].kinetics,
        "Ca": lambda s, o: s["A"].Ca,
    }
    result = bs.run(net, state, dt=DT, duration=duration, record=record, every=10,
                    progress=False)  # fmt: skip
    return rule, result


def edge_list(conn) -> np.ndarray:
    pre = np.repeat(np.arange(conn.n_pre), np.diff(np.asarray(conn.indptr)))
    edges = np.stack([pre, np.asarray(conn.indices)], axis=1)
    return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


def test_small_network_connections_are_nests():
    # p = 1, p_third = 1, block pools of one astrocyte: the rule is deterministic, so the
    # three connection lists equal NEST's (with NEST's repeated neuron -> astrocyte pairs)
    d = reference("small_network")
    n, n_astro = int(d["n_neurons"]), int(d["n_astro"])
    rule = bo.tripartite_bernoulli_with_pool(jax.random.key(3), n, n, n_astro, 1.0, 1.0,
                                             pool_size=1, pool_type="block")  # fmt: skip
    for name in ("primary", "third_in", "third_out"):
        np.testing.assert_array_equal(edge_list(getattr(rule, name)), d[f"edges_{name}"])


def test_small_network_spikes_and_astrocytes_match_nest(x64):
    # 300 ms: 10 + 10 neurons, 5 astrocytes. The presynaptic neurons fire in NEST's steps; the
    # postsynaptic ones receive 10 simultaneous alpha conductances per volley, and a spike
    # time within ~1 µs of a step boundary can land in the next step (over the full 1 s, 2
    # of 41 volleys, measured). Traces at 1-ms samples away from such spikes: V within
    # 0.05 mV (measured 0.015 mV, after the volleys), the astrocytes (fed by the presynaptic
    # spikes) to rounding (measured 1e-15 µM, SIC 3e-12 pA)
    d = reference("small_network")
    duration = 300.0
    steps = round(duration / DT)
    _, result = small_network(d, duration)
    ours = spike_steps(result.spikes["spikes"], 20)
    per_neuron = compare_spikes(ours, d["spike_times"], d["spike_index"], before=steps - 1)
    assert all(np.all(x == 0) for x in per_neuron[:10]), per_neuron  # presynaptic neurons
    differences = np.concatenate(per_neuron)
    assert np.all(np.abs(differences) <= 1) and np.mean(differences == 0) > 0.9, differences
    n = len(result.t)
    for key, bound in (("IP3", 1e-10), ("Ca", 1e-10)):
        error = np.abs(np.asarray(result.traces[key]) - d[key][:n]).max()
        assert error < bound, (key, error)
    # post V_m and SIC at samples where no postsynaptic spike differs from NEST's within 2 ms
    shifted = np.concatenate([mine[~np.isin(mine, nest_steps(d["spike_times"][d["spike_index"]
                                                                        == 10 + i]))]
                              for i, mine in enumerate(ours[10:])])  # fmt: skip
    sample_steps = np.round(np.asarray(result.t) / DT).astype(np.int64)
    near = np.any(np.abs(sample_steps[:, None] - shifted[None, :]) <= 20, axis=1)
    for key, bound in (("post_V_m", 0.05), ("post_I_SIC", 1e-8)):
        error = np.abs(np.asarray(result.traces[key]) - d[key][:n])[~near].max()
        assert error < bound, (key, error)


@pytest.mark.slow
def test_small_network_over_the_whole_second(x64):
    d = reference("small_network")
    _, result = small_network(d, float(d["duration"]))
    ours = spike_steps(result.spikes["spikes"], 20)
    differences = np.concatenate(
        compare_spikes(ours, d["spike_times"], d["spike_index"], before=10_000 - 1))
    assert differences.size == d["spike_times"].size
    assert np.all(np.abs(differences) <= 1) and np.mean(differences == 0) > 0.95, differences


# ------------------------------------------------------------------ transforms: jit, vmap, grad


def assert_grad_matches_relative_differences(loss, p):
    """`jax.grad(loss)` at `p` against central differences with steps of `1e-6 · p_i`
    (parameters of very different sizes), to a relative 1e-5."""
    grad = jax.jit(jax.grad(loss))(p)
    loss = jax.jit(loss)
    for i in range(p.size):
        h = 1e-6 * p[i]
        e = jnp.zeros(p.size).at[i].set(h)
        fd = (loss(p + e) - loss(p - e)) / (2 * h)
        np.testing.assert_allclose(grad[i], fd, rtol=1e-5)


def astro_run(model, J, *, steps=200, dt=0.5):
    """Final state and SIC of a 3-cell astrocyte population driven by the spike weights `J`
    (arriving at step 0 and 100), with a steady Ca²⁺ current."""
    def body(state, k):
        drive = LR1994Drive(J_syn=jnp.where((k == 0) | (k == 100), J, 0.0), J_noise=1e-4)
        return model.step(state, drive, t=k * dt, dt=dt)

    return jax.lax.scan(body, model.init(3, Ca=0.15), jnp.arange(steps))


def test_astrocyte_jit_equals_eager():
    model = AstrocyteLR1994(delta_IP3=0.5, max_sic_delay=2)
    J = jnp.array([0.0, 1.0, 3.0])
    eager = astro_run(model, J, steps=30)
    jitted = jax.jit(lambda m, j: astro_run(m, j, steps=30))(model, J)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_astrocyte_vmap_over_parameters_equals_loop():
    deltas = jnp.array([0.1, 0.5, 2.0])
    J = jnp.array([1.0, 2.0, 3.0])

    def final_ca(delta):
        model = AstrocyteLR1994(delta_IP3=delta)
        return astro_run(model, J)[0].Ca

    batched = jax.vmap(final_ca)(deltas)
    looped = jnp.stack([final_ca(d) for d in deltas])
    np.testing.assert_allclose(batched, looped, rtol=1e-6, atol=1e-9)


def test_astrocyte_grad_matches_finite_differences(x64):
    # d(Σ Ca + Σ SIC)/d(delta_IP3, rate_IP3R, k_IP3R) after 100 ms: smooth (the SIC is above
    # threshold from the start, so its logarithm is differentiable); central differences with
    # h = 1e-6 relative: error ~h² f''' + eps/h ~ 1e-10
    J = jnp.array([1.0, 2.0, 4.0])

    def loss(params):
        model = AstrocyteLR1994(delta_IP3=params[0], rate_IP3R=params[1], k_IP3R=params[2],
                                SIC_th=0.1)  # fmt: skip
        (state, sic) = astro_run(model, J)
        return state.Ca.sum() + sic[-1].sum()

    p = jnp.array([0.3, 0.006, 0.0002])
    assert_grad_matches_relative_differences(loss, p)


def neuron_run(model, w_ex, *, steps=400, dt=0.1):
    """A 3-neuron AEIFCondAlphaAstro population with excitatory jumps `w_ex` every 5 ms."""
    def body(state, k):
        jump = jnp.where(k % 50 == 1, w_ex, 0.0)
        return model.step(state, AEIFAstroInput(I=100.0, w_ex=jump), t=k * dt, dt=dt)

    return jax.lax.scan(body, model.init(3), jnp.arange(steps))


def test_neuron_jit_equals_eager_and_spikes_as_nest_would():
    model = AEIFCondAlphaAstro(tau_syn_ex=2.0, I_e=500.0)
    w = jnp.array([0.0, 10.0, 40.0])
    (state, spikes) = neuron_run(model, w)
    (state_j, spikes_j) = jax.jit(lambda m, w: neuron_run(m, w))(model, w)
    np.testing.assert_array_equal(spikes, spikes_j)
    np.testing.assert_allclose(state.v, state_j.v, rtol=1e-5, atol=1e-4)
    counts = spikes.sum(0)
    assert counts[0] == 0 and counts[2] > counts[1] > 0  # more excitation, more spikes


def test_neuron_vmap_over_parameters_equals_loop():
    currents = jnp.array([400.0, 600.0, 800.0])
    w = jnp.array([5.0, 10.0, 20.0])

    @jax.jit
    def run(I_e):
        state, spikes = neuron_run(AEIFCondAlphaAstro(tau_syn_ex=2.0, I_e=I_e), w)
        return state.v, state.w, spikes.sum(0)

    batched = jax.jit(jax.vmap(run))(currents)
    looped = [run(c) for c in currents]
    for k in range(3):
        np.testing.assert_allclose(batched[k], jnp.stack([x[k] for x in looped]), rtol=1e-5,
                                   atol=1e-4)  # fmt: skip


def test_neuron_grad_matches_finite_differences_below_threshold(x64):
    # subthreshold (no spike, the upstroke machinery idle): v and w are smooth functions of
    # the parameters; without `detach_reset` the surrogate would add its gradient through
    # the (not taken) reset, as for every brainsim neuron. Central differences, h = 1e-6
    # relative
    w = jnp.array([1.0, 3.0, 6.0])

    def loss(params):
        model = AEIFCondAlphaAstro(tau_syn_ex=params[0], a=params[1], g_L=params[2],
                                   detach_reset=True)  # fmt: skip
        state, spikes = neuron_run(model, w, steps=300)
        return state.v.sum() + 0.1 * state.w.sum() + state.g_ex.sum()

    p = jnp.array([2.0, 4.0, 30.0])
    _, spikes = neuron_run(AEIFCondAlphaAstro(tau_syn_ex=2.0), w, steps=300)
    assert float(spikes.sum()) == 0.0
    assert_grad_matches_relative_differences(loss, p)


def test_neuron_grad_flows_through_spikes_by_the_surrogate():
    def count(w_scale):
        _, spikes = neuron_run(AEIFCondAlphaAstro(tau_syn_ex=2.0, I_e=500.0),
                               w_scale * jnp.array([10.0, 20.0, 40.0]))  # fmt: skip
        return spikes.sum()

    grad = jax.grad(count)(1.0)
    assert np.isfinite(grad) and grad > 0


def sic_network(sic_scale, *, delay=3, conn=None, neuron=None):
    """2 astrocytes (SIC_th = 0.1 µM) all-to-all onto 3 neurons with weight 0.5."""
    conn = bo.fixed_prob(jax.random.key(1), 2, 3, 1.0, weight=0.5) if conn is None else conn
    astro = AstrocyteLR1994(SIC_scale=sic_scale, SIC_th=0.1, max_sic_delay=delay)
    if neuron is None:
        neuron = AEIFCondAlphaAstro(tau_syn_ex=2.0, detach_reset=True)  # exact subthreshold grad
    coupling = SlowInwardCurrent("A", "E", conn, delay_steps=delay)
    return bs.Network({"A": (astro, 2), "E": (neuron, 3)}, [], [coupling])


def test_sic_coupling_delivers_the_delayed_weighted_current_in_a_network(x64):
    # with delay d = 3, step m receives 0.5 x the summed SIC that the astrocytes computed at
    # the end of step m − d − 1 (NEST: sent at the end of a step, delivered d steps later,
    # used in the next step); nothing in the first d + 1 steps (NEST's neuron neither)
    net = sic_network(2.0)
    state = net.init()
    state["A"] = net.models["A"].init(2, Ca=jnp.array([0.3, 0.5]))
    step = jax.jit(lambda s, k: net.step(s, None, t=k * 0.1, dt=0.1))
    currents, sics = [], []
    for k in range(7):
        currents.append(net.couplings[0].drive(state).I)
        state, _ = step(state, k)
        sics.append(net.models["A"].slow_inward_current(state["A"].Ca))
    for k in range(4):
        np.testing.assert_array_equal(currents[k], np.zeros(3))
    for k in range(4, 7):
        np.testing.assert_allclose(currents[k], np.full(3, 0.5 * sics[k - 4].sum()), rtol=1e-6)
    assert float(sics[0].sum()) > 0


def test_sic_coupling_jit_vmap_and_grad(x64):
    # onto LIF neurons: the current arrives as a plain `Drive(I=...)` (AEIFCondAlphaAstro
    # targets, which take it in their own input type, are exercised against NEST above)
    conn = bo.fixed_prob(jax.random.key(1), 2, 3, 1.0, weight=0.5)  # float64 weights
    lif = bs.neurons.LIF(tau_m=20.0, v_rest=-70.0, v_th=-50.0, v_reset=-70.0, R=0.1,
                         detach_reset=True)  # fmt: skip

    def run(sic_scale):
        net = sic_network(sic_scale, delay=0, conn=conn, neuron=lif)
        state = net.init()
        state["A"] = net.models["A"].init(2, Ca=jnp.array([0.3, 0.5]))
        result = bs.run(net, state, dt=0.1, steps=200, record={"v": lambda s, o: s["E"].v},
                        stream=False, progress=False)  # fmt: skip
        return result.traces["v"][-1].sum()

    scales = jnp.array([1.0, 5.0, 20.0])
    single = jax.jit(run)
    looped = jnp.stack([single(s) for s in scales])
    np.testing.assert_allclose(jax.jit(jax.vmap(run))(scales), looped, rtol=1e-9)
    assert looped[2] > looped[1] > looped[0]  # a larger SIC depolarises more
    grad = jax.jit(jax.grad(run))(5.0)
    fd = (single(5.0 + 1e-5) - single(5.0 - 1e-5)) / 2e-5
    np.testing.assert_allclose(grad, fd, rtol=1e-5)


# ----------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rate_IP3R": -0.001}, "rate_IP3R"),
        ({"rate_SERCA": -1.0}, "rate_SERCA"),
        ({"Ca_tot": 0.0}, "Ca_tot"),
        ({"tau_IP3": -5.0}, "tau_IP3"),
        ({"delta_IP3": -0.2}, "delta_IP3"),
        ({"SIC_th": float("nan")}, "SIC_th"),
        ({"max_sic_delay": -1}, "max_sic_delay"),
        ({"method": "rkf45"}, "method"),
    ],
)
def test_astrocyte_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AstrocyteLR1994(**kwargs)


def test_astrocyte_rejects_bad_states_and_inputs():
    model = AstrocyteLR1994()
    with pytest.raises(ValueError, match="Ca"):
        model.init(2, Ca=-0.1)
    with pytest.raises(ValueError, match="IP3"):
        model.init(2, IP3=jnp.array([0.1, -0.2]))
    with pytest.raises(ValueError, match="h_IP3R"):
        model.init(2, h_IP3R=1.5)
    with pytest.raises(ValueError, match="shape"):
        model.init(3, Ca=jnp.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="`n`"):
        model.init(0)
    with pytest.raises(TypeError, match="LR1994Drive"):
        model.step(model.init(2), 10.0, t=0.0, dt=0.1)
    with pytest.raises(ValueError, match="tau_IP3"):
        AstrocyteLR1994(tau_IP3=jnp.ones(3)).init(2)


def test_neuron_rejects_bad_parameters_and_inputs():
    with pytest.raises(ValueError, match="V_r"):
        AEIFCondAlphaAstro(V_r=5.0)
    with pytest.raises(ValueError, match="tau_syn_ex"):
        AEIFCondAlphaAstro(tau_syn_ex=0.0)
    with pytest.raises(ValueError, match="substeps"):
        AEIFCondAlphaAstro(substeps=0)
    with pytest.raises(TypeError, match="AEIFAstroInput"):
        model = AEIFCondAlphaAstro()
        model.step(model.init(1), LR1994Drive(), t=0.0, dt=0.1)
    assert AEIFCondAlphaAstro.from_nest(C_m=200.0, V_th=-52.0, Delta_T=1.5).C == 200.0


def test_sic_coupling_rejects_wrong_populations_and_sizes():
    neuron, astro = AEIFCondAlphaAstro(), AstrocyteLR1994(max_sic_delay=2)
    pops = {"E": (neuron, 4), "A": (astro, 2), "G": (bs.astro.GChI(), 2)}
    conn = bo.fixed_prob(jax.random.key(0), 2, 4, 0.5)
    with pytest.raises(ValueError, match="not an astrocyte population"):
        bs.Network(pops, [], [SlowInwardCurrent("E", "E", bo.fixed_prob(
            jax.random.key(0), 4, 4, 0.5))])  # fmt: skip
    with pytest.raises(ValueError, match="target 'A' is an astrocyte"):
        bs.Network(pops, [], [SlowInwardCurrent("A", "A", bo.fixed_prob(
            jax.random.key(0), 2, 2, 0.5))])  # fmt: skip
    with pytest.raises(ValueError, match="produces no slow inward current"):
        bs.Network(pops, [], [SlowInwardCurrent("G", "E", conn)])
    with pytest.raises(ValueError, match="n_post = 4, but population 'E' has 5"):
        bs.Network({**pops, "E": (neuron, 5)}, [], [SlowInwardCurrent("A", "E", conn)])
    with pytest.raises(ValueError, match="n_pre = 3, but population 'A' has 2"):
        bs.Network(pops, [], [SlowInwardCurrent("A", "E", bo.fixed_prob(
            jax.random.key(0), 3, 4, 0.5))])  # fmt: skip
    with pytest.raises(ValueError, match="max_sic_delay=5"):
        bs.Network(pops, [], [SlowInwardCurrent("A", "E", conn, delay_steps=5)])
    with pytest.raises(ValueError, match="delay_steps"):
        SlowInwardCurrent("A", "E", conn, delay_steps=-1)
    with pytest.raises(TypeError, match="connectivity"):
        SlowInwardCurrent("A", "E", np.ones((2, 4)))
    bs.Network(pops, [], [SlowInwardCurrent("A", "E", conn, delay_steps=2)])  # fits


# ------------------------------------------------------------------------- tripartite builder


def test_tripartite_rule_is_reproducible_and_keyed():
    args = (60, 80, 30, 0.2, 0.5)
    a = bo.tripartite_bernoulli_with_pool(jax.random.key(5), *args, pool_size=4)
    b = bo.tripartite_bernoulli_with_pool(jax.random.key(5), *args, pool_size=4)
    c = bo.tripartite_bernoulli_with_pool(jax.random.key(6), *args, pool_size=4)
    for x, y in ((a.primary, b.primary), (a.third_in, b.third_in), (a.third_out, b.third_out)):
        np.testing.assert_array_equal(x.indptr, y.indptr)
        np.testing.assert_array_equal(x.indices, y.indices)
    np.testing.assert_array_equal(a.astrocyte, b.astrocyte)
    np.testing.assert_array_equal(a.pools, b.pools)
    assert not np.array_equal(a.astrocyte, c.astrocyte)


def test_tripartite_rule_statistics_follow_nests_definition():
    n_pre, n_post, n_astro, p, q, pool = 400, 300, 120, 0.1, 0.4, 6
    rule = bo.tripartite_bernoulli_with_pool(jax.random.key(0), n_pre, n_post, n_astro, p, q,
                                             pool_size=pool)  # fmt: skip
    pairs = n_pre * n_post
    n_syn = rule.primary.n_syn
    assert abs(n_syn - p * pairs) < 5 * np.sqrt(pairs * p * (1 - p))
    paired = rule.astrocyte >= 0
    assert abs(paired.sum() - q * n_syn) < 5 * np.sqrt(n_syn * q * (1 - q))
    assert rule.third_in.n_syn == rule.third_out.n_syn == paired.sum()
    # pools: pool_size distinct astrocytes per target; each paired synapse's astrocyte is in
    # its target's pool, and the members of a pool are used equally often
    assert rule.pools.shape == (n_post, pool)
    assert all(len(set(row)) == pool for row in rule.pools)
    targets = np.asarray(rule.primary.indices)
    member = rule.pools[targets[paired]] == rule.astrocyte[paired][:, None]
    assert np.all(member.sum(1) == 1)
    use = np.bincount(np.argmax(member, axis=1), minlength=pool)
    expected = paired.sum() / pool
    assert np.sum((use - expected) ** 2 / expected) < 25  # chi-square, 5 dof
    # third_in carries each pairing's presynaptic neuron to its astrocyte, third_out the
    # astrocyte to the target: the same multiset as the primary synapses, seen from both ends
    pre = np.repeat(np.arange(n_pre), np.diff(np.asarray(rule.primary.indptr)))
    assert sorted(zip(pre[paired], rule.astrocyte[paired], strict=True)) == sorted(
        zip(*[a.tolist() for a in edge_list(rule.third_in).T], strict=True))
    assert sorted(zip(rule.astrocyte[paired], targets[paired], strict=True)) == sorted(
        zip(*[a.tolist() for a in edge_list(rule.third_out).T], strict=True))
    # random pools cover the astrocytes evenly
    coverage = np.bincount(rule.pools.ravel(), minlength=n_astro)
    assert abs(coverage.mean() - n_post * pool / n_astro) < 1e-9 and coverage.min() > 0


def test_tripartite_block_pools_are_nests():
    one = bo.tripartite_bernoulli_with_pool(jax.random.key(0), 4, 8, 2, 1.0, pool_size=1,
                                            pool_type="block")  # fmt: skip
    np.testing.assert_array_equal(one.pools[:, 0], [0, 0, 0, 0, 1, 1, 1, 1])
    wide = bo.tripartite_bernoulli_with_pool(jax.random.key(0), 4, 2, 8, 1.0, pool_size=4,
                                             pool_type="block")  # fmt: skip
    np.testing.assert_array_equal(wide.pools, [[0, 1, 2, 3], [4, 5, 6, 7]])
    # NEST's defaults: every primary synapse paired, pools of all the astrocytes
    default = bo.tripartite_bernoulli_with_pool(jax.random.key(0), 10, 10, 3, 0.5)
    assert default.pools.shape == (10, 3) and np.all(default.astrocyte >= 0)
    none = bo.tripartite_bernoulli_with_pool(jax.random.key(0), 10, 10, 3, 0.5, 0.0)
    assert none.third_in.n_syn == 0 and np.all(none.astrocyte == -1)
    no_self = bo.tripartite_bernoulli_with_pool(jax.random.key(0), 10, 10, 3, 1.0,
                                                allow_self_connections=False)  # fmt: skip
    assert no_self.primary.n_syn == 90


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"p_primary": 1.5}, "p_primary"),
        ({"p_third_if_primary": -0.1}, "p_third_if_primary"),
        ({"pool_size": 0}, "pool_size"),
        ({"pool_size": 31}, "pool_size"),
        ({"pool_type": "ring"}, "pool_type"),
        ({"pool_type": "block", "pool_size": 2}, "block"),
        ({"n_astro": 0}, "n_astro"),
        ({"n_pre": -1}, "n_pre"),
    ],
)
def test_tripartite_rule_rejects_bad_arguments(kwargs, match):
    args = {"n_pre": 20, "n_post": 20, "n_astro": 30, "p_primary": 0.1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        bo.tripartite_bernoulli_with_pool(jax.random.key(0), **args)


def test_tripartite_rule_feeds_a_network_of_nest_models():
    rule = bo.tripartite_bernoulli_with_pool(jax.random.key(2), 20, 20, 5, 0.3, 0.5,
                                             pool_size=2, weight_primary=2.0,
                                             weight_third_out=4.0)  # fmt: skip
    neuron = AEIFCondAlphaAstro(tau_syn_ex=2.0, I_e=900.0)
    astro = AstrocyteLR1994(delta_IP3=0.5, SIC_th=0.05, max_sic_delay=10)
    net = bs.Network(
        {"E": (neuron, 20), "A": (astro, 5)},
        [bs.Projection("E", "E", rule.primary, Instantaneous(), AlphaSpikeInput(),
                       delay_steps=10),
         bs.Projection("E", "A", rule.third_in, Instantaneous(), IP3Input(), delay_steps=10)],
        [SlowInwardCurrent("A", "E", rule.third_out, delay_steps=10)],
    )  # fmt: skip
    result = bs.run(net, net.init(jax.random.key(0)), dt=0.1, duration=100.0,
                    record=["E.spikes", "A.IP3"], every=100, progress=False)  # fmt: skip
    assert len(result.spikes["E.spikes"]) > 20
    assert float(result.traces["A.IP3"][-1].max()) > 0.16  # spikes reached the astrocytes


# ------------------------------------------------------------------------------------ example


def test_example_runs_both_nest_examples(run_example):
    stdout = run_example("nest_astrocytes", min_bytes=30_000)
    assert "astrocyte_single (60 s" in stdout and "input spikes" in stdout
    assert "astrocyte_interaction (driven, 10 s" in stdout and "SIC peak" in stdout
