"""Current generators: NEST's traces reproduced exactly, both ways of use agree, transforms."""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.stimulation import DC, Inject, PulseTrain, Sinusoid, Waveform

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
DT = 0.1


@pytest.fixture(scope="module")
def nest_currents():
    return np.load(REFERENCE / "nest_stimulation_currents.npz")


def _from_nest(ref, model):
    p = {k.split("__")[1]: ref[k] for k in ref.files if k.startswith(model + "__")}
    if model == "dc_generator":
        return DC(amplitude=p["amplitude"], start=float(p["start"]), stop=float(p["stop"]))
    if model == "step_current_generator":
        return Waveform(p["amplitude_times"], p["amplitude_values"])
    return Sinusoid(
        amplitude=p["amplitude"],
        frequency=p["frequency"],
        phase=p["phase"],
        offset=p["offset"],
        start=float(p["start"]),
        stop=float(p["stop"]),
    )


@pytest.mark.parametrize("model", ["dc_generator", "step_current_generator", "ac_generator"])
def test_generator_state_reproduces_nest_current_trace(nest_currents, model):
    # NEST's sample stamped s is the current of the step from s (delay one step); brainsim's
    # trace after the step starting at s - dt is the current of the step from s.
    generator = _from_nest(nest_currents, model)
    expected = nest_currents[f"{model}__I"]
    result = bs.run(generator, generator.init(1), steps=expected.size, dt=DT, record=["I"])
    np.testing.assert_allclose(result.t, nest_currents[f"{model}__times"], atol=1e-5)
    np.testing.assert_allclose(result.traces["I"][:, 0], expected, rtol=2e-6, atol=2e-4)
    assert np.ptp(expected) > 50  # the comparison covers the switching, not a flat line


def test_function_of_time_equals_state_and_drives_the_same_neuron():
    generator = DC(amplitude=400.0, start=5.0, stop=25.0)
    lif = bs.neurons.LIF(tau_m=10.0)
    direct = bs.run(lif, lif.init(2), inputs=generator, duration=40.0, dt=DT, record=["v"])
    net = bs.Network({"dc": (generator, 1), "E": (lif, 2)}, couplings=[Inject("dc", "E")])
    state = net.init(jax.random.key(0))
    state["E"] = lif.init(2)  # the same start as the direct run (init with a key randomises v)
    coupled = bs.run(net, state, duration=40.0, dt=DT, record=["E.v"])
    np.testing.assert_array_equal(direct.traces["v"], coupled.traces["E.v"])
    assert direct.traces["v"][49, 0] == direct.traces["v"][0, 0]  # nothing before 5 ms
    assert direct.traces["v"][50, 0] > direct.traces["v"][49, 0]


def test_edges_on_the_grid_switch_in_the_step_that_starts_there():
    t = np.arange(2000) * np.float32(DT)  # float32 grid times up to 200 ms
    on = np.asarray(DC(amplitude=1.0, start=100.0, stop=150.3)(t)) > 0
    assert np.flatnonzero(on)[[0, -1]].tolist() == [1000, 1502]
    steps = np.asarray(Waveform([33.3, 170.0], [1.0, 2.0])(t))
    assert np.flatnonzero(np.diff(steps)).tolist() == [332, 1699]


def test_ramp_interpolates_linearly_and_holds_the_last_value():
    ramp = Waveform([10.0, 20.0], [[0.0, 100.0], [50.0, 0.0]], interpolation="linear")
    np.testing.assert_allclose(ramp(5.0), [0.0, 0.0])
    np.testing.assert_allclose(ramp(12.5), [12.5, 75.0], rtol=1e-6)
    np.testing.assert_allclose(ramp(99.0), [50.0, 0.0])


def test_pulse_train_has_its_width_and_period():
    pulses = PulseTrain(amplitude=2.0, width=1.5, period=10.0, start=3.0, stop=40.0)
    on = np.asarray(pulses(np.arange(600) * np.float32(DT))) > 0
    onsets = np.flatnonzero(np.diff(on.astype(int)) == 1) + 1
    assert onsets.tolist() == [30, 130, 230, 330]
    assert on.sum() == 4 * 15


def test_sweep_over_amplitudes_is_one_vmap_and_equals_a_loop():
    lif = bs.neurons.LIF(tau_m=10.0)

    def final_v(amplitude):
        generator = Sinusoid(amplitude=amplitude, frequency=50.0, offset=100.0)
        return bs.run(lif, lif.init(1), inputs=generator, steps=200, dt=DT, record=["v"]).traces[
            "v"
        ][-1, 0]

    amplitudes = jnp.array([0.0, 50.0, 150.0])
    swept = jax.jit(jax.vmap(final_v))(amplitudes)
    np.testing.assert_allclose(swept, [final_v(a) for a in amplitudes], rtol=1e-6)


def test_grad_of_membrane_potential_wrt_amplitude_matches_finite_differences(
    x64, finite_differences
):
    lif = bs.neurons.LIF(tau_m=10.0, v_th=1e6)  # subthreshold: v is smooth in the amplitude

    @jax.jit
    def mean_v(amplitude):
        generator = PulseTrain(amplitude=amplitude, width=2.0, period=5.0, start=1.0)
        result = bs.run(lif, lif.init(1), inputs=generator, steps=300, dt=DT, record=["v"])
        return jnp.mean(result.traces["v"])

    grad = jax.grad(mean_v)(jnp.float64(80.0))
    np.testing.assert_allclose(grad, finite_differences(mean_v, 80.0), rtol=1e-6)
    assert grad > 0


def test_generator_step_under_jit_equals_eager():
    generator = Waveform([1.0, 2.0], [3.0, -1.0], interpolation="linear")
    state = generator.init(4)
    eager = generator.step(state, t=1.3, dt=DT)
    jitted = jax.jit(lambda s, t: generator.step(s, t=t, dt=DT))(state, 1.3)
    np.testing.assert_array_equal(eager[0].I, jitted[0].I)
    np.testing.assert_allclose(eager[0].I, 3.0 - 4.0 * 0.4, rtol=1e-6)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DC(amplitude=1.0, start=5.0, stop=2.0), "`stop`"),
        (lambda: DC(amplitude=np.nan), "`amplitude`"),
        (lambda: Waveform([2.0, 1.0], [0.0, 1.0]), "`times` must be strictly increasing"),
        (lambda: Waveform([1.0, 2.0], [0.0, 1.0, 2.0]), "`values`"),
        (lambda: Waveform([1.0], [1.0], interpolation="cubic"), "`interpolation`"),
        (lambda: Sinusoid(amplitude=1.0, frequency=-3.0), "`frequency`"),
        (lambda: PulseTrain(amplitude=1.0, width=-1.0, period=5.0), "`width`"),
        (lambda: PulseTrain(amplitude=1.0, width=6.0, period=5.0), "`width`"),
        (lambda: PulseTrain(amplitude=1.0, width=1.0, period=0.0), "`period`"),
    ],
)
def test_bad_parameters_raise_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_network_injection_is_refused():
    lif = bs.neurons.LIF()
    with pytest.raises(ValueError, match="3 outputs"):
        bs.Network({"dc": (DC(amplitude=1.0), 3), "E": (lif, 2)}, couplings=[Inject("dc", "E")])
    with pytest.raises(TypeError, match="not a current source"):
        bs.Network({"x": (lif, 2), "E": (lif, 2)}, couplings=[Inject("x", "E")])
    with pytest.raises(ValueError, match="per output|shape"):
        DC(amplitude=[1.0, 2.0]).init(3)
