import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.synapses import (
    NMDA,
    Alpha,
    Conductance,
    Current,
    DualExponential,
    Exponential,
    TsodyksMarkram,
)


def _response(kinetics, steps, dt, weight=1.0):
    """g after a single arrival of `weight` at step 0, sampled after each step."""
    state = kinetics.step(kinetics.init(1), weight, dt=dt)
    values = [kinetics.value(state)[0]]
    for _ in range(steps - 1):
        state = kinetics.step(state, 0.0, dt=dt)
        values.append(kinetics.value(state)[0])
    return np.asarray(values)


def test_exponential_decays_exactly(x64):
    g = _response(Exponential(tau=5.0), 100, 0.1, weight=0.6)
    t = np.arange(100) * 0.1
    np.testing.assert_allclose(g, 0.6 * np.exp(-t / 5.0), rtol=1e-12)


def test_alpha_follows_alpha_function_and_peaks_at_w_after_tau(x64):
    g = _response(Alpha(tau=2.0), 400, 0.01, weight=3.0)
    t = np.arange(400) * 0.01
    np.testing.assert_allclose(g, 3.0 * t / 2.0 * np.exp(1 - t / 2.0), rtol=1e-10, atol=1e-14)
    assert g.max() == pytest.approx(3.0, rel=1e-6)
    assert t[np.argmax(g)] == pytest.approx(2.0, abs=0.01)


def test_dual_exponential_peaks_at_w_at_peak_time(x64):
    syn = DualExponential(tau_rise=0.5, tau_decay=5.0)
    g = _response(syn, 2000, 0.001, weight=2.0)
    t = np.arange(2000) * 0.001
    assert g.max() == pytest.approx(2.0, rel=1e-6)
    assert t[np.argmax(g)] == pytest.approx(float(syn.peak_time), abs=0.001)


def _tm_recursion(U, tau_d, tau_f, spike_times):
    u, x, last, releases = 0.0, 1.0, None, []
    for t in spike_times:
        if last is not None:
            u = u * np.exp(-(t - last) / tau_f)
            x = 1 + (x - 1) * np.exp(-(t - last) / tau_d)
        u = u + U * (1 - u)
        r = u * x
        x = x - r
        releases.append(r)
        last = t
    return np.array(releases)


@pytest.mark.parametrize("make", [TsodyksMarkram.depressing, TsodyksMarkram.facilitating])
def test_tsodyks_markram_release_equals_closed_form_recursion(make, x64):
    stp = make()
    dt = 0.1
    spike_times = [50.0 * k for k in range(8)] + [350.0 + 500.0]  # 8 at 20 Hz, one 500 ms later
    spike_steps = {int(round(t / dt)) for t in spike_times}
    state = stp.init(1)
    step = jax.jit(lambda s, x: stp.step(s, x, dt=dt))
    releases = []
    for n in range(int(round(900.0 / dt))):
        state, r = step(state, jnp.array([1.0 if n in spike_steps else 0.0]))
        if n in spike_steps:
            releases.append(float(r[0]))
    expected = _tm_recursion(float(stp.U), float(stp.tau_d), float(stp.tau_f), spike_times)
    np.testing.assert_allclose(releases, expected, atol=1e-5)
    assert releases[0] == pytest.approx(float(stp.U))


def test_tsodyks_markram_vmap_and_grad_of_release():
    def total_release(U):
        stp = TsodyksMarkram(U=U, tau_d=200.0, tau_f=100.0)
        state = stp.init(1)
        total = 0.0
        for n in range(50):
            state, r = stp.step(state, jnp.array([float(n % 10 == 0)]), dt=1.0)
            total = total + r.sum()
        return total

    values = jnp.array([0.2, 0.5])
    batched = jax.vmap(total_release)(values)
    np.testing.assert_allclose(batched, [total_release(v) for v in values], rtol=1e-6)
    grad = jax.grad(total_release)(0.3)
    fd = (total_release(0.3 + 1e-3) - total_release(0.3 - 1e-3)) / 2e-3
    assert float(grad) == pytest.approx(float(fd), rel=1e-3)


def test_nmda_block_matches_jahr_stevens():
    v = np.linspace(-80.0, 20.0, 11)
    expected = 1 / (1 + 1.0 * np.exp(-0.062 * v) / 3.57)
    np.testing.assert_allclose(NMDA(mg=1.0).block(v), expected, rtol=1e-6)
    assert float(NMDA(mg=0.0).block(-70.0)) == 1.0


def test_outputs_give_the_right_currents():
    v = jnp.array([-60.0, -40.0])
    g = jnp.array([2.0, 3.0])
    np.testing.assert_allclose(Conductance(E=-80.0).drive(g, v).current(v), g * (-80.0 - v))
    np.testing.assert_allclose(Current().drive(g, v).current(v), g)
    nmda = NMDA(E=0.0)
    np.testing.assert_allclose(
        nmda.drive(g, v).current(v), g * nmda.block(v) * (0.0 - v), rtol=1e-6
    )


def test_kinetics_jit_vmap_grad():
    def peak(tau):
        syn = Alpha(tau=tau)
        state = syn.step(syn.init(1), 1.0, dt=0.1)
        for _ in range(30):
            state = syn.step(state, 0.0, dt=0.1)
        return syn.value(state)[0]

    taus = jnp.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(jax.jit(jax.vmap(peak))(taus), [peak(t) for t in taus], rtol=1e-5)
    grad = jax.grad(peak)(2.0)
    fd = (peak(2.0 + 1e-3) - peak(2.0 - 1e-3)) / 2e-3
    assert float(grad) == pytest.approx(float(fd), rel=1e-2)


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: Exponential(tau=0.0), "tau"),
        (lambda: Alpha(tau=-1.0), "tau"),
        (lambda: DualExponential(tau_rise=5.0, tau_decay=1.0), "tau_rise"),
        (lambda: TsodyksMarkram(U=1.5), "U"),
        (lambda: TsodyksMarkram(tau_d=-1.0), "tau_d"),
        (lambda: NMDA(mg=-1.0), "mg"),
        (lambda: Conductance(E=float("nan")), "E"),
    ],
)
def test_bad_parameters_are_named(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        make()
