"""Every public name of brainsim_ops has a docstring and an entry in docs/ops.md."""

import pathlib

import brainsim_ops as bo

DOCS = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "ops.md").read_text()


def test_every_public_name_has_docs_entry_and_docstring():
    for name in bo.__all__:
        obj = getattr(bo, name)
        assert f"::: brainsim_ops.{name}" in DOCS, name
        assert obj.__doc__ and obj.__doc__.strip(), name
