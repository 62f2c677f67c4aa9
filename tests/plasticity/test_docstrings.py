"""The docstring examples of brainsim.plasticity run (tests/test_docs.py does not list it)."""

import doctest
import importlib

import pytest

import brainsim.plasticity

MODULES = ["_stdp", "_triplet", "_three_factor", "_distal_reward", "_error_modulated",
           "_inhibitory", "_hebbian", "_lateral", "_compose"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"brainsim.plasticity.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_public_name_has_a_docstring_with_reference_or_example():
    for name in brainsim.plasticity.__all__:
        doc = getattr(brainsim.plasticity, name).__doc__
        assert doc and doc.strip(), name
