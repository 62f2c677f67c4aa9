"""Every public name has a docs entry and a docstring; docstring examples run."""

import doctest
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
MODULES = [
    "brainsim",
    "brainsim.neurons",
    "brainsim.surrogate",
    "brainsim.integrators",
    "brainsim.plot",
    "brainsim.synapses",
    "brainsim.network",
    "brainsim.benchmarks",
    "brainsim.train",
    "brainsim.plasticity",
    "brainsim.astro",
    "brainsim.continual",
    "brainsim.datasets",
    "brainsim.nwb",
    "brainsim.fit",
    "brainsim.analysis",
]


def _public(module_name):
    module = importlib.import_module(module_name)
    for name in module.__all__:
        obj = getattr(module, name)
        if getattr(obj, "__name__", None) and type(obj).__name__ == "module":
            continue
        yield f"{module_name}.{name}", obj


ENTRIES = [line[4:].strip() for line in DOCS.splitlines() if line.startswith("::: ")]


def _resolve(path):
    module_name, _, attribute = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError):
        return importlib.import_module(path)


def test_every_docs_entry_names_an_existing_object():
    for path in ENTRIES:
        try:
            _resolve(path)
        except ImportError:
            pytest.fail(f"docs/ has an entry `::: {path}` that does not exist")


def _documented_objects():
    """The objects named by the `::: path` entries of docs/ (re-exports count once)."""
    found = []
    for path in ENTRIES:
        try:
            found.append(_resolve(path))
        except ImportError:
            continue
    return found


DOCUMENTED = _documented_objects()


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_has_a_docs_entry_and_docstring(module_name):
    for qualified, obj in _public(module_name):
        assert any(obj is entry for entry in DOCUMENTED), f"{qualified} has no entry in docs/"
        assert obj.__doc__ and obj.__doc__.strip(), f"{qualified} has no docstring"


@pytest.mark.parametrize(
    "module_name",
    [
        "brainsim.surrogate",
        "brainsim.integrators",
        "brainsim._run",
        "brainsim.neurons._lif",
        "brainsim.neurons._exponential",
        "brainsim.neurons._izhikevich",
        "brainsim.neurons._hodgkin_huxley",
        "brainsim.neurons._sources",
        "brainsim.synapses._kinetics",
        "brainsim.synapses._outputs",
        "brainsim.synapses._short_term",
        "brainsim.benchmarks",
        "brainsim.network._network",
        "brainsim._cores",
        "brainsim.train._readout",
        "brainsim.train._losses",
        "brainsim.train._parameters",
        "brainsim.train._layers",
        "brainsim.train._online",
        "brainsim.train._delays",
        "brainsim.train._tasks",
        "brainsim.train._motion",
        "brainsim.astro._gchi",
        "brainsim.astro._gap_junctions",
        "brainsim.astro._tripartite",
        "brainsim.astro._lr1994",
        "brainsim.astro._sic",
        "brainsim.neurons._aeif_astro",
        "brainsim.train._projection",
        "brainsim.train._rate",
        "brainsim.continual._metrics",
        "brainsim.continual._ewc",
        "brainsim.continual._gpm",
        "brainsim.continual._tasks",
        "brainsim.continual._harness",
        "brainsim.datasets._idrest",
        "brainsim.datasets._recording",
        "brainsim.datasets._spikes",
        "brainsim.datasets._steps",
        "brainsim.nwb",
        "brainsim.fit._spike_data",
        "brainsim.fit._trace",
        "brainsim.fit._spike_losses",
        "brainsim.fit._latency",
        "brainsim.fit._weighted_sum",
        "brainsim.fit._coincidence",
        "brainsim.fit._victor_purpura",
        "brainsim.fit._bounds",
        "brainsim.fit._default_bounds",
        "brainsim.fit._parametrize",
        "brainsim.fit._sweeps",
        "brainsim.fit._simulate",
        "brainsim.fit._recording_loss",
        "brainsim.fit._search",
        "brainsim.fit._evaluate",
        "brainsim.fit._result",
        "brainsim.fit._fitter",
    ],
)
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
