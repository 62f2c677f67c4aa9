"""The plasticity examples run at their default size, write their figures and print what the
experiments of docs/plasticity.md claim (the experiments themselves are tested in
tests/plasticity/)."""

import re


def _numbers(pattern, text):
    return [float(v) for v in re.findall(pattern, text)]


def test_stdp_window_example_matches_the_analytic_window(run_example):
    stdout = run_example("stdp_window", min_bytes=20_000)
    errors = _numbers(r"analytic\| = (\S+)", stdout)
    # all-to-all and nearest, one pair and two-then-one: float32 weights near 0.5 round at
    # ~3e-8 (measured 3.1e-8)
    assert len(errors) == 4
    assert max(errors) < 1e-6


def test_triplet_frequency_example_matches_the_closed_form_and_sjostrom(run_example):
    stdout = run_example("triplet_frequency", min_bytes=20_000)
    # 120 float32 updates of a weight below 1: rounding ~1e-7 each (measured 5.8e-7)
    errors = _numbers(r"max \|update - formula\| = (\S+)", stdout)
    assert len(errors) == 2 and max(errors) < 1e-5
    all_to_all = stdout.split("all_to_all:")[1].split("nearest:")[0]
    rows = {float(f): (float(plus), float(minus)) for f, plus, minus in re.findall(
        r"^\s+(\S+)\s+(\S+)\s+/\s+\S+\s+(\S+)\s+/\s+\S+$", all_to_all, flags=re.MULTILINE)}
    assert sorted(rows) == [0.1, 1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    assert rows[0.1][1] < -0.2 and abs(rows[0.1][0]) < 1e-4   # low frequency: pair window only
    assert rows[50.0][0] > 0.05 and rows[50.0][1] > 0.05       # high frequency: both potentiate


def test_hebbian_example_finds_the_first_component_and_the_subspace(run_example):
    stdout = run_example("hebbian_subspace", min_bytes=20_000)
    (cosine,) = _numbers(r"\|cos\(w, first PC\)\| = (\S+),", stdout)
    angles = _numbers(r"(\d+\.\d+)(?:,| degrees)", stdout.split("principal angles")[1])
    assert cosine > 0.99
    assert len(angles) == 3 and max(angles) < 5.0


def test_inhibitory_example_brings_the_rate_to_the_target(run_example):
    stdout = run_example("inhibitory_plasticity", min_bytes=20_000)
    found = re.findall(r"rho0 =\s+(\S+) Hz:\s+\S+ Hz ->\s+(\S+) Hz", stdout)
    # 20 s of the second half: ~100 and ~300 spikes, Poisson error ~10 % and ~6 %
    assert [float(target) for target, _ in found] == [5.0, 15.0]
    for target, rate in found:
        assert abs(float(rate) / float(target) - 1.0) < 0.2, stdout
    (uncontrolled,) = _numbers(r"no plasticity:\s+\S+ Hz ->\s+(\S+) Hz", stdout)
    assert uncontrolled > 25.0


def test_song_miller_abbott_example_prints_fractions_and_writes_figure(run_example):
    stdout = run_example("song_miller_abbott", "--duration", 5, "--seed", 1)
    assert "output rate" in stdout
    assert "> 0.9 g_max" in stdout
    assert "Brian2 reference" in stdout


def test_distal_reward_example_prints_weights_and_writes_figure(run_example):
    stdout = run_example("distal_reward", "--n", 200, "--minutes", 0.5, "--chunk", 10)
    assert "chosen synapse" in stdout and "wall time" in stdout
