"""GLIF levels 1-5 against NEST 3.10's `glif_psc` under a step-current protocol.

References: `tests/reference/make_nest_glif_refs.py` (NEST is not a test dependency). NEST and
brainsim use the same exact update, so in float64 the traces agree to rounding: the test demands
identical spike steps and potential and threshold traces within 2e-5 mV (the references are
stored in float32, whose resolution at 80 mV is 8e-6 mV). The after-spike currents act through
the potential, so the potential trace checks them too.
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.neurons import GLIF

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference" / "nest_glif.npz"


def _nest_model(ref, level, **changes):
    params = {k[2:]: ref[k] for k in ref.files if k.startswith("p_")}
    params["g_L"] = params.pop("g")
    return GLIF(level=level, **{**params, **changes})


def _run(model, current, dt=0.1):
    # NEST's recorded `I` enters the update of the step after the one it is recorded in.
    drive = jnp.concatenate([jnp.zeros(1), jnp.asarray(current)[:-1]])[:, None]
    record = {
        "v": [0],
        "spikes": None,
        "theta": lambda s, _: model.threshold(s)[0],
    }
    return bs.run(
        model,
        model.init(1),
        input_series=drive,
        steps=len(current),
        dt=dt,
        stream=False,
        record=record,
    )


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_glif_level_matches_nest_glif_psc(level, x64):
    ref = np.load(REFERENCE)
    result = _run(_nest_model(ref, level), ref[f"level{level}_I"])
    steps = np.nonzero(np.asarray(result.spikes["spikes"])[:, 0])[0]
    nest_steps = np.round(ref[f"level{level}_spikes"] / 0.1).astype(int) - 1
    assert len(nest_steps) > 20
    np.testing.assert_array_equal(steps, nest_steps)
    for ours, theirs in (("v", "V_m"), ("theta", "threshold")):
        trace = np.asarray(result.traces[ours]).reshape(-1)[9::10]
        np.testing.assert_allclose(trace, ref[f"level{level}_{theirs}"], rtol=0, atol=2e-5)


def test_levels_switch_mechanisms():
    """Level 1 resets to V_reset; 2 adds the threshold jump; 3 the after-spike currents."""
    state = GLIF(level=1).init(1)
    kicked = state._replace(v=jnp.full(1, -40.0))
    for level, (theta_s, asc) in {
        1: (0, 0),
        2: (0.37, 0),
        3: (0, -208.12),
        5: (0.37, -208.12),
    }.items():
        model = GLIF(level=level)
        new, spikes = model.step(model.init(1)._replace(v=kicked.v), 0.0, t=0.0, dt=0.1)
        assert float(spikes[0]) == 1.0
        assert float(new.theta_s[0]) == pytest.approx(theta_s, abs=1e-4)
        assert float(new.asc.sum()) == pytest.approx(asc, abs=1e-3)
    assert float(GLIF(level=1).step(kicked, 0.0, t=0.0, dt=0.1)[0].v[0]) == pytest.approx(-78.85)


def test_conductance_input_equals_the_equivalent_current_at_fixed_potential(x64):
    """A conductance `g` towards `E` acts as the leak `g_L + g`: with `E = E_L` it only
    shortens the membrane time constant, which the exact update must reproduce."""
    model = GLIF(level=1)
    start = model.init(1)._replace(v=jnp.full(1, -60.0))
    new, _ = model.step(start, bs.neurons.Drive(g=5.0, g_E=5.0 * -78.85), t=0.0, dt=0.5)
    tau = 58.72 / (9.43 + 5.0)
    assert float(new.v[0]) == pytest.approx(-78.85 + 18.85 * np.exp(-0.5 / tau), rel=1e-12)


def test_asc_parameters_per_neuron(x64):
    amps = jnp.array([[-9.18, -9.18, 0.0], [-198.94, -100.0, 0.0]])
    model = GLIF(level=3, asc_amps=amps)
    state = model.init(3)
    state, _ = model.step(state._replace(v=jnp.full(3, -40.0)), 0.0, t=0.0, dt=0.1)
    np.testing.assert_allclose(state.asc.sum(0), [-208.12, -109.18, 0.0], atol=1e-9)
    with pytest.raises(ValueError, match="`asc_amps` has shape"):
        model.init(4)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(level=6), "level"),
        (dict(asc_decay=(0.003,)), "asc_decay"),
        (dict(asc_r=(1.5, 1.0)), "asc_r"),
        (dict(voltage_reset_fraction=-0.1), "voltage_reset_fraction"),
        (dict(V_th=-90.0), "E_L"),
        (dict(th_voltage_decay=0.0), "th_voltage_decay"),
    ],
)
def test_bad_parameters_are_rejected_by_name(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        GLIF(**kwargs)


def test_theta_v_is_exact_where_its_rate_equals_the_membrane_rate(x64):
    """`b_v = g_L / C_m` is the removable singularity of the exact θ_v update."""
    rate = 9.43 / 58.72
    near = GLIF(level=5, th_voltage_decay=rate * (1 + 1e-3))
    at = GLIF(level=5, th_voltage_decay=rate)
    start = near.init(1)._replace(v=jnp.full(1, -60.0))
    step = jax.jit(lambda m: m.step(start, 100.0, t=0.0, dt=1.0)[0].theta_v)
    assert float(step(at)[0]) == pytest.approx(float(step(near)[0]), rel=2e-3)


def test_fit_model_recovers_glif3_membrane_parameters():
    """Synthetic recovery with `brainsim.fit.fit_model`: GLIF 3 (LIF-ASC) with known `C_m` and
    `g_L`, fitted from its own noise-free sub-threshold sweeps with default bounds (within 5%).
    Sweeps with spikes make the loss rugged in `g_L` and `V_th` (a spike-time loss), which a
    small random search does not resolve; the membrane constants are the well-posed part."""
    from brainsim.fit import SweepData, fit_model, simulate

    dt = 0.5
    truth = GLIF(level=3, C_m=45.0, g_L=8.0)
    probe = SweepData(np.full((400, 2), [80.0, 180.0]), spike_times=[[]] * 2, dt=dt)
    sim = simulate(truth, probe)
    assert float(np.asarray(sim.spikes).sum()) == 0.0
    data = SweepData(probe.current, np.asarray(sim.v), [[]] * 2, dt=dt, t_start=10.0)
    search = {"C_m": (20.0, 120.0), "g_L": (2.0, 20.0)}
    result = fit_model(
        GLIF(level=3),
        ["C_m", "g_L"],
        data,
        search=search,
        n_samples=16,
        n_starts=2,
        steps=60,
        progress=False,
    )
    assert result.values["C_m"] == pytest.approx(45.0, rel=0.05)
    assert result.values["g_L"] == pytest.approx(8.0, rel=0.05)


def test_glif_example_runs(run_example):
    out = run_example("glif")
    assert "GLIF 5 LIF-R-ASC-A" in out and "GIF:" in out
