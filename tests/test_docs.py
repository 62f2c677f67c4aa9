"""Every public name has a docs entry and a docstring; docstring examples run."""

import doctest
import importlib
import pathlib
import pkgutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))


def _public(module_name):
    module = importlib.import_module(module_name)
    for name in module.__all__:
        obj = getattr(module, name)
        if type(obj).__name__ == "module" or not callable(obj):
            continue  # submodules are checked on their own; constants have no docstring
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


def _all_modules():
    """Every module of brainsim, so that no docstring example goes unrun (brainsim_ops's
    examples are checked by tests/ops)."""
    import brainsim

    found = pkgutil.walk_packages(brainsim.__path__, prefix="brainsim.")
    return ["brainsim"] + sorted(info.name for info in found)


def _public_modules():
    """`brainsim` and its public first-level modules that declare `__all__`."""
    names = [m for m in _all_modules() if m.count(".") <= 1 and "._" not in m]
    return [m for m in names if hasattr(importlib.import_module(m), "__all__")]


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_name_has_a_docs_entry_and_docstring(module_name):
    for qualified, obj in _public(module_name):
        assert any(obj is entry for entry in DOCUMENTED), f"{qualified} has no entry in docs/"
        assert obj.__doc__ and obj.__doc__.strip(), f"{qualified} has no docstring"


@pytest.mark.parametrize("module_name", _all_modules())
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
