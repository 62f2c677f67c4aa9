"""Wilson-Cowan and Jansen-Rit: fixed points against root-finding on independent NumPy versions
of the equations, the Wilson-Cowan limit cycle against SciPy's adaptive integrator, and the
Jansen-Rit alpha rhythm."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import fsolve

import brainsim as bs
from brainsim import rate


def _wc_numpy(P):
    """Wilson & Cowan (1972) with the defaults of `rate.WilsonCowan`, written out in NumPy."""

    def S(x, a, th):
        return 1 / (1 + np.exp(-a * (x - th))) - 1 / (1 + np.exp(a * th))

    kE, kI = 1 - 1 / (1 + np.exp(1.3 * 4.0)), 1 - 1 / (1 + np.exp(2.0 * 3.7))

    def f(_, y):
        E, I = y
        return [
            (-E + (kE - E) * S(16 * E - 12 * I + P, 1.3, 4.0)) / 10.0,
            (-I + (kI - I) * S(15 * E - 3 * I, 2.0, 3.7)) / 10.0,
        ]

    return f


def test_wilson_cowan_settles_on_the_fixed_point_found_by_root_finding(x64):
    P = 0.5
    f = _wc_numpy(P)
    root = fsolve(lambda y: f(0, y), [0.01, 0.01], xtol=1e-14)
    assert np.abs(f(0, root)).max() < 1e-14
    wc = rate.WilsonCowan(P=P)
    result = bs.run(wc, wc.init(1), duration=400.0, dt=0.1, record=["E", "I"])
    final = [float(result["E"][-1, 0]), float(result["I"][-1, 0])]
    # a stable node (eigenvalues < 0, checked below): 400 ms = 40 tau leaves < 1e-12
    np.testing.assert_allclose(final, root, rtol=0, atol=1e-10)
    jac = jax.jacfwd(lambda y: jnp.stack(wc.derivatives(y[0], y[1])))(jnp.asarray(root))
    assert np.all(np.linalg.eigvals(np.asarray(jac)).real < 0)


def test_wilson_cowan_limit_cycle_matches_an_adaptive_integrator(x64):
    f = _wc_numpy(1.25)
    root = fsolve(lambda y: f(0, y), [0.15, 0.1], xtol=1e-14)
    assert np.abs(f(0, root)).max() < 1e-14  # the only fixed point at P = 1.25
    wc = rate.WilsonCowan()
    jac = jax.jacfwd(lambda y: jnp.stack(wc.derivatives(y[0], y[1])))(jnp.asarray(root))
    assert np.all(np.linalg.eigvals(np.asarray(jac)).real > 0)  # unstable focus
    dt = 0.05
    result = bs.run(wc, wc.init(1), duration=600.0, dt=dt, record=["E"])
    E = np.asarray(result["E"])[:, 0]
    ref = solve_ivp(f, (0, 600.0), [0.0, 0.0], rtol=1e-11, atol=1e-13, dense_output=True)
    E_ref = ref.sol(np.arange(1, E.size + 1) * dt)[0]
    late = slice(E.size // 2, None)

    def period(x):
        peaks = np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:])) + 1
        return np.diff(peaks[-5:]).mean() * dt

    # RK4 at dt = 0.05 ms on a ~50 ms cycle: phase error after 600 ms far below one step
    assert np.ptp(E[late]) > 0.1
    assert abs(period(E[late]) - period(E_ref[late])) < 2 * dt
    np.testing.assert_allclose(E[late].max(), E_ref[late].max(), atol=1e-4)
    np.testing.assert_allclose(E[late].min(), E_ref[late].min(), atol=1e-4)


def test_jansen_rit_fixed_point_matches_root_finding(x64):
    p = 90.0  # a constant input below the Hopf bifurcation: a stable fixed point
    A, B, a, b, C, e0, v0, r = 3.25, 22.0, 0.1, 0.05, 135.0, 2.5e-3, 6.0, 0.56

    def S(v):
        return 2 * e0 / (1 + np.exp(r * (v0 - v)))

    def g(y):
        y0, y1, y2 = y
        return [
            A / a * S(y1 - y2) - y0,
            A / a * (p * 1e-3 + 0.8 * C * S(C * y0)) - y1,
            B / b * 0.25 * C * S(0.25 * C * y0) - y2,
        ]

    # the model is bistable here; the run starts at rest, so look for the root nearest rest
    root = fsolve(g, [0.0, 0.0, 0.0], xtol=1e-12)
    assert np.abs(g(root)).max() < 1e-12
    jr = rate.JansenRit(p_low=p, p_high=p)
    result = bs.run(jr, jr.init(1), duration=2000.0, dt=0.1, record=["y0", "y1", "y2"])
    final = [float(result[name][-1, 0]) for name in ("y0", "y1", "y2")]
    # the slowest mode decays with ~1/b = 20 ms; 2 s leave far less than the tolerance
    np.testing.assert_allclose(final, root, rtol=1e-8)


def test_jansen_rit_with_uniform_input_has_an_alpha_rhythm():
    jr = rate.JansenRit()
    dt = 0.5
    result = bs.run(jr, jr.init(4, key=jax.random.key(0)), duration=5000.0, dt=dt,
                    record=["y1", "y2"])
    eeg = np.asarray(result["y1"] - result["y2"])[2000:]  # drop the first second
    spectrum = (np.abs(np.fft.rfft(eeg - eeg.mean(0), axis=0)) ** 2).mean(1)
    freq = np.fft.rfftfreq(eeg.shape[0], dt * 1e-3)
    band = (freq > 2) & (freq < 40)
    peak = freq[band][np.argmax(spectrum[band])]
    # Jansen & Rit (1995): an alpha rhythm (8-12 Hz); resolution here 0.25 Hz
    assert 8.0 <= peak <= 12.0, peak


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: rate.WilsonCowan(tau_E=0.0), "tau_E"),
        (lambda: rate.WilsonCowan(c_IE=-1.0), "c_IE"),
        (lambda: rate.WilsonCowan(history=-1), "history"),
        (lambda: rate.JansenRit(A=-3.25), "`A`"),
        (lambda: rate.JansenRit(p_low=300.0, p_high=200.0), "p_low"),
        (lambda: rate.JansenRit(r=float("nan")), "`r`"),
    ],
)
def test_bad_parameters_are_refused_with_the_argument_named(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_jansen_rit_with_random_input_needs_a_key():
    with pytest.raises(ValueError, match="key"):
        rate.JansenRit().init(3)
    with pytest.raises(ValueError, match="`n`"):
        rate.WilsonCowan().init(0)
