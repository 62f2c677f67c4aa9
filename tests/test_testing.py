"""brainsim.testing passes the built-in models and fails models broken in one way each, with a
message that names the failed check."""

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import brainsim as bs
import brainsim_ops as bo
from brainsim.plasticity import STDP, EligibilitySTDP
from brainsim.synapses import Alpha, Exponential
from brainsim.testing import check_kinetics, check_neuron, check_plasticity_rule

NEURON_CHECKS = ("init", "state", "pure", "jit", "recompilation", "spikes", "vmap", "grad",
                 "bad input")  # fmt: skip


# --- built-in models pass --------------------------------------------------------------------


def test_lif_passes_every_neuron_check():
    result = check_neuron(bs.neurons.LIF(R=0.1), inputs=300.0, quiet_inputs=100.0,
                          parameter="tau_m", values=[8.0, 10.0, 15.0],
                          grad_parameters=["tau_m", "R", "v_rest"], steps=300)  # fmt: skip
    assert result == NEURON_CHECKS


def test_adex_passes_every_neuron_check_with_per_neuron_values():
    result = check_neuron(bs.neurons.AdEx(), inputs=500.0, quiet_inputs=100.0, parameter="b",
                          values=[[0.0, 30.0, 60.0, 90.0], [10.0, 20.0, 30.0, 40.0]],
                          grad_parameters=["g_L", "a"], dt=0.02, steps=1500)  # fmt: skip
    assert result == NEURON_CHECKS


@pytest.mark.parametrize(("kinetics", "parameter", "values"), [
    (Exponential(tau=5.0), "tau", [2.0, 5.0, 10.0]),
    (Alpha(tau=2.0), "tau", [1.0, 2.0, 4.0]),
])  # fmt: skip
def test_built_in_kinetics_pass(kinetics, parameter, values):
    result = check_kinetics(kinetics, parameter=parameter, values=values)
    assert result == ("init", "state", "pure", "jit", "recompilation", "linear", "vmap", "grad")


def test_stdp_passes_on_sparse_connectivity():
    conn = bo.fixed_prob(jax.random.key(0), 20, 10, 0.3, weight=0.5, per_synapse=True)
    result = check_plasticity_rule(STDP(A_plus=0.01, A_minus=0.012, w_max=1.0), conn,
                                   parameter="A_plus", values=[0.005, 0.01, 0.02],
                                   grad_parameters=["A_plus", "tau_minus"])  # fmt: skip
    assert result == ("init", "state", "pure", "jit", "recompilation", "vmap", "grad",
                      "bad input")  # fmt: skip


def test_a_modulated_rule_passes_on_dense_connectivity():
    conn = bo.Dense(jnp.full((8, 6), 0.5))
    rule = EligibilitySTDP(A_plus=1.0, tau_c=300.0, tau_d=50.0, learning_rate=0.01,
                           w_min=-jnp.inf)  # fmt: skip
    check_plasticity_rule(rule, conn, parameter="learning_rate", values=[0.005, 0.01, 0.02],
                          modulated=True)  # fmt: skip


# --- a small neuron, correct unless told which bug to have -----------------------------------


class ToyState(NamedTuple):
    v: Float[Array, " n"]


@jax.custom_batching.custom_vmap
def _decay_first_only(ratio):
    return jnp.exp(-ratio)


@_decay_first_only.def_vmap
def _decay_first_only_vmap(axis_size, in_batched, ratio):
    # the bug: the batching rule uses the first element for the whole batch
    return jnp.exp(-ratio[0]) * jnp.ones_like(ratio), True


COUNTER = []


class ToyLIF(eqx.Module):
    """`tau dv/dt = -v + input` (mV above rest), spike at 15 mV, reset to 0."""

    tau_m: Float[Array, ""] = eqx.field(default=10.0, converter=jnp.asarray)
    bug: str = eqx.field(default="", static=True)

    def init(self, n, key=None):
        return ToyState(v=jnp.zeros((n,)))

    def step(self, state, inputs, *, t, dt):
        drive = jnp.asarray(inputs)
        if self.bug != "no shape check" and jnp.broadcast_shapes(drive.shape, state.v.shape) \
                != state.v.shape:  # fmt: skip
            raise ValueError(f"`inputs` of shape {drive.shape} does not fit {state.v.shape}.")
        tau = self.tau_m
        if self.bug == "ignores parameter":
            tau = 10.0
        if self.bug == "stop gradient":
            tau = jax.lax.stop_gradient(tau)
        if self.bug == "bad batching":
            decay = _decay_first_only(dt / tau)
        else:
            decay = jnp.exp(-dt / tau)
        v = drive + (state.v - drive) * decay
        if self.bug == "impure":
            COUNTER.append(None)
            v = v + 1e-3 * len(COUNTER)
        if self.bug == "python control flow" and v[0] > 100.0:
            v = v - 1.0
        spikes = bs.surrogate.FastSigmoid()((v - 15.0) / 15.0)
        v = jnp.where(spikes > 0, 0.0, v)
        if self.bug == "state dtype":
            v = v.astype(jnp.float16)
        return ToyState(v=v), spikes


TOY = dict(inputs=20.0, quiet_inputs=10.0, parameter="tau_m", values=[5.0, 10.0, 20.0],
           steps=200)  # fmt: skip


def test_the_correct_toy_neuron_passes():
    assert check_neuron(ToyLIF(), **TOY) == NEURON_CHECKS


@pytest.mark.parametrize(("bug", "check"), [
    ("state dtype", "state"),
    ("impure", "pure"),
    ("python control flow", "jit"),
    ("bad batching", "vmap"),
    ("ignores parameter", "vmap"),
    ("stop gradient", "grad"),
    ("no shape check", "bad input"),
])  # fmt: skip
def test_a_broken_neuron_fails_the_check_that_finds_its_bug(bug, check):
    with pytest.raises(AssertionError, match=f"^{check}: "):
        check_neuron(ToyLIF(bug=bug), **TOY)


def test_a_python_number_parameter_fails_the_recompilation_check():
    model = eqx.tree_at(lambda m: m.tau_m, ToyLIF(), 10.0)  # a float: static under jit
    with pytest.raises(AssertionError, match="^recompilation: 3 calls .* traced the step 2 "):
        check_neuron(model, **TOY)


def test_inputs_that_never_make_it_fire_fail_the_spikes_check():
    with pytest.raises(AssertionError, match="^spikes: no neuron fired"):
        check_neuron(ToyLIF(), **{**TOY, "inputs": 10.0})


def test_quiet_inputs_that_make_it_fire_fail_the_grad_check():
    with pytest.raises(AssertionError, match="^grad: a neuron fired under `quiet_inputs`"):
        check_neuron(ToyLIF(), **{**TOY, "quiet_inputs": 20.0})


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"parameter": "tau"}, "`parameter` must name a field of the ToyLIF"),
    ({"parameter": "bug"}, "`parameter`: 'bug' is a static field"),
    ({"values": [10.0]}, "`values` must hold at least two values"),
    ({"n": 0}, "`n` must be a positive int"),
    ({"dt": -0.1}, "`dt` must be a positive number"),
])  # fmt: skip
def test_bad_arguments_of_the_check_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_neuron(ToyLIF(), **{**TOY, **kwargs})


# --- kinetics --------------------------------------------------------------------------------


class SaturatingState(NamedTuple):
    g: Float[Array, " n"]


class Saturating(eqx.Module):
    """A nonlinear synapse: arrivals fill the free fraction `1 - g` (not summable per neuron)."""

    tau: Float[Array, ""] = eqx.field(default=5.0, converter=jnp.asarray)

    def init(self, n):
        return SaturatingState(g=jnp.zeros((n,)))

    def step(self, state, arriving, *, dt):
        g = state.g * jnp.exp(-dt / self.tau)
        return SaturatingState(g=g + arriving * (1.0 - g))

    def value(self, state):
        return state.g


def test_nonlinear_kinetics_fail_the_linear_check():
    with pytest.raises(AssertionError, match="^linear: the response to a sum of arrivals"):
        check_kinetics(Saturating(), parameter="tau", values=[2.0, 5.0])


# --- plasticity ------------------------------------------------------------------------------


class ToyTraces(NamedTuple):
    pre: Float[Array, " n_pre"]


class ToyHebb(eqx.Module):
    """At a postsynaptic spike, every incoming synapse grows by `eta` times the presynaptic
    trace (decay `tau`), unless a bug says otherwise."""

    eta: Float[Array, ""] = eqx.field(default=0.01, converter=jnp.asarray)
    tau: Float[Array, ""] = eqx.field(default=20.0, converter=jnp.asarray)
    bug: str = eqx.field(default="", static=True)

    def init(self, conn):
        return ToyTraces(pre=jnp.zeros((conn.n_pre,)))

    def update(self, traces, weights, pre_spikes, post_spikes, *, dt, conn=None, modulator=None):
        activity = jnp.asarray(pre_spikes)
        if self.bug == "mean activity only":  # never looks at the spikes' shape
            activity = jnp.mean(activity) * jnp.ones_like(traces.pre)
        x = traces.pre * jnp.exp(-dt / self.tau) + activity
        if self.bug == "impure":
            COUNTER.append(None)
            x = x + 1e-3 * len(COUNTER)
        if self.bug == "trace shape":
            x = jnp.concatenate([x, x])
        w = bo.update_cols_on_events(conn, post_spikes, self.eta * x[: conn.n_pre],
                                     weights=weights)  # fmt: skip
        return w, ToyTraces(pre=x)


def test_the_correct_toy_rule_passes():
    conn = bo.fixed_prob(jax.random.key(1), 12, 9, 0.4, weight=0.5, per_synapse=True)
    check_plasticity_rule(ToyHebb(), conn, parameter="eta", values=[0.005, 0.01],
                          grad_parameters=["eta", "tau"])  # fmt: skip


@pytest.mark.parametrize(("bug", "check"), [
    ("trace shape", "state"),
    ("impure", "pure"),
    ("mean activity only", "bad input"),
])  # fmt: skip
def test_a_broken_rule_fails_the_check_that_finds_its_bug(bug, check):
    conn = bo.fixed_prob(jax.random.key(1), 12, 9, 0.4, weight=0.5, per_synapse=True)
    with pytest.raises(AssertionError, match=f"^{check}: "):
        check_plasticity_rule(ToyHebb(bug=bug), conn, parameter="eta", values=[0.005, 0.01])


def test_a_rule_whose_constant_changes_nothing_fails_the_vmap_check():
    conn = bo.fixed_prob(jax.random.key(1), 12, 9, 0.4, weight=0.5, per_synapse=True)
    with pytest.raises(AssertionError, match="^vmap: every value of `tau`"):
        # eta = 0: the weights never change, whatever tau is
        check_plasticity_rule(ToyHebb(eta=0.0), conn, parameter="tau", values=[10.0, 20.0])


def test_a_connectivity_that_is_not_one_is_refused():
    with pytest.raises(TypeError, match="`conn` must be a brainsim_ops connectivity"):
        check_plasticity_rule(ToyHebb(), np.ones((3, 3)), parameter="eta", values=[0.1, 0.2])


class NoisyState(NamedTuple):
    v: Float[Array, " n"]
    key: jax.Array


class NoisyToyLIF(eqx.Module):
    """ToyLIF with Gaussian noise (sd `sigma` mV per step) drawn from a key kept in the state."""

    tau_m: Float[Array, ""] = eqx.field(default=10.0, converter=jnp.asarray)
    sigma: Float[Array, ""] = eqx.field(default=0.5, converter=jnp.asarray)

    def init(self, n, key=None):
        return NoisyState(v=jnp.zeros((n,)), key=jax.random.key(0) if key is None else key)

    def step(self, state, inputs, *, t, dt):
        drive = jnp.asarray(inputs)
        if jnp.broadcast_shapes(drive.shape, state.v.shape) != state.v.shape:
            raise ValueError(f"`inputs` of shape {drive.shape} does not fit {state.v.shape}.")
        key, draw = jax.random.split(state.key)
        decay = jnp.exp(-dt / self.tau_m)
        v = drive + (state.v - drive) * decay
        v = v + self.sigma * jax.random.normal(draw, v.shape, v.dtype)
        spikes = bs.surrogate.FastSigmoid()((v - 15.0) / 15.0)
        return NoisyState(v=jnp.where(spikes > 0, 0.0, v), key=key), spikes


def test_a_neuron_with_a_random_key_in_its_state_is_checked():
    assert check_neuron(NoisyToyLIF(), **{**TOY, "quiet_inputs": 5.0}) == NEURON_CHECKS
