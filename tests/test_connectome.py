"""C. elegans connectomes (`brainsim.connectome`): loading cect's data (installed or bundled),
connectivity statistics against cect's own summaries, networks of graded and spiking neurons
with both synapse kinds, transforms and bad input."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim as bs
from brainsim.connectome import _data

TOUCH_ANTERIOR = ["ALML", "ALMR", "AVM"]
COMMAND = ["AVAL", "AVAR", "AVDL", "AVDR", "AVBL", "AVBR", "PVCL", "PVCR"]


@pytest.fixture(scope="module")
def cook():
    return bs.connectome.load_connectome("Cook2019Herm", source="bundled")


@pytest.mark.parametrize("name", bs.connectome.BUNDLED)
def test_bundled_datasets_reproduce_cects_own_summary(name):
    worm = bs.connectome.load_connectome(name, source="bundled")
    stats = worm.statistics()
    assert stats["nodes"] == worm.summary["nodes"] == len(worm)
    classes = [c for c in worm.summary if c != "nodes"]
    assert classes and set(classes) == set(worm.connections)
    for cls in classes:
        nonzero, total = worm.summary[cls]
        assert stats[cls][0] == nonzero == np.count_nonzero(worm.matrix(cls))
        assert int(stats[cls][1]) == int(total)  # cect prints the sum with %i


def test_published_sizes_and_counts(cook):
    """Cook et al. 2019 hermaphrodite: all 302 neurons; gap junctions stored symmetrically."""
    assert len(cook.neurons()) == 302
    classes = {c: int(np.sum(np.asarray(cook.neurons().classes) == c))
               for c in ("sensory", "interneuron", "motor")}  # fmt: skip
    assert sum(classes.values()) == 302 and min(classes.values()) > 80
    gj = cook.matrix("Generic_GJ")
    np.testing.assert_array_equal(gj, gj.T)
    gap = cook.gap
    assert np.all(gap.pre < gap.post)
    off_diagonal = np.count_nonzero(gj) - np.count_nonzero(np.diag(gj))
    assert 2 * len(gap) == off_diagonal
    assert set(bs.connectome.GABAERGIC) <= set(cook.neurons().nodes)
    assert len(bs.connectome.GABAERGIC) == 26


def test_chemical_merges_classes_per_pair():
    worm = bs.connectome.load_connectome("Varshney", source="bundled")
    chem = worm.chemical
    np.testing.assert_allclose(chem.weight.sum(), worm.summary["Generic_CS"][1])
    assert len(chem) == worm.summary["Generic_CS"][0]


def _fake_cect(tmp_path, monkeypatch, worm):
    """A folder laid out like the cect package (cache JSON in its format, cell table), built
    from a bundled dataset, on sys.path: the `source="cect"` path reads it as it reads cect."""
    root = tmp_path / "cect"
    (root / "cache").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "__init__.py").write_text('__version__ = "9.9.9"\n')
    summary = f"Nodes present ({len(worm)}): {sorted(worm.nodes)}\n"
    connections = {}
    for cls in worm.connections:
        m = worm.matrix(cls)
        connections[cls] = m.tolist()
        summary += (f"- Connection type - {cls}: {m.shape}, {np.count_nonzero(m)} non-zero "
                    f"entries, sum of entries = {int(m.sum())}\n{m}\n\n")  # fmt: skip
    (root / "cache" / "VarshneyDataReader.json").write_text(
        json.dumps({"nodes": list(worm.nodes), "connections": connections, "summary": summary}))
    rows = "\n".join(f'{n},"{t}",,,' for n, t in zip(worm.nodes, worm.cell_types, strict=True))
    (root / "data" / "all_cell_info.csv").write_text(
        "Cell name,Type,Name details,Lineage,Classification\n" + rows + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in [m for m in sys.modules if m == "cect" or m.startswith("cect.")]:
        monkeypatch.delitem(sys.modules, module)
    return root


def test_reading_cect_data_files_gives_the_bundled_connectome(tmp_path, monkeypatch):
    bundled = bs.connectome.load_connectome("Varshney", source="bundled")
    _fake_cect(tmp_path, monkeypatch, bundled)
    assert _data.cect_root() == tmp_path / "cect"
    assert bs.connectome.available_connectomes() == ["Varshney"]
    for name in ("Varshney", "VarshneyData", "VarshneyDataReader"):
        read = bs.connectome.load_connectome(name, source="cect")
        assert read.source == "cect 9.9.9" and read.name == "Varshney"
        assert read.nodes == bundled.nodes and read.classes == bundled.classes
        assert read.summary == bundled.summary
        for cls, syn in bundled.connections.items():
            np.testing.assert_array_equal(read.matrix(cls), bundled.matrix(cls))
            assert len(read.connections[cls]) == len(syn)
    assert bs.connectome.load_connectome("Varshney").source == "cect 9.9.9"  # auto: cect first
    with pytest.raises(ValueError, match="has no dataset 'Cook2019Herm'"):
        bs.connectome.load_connectome("Cook2019Herm", source="cect")


def test_without_cect_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(_data, "cect_root", lambda: None)
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps cect"):
        bs.connectome.load_connectome("Varshney", source="cect")
    assert bs.connectome.load_connectome("Varshney").source.startswith("bundled")  # auto
    with pytest.raises(ValueError, match="bundles the connectomes"):
        bs.connectome.load_connectome("White_whole", source="bundled")
    assert bs.connectome.available_connectomes() == list(bs.connectome.BUNDLED)


def test_cell_classes_from_cect_types():
    assert bs.connectome.cell_class("Touch") == "sensory"
    assert bs.connectome.cell_class("Ventral cord motor neuron") == "motor"
    assert bs.connectome.cell_class("Layer 1 interneuron; motorneuron in White et al., 1986") == (
        "interneuron"
    )
    sublateral = "Sublateral motor neuron; interneuron in White et al., 1986"
    assert bs.connectome.cell_class(sublateral) == "motor"
    assert bs.connectome.cell_class("Main body muscle") == "muscle"
    assert bs.connectome.cell_class("Sheath cell other than amphid sheath and phasmid") == "other"


def test_synapse_signs_follow_gabaergic_neurons(cook):
    worm = cook.neurons()
    pre, post, count, inhibitory = bs.connectome.synapse_signs(worm)
    names = np.asarray(worm.nodes)
    np.testing.assert_array_equal(inhibitory, np.isin(names[pre], bs.connectome.GABAERGIC))
    assert np.all(pre != post)
    assert 0.02 < inhibitory.mean() < 0.2  # 26 of 302 neurons, with few output synapses


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_graded_network_spreads_touch_input_and_gap_junctions_need_the_exact_solver(cook):
    """302 graded neurons; 2 pA into the anterior touch cells. Gap junctions of 0.1 nS per
    contact against 1 pF cells couple at up to ~100/ms: the exact half-steps are stable at
    dt = 0.5 ms, the explicit coupling current is not even at 0.05 ms."""
    dt = 0.5
    net = bs.connectome.build_network(cook, dt=dt)
    assert net.sizes["neurons"] == 302
    base = bs.run(net, net.init(), duration=300.0, dt=dt, record=None).final_state
    touch = bs.connectome.sensory_input(cook, TOUCH_ANTERIOR, 2.0)
    result = bs.run(net, base, inputs={"neurons": touch}, duration=300.0, dt=dt,
                    record=["neurons.v"], every=20)  # fmt: skip
    v = np.asarray(result["neurons.v"])
    assert np.all(np.isfinite(v))
    rise = v[-1] - np.asarray(base["neurons"].v)
    worm = cook.neurons()
    assert np.all(rise[worm.index(TOUCH_ANTERIOR)] > 1.0)
    assert np.all(rise[worm.index(COMMAND)] > 0.0)
    explicit = bs.connectome.build_network(cook, gap_method="explicit")
    unstable = bs.run(explicit, explicit.init(), duration=20.0, dt=0.05, record=["neurons.v"],
                      every=40, stream=False)["neurons.v"]  # fmt: skip
    assert not np.all(np.isfinite(unstable)) or np.abs(unstable).max() > 1e3


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_spiking_network_with_both_synapse_kinds(cook):
    net = bs.connectome.build_network(cook, neurons="spiking", g_gap=0.5, g_syn=0.5, dt=0.1,
                                      delay=1.0)  # fmt: skip
    assert {p.name for p in net.projections} == {"chemical_exc", "chemical_inh"}
    touch = bs.connectome.sensory_input(cook, TOUCH_ANTERIOR, 400.0)
    result = bs.run(net, net.init(), inputs={"neurons": touch}, duration=200.0, dt=0.1,
                    record=["neurons.spikes"])  # fmt: skip
    count = result.spikes["neurons.spikes"].count()
    worm = cook.neurons()
    assert np.all(count[worm.index(TOUCH_ANTERIOR)] > 5)
    assert np.count_nonzero(count) > 3


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_jit_vmap_and_grad_through_the_worm(cook, x64, finite_differences):
    worm = cook.neurons()
    sub = worm.subset(np.arange(40))  # a small part keeps the finite differences quick
    touch = jnp.zeros(40).at[0].set(2.0)

    def final_mean_v(g_gap):
        net = bs.connectome.build_network(sub, g_gap=g_gap, dt=0.5)
        result = bs.run(net, net.init(), inputs={"neurons": touch}, duration=50.0, dt=0.5,
                        record=["neurons.v"], stream=False)  # fmt: skip
        return result["neurons.v"][-1].mean()

    gs = jnp.array([0.05, 0.1, 0.2])
    batched = jax.jit(jax.vmap(final_mean_v))(gs)
    np.testing.assert_allclose(batched, [final_mean_v(g) for g in gs], rtol=1e-9)
    grad = jax.grad(final_mean_v)(0.1)
    fd = finite_differences(lambda x: final_mean_v(jnp.asarray(x)), np.array(0.1), eps=1e-5)
    assert float(grad) == pytest.approx(float(fd), rel=1e-4)


def test_bad_input_raises_clear_errors(cook):
    with pytest.raises(ValueError, match="`source` must be"):
        bs.connectome.load_connectome("Varshney", source="web")
    with pytest.raises(TypeError, match="dataset name"):
        bs.connectome.load_connectome(3)
    with pytest.raises(KeyError, match=r"\['NOPE'\] are not in connectome"):
        bs.connectome.sensory_input(cook, ["ALML", "NOPE"], 1.0)
    with pytest.raises(KeyError, match="are not in connectome"):
        bs.connectome.sensory_input(cook, ["MDL01"], 1.0)  # a muscle, not a neuron
    with pytest.raises(ValueError, match="'graded' or 'spiking'"):
        bs.connectome.build_network(cook, neurons="rate")
    with pytest.raises(ValueError, match="`g_gap` must be >= 0"):
        bs.connectome.build_network(cook, g_gap=-1.0)
    with pytest.raises(TypeError, match="must be a Connectome"):
        bs.connectome.build_network({"nodes": []})
    with pytest.raises(ValueError, match="cell classes must be among"):
        cook.of_class("glia")
    with pytest.raises(KeyError, match="has no class 'GABA'"):
        cook.matrix("GABA")
    with pytest.raises(ValueError, match="one value per synapse"):
        bs.connectome.GradedSynapses("neurons", [0, 1], [1, 0], g=[1.0, 2.0, 3.0])


@pytest.mark.slow  # cross-validation, ~10-120 s on a loaded machine
def test_celegans_example(run_example):
    out = run_example("celegans", "--duration", 100)
    assert "302 neurons" in out and "cect summary" in out
