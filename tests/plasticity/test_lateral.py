"""HLOP's lateral subspace neurons: subspace extraction, growth, freezing, spiking read-out."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.plasticity import LateralSubspace, Subspace, signed_rate_code

SCALES = np.array([3.0, 2.5, 2.0, 1.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.05])


def _activity(n_samples=512, seed=0):
    """Samples `(m, 10)` whose second-moment matrix has a known spectrum, and its eigenbasis
    (rows, by decreasing eigenvalue)."""
    rng = np.random.default_rng(seed)
    axes, _ = np.linalg.qr(rng.normal(size=(SCALES.size, SCALES.size)))
    x = rng.normal(size=(n_samples, SCALES.size)) * SCALES @ axes.T
    return x.astype(np.float32), axes.T


def _principal_angles_deg(rows_a, rows_b):
    qa, _ = np.linalg.qr(np.asarray(rows_a, np.float64).T)
    qb, _ = np.linalg.qr(np.asarray(rows_b, np.float64).T)
    cosines = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1, 1)
    return np.degrees(np.arccos(cosines))


def _learn(rule, state, x, batches=300, batch=None, seed=1):
    """`batches` updates on random batches of `batch` samples (default: the whole sample set,
    which converges to the sample's own subspace)."""
    rng = np.random.default_rng(seed)
    update = jax.jit(lambda s, x: rule.update(s, x))
    for _ in range(batches):
        state = update(state, x if batch is None else x[rng.integers(0, len(x), batch)])
    return state


def test_rows_converge_to_an_orthonormal_basis_of_the_principal_subspace():
    x, axes = _activity()
    rule = LateralSubspace(learning_rate=0.01)
    state = rule.grow(rule.init(10, k_max=6), 3, key=jax.random.key(0))
    state = _learn(rule, state, x)
    rows = np.asarray(state.H[:3])
    assert float(rule.orthonormality_error(state)) < 1e-4
    _, _, vt = np.linalg.svd(x, full_matrices=False)      # not centred, like the rule
    assert _principal_angles_deg(rows, vt[:3]).max() < 0.01
    assert np.all(np.asarray(state.H[3:]) == 0)            # rows never grown stay empty


def test_frozen_rows_stay_bit_identical_and_new_rows_learn_the_residual_subspace():
    x, _ = _activity()
    rule = LateralSubspace(learning_rate=0.01)
    state = rule.grow(rule.init(10, k_max=6), 2, key=jax.random.key(0))
    state = rule.consolidate(_learn(rule, state, x))
    frozen = np.asarray(state.H[:2]).copy()
    state = rule.grow(state, 2, key=jax.random.key(1))
    state = _learn(rule, state, x, seed=2)
    np.testing.assert_array_equal(np.asarray(state.H[:2]), frozen)
    residual = x - (x @ frozen.T) @ frozen
    _, _, vt = np.linalg.svd(residual, full_matrices=False)
    assert _principal_angles_deg(np.asarray(state.H[2:4]), vt[:2]).max() < 0.01
    assert float(rule.orthonormality_error(state)) < 1e-4   # new rows ⟂ frozen rows
    assert np.asarray(state.frozen).tolist() == [True, True, False, False, False, False]


def test_basis_and_project_use_only_frozen_rows():
    x, _ = _activity(64)
    rule = LateralSubspace(learning_rate=0.01)
    state = rule.grow(rule.init(10, k_max=4), 2, key=jax.random.key(0))
    assert np.all(np.asarray(rule.basis(state)) == 0)                 # nothing frozen yet
    np.testing.assert_array_equal(np.asarray(rule.project(state, x)), x)
    state = rule.consolidate(state)
    projected = np.asarray(rule.project(state, x))
    np.testing.assert_allclose(projected @ np.asarray(state.H[:2]).T, 0, atol=1e-5)


def test_update_is_the_subspace_rule_for_one_iteration_without_momentum_or_clip():
    x, _ = _activity(32)
    rule = LateralSubspace(learning_rate=0.01, momentum=0.0, iterations=1, clip=1e9)
    state = rule.grow(rule.init(10, k_max=3), 3, key=jax.random.key(0))
    H = state.H
    expected = H + 0.01 * Subspace(learning_rate=0.01).delta(H, x)
    np.testing.assert_allclose(np.asarray(rule.update(state, x).H), expected, rtol=1e-5, atol=1e-7)
    # one sample: the batch-mean step is the subspace rule's own step
    one = Subspace(learning_rate=0.01)
    np.testing.assert_allclose(one.update(H, x[0]), H + 0.01 * one.delta(H, x[0]), rtol=1e-6)


def test_clip_bounds_each_entry_of_the_step():
    x, _ = _activity(16)
    rule = LateralSubspace(learning_rate=1.0, momentum=0.0, iterations=1, clip=1e-3)
    state = rule.grow(rule.init(10, k_max=2), 2, key=jax.random.key(0))
    step = np.asarray(rule.update(state, 100 * x).H - state.H)
    assert np.abs(step).max() == pytest.approx(1e-3, rel=1e-5)


def test_signed_rate_code_is_the_spike_count_of_signed_integrate_and_fire_neurons():
    rng = np.random.default_rng(0)
    y = rng.uniform(-30, 30, 200).astype(np.float32)
    steps, scale = 40, 20.0
    drive = np.minimum(np.abs(y) / scale, 1.0)
    v, count = np.full(y.shape, 0.5), np.zeros(y.shape)
    for _ in range(steps):                     # explicit simulation, reset by subtraction
        v += drive
        spike = v >= 1.0
        v -= spike
        count += spike
    expected = np.sign(y) * count / steps * scale
    coded = np.asarray(signed_rate_code(jnp.asarray(y), steps, scale))
    near_tie = np.abs(steps * drive + 0.5 - np.round(steps * drive + 0.5)) < 1e-4
    np.testing.assert_allclose(coded[~near_tie], expected[~near_tie], atol=1e-5)
    assert np.abs(coded - np.clip(y, -scale, scale)).max() <= scale / steps / 2 + 1e-5


def test_spiking_lateral_neurons_learn_the_same_subspace():
    x, _ = _activity()
    linear = LateralSubspace(learning_rate=0.01)
    spiking = LateralSubspace(learning_rate=0.01, spike_steps=40, full_scale=20.0)
    start = linear.grow(linear.init(10, k_max=3), 3, key=jax.random.key(0))
    rows_linear = np.asarray(_learn(linear, start, x).H)
    rows_spiking = np.asarray(_learn(spiking, start, x).H)
    assert _principal_angles_deg(rows_linear, rows_spiking).max() < 0.5   # 0.16° measured


def test_jit_equals_eager_and_vmap_over_states_equals_a_loop():
    x, _ = _activity(64)
    rule = LateralSubspace(learning_rate=0.01)
    states = [rule.grow(rule.init(10, k_max=3), 2, key=jax.random.key(i)) for i in range(3)]
    eager = [rule.update(s, x) for s in states]
    jitted = jax.jit(lambda s, x: rule.update(s, x))
    np.testing.assert_allclose(jitted(states[0], x).H, eager[0].H, rtol=1e-5, atol=1e-6)
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *states)
    batched = jax.vmap(rule.update, in_axes=(0, None))(stacked, x)
    for i, e in enumerate(eager):
        np.testing.assert_allclose(batched.H[i], e.H, rtol=1e-5, atol=1e-6)


def test_gradient_with_respect_to_the_learning_rate_matches_finite_differences(x64):
    x, _ = _activity(32)
    x = x.astype(np.float64)
    start = LateralSubspace().grow(LateralSubspace().init(10, k_max=2), 2, key=jax.random.key(0))

    def captured(rate):
        rule = LateralSubspace(learning_rate=rate, iterations=3)
        H = rule.update(start, x).H
        return jnp.sum((x @ H.T) ** 2)

    g = float(jax.grad(captured)(0.01))
    eps = 1e-6
    fd = (float(captured(0.01 + eps)) - float(captured(0.01 - eps))) / (2 * eps)
    assert g == pytest.approx(fd, rel=1e-5)


def test_bad_input_fails_loudly():
    rule = LateralSubspace()
    with pytest.raises(ValueError, match="momentum"):
        LateralSubspace(momentum=1.0)
    with pytest.raises(ValueError, match="iterations"):
        LateralSubspace(iterations=0)
    with pytest.raises(ValueError, match="spike_steps"):
        LateralSubspace(spike_steps=2.5)
    with pytest.raises(ValueError, match="learning_rate"):
        LateralSubspace(learning_rate=-1.0)
    state = rule.init(4, k_max=3)
    with pytest.raises(ValueError, match="`k`"):
        rule.grow(state, 5, key=jax.random.key(0))
    state = rule.grow(state, 2, key=jax.random.key(0))
    with pytest.raises(Exception, match="no room to grow"):
        rule.grow(state, 2, key=jax.random.key(1))
    with pytest.raises(ValueError, match="`X`"):
        rule.update(state, jnp.ones((3, 5)))
    with pytest.raises(ValueError, match="`Y`"):
        Subspace().delta(jnp.ones((2, 4)), jnp.ones((3, 4)), jnp.ones((3, 3)))


def test_second_moment_form_equals_the_direct_step():
    x, _ = _activity(300)
    W = jax.random.normal(jax.random.key(0), (4, 10)) * 0.3
    rule = Subspace()
    np.testing.assert_allclose(rule.delta_from_moment(W, x.T @ x / len(x)), rule.delta(W, x),
                               rtol=1e-4, atol=1e-5)
    lateral = LateralSubspace(learning_rate=0.01, momentum=0.0, iterations=1, clip=1e9)
    state = lateral.grow(lateral.init(10, k_max=4), 4, key=jax.random.key(1))
    expected = state.H + 0.01 * rule.delta(state.H, x)         # 300 rows ≫ 10: moment form
    np.testing.assert_allclose(lateral.update(state, x).H, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="`C`"):
        rule.delta_from_moment(W, jnp.ones((3, 3)))


def test_a_window_of_learning_rows_gives_the_same_update():
    x, _ = _activity(300)
    moment = x.T @ x / 300
    full = LateralSubspace(learning_rate=0.01)
    windowed = LateralSubspace(learning_rate=0.01, window=3)
    state = full.grow(full.init(10, k_max=8), 3, key=jax.random.key(0))
    state = full.consolidate(_learn(full, state, x, batches=20))
    middle = full.grow(state, 2, key=jax.random.key(1))             # rows 3, 4 learn
    end = full.grow(full.consolidate(full.grow(state, 4, key=jax.random.key(2))), 1,
                    key=jax.random.key(3))                          # row 7 learns: clamped
    for state in (middle, end):
        for a, b in ((full.update(state, x), windowed.update(state, x)),
                     (full.update_from_moment(state, moment),
                      windowed.update_from_moment(state, moment))):
            np.testing.assert_allclose(a.H, b.H, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(a.velocity, b.velocity, rtol=1e-5, atol=1e-6)
        assert np.any(np.asarray(windowed.update(state, x).H != state.H))
    with pytest.raises(ValueError, match="window"):
        windowed.grow(middle, 4, key=jax.random.key(4))
    with pytest.raises(Exception, match="consolidate first"):
        windowed.grow(middle, 2, key=jax.random.key(4))
    with pytest.raises(ValueError, match="spiking"):
        LateralSubspace(spike_steps=4).update_from_moment(middle, moment)


def test_grown_rows_avoid_the_span_of_old_rows_and_consolidation_makes_an_exact_projector():
    rule = LateralSubspace(learning_rate=0.01)
    state = rule.grow(rule.init(6, k_max=6), 3, key=jax.random.key(0))
    skewed = state.H.at[0].multiply(1.3).at[1].add(0.2 * state.H[2])    # not orthonormal
    state = rule.consolidate(state._replace(H=skewed))
    basis = np.asarray(rule.basis(state))[:3]
    np.testing.assert_allclose(basis @ basis.T, np.eye(3), atol=1e-5)       # exact projector
    _, s_old, _ = np.linalg.svd(np.asarray(skewed[:3]))
    np.testing.assert_allclose(np.linalg.svd(basis, compute_uv=False), 1.0, atol=1e-5)
    span_kept = basis @ np.linalg.pinv(np.asarray(skewed[:3])) @ np.asarray(skewed[:3])
    np.testing.assert_allclose(span_kept, basis, atol=1e-5)
    assert s_old.max() > 1.2
    grown = rule.grow(state, 3, key=jax.random.key(1))
    np.testing.assert_allclose(np.asarray(grown.H[3:]) @ basis.T, 0, atol=1e-5)
    assert float(rule.orthonormality_error(grown)) < 1e-5
