"""Spike sources: counts, rate profiles and interval laws against theory and NEST 3.10."""

import pathlib

import jax
import numpy as np
import pytest
from scipy import stats

import brainsim as bs
from brainsim.stimulation import (
    MIP,
    GammaProcess,
    InhomogeneousPoisson,
    PulsePacket,
    SinusoidalPoisson,
    Waveform,
)

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
DT = 0.1


@pytest.fixture(scope="module")
def nest():
    ref = np.load(REFERENCE / "nest_stimulation_spikes.npz")

    def device(model):
        return {k.split("__")[1]: ref[k] for k in ref.files if k.startswith(model + "__")}

    return device


def _events(source, n, duration, seed):
    result = bs.run(source, source.init(n, key=jax.random.key(seed)), duration=duration, dt=DT)
    return result.spikes["spikes"]


def test_inhomogeneous_poisson_counts_match_theory_and_nest(nest):
    ref = nest("inhomogeneous_poisson_generator")
    n, duration = int(ref["n"]), float(ref["duration"])
    source = InhomogeneousPoisson(times=ref["rate_times"], rates=ref["rate_values"])
    ours = np.histogram(_events(source, n, duration, 0).times, np.arange(0.0, 1000.5, 1.0))[0]
    theirs = ref["psth"]
    profile = np.asarray(Waveform(ref["rate_times"], ref["rate_values"])(np.arange(10_000) * DT))
    for window in (slice(0, 300), slice(300, 600), slice(600, 1000)):
        # expected count: n · Σ λ(t_k) dt over the window's steps; Poisson sd sqrt(expected)
        expected = n * profile[window.start * 10 : window.stop * 10].sum() * DT * 1e-3
        assert abs(ours[window].sum() - expected) <= 5 * np.sqrt(expected) + 1
        assert abs(theirs[window].sum() - expected) <= 5 * np.sqrt(expected) + 1
    assert theirs[600:].sum() == ours[600:].sum() == 0
    assert ours[:1].sum() == 0  # the rate starts at 1 ms


def test_inhomogeneous_poisson_from_a_rate_function():
    source = InhomogeneousPoisson(lambda t: 40.0 * (t >= 50.0) - 10.0)  # negative counts as 0
    events = _events(source, 400, 100.0, 1)
    assert np.all(events.times >= 50.0 - 1e-6)
    expected = 400 * 30.0 * 0.05  # 30 Hz for 50 ms
    assert abs(len(events.times) - expected) < 5 * np.sqrt(expected)


def _folded(times, period, bins):
    return np.histogram(np.mod(times, period), np.linspace(0.0, period, bins + 1))[0]


def test_sinusoidal_poisson_rate_profile_and_phase_match_theory_and_nest(nest):
    ref = nest("sinusoidal_poisson_generator")
    n, duration = int(ref["n"]), float(ref["duration"])
    rate, amplitude, frequency, phase = (
        float(ref[k]) for k in ("rate", "amplitude", "frequency", "phase")
    )
    source = SinusoidalPoisson(rate=rate, amplitude=amplitude, frequency=frequency, phase=phase)
    period, bins = 1000.0 / frequency, 10
    ours = _folded(_events(source, n, duration, 2).times, period, bins)
    theirs = ref["psth"].reshape(-1, int(period)).sum(0).reshape(bins, -1).sum(1)
    t = np.arange(0.0, period, DT)
    rate_t = rate + amplitude * np.sin(2 * np.pi * frequency * t * 1e-3 + np.deg2rad(phase))
    expected = rate_t.reshape(bins, -1).sum(1) * DT * 1e-3 * n * duration / period
    for counts in (ours, theirs):
        np.testing.assert_array_less(np.abs(counts - expected), 5 * np.sqrt(expected))
    np.testing.assert_array_less(np.abs(ours - theirs), 5 * np.sqrt(ours + theirs))


def test_shared_sinusoidal_train_is_the_same_for_all_neurons():
    source = SinusoidalPoisson(rate=50.0, amplitude=50.0, frequency=4.0, individual=False)
    events = _events(source, 8, 200.0, 3)
    trains = events.trains()
    assert len(trains[0]) > 3
    for train in trains[1:]:
        np.testing.assert_array_equal(train, trains[0])


def test_gamma_intervals_follow_the_gamma_law_and_nest(nest):
    ref = nest("gamma_sup_generator")
    rate, k = float(ref["rate"]), int(ref["gamma_shape"])
    events = _events(GammaProcess(rate=rate, shape=k), 200, 2000.0, 4)
    # The first 25 intervals of each train (every train has more): taking all intervals inside
    # the window would favour short ones, as a long one more likely crosses the window's end.
    trains = events.trains()
    assert min(len(train) for train in trains) > 25
    ours = np.concatenate([np.diff(train)[:25] for train in trains])
    law = stats.gamma(a=k, scale=1000.0 / (k * rate))
    # Stage transitions on a 0.1-ms grid (probability kλdt = 0.008 per step) move the ISI law
    # by O(kλdt) from the gamma law: far below what 8000 intervals resolve.
    assert stats.kstest(ours, law.cdf).pvalue > 1e-3
    assert stats.ks_2samp(ours, ref["isi"]).pvalue > 1e-3
    for isi in (ours, ref["isi"]):
        cv = isi.std() / isi.mean()  # (1 - kλdt) / k = 0.248 vs 1/k = 0.25
        assert abs(cv - 1 / np.sqrt(k)) < 5 * 0.5 / np.sqrt(isi.size)  # sd of a CV ≈ CV / sqrt(2m)
    rate_measured = sum(len(train) for train in trains) / 200 / 2.0
    assert abs(rate_measured - rate) < 5 * np.sqrt(rate / (200 * 2.0 * k))


def _mean_pairwise_correlation(binned):
    r = np.corrcoef(binned)
    return r[np.triu_indices(len(binned), 1)].mean()


def test_mip_rate_and_pairwise_correlation_match_theory_and_nest(nest):
    ref = nest("mip_generator")
    rate, p = float(ref["rate"]), float(ref["p_copy"])
    events = _events(MIP(rate=rate, copy_probability=p), 50, 4000.0, 5)
    bins = np.arange(0.0, 4000.5, 10.0)
    ours = np.stack([np.histogram(tr, bins)[0] for tr in events.trains()])
    # sd of the mean pairwise correlation over 50 trains: 0.016 (200 bins), 0.012 (400 bins),
    # measured over 100 seeds of a NumPy MIP.
    assert abs(_mean_pairwise_correlation(ours) - p) < 5 * 0.012
    assert abs(_mean_pairwise_correlation(ref["binned"]) - p) < 5 * 0.016
    # The child rate rate · p: the mother's count (Poisson, mean rate · T) sets the sd.
    mother_count = rate * 4.0
    assert abs(ours.sum() / 50 / 4.0 - rate * p) < 5 * p * np.sqrt(mother_count) / 4.0


def test_pulse_packets_have_gaussian_offsets_like_nest(nest):
    ref = nest("pulsepacket_generator")
    centres, activity, sdev = ref["pulse_times"], int(ref["activity"]), float(ref["sdev"])
    source = PulsePacket(times=centres, activity=activity, sdev=sdev)
    events = _events(source, 30, 300.0, 6)

    def offsets(times):
        return times - centres[np.argmin(np.abs(times[:, None] - centres), axis=1)]

    ours, theirs = offsets(events.times), offsets(ref["times"].astype(float))
    assert stats.kstest(ours, stats.norm(scale=sdev).cdf).pvalue > 1e-3
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    # 20 spikes per pulse and neuron; a few merge when two fall into one step.
    assert 0.9 * theirs.size <= ours.size <= theirs.size


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: InhomogeneousPoisson(times=[0.0, 1.0], rates=[1.0, -1.0]), "`rates`"),
        (lambda: InhomogeneousPoisson(times=[1.0, 0.0], rates=[1.0, 1.0]), "`times`"),
        (lambda: InhomogeneousPoisson(), "either `rate`"),
        (lambda: SinusoidalPoisson(rate=-1.0, amplitude=1.0, frequency=1.0), "`rate`"),
        (lambda: SinusoidalPoisson(rate=1.0, amplitude=-1.0, frequency=1.0), "`amplitude`"),
        (
            lambda: SinusoidalPoisson(
                rate=[1.0, 2.0], amplitude=1.0, frequency=1.0, individual=False
            ),
            "scalar",
        ),
        (lambda: GammaProcess(rate=-5.0), "`rate`"),
        (lambda: GammaProcess(rate=5.0, shape=0), "`shape`"),
        (lambda: MIP(rate=10.0, copy_probability=1.5), "`copy_probability`"),
        (lambda: MIP(rate=-10.0, copy_probability=0.5), "`rate`"),
        (lambda: PulsePacket(times=[1.0], activity=2, sdev=-1.0), "`sdev`"),
        (lambda: PulsePacket(times=[1.0], activity=-2, sdev=1.0), "`activity`"),
        (lambda: GammaProcess(rate=5.0).init(3), "`key`"),
    ],
)
def test_bad_parameters_raise_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_rate_that_is_not_a_function_is_refused():
    with pytest.raises(TypeError, match="`rate` must be a function"):
        InhomogeneousPoisson(3.0)
