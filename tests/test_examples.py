"""The examples run at their default (small) size and write their figures."""


def test_single_neurons_example_writes_figure(run_example):
    assert "Izhikevich CH" in run_example("single_neurons")


def test_coba_example_prints_rates_and_writes_raster(run_example):
    assert "CV(ISI)" in run_example("coba", "--n", 1000, "--duration", 200)


def test_stimulation_example_prints_epoch_rates_and_writes_figure(run_example):
    assert "LIF rate" in run_example("stimulation", "--n", 50, "--duration", 400)


def test_spatial_network_example_prints_connection_statistics_and_rates(run_example):
    out = run_example("spatial_network", "--duration", 200)
    assert "E -> E" in out and "mean in-degree" in out and "I:" in out


def test_brunel_regimes_example_prints_the_four_regimes(run_example):
    out = run_example("brunel_regimes", "--n-e", 400, "--duration", 200)
    assert all(label in out for label in ("SR", "SI fast", "AI", "SI slow"))
    assert out.count("60-500 Hz") == 4


def test_structural_plasticity_example_grows_synapses(run_example):
    out = run_example("structural_plasticity", "--duration", 4000)
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    rows = [r for r in rows if r[0].isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4]
    assert int(rows[2][3]) == 0 and int(rows[3][3]) > 0  # first E synapses made at 3 s
    assert "unplaced synapses: 0, truncated elements: 0" in out
