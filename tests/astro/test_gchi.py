"""The G-ChI astrocyte: equations, release rule, exact linear parts, integrators, transforms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.astro import AstrocyteDrive, GChI

# Example 4's astrocyte (µM, 1/s), with the exogenous clamp on.
PARAMS = dict(O_beta=3.2, O_delta=0.6, K_delta=0.1, Omega_5P=0.05, K_D=0.7, F_ex=2.0, I_bias=1.0)


def published_rhs(p, C, h, I, Gamma_A, Y_S, J):
    """The spec's equations, transcribed in plain numpy (per second)."""
    h = min(max(h, 0.0), 1.0)
    Q_2 = p["d_2"] * (I + p["d_1"]) / (I + p["d_3"])
    m_inf = I / (I + p["d_1"]) * C / (C + p["d_5"])
    h_inf = Q_2 / (Q_2 + C)
    tau_h = 1 / (p["O_2"] * (Q_2 + C))
    dC = (p["Omega_C"] * m_inf**3 * h**3 + p["Omega_L"]) * (p["C_T"] - (1 + p["rho_A"]) * C)
    dC -= p["O_P"] * C**2 / (C**2 + p["K_P"] ** 2)
    d = I - p["I_bias"]
    J_ex = -p["F_ex"] / 2 * (1 + math.tanh((abs(d) - p["I_Theta"]) / p["omega_I"])) * np.sign(d)
    dI = (
        p["O_beta"] * Gamma_A
        + p["O_delta"] / (1 + I / p["kappa_delta"]) * C**2 / (C**2 + p["K_delta"] ** 2)
        - p["O_3K"] * C**4 / (C**4 + p["K_D"] ** 4) * I / (I + p["K_3K"])
        - p["Omega_5P"] * I
        + J_ex
        + J
    )
    dGamma = p["O_N"] * Y_S * (1 - Gamma_A) - p["Omega_N"] * (
        1 + p["zeta"] * C / (C + p["K_KC"])
    ) * Gamma_A
    return np.array([dC, (h_inf - h) / tau_h, dI, dGamma])


def _params(model):
    return {
        name: float(getattr(model, name))
        for name in model.__dataclass_fields__
        if isinstance(getattr(model, name), jax.Array)
    }


def test_right_hand_sides_are_the_published_equations(x64):
    model = GChI(**PARAMS)
    p = _params(model)
    rng = np.random.default_rng(0)
    for _ in range(20):
        C, h, I, G = rng.uniform([0.01, 0.1, 0.01, 0.0], [1.5, 1.0, 3.0, 1.0])
        Y, J = rng.uniform(0, 50), rng.uniform(-0.1, 0.1)
        drive = AstrocyteDrive(Y_S=Y, J_coupling=J)
        got = model._derivatives(0.0, tuple(jnp.array([v]) for v in (C, h, I, G)), drive)[0]
        want = published_rhs(p, C, h, I, G, Y, J) * 1e-3  # per ms
        np.testing.assert_allclose(np.concatenate(got), want, rtol=1e-12, atol=1e-15)


def test_euler_step_is_one_forward_step(x64):
    model = GChI(method="euler", **PARAMS)
    state = model.init(1, C=0.3, I=0.5, Gamma_A=0.2)
    new, _ = model.step(state, AstrocyteDrive(Y_S=10.0), t=0.0, dt=1.0)
    p = _params(model)
    rhs = published_rhs(p, 0.3, 0.9, 0.5, 0.2, 10.0, 0.0) * 1e-3
    got = np.array([new.C[0], new.h[0], new.I[0], new.Gamma_A[0]])
    np.testing.assert_allclose(got, np.array([0.3, 0.9, 0.5, 0.2]) + rhs, rtol=1e-13)


def _trajectory(model, state, n, dt, drive=None):
    step = jax.jit(lambda s: model.step(s, drive, t=0.0, dt=dt))
    Cs, releases = [], []
    for _ in range(n):
        state, r = step(state)
        Cs.append(state.C)
        releases.append(r)
    return state, np.array(Cs), np.array(releases)


def test_rk4_converges_at_fourth_order(x64):
    model = GChI(**PARAMS)
    ends = []
    for dt in (20.0, 10.0, 5.0):
        state = model.init(1, C=0.1, I=0.4)
        state, _, _ = _trajectory(model, state, int(2000 / dt), dt)
        ends.append(float(state.C[0]))
    ratio = abs(ends[0] - ends[1]) / abs(ends[1] - ends[2])
    assert 12 < ratio < 20  # 2**4 = 16


def test_one_release_per_upward_crossing(x64):
    model = GChI(**PARAMS)  # the open-loop astrocyte oscillates (a limit cycle)
    state = model.init(1)
    _, C, releases = _trajectory(model, state, 30_000, 1.0)
    C = C[:, 0]
    crossings = np.flatnonzero((np.r_[0.0, C[:-1]] <= 0.5) & (C > 0.5))
    assert crossings.size >= 2
    np.testing.assert_array_equal(np.flatnonzero(releases[:, 0]), crossings)


def test_gliotransmitter_follows_its_exact_solution(x64):
    model = GChI(**PARAMS)
    state = model.init(1)
    _, C, releases = _trajectory(model, state, 12_000, 1.0)
    first = int(np.flatnonzero(releases[:, 0])[0])
    state = model.init(1)
    step = jax.jit(lambda s: model.step(s, None, t=0.0, dt=1.0))
    for _ in range(first + 1):
        state, _ = step(state)
    G0, x0 = float(state.G_A[0]), float(state.x_A[0])
    # release from full resources: G_A = rho_e G_T U_A = 78 µM, x_A = 1 - U_A
    assert G0 == pytest.approx(78.0 * math.exp(0.0), rel=1e-12)
    assert x0 == pytest.approx(0.4, rel=1e-12)
    for _ in range(50):
        state, r = step(state)
        assert float(r[0]) == 0.0
    assert float(state.G_A[0]) == pytest.approx(G0 * math.exp(-60.0 * 0.05), rel=1e-12)
    assert float(state.x_A[0]) == pytest.approx(1 - (1 - x0) * math.exp(-0.6 * 0.05), rel=1e-12)


def test_milstein_without_noise_is_euler(x64):
    euler = GChI(method="euler", **PARAMS)
    milstein = GChI(method="milstein", noise=0.0, **PARAMS)
    a, _, _ = _trajectory(euler, euler.init(2, C=0.2, I=0.3), 500, 1.0)
    b, _, _ = _trajectory(milstein, milstein.init(2, jax.random.key(0), C=0.2, I=0.3), 500, 1.0)
    for name in ("C", "h", "I", "Gamma_A"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-13)


def test_milstein_is_brian2_derivative_free_scheme(x64):
    model = GChI(method="milstein", noise=1.0, **PARAMS)
    state = model.init(1, jax.random.key(3), C=0.3, I=0.5)
    new, _ = model.step(state, None, t=0.0, dt=1.0)
    _, draw = jax.random.split(jax.random.key(3))
    p, dt = _params(model), 1e-3
    dW = math.sqrt(dt) * float(jax.random.normal(draw, (1,), jnp.float64)[0])

    def g(C, h, I):
        Q_2 = p["d_2"] * (I + p["d_1"]) / (I + p["d_3"])
        tau_h = 1 / (p["O_2"] * (Q_2 + C))
        return (Q_2 / (Q_2 + C) - min(max(h, 0), 1)) / math.sqrt(tau_h)

    f = published_rhs(p, 0.3, 0.9, 0.5, 0.0, 0.0, 0.0)
    support = np.array([0.3, 0.9, 0.5]) + dt * f[:3]
    support[1] += math.sqrt(dt) * g(0.3, 0.9, 0.5)
    k = (g(*support) - g(0.3, 0.9, 0.5)) * dW**2 / (2 * math.sqrt(dt))
    h = 0.9 + dt * f[1] + g(0.3, 0.9, 0.5) * dW + k
    assert float(new.h[0]) == pytest.approx(h, rel=1e-12)


def test_stochastic_cell_is_reproducible_and_vmaps_over_keys():
    model = GChI(method="milstein", noise=1.0, **PARAMS)

    def run(key):
        state = model.init(3, key, C=0.2, I=0.3)

        def body(s, _):
            s, r = model.step(s, None, t=0.0, dt=1.0)
            return s, r

        return jax.lax.scan(body, state, None, length=200)[0].C

    keys = jax.random.split(jax.random.key(1), 3)
    batched = jax.jit(jax.vmap(run))(keys)
    looped = np.stack([run(k) for k in keys])
    np.testing.assert_allclose(batched, looped, rtol=1e-5)
    assert not np.allclose(batched[0], batched[1])
    np.testing.assert_array_equal(run(keys[0]), run(keys[0]))


def test_jit_equals_eager():
    model = GChI(**PARAMS)
    state = model.init(4, C=jnp.linspace(0.1, 0.6, 4), I=0.4)
    drive = AstrocyteDrive(Y_S=jnp.arange(4.0))
    eager = model.step(state, drive, t=0.0, dt=1.0)
    jitted = jax.jit(lambda s, d: model.step(s, d, t=0.0, dt=1.0))(state, drive)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def _mean_calcium(O_beta, O_delta, n_steps=3000):
    model = GChI(O_beta=O_beta, O_delta=O_delta, K_delta=0.1, Omega_5P=0.05, K_D=0.7)
    state = model.init(1, C=0.05, I=0.05)

    def body(s, _):
        s, _ = model.step(s, AstrocyteDrive(Y_S=5.0), t=0.0, dt=1.0)
        return s, s.C[0]

    return jnp.mean(jax.lax.scan(body, state, None, length=n_steps)[1])


def test_vmap_over_parameters_equals_loop():
    values = jnp.array([0.5, 2.0, 5.0])
    batched = jax.jit(jax.vmap(lambda b: _mean_calcium(b, 0.6)))(values)
    looped = [float(_mean_calcium(float(b), 0.6)) for b in values]
    np.testing.assert_allclose(batched, looped, rtol=1e-5)


def test_gradient_of_calcium_matches_finite_differences(x64):
    grad = jax.grad(_mean_calcium, argnums=(0, 1))(2.0, 0.6)
    for k, base in enumerate((2.0, 0.6)):
        eps = 1e-5

        def at(v, k=k):
            args = [2.0, 0.6]
            args[k] = v
            return float(_mean_calcium(*args))

        fd = (at(base + eps) - at(base - eps)) / (2 * eps)
        assert float(grad[k]) == pytest.approx(fd, rel=1e-5)
        assert abs(fd) > 1e-4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(O_P=-1.0), "O_P"),
        (dict(U_A=1.5), "U_A"),
        (dict(K_P=0.0), "K_P"),
        (dict(method="rk45"), "method"),
        (dict(noise=-0.1), "noise"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GChI(**kwargs)


def test_bad_init_and_inputs_are_named():
    model = GChI()
    with pytest.raises(ValueError, match="C"):
        model.init(3, C=-0.1)
    with pytest.raises(ValueError, match="I"):
        model.init(3, I=jnp.ones(4))
    with pytest.raises(ValueError, match="key"):
        GChI(method="milstein").init(3)
    with pytest.raises(ValueError, match="O_beta"):
        GChI(O_beta=jnp.ones(5)).init(3)
    with pytest.raises(TypeError, match="AstrocyteDrive"):
        model.step(model.init(3), 100.0, t=0.0, dt=1.0)
