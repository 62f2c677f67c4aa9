"""GIF with escape noise against NEST 3.10's `gif_psc_exp` (`make_nest_glif_refs.py`).

Deterministic part: with `Delta_V = 1e-4` mV the escape rate jumps from 0 to certain firing
within 1e-3 mV of the threshold, so NEST's random draws do not matter and the run must agree
exactly (same spike steps; potential, moving threshold and spike-triggered current within the
float32 storage of the reference). Stochastic part: 300 trials at `Delta_V = 1` mV; the random
streams differ from NEST's, so rates and inter-spike-interval distributions are compared
statistically.
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import brainsim as bs
from brainsim.neurons import GIF

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference" / "nest_gif.npz"
NEST_DC_DELAY = 1.0  # ms: the default delay of the dc_generator connections in the references


def _model(ref, **changes):
    return GIF(**{k[2:]: ref[k] for k in ref.files if k.startswith("p_")}, **changes)


def _protocol(ref, steps):
    t = np.arange(steps) * float(ref["dt"])
    current = np.zeros(steps)
    for start, stop, amplitude in ref["steps"]:
        on = (t >= start + NEST_DC_DELAY - 1e-9) & (t < stop + NEST_DC_DELAY - 1e-9)
        current[on] += amplitude
    return jnp.asarray(current)


def test_gif_deterministic_limit_matches_nest(x64):
    ref = np.load(REFERENCE)
    model = _model(ref, Delta_V=1e-4)
    steps = int(ref["det_steps"])
    record = {
        "v": [0],
        "spikes": None,
        "threshold": lambda s, _: model.threshold(s)[0],
        "eta": lambda s, _: s.stc[:, 0].sum(),
    }
    result = bs.run(
        model,
        model.init(1, key=jax.random.key(1)),
        input_series=_protocol(ref, steps)[:, None],
        steps=steps,
        dt=0.1,
        stream=False,
        record=record,
    )
    ours = np.nonzero(np.asarray(result.spikes["spikes"])[:, 0])[0]
    theirs = np.round(ref["det_spikes"] / 0.1).astype(int) - 1
    assert len(theirs) > 20
    np.testing.assert_array_equal(ours, theirs)
    # float32 storage: 4e-6 mV resolution at 70 mV, 1e-5 pA at 100 pA. The samples are the
    # states after steps 9, 19, ...; NEST records E_sfa and I_stc as the values a step starts
    # from, which are the states after steps 8, 18, ...
    for name, nest_name, first in (("v", "V_m", 9), ("threshold", "E_sfa", 8), ("eta", "I_stc", 8)):
        trace = np.asarray(result.traces[name]).reshape(-1)[first::10]
        np.testing.assert_allclose(trace, ref[f"det_{nest_name}"], rtol=0, atol=2e-5)


@pytest.mark.slow
def test_gif_escape_noise_statistics_match_nest():
    ref = np.load(REFERENCE)
    model = _model(ref, Delta_V=float(ref["noisy_Delta_V"]))
    trials, steps = 300, 8000
    result = bs.run(
        model,
        model.init(trials, key=jax.random.key(7)),
        input_series=_protocol(ref, steps)[:, None],
        steps=steps,
        dt=0.1,
        stream=False,
        record=["spikes"],
    )
    spikes = np.asarray(result.spikes["spikes"])
    ours = [np.nonzero(spikes[:, k])[0] * 0.1 + 0.1 for k in range(trials)]
    theirs = [ref["noisy_times"][ref["noisy_senders"] == k] for k in range(trials)]
    for start, stop in ((20.0, 400.0), (400.0, 800.0)):
        a = np.array([np.sum((s > start) & (s <= stop)) for s in ours])
        b = np.array([np.sum((s > start) & (s <= stop)) for s in theirs])
        # Means of 300 trials: 4 standard errors of the difference (false alarm < 1e-4).
        tolerance = 4 * np.sqrt(a.var() / trials + b.var() / trials)
        assert abs(a.mean() - b.mean()) < tolerance, (start, a.mean(), b.mean())
        assert a.mean() > 5
    isi_ours = np.concatenate([np.diff(s) for s in ours])
    isi_theirs = np.concatenate([np.diff(s) for s in theirs])
    # Two-sample Kolmogorov-Smirnov test on ~7000 intervals each; the intervals of one trial
    # are not independent, so the threshold is strict (p > 1e-4) rather than 0.05.
    assert stats.ks_2samp(isi_ours, isi_theirs).pvalue > 1e-4


def test_same_key_same_trains_and_vmap_over_keys_equals_loop():
    model = GIF(tau_stc=(10.0,), q_stc=(20.0,), tau_sfa=(50.0,), q_sfa=(5.0,), Delta_V=2.0)

    def trains(key):
        return bs.run(
            model,
            model.init(4, key=key),
            inputs=200.0,
            steps=2000,
            dt=0.1,
            stream=False,
            record=["spikes"],
        ).spikes["spikes"]

    keys = jax.random.split(jax.random.key(3), 3)
    batched = jax.jit(jax.vmap(trains))(keys)
    for k in range(3):
        np.testing.assert_array_equal(batched[k], trains(keys[k]))
    np.testing.assert_array_equal(trains(keys[0]), trains(keys[0]))
    assert not np.array_equal(batched[0], batched[1])
    assert batched.sum() > 20


def test_firing_probability_has_a_gradient():
    """The straight-through estimator passes a gradient from spike counts to the drive."""
    model = GIF(Delta_V=2.0)

    def count(current):
        return (
            bs.run(
                model,
                model.init(20),
                inputs=current,
                steps=1000,
                dt=0.1,
                stream=False,
                record=["spikes"],
            )
            .spikes["spikes"]
            .sum()
        )

    grad = jax.grad(count)(jnp.asarray(160.0))
    assert np.isfinite(grad) and grad > 0


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(Delta_V=0.0), "Delta_V"),
        (dict(lambda_0=-1.0), "lambda_0"),
        (dict(tau_stc=(10.0,), q_stc=(1.0, 2.0)), "tau_stc"),
        (dict(tau_sfa=(-5.0,), q_sfa=(1.0,)), "tau_sfa"),
        (dict(t_ref=-1.0), "t_ref"),
    ],
)
def test_bad_parameters_are_rejected_by_name(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        GIF(**kwargs)
