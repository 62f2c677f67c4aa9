"""brainsim.analysis: the spike inputs it accepts (RunResult streamed or traced, SpikeEvents,
arrays) agree; the JAX functions are differentiable (grad vs finite differences, x64); bad
input raises errors that name the argument; docstring examples run and every name has docs."""

import doctest
import importlib
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim import analysis
from brainsim._result import RunResult, SpikeEvents


@pytest.fixture(scope="module")
def runs():
    lif = bs.neurons.LIF(R=0.1)
    state = lif.init(6, key=jax.random.key(0))
    return [bs.run(lif, state, inputs=jnp.linspace(200.0, 400.0, 6), duration=200.0, dt=0.1,
                   record=["spikes"], stream=stream) for stream in (True, False)]


def test_streamed_and_traced_runs_and_events_give_the_same_numbers(runs):
    streamed, traced = runs
    events = streamed.spikes["spikes"]
    as_tuple = (events.times, events.indices, events.n)
    assert not isinstance(traced.spikes["spikes"], SpikeEvents)
    reference = analysis.spike_counts(streamed, 5.0)
    assert reference.shape == (40, 6) and float(reference.sum()) == len(events) > 0
    for spikes in (traced, events, as_tuple):
        counts = analysis.spike_counts(spikes, 5.0, t_stop=200.0)
        np.testing.assert_array_equal(counts, reference)
    np.testing.assert_allclose(analysis.firing_rates(traced), analysis.firing_rates(streamed))
    np.testing.assert_allclose(analysis.cv(traced), analysis.cv(as_tuple))
    assert float(np.mean(analysis.firing_rates(streamed))) == pytest.approx(streamed.rate())


def test_rate_of_a_traced_run_is_differentiable_in_its_spikes(runs):
    traced = runs[1]

    def smoothed_rate_sum(raster):
        result = RunResult(dt=traced.dt, t0=traced.t0, steps=traced.steps, every=1,
                           final_state=None, spikes={"spikes": raster}, traces={}, indices={})
        _, rate = analysis.population_rate(result, 1.0, kernel="gaussian", width=5.0)
        return rate[100]

    grad = jax.grad(smoothed_rate_sum)(traced.spikes["spikes"])
    # spikes of any neuron in the bin at 100-101 ms weigh most; bins 4 sigma away not at all
    assert grad.shape == traced.spikes["spikes"].shape
    assert float(grad[1000, 0]) > 0 and float(grad[1000, 0]) == float(grad[1005, 3])
    assert float(jnp.abs(grad[:790]).max()) == 0


@pytest.mark.parametrize("which", ["psd", "corr", "fano", "cch", "chi", "sta", "lfp"])
def test_gradients_equal_finite_differences(which, x64, finite_differences):
    x = np.random.default_rng(0).normal(size=(32, 2))

    def value(x):
        x = jnp.asarray(x)
        raster = RunResult(dt=1.0, t0=0.0, steps=32, every=1, final_state=None,
                           spikes={"spikes": x}, traces={}, indices={})
        if which == "psd":
            return analysis.power_spectrum(x.T, 1.0, segment=16.0)[1][:, 3].sum()
        if which == "corr":
            return analysis.correlation_matrix(raster, 4.0)[0, 1]
        if which == "fano":
            return analysis.fano_factor(raster, 4.0)[1]
        if which == "cch":
            return analysis.cross_correlogram(raster, raster, 2.0, 6.0)[1] @ jnp.arange(7.0)
        if which == "chi":
            return analysis.chi(x)
        if which == "sta":
            return analysis.spike_triggered_average(x, np.array([10.2, 25.0]), dt=1.0,
                                                    window=(-3.0, 2.0))[1][1, 1]
        return analysis.lfp_proxy(x, x**2, dt=1.0, delay=2.0)[20]

    both = jax.jit(jax.value_and_grad(value))          # one compilation for both
    np.testing.assert_allclose(both(x)[1], finite_differences(lambda x: both(x)[0], x),
                               rtol=1e-6, atol=1e-8)


def test_jit_gives_the_eager_spectrum():
    x = np.random.default_rng(1).normal(size=256)
    psd = jax.jit(lambda s: analysis.power_spectrum(s, 1.0)[1])(x)
    np.testing.assert_allclose(psd, analysis.power_spectrum(x, 1.0)[1], rtol=1e-6)


SPIKES = (np.array([1.0, 2.0, 3.0]), np.array([0, 1, 0]), 2)


@pytest.mark.parametrize(("call", "named"), [
    (lambda: analysis.spike_counts(SPIKES, -1.0, t_stop=10.0), "bin_size"),
    (lambda: analysis.spike_counts(SPIKES, 20.0, t_stop=10.0), "bin_size"),
    (lambda: analysis.spike_counts(SPIKES, 1.0), "t_stop"),
    (lambda: analysis.spike_counts(SPIKES, 1.0, t_start=5.0, t_stop=5.0), "t_stop"),
    (lambda: analysis.spike_counts((np.zeros(2), np.array([0, 3]), 2), 1.0, t_stop=5.0),
     "indices"),
    (lambda: analysis.spike_counts((np.zeros(2), np.zeros(3, int), 2), 1.0, t_stop=5.0),
     "same length"),
    (lambda: analysis.spike_counts((np.zeros(1), np.zeros(1, int), 0), 1.0, t_stop=5.0), "n"),
    (lambda: analysis.spike_counts(np.zeros((2, 2)), 1.0, t_stop=5.0), "spikes"),
    (lambda: analysis.population_rate(SPIKES, 1.0, kernel="gauss", width=2.0, t_stop=9.0),
     "kernel"),
    (lambda: analysis.population_rate(SPIKES, 1.0, kernel="gaussian", t_stop=9.0), "width"),
    (lambda: analysis.population_rate(SPIKES, 1.0, kernel="gaussian", width=-2.0,
                                      t_stop=9.0), "width"),
    (lambda: analysis.cv(SPIKES, min_intervals=1), "min_intervals"),
    (lambda: analysis.cross_correlogram(SPIKES, SPIKES, 1.0, -2.0, t_stop=9.0), "max_lag"),
    (lambda: analysis.cross_correlogram(SPIKES, SPIKES, 1.0, 20.0, t_stop=9.0), "max_lag"),
    (lambda: analysis.power_spectrum(np.ones(100), 0.0), "dt"),
    (lambda: analysis.power_spectrum(np.ones(100), 1.0, overlap=1.0), "overlap"),
    (lambda: analysis.power_spectrum(np.ones(100), 1.0, segment=500.0), "segment"),
    (lambda: analysis.power_spectrum(np.ones(100), 1.0, n_segments=0), "n_segments"),
    (lambda: analysis.spike_triggered_average(np.ones(9), SPIKES, dt=1.0, window=(2.0, -2.0)),
     "window"),
    (lambda: analysis.spike_triggered_average(np.ones((9, 2, 2)), SPIKES, dt=1.0,
                                              window=(-2.0, 2.0)), "signal"),
    (lambda: analysis.lfp_proxy(np.ones(9), np.ones(8), dt=1.0), "inhibitory"),
    (lambda: analysis.lfp_proxy(np.ones(9), np.ones(9), dt=1.0, delay=-1.0), "delay"),
    (lambda: analysis.lfp_proxy(np.ones(9), np.ones(9), dt=1.0, alpha=-1.0), "alpha"),
    (lambda: analysis.chi(np.ones(9)), "traces"),
    (lambda: analysis.spike_time_tiling(SPIKES, SPIKES, dt=0.0, t_stop=9.0), "dt"),
])
def test_bad_input_raises_an_error_naming_it(call, named):
    with pytest.raises((ValueError, TypeError), match=named):
        call()


def test_bin_size_must_fit_the_steps_of_a_traced_run(runs):
    with pytest.raises(ValueError, match="bin_size"):
        analysis.spike_counts(runs[1], 0.25)
    with pytest.raises(KeyError, match="E.spikes"):
        analysis.spike_counts(runs[0], 1.0, name="E.spikes")


MODULES = ["_rates", "_isi", "_correlations", "_spectra", "_sta", "_lfp", "_synchrony"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    found = doctest.testmod(importlib.import_module(f"brainsim.analysis.{module}"),
                            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert found.attempted > 0 and found.failed == 0


def test_every_public_name_has_a_docstring_and_a_docs_entry():
    docs = "\n".join(p.read_text() for p in (pathlib.Path(__file__).resolve().parents[2]
                                             / "docs").glob("*.md"))
    for name in analysis.__all__:
        assert getattr(analysis, name).__doc__.strip()
        assert f"::: brainsim.analysis.{name}\n" in docs + "\n", f"{name} has no docs entry"
