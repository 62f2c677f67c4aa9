"""The rate examples run, write their figure, and show what they claim."""

import pytest


@pytest.mark.slow  # ~10 s of CPU, 30-70 s on 2 busy cores: 6 x 10k RK4 steps
def test_jansen_rit_example_has_an_alpha_peak_at_c_135(run_example):
    out = run_example("jansen_rit")
    rows = {float(line.split()[0]): [float(x) for x in line.split()[1:]]
            for line in out.splitlines()[1:] if line.strip()}
    peak, _ = rows[135.0]
    assert 8.0 <= peak <= 12.0, out  # Jansen & Rit (1995): an alpha rhythm at C = 135
    # Fig. 3: large spike-like waves at C = 270 and 675, small noisy activity at C = 68, 1350
    assert rows[270.0][1] > 5 * rows[135.0][1] and rows[68.0][1] < rows[135.0][1]


@pytest.mark.slow  # ~10 s of CPU, 30-70 s on 2 busy cores: 20k network steps
def test_hybrid_example_relays_the_rate_signal_through_spikes(run_example):
    out = run_example("rate_spike_hybrid")
    values = {line.split(":")[0]: line for line in out.splitlines()}
    e_rate = float(values["E spikes"].split()[2])
    f_rate = float(values["F readout"].split()[3])
    corr = float(out.split("correlation(R, F) = ")[1].split()[0])
    assert corr > 0.8, out  # the 2 Hz signal survives the Poisson -> LIF -> filter chain
    # F's readout (after 200 ms) is E's firing rate, up to the first 200 ms's share (~10 %)
    assert abs(f_rate - e_rate) < 0.2 * e_rate, out
