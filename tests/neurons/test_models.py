"""Contract tests run on every neuron model: jit, vmap over parameters, grad, bad input."""

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.neurons import ALIF, GIF, GLIF, HH, LIF, AdEx, ExpIF, Izhikevich, TraubHH


class Case(NamedTuple):
    make: type
    spiking_input: float  # elicits several spikes in 100 ms
    quiet_input: float  # stays below threshold (smooth, for finite differences)
    dt: float
    sweep: str  # parameter swept with vmap
    values: tuple
    grad_params: tuple  # parameters whose subthreshold gradient is checked


CASES = {
    "LIF": Case(
        lambda **k: LIF(R=0.1, **k),
        300.0,
        100.0,
        0.1,
        "tau_m",
        (8.0, 10.0, 15.0),
        ("tau_m", "R", "v_rest"),
    ),
    "ALIF": Case(
        lambda **k: ALIF(R=0.1, **k), 300.0, 100.0, 0.1, "beta", (0.5, 1.0, 2.0), ("tau_m", "R")
    ),
    "ExpIF": Case(
        lambda **k: ExpIF(R=0.1, **k),
        300.0,
        80.0,
        0.05,
        "delta_T",
        (1.0, 2.0, 3.0),
        ("tau_m", "delta_T", "v_T"),
    ),
    "AdEx": Case(
        lambda **k: AdEx(**k),
        500.0,
        100.0,
        0.02,
        "b",
        (0.0, 30.0, 60.0),
        ("g_L", "a", "tau_w", "C"),
    ),
    "Izhikevich": Case(
        lambda **k: Izhikevich(**k), 10.0, 0.0, 0.1, "d", (2.0, 4.0, 8.0), ("a", "b")
    ),
    "Izhikevich_half_steps": Case(
        lambda **k: Izhikevich(method="half_steps", **k),
        10.0,
        0.0,
        1.0,
        "d",
        (2.0, 4.0, 8.0),
        ("a", "b"),
    ),
    "HH": Case(
        lambda **k: HH(**k), 10.0, 1.0, 0.01, "g_K", (30.0, 36.0, 40.0), ("g_K", "g_L", "E_L")
    ),
    "TraubHH": Case(
        lambda **k: TraubHH(**k), 500.0, -50.0, 0.01, "g_L", (8.0, 10.0, 12.0), ("g_L", "g_K")
    ),
    "GLIF1": Case(
        lambda **k: GLIF(level=1, **k),
        400.0,
        150.0,
        0.1,
        "g_L",
        (8.0, 9.43, 11.0),
        ("C_m", "g_L", "E_L"),
    ),
    "GLIF5": Case(
        lambda **k: GLIF(level=5, **k),
        400.0,
        150.0,
        0.1,
        "th_spike_add",
        (0.2, 0.37, 2.0),
        ("C_m", "g_L", "th_voltage_index", "th_voltage_decay"),
    ),
    "GIF": Case(
        lambda **k: GIF(
            tau_stc=(10.0,), q_stc=(20.0,), tau_sfa=(50.0,), q_sfa=(5.0,), Delta_V=1e-4, **k
        ),
        250.0,
        50.0,
        0.1,
        "g_L",
        (3.5, 4.0, 4.5),
        ("C_m", "g_L", "E_L"),
    ),
}
NAMES = list(CASES)


def _simulate(model, n, current, dt, steps):
    return bs.run(
        model,
        model.init(n),
        inputs=current,
        steps=steps,
        dt=dt,
        stream=False,
        record=["spikes", "v"],
    )


@pytest.mark.parametrize("name", NAMES)
def test_jit_step_equals_eager_step(name):
    case = CASES[name]
    model = case.make()
    state = model.init(3)
    eager, jitted = state, state
    step = eqx.filter_jit(lambda m, s: m.step(s, case.spiking_input, t=0.0, dt=case.dt))
    for _ in range(20):
        eager, _ = model.step(eager, case.spiking_input, t=0.0, dt=case.dt)
        jitted, _ = step(model, jitted)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_model_spikes_under_its_spiking_input(name):
    case = CASES[name]
    result = bs.run(
        case.make(), case.make().init(1), inputs=case.spiking_input, duration=100.0, dt=case.dt
    )
    assert len(result.spikes["spikes"]) >= 2


@pytest.mark.parametrize("name", NAMES)
def test_vmap_over_parameter_grid_equals_python_loop(name):
    case = CASES[name]
    steps = int(round(60.0 / case.dt))

    @jax.jit
    def simulate(value):
        return _simulate(case.make(**{case.sweep: value}), 2, case.spiking_input, case.dt, steps)

    batched = jax.vmap(simulate)(jnp.array(case.values))
    for k, value in enumerate(case.values):
        single = simulate(jnp.asarray(value))
        np.testing.assert_array_equal(batched.spikes["spikes"][k], single.spikes["spikes"])
        np.testing.assert_allclose(batched.traces["v"][k], single.traces["v"], rtol=1e-5, atol=1e-4)
    counts = np.asarray(batched.spikes["spikes"]).sum(axis=(1, 2))
    assert counts.max() > 0


@pytest.mark.parametrize("name", NAMES)
def test_subthreshold_gradient_matches_finite_differences(name, x64):
    case = CASES[name]
    steps = int(round(20.0 / case.dt))
    # Even without a spike, the surrogate passes a gradient through the reset; the exact
    # derivative of a spike-free trajectory excludes it. (HH models have no reset.)
    has_reset = hasattr(case.make(), "detach_reset")
    base = case.make(detach_reset=True) if has_reset else case.make()

    def loss(params):
        model = eqx.tree_at(lambda m: [getattr(m, p) for p in case.grad_params], base, list(params))
        result = _simulate(model, 1, case.quiet_input, case.dt, steps)
        assert_quiet = result.spikes["spikes"]
        return jnp.mean(result.traces["v"]) + 0.0 * jnp.sum(assert_quiet)

    params = [jnp.asarray(getattr(base, p), jnp.float64) for p in case.grad_params]
    grads = jax.jit(jax.grad(loss))(params)
    for k, p in enumerate(case.grad_params):
        h = 1e-5 * max(abs(float(params[k])), 1.0)
        up = [x + h if i == k else x for i, x in enumerate(params)]
        down = [x - h if i == k else x for i, x in enumerate(params)]
        fd = (loss(up) - loss(down)) / (2 * h)
        assert float(grads[k]) == pytest.approx(float(fd), rel=1e-5, abs=1e-9), p
    quiet = _simulate(base, 1, case.quiet_input, case.dt, steps)
    assert float(quiet.spikes["spikes"].sum()) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_spike_count_has_a_surrogate_gradient(name):
    case = CASES[name]
    steps = int(round(60.0 / case.dt))

    def count(current):
        return _simulate(case.make(), 1, current, case.dt, steps).spikes["spikes"].sum()

    grad = jax.grad(count)(jnp.asarray(case.spiking_input))
    assert np.isfinite(grad) and grad != 0.0


@pytest.mark.parametrize("name", NAMES)
def test_per_neuron_parameters_broadcast(name):
    case = CASES[name]
    values = jnp.array(case.values)
    per_neuron = case.make(**{case.sweep: values})
    result = _simulate(per_neuron, 3, case.spiking_input, case.dt, int(round(60.0 / case.dt)))
    for k, value in enumerate(case.values):
        single = _simulate(
            case.make(**{case.sweep: value}),
            1,
            case.spiking_input,
            case.dt,
            int(round(60.0 / case.dt)),
        )
        np.testing.assert_array_equal(result.spikes["spikes"][:, k], single.spikes["spikes"][:, 0])
    with pytest.raises(ValueError, match=f"`{case.sweep}` has shape"):
        per_neuron.init(5)


NEGATIVE_TIME_CONSTANTS = [
    (lambda: LIF(tau_m=-10.0), "tau_m"),
    (lambda: ALIF(tau_a=0.0), "tau_a"),
    (lambda: ExpIF(delta_T=-1.0), "delta_T"),
    (lambda: AdEx(tau_w=-30.0), "tau_w"),
    (lambda: AdEx(C=0.0), "C"),
    (lambda: HH(C=-1.0), "C"),
    (lambda: TraubHH(g_K=-1.0), "g_K"),
    (lambda: LIF(t_ref=-1.0), "t_ref"),
    (lambda: GLIF(th_spike_decay=-0.01), "th_spike_decay"),
    (lambda: GIF(C_m=-80.0), "C_m"),
]


@pytest.mark.parametrize(("make", "argument"), NEGATIVE_TIME_CONSTANTS)
def test_negative_constants_are_rejected_by_name(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        make()


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: LIF(v_th=float("nan")), "v_th"),
        (lambda: Izhikevich(a=float("nan")), "a"),
        (lambda: AdEx(V_T=float("inf")), "V_T"),
        (lambda: HH(E_Na=float("nan")), "E_Na"),
        (lambda: LIF(tau_m=jnp.array([10.0, float("nan")])), "tau_m"),
    ],
)
def test_nan_parameters_are_rejected_by_name(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        make()


def test_reset_above_threshold_is_rejected():
    with pytest.raises(ValueError, match="`v_reset`"):
        LIF(v_reset=-40.0, v_th=-50.0)


@pytest.mark.parametrize("dt", [0.0, -0.1, float("nan")])
def test_non_positive_dt_is_rejected(dt):
    lif = LIF()
    with pytest.raises(ValueError, match="`dt`"):
        bs.run(lif, lif.init(1), duration=10.0, dt=dt)


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_bad_population_size_is_rejected(n):
    with pytest.raises(ValueError, match="`n`"):
        LIF().init(n)


def test_named_regimes_and_patterns():
    assert float(Izhikevich.regime("FS").a) == pytest.approx(0.1)
    assert float(AdEx.pattern("bursting").V_r) == -46.0
    overridden = AdEx.pattern("bursting", a=2.0, V_peak=10.0)  # a pattern parameter and another
    assert (float(overridden.a), float(overridden.V_peak), float(overridden.V_r)) == (
        2.0, 10.0, -46.0)
    with pytest.raises(ValueError, match="`name`"):
        Izhikevich.regime("XX")
    with pytest.raises(ValueError, match="`name`"):
        AdEx.pattern("chaotic")


def test_hh_vtrap_matches_its_formula_in_float64(x64):
    from brainsim.neurons._hodgkin_huxley import _vtrap

    x = np.concatenate([-np.logspace(-10, 1.8, 300), [0.0], np.logspace(-10, 1.8, 300)])
    expected = np.where(x == 0, 1.0, x / -np.expm1(-np.where(x == 0, 1.0, x)))
    np.testing.assert_allclose(np.asarray(_vtrap(jnp.asarray(x))), expected, rtol=2e-14)
    assert np.isfinite(np.asarray(jax.vmap(jax.grad(_vtrap))(jnp.asarray(x)))).all()


def test_traub_rates_match_the_published_formulas_in_float64(x64):
    neuron = TraubHH()
    v_t = -63.0
    # A dense grid plus the removable singularities of alpha_m, beta_m and alpha_n.
    v = np.concatenate([np.linspace(-120.0, 80.0, 2001), v_t + np.array([13.0, 40.0, 15.0])])
    v = np.concatenate([v, v + 1e-9, v - 1e-9])

    def vtrap_formula(a, b):  # a * b / (exp(b / c) - 1) written as a * c * y / (exp(y) - 1)
        return np.where(b == 0, a, a * b / np.expm1(np.where(b == 0, 1.0, b)))

    expected = (
        vtrap_formula(1.28, (13.0 - v + v_t) / 4.0),
        vtrap_formula(1.4, (v - v_t - 40.0) / 5.0),
        0.128 * np.exp((17.0 - v + v_t) / 18.0),
        4.0 / (1.0 + np.exp((40.0 - v + v_t) / 5.0)),
        vtrap_formula(0.16, (15.0 - v + v_t) / 5.0),
        0.5 * np.exp((10.0 - v + v_t) / 40.0),
    )
    rates = neuron.rates(jnp.asarray(v))
    for got, want in zip(rates, expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)
    grads = jax.vmap(jax.grad(lambda x: sum(neuron.rates(x))))(jnp.asarray(v))
    assert np.isfinite(np.asarray(grads)).all()


def test_izhikevich_half_steps_follow_the_published_network_code(x64):
    """Two Euler half-steps of v with u held, then u from the new v; spike and reset after."""
    a, b, c, d = Izhikevich.REGIMES["RS"]
    neuron = Izhikevich.regime("RS", method="half_steps")
    currents = np.random.default_rng(0).uniform(0.0, 15.0, 400)
    v, u, expected = -65.0, b * -65.0, []
    for current in currents:
        for _ in range(2):
            v += 0.5 * (0.04 * v * v + 5 * v + 140 - u + current)
        u += a * (b * v - u)
        fired = v >= 30.0
        expected.append(fired)
        if fired:
            v, u = c, u + d
    state, spikes = neuron.init(1), []
    step = jax.jit(lambda s, i: neuron.step(s, i, t=0.0, dt=1.0))
    for current in currents:
        state, s = step(state, jnp.full(1, current))
        spikes.append(bool(s[0]))
    assert sum(expected) > 5
    assert spikes == expected
    assert float(state.v[0]) == pytest.approx(v, abs=1e-9)
    assert float(state.u[0]) == pytest.approx(u, abs=1e-9)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.ones(7), r"`inputs` of shape \(7,\) does not fit a population of shape \(10,\)"),
        (np.ones((2, 10)), r"`inputs` of shape \(2, 10\)"),
        (bs.neurons.Drive(g=np.ones(3)), r"`inputs` \(Drive.g\) of shape \(3,\)"),
    ],
)
def test_inputs_of_the_wrong_size_are_named(name, inputs, match):
    model = CASES[name].make()
    with pytest.raises(ValueError, match=match):
        bs.run(model, model.init(10), inputs=inputs, steps=2, dt=CASES[name].dt)
