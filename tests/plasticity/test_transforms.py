"""Every rule under jit, vmap (over constants and over states) and grad (vs finite differences)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from plasticity_cases import run, sparse

from brainsim.plasticity import (
    STDP,
    EligibilitySTDP,
    ErrorModulated,
    InhibitorySTDP,
    Oja,
    Subspace,
    TripletSTDP,
    chain,
    clip,
)

STEPS, DT = 300, 0.5


class Case(NamedTuple):
    make: object          # constants (dict of arrays) -> rule
    constants: dict
    kind: str
    modulated: bool = False


CASES = {
    "stdp_additive": Case(lambda c: STDP(**c),
                          dict(A_plus=0.01, A_minus=0.012, tau_plus=15.0, tau_minus=25.0), "csr"),
    "stdp_soft_nearest": Case(
        lambda c: STDP(**c, pairing="nearest", weight_dependence="soft"),
        dict(A_plus=0.02, A_minus=0.03, w_max=1.2), "ell_pre"),
    "stdp_multiplicative": Case(
        lambda c: STDP(**c, weight_dependence="multiplicative"),
        dict(A_minus=0.03, tau_minus=18.0, w_min=0.05), "dense"),
    "triplet": Case(lambda c: TripletSTDP(**c, A2_plus=1e-3),
                    dict(A3_plus=6.2e-3, A2_minus=7e-3, A3_minus=2.3e-3, tau_x=101.0,
                         tau_y=125.0), "ell_post"),
    "eligibility": Case(lambda c: EligibilitySTDP(**c, w_min=-jnp.inf),
                        dict(A_plus=1.0, tau_c=300.0, tau_d=50.0, learning_rate=0.01), "csr",
                        modulated=True),
    "error_modulated": Case(lambda c: ErrorModulated(**c),
                            dict(learning_rate=0.02, tau=20.0), "dense", modulated=True),
    "inhibitory": Case(lambda c: InhibitorySTDP(**c, w_min=-jnp.inf),
                       dict(eta=0.01, rho0=20.0, tau=20.0), "csr"),
    "chain_with_clip": Case(lambda c: chain(STDP(**c, w_min=-jnp.inf), clip(0.0, 5.0)),
                            dict(A_plus=0.01, tau_plus=15.0), "ell_pre"),
}


def _inputs(conn, key):
    k_pre, k_post, k_mod = jax.random.split(jax.random.key(key), 3)
    pre = (jax.random.uniform(k_pre, (STEPS, conn.n_pre)) < 0.05).astype(conn.weights.dtype)
    post = (jax.random.uniform(k_post, (STEPS, conn.n_post)) < 0.05).astype(conn.weights.dtype)
    mods = jax.random.normal(k_mod, (STEPS, conn.n_post), conn.weights.dtype)
    return conn.weights, pre, post, mods


def _outcome(case, conn):
    """(constants, w0, pre, post, mods) -> mean final weight."""

    def f(constants, w0, pre, post, mods):
        rule = case.make(constants)
        w, _ = run(rule, conn, pre, post, dt=DT, weights=w0,
                   modulators=mods if case.modulated else None)
        return jnp.mean(w)

    return f


def _batch(constants, factors):
    return {k: jnp.asarray([v * f for f in factors]) for k, v in constants.items()}


@pytest.mark.parametrize("name", CASES)
def test_jit_equals_eager_for_one_update(name):
    case = CASES[name]
    conn = sparse(case.kind)
    rule = case.make({k: jnp.asarray(v) for k, v in case.constants.items()})
    w0, pre, post, mods = _inputs(conn, 0)
    traces = rule.init(conn)
    kwargs = {"modulator": mods[0]} if case.modulated else {}

    def update(traces, w, pre, post):
        return rule.update(traces, w, pre, post, dt=DT, conn=conn, **kwargs)

    # one step with many spikes so that every branch is taken
    pre_all, post_all = jnp.ones_like(pre[0]), jnp.ones_like(post[0])
    traces = jax.tree_util.tree_map(lambda a: a + 0.5, traces)
    eager = update(traces, w0, pre_all, post_all)
    jitted = jax.jit(update)(traces, w0, pre_all, post_all)
    for a, b in zip(jax.tree_util.tree_leaves(eager), jax.tree_util.tree_leaves(jitted),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", CASES)
def test_vmap_over_constants_equals_a_loop(name):
    case = CASES[name]
    conn = sparse(case.kind)
    f = jax.jit(_outcome(case, conn))
    inputs = _inputs(conn, 1)
    batch = _batch(case.constants, (0.8, 1.0, 1.3))
    vmapped = jax.vmap(f, in_axes=(0, None, None, None, None))(batch, *inputs)
    looped = [f({k: v[i] for k, v in batch.items()}, *inputs) for i in range(3)]
    np.testing.assert_allclose(vmapped, looped, rtol=1e-5)
    assert len(set(np.asarray(looped).round(7).tolist())) > 1, "constants had no effect"


@pytest.mark.parametrize("name", CASES)
def test_vmap_over_states_equals_a_loop(name):
    case = CASES[name]
    conn = sparse(case.kind)
    constants = {k: jnp.asarray(v) for k, v in case.constants.items()}
    f = jax.jit(_outcome(case, conn))
    batches = [_inputs(conn, key) for key in (2, 3, 4)]
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *batches)
    w0 = stacked[0] * jnp.array([0.9, 1.0, 1.1]).reshape((3,) + (1,) * (stacked[0].ndim - 1))
    vmapped = jax.vmap(f, in_axes=(None, 0, 0, 0, 0))(constants, w0, *stacked[1:])
    looped = [f(constants, w0[i], *batches[i][1:]) for i in range(3)]
    np.testing.assert_allclose(vmapped, looped, rtol=1e-5)


@pytest.mark.parametrize("name", CASES)
def test_grad_of_mean_weight_wrt_constants_matches_central_differences(x64, name):
    case = CASES[name]
    conn = sparse(case.kind, dtype=jnp.float64)
    inputs = _inputs(conn, 5)
    constants = {k: jnp.asarray(v, jnp.float64) for k, v in case.constants.items()}
    f = jax.jit(_outcome(case, conn))
    grads = jax.jit(jax.grad(f))(constants, *inputs)
    for name_c, value in constants.items():
        eps = 1e-6 * max(1.0, abs(float(value)))
        up = dict(constants, **{name_c: value + eps})
        down = dict(constants, **{name_c: value - eps})
        fd = (float(f(up, *inputs)) - float(f(down, *inputs))) / (2 * eps)
        assert abs(fd) > 1e-9, f"{name_c} has no effect on the outcome"
        assert float(grads[name_c]) == pytest.approx(fd, rel=1e-5), name_c


def _hebbian_outcome(rule_type, shape):
    xs = jax.random.normal(jax.random.key(0), (200, shape[-1])) * jnp.linspace(2.0, 0.5,
                                                                                shape[-1])
    w0 = jax.random.normal(jax.random.key(1), shape) * 0.3

    def f(learning_rate, w0=w0, xs=xs):
        rule = rule_type(learning_rate=learning_rate)
        w, _ = jax.lax.scan(lambda w, x: (rule.update(w, x), None), w0, xs.astype(w0.dtype))
        return jnp.sum(w * jnp.arange(w.size).reshape(w.shape))

    return f, w0, xs


@pytest.mark.parametrize(("rule_type", "shape"), [(Oja, (5,)), (Subspace, (2, 5))])
def test_hebbian_rules_under_jit_vmap_and_grad(x64, rule_type, shape):
    f, w0, xs = _hebbian_outcome(rule_type, shape)
    rates = jnp.array([1e-3, 5e-3, 1e-2])
    np.testing.assert_allclose(jax.jit(f)(rates[1]), f(rates[1]), rtol=1e-12)
    np.testing.assert_allclose(jax.vmap(f)(rates), [f(r) for r in rates], rtol=1e-12)
    w0s = jnp.stack([w0, 2 * w0])
    np.testing.assert_allclose(jax.vmap(lambda w: f(rates[1], w0=w))(w0s),
                               [f(rates[1], w0=w) for w in w0s], rtol=1e-12)
    eps = 1e-7
    fd = (f(rates[1] + eps) - f(rates[1] - eps)) / (2 * eps)
    assert float(jax.grad(f)(rates[1])) == pytest.approx(float(fd), rel=1e-6)
