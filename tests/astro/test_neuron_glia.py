"""The neuron–glia network (examples 1 and 6 of Stimberg et al. 2019) against Brian2 2.9.

Both networks are chaotic and their connectivity is drawn by each simulator's own generator, so
they are compared by statistics: population rates per window within 20 % (the issue's
tolerance), and the qualitative pattern the paper reports for example 6.
"""

import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))

import astro_network  # noqa: E402

REFERENCE = ROOT / "tests" / "reference"


def _cv(run, n):
    cvs = []
    for i in range(n):
        t = np.sort(run["t_N"][run["i_N"] == i])
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs))


def test_example1_rates_and_irregularity_match_brian2():
    ref = np.load(REFERENCE / "brian2_astro_ex1.npz")
    run = astro_network.simulate(astrocytes=False, duration=1000.0)
    rate_e, rate_i, _ = astro_network.rates_in_bins(run, 250.0)
    want_e = ref["rate_E_bins"].reshape(4, 5).mean(1)  # 50-ms bins -> 250-ms windows
    want_i = ref["rate_I_bins"].reshape(4, 5).mean(1)
    np.testing.assert_allclose(rate_e, want_e, rtol=0.2)
    np.testing.assert_allclose(rate_i, want_i, rtol=0.2)
    assert _cv(run, astro_network.N_E) == pytest.approx(float(ref["cv_E"]), rel=0.2)


@pytest.mark.slow
def test_example6_rates_releases_and_pattern_match_brian2():
    ref = np.load(REFERENCE / "brian2_astro_ex6.npz")
    run = astro_network.simulate(astrocytes=True, duration=8000.0)
    rate_e, rate_i, releases = astro_network.rates_in_bins(run, 2000.0)
    np.testing.assert_allclose(rate_e, ref["epoch_rate_E"], rtol=0.2)
    np.testing.assert_allclose(rate_i, ref["epoch_rate_I"], rtol=0.2)
    want = ref["epoch_astro_releases"]
    assert releases[1] == pytest.approx(want[1], rel=0.2)  # the burst after the step onset
    # the paper's pattern: near-silent baseline, rates up ~6x in the step, a burst of
    # releases 0.3-1 s after its onset, then E elevated (population bursts) and I at baseline
    assert rate_e[0] < 1.0 and rate_e[1] > 3 * rate_e[0]
    onset = run["t_A"][(run["t_A"] >= 2000.0) & (run["t_A"] < 4000.0)]
    assert 2300.0 <= np.median(onset) <= 3000.0
    assert rate_e[2] > 2 * rate_e[0] and rate_i[2] < 1.5 * rate_i[0]


def test_example_script_runs(run_example):
    out = run_example("astro_network", "--duration", "300", min_bytes=5_000)
    assert "astrocyte releases" in out
