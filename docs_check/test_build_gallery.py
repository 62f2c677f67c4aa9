"""scripts/build_gallery.py on a made-up examples folder: it draws what changed and only that,
writes each example's entry, and stops on an example that fails, with its output."""

import importlib.util
import json
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "build_gallery.py"

WRITES_FIGURE = '''"""Writes a figure.

More about it."""
import sys
open(sys.argv[sys.argv.index("--out") + 1], "wb").write(b"png")
'''

FAILS = '''"""Fails."""
raise SystemExit("no figure today")
'''


@pytest.fixture
def gallery(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("build_gallery", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "EXAMPLES", tmp_path / "examples")
    monkeypatch.setattr(module, "GALLERY", tmp_path / "gallery")
    module.EXAMPLES.mkdir()
    module.GALLERY.mkdir()
    return module


def test_a_figure_is_drawn_again_only_when_its_source_changes(gallery):
    example = gallery.EXAMPLES / "dot.py"
    example.write_text(WRITES_FIGURE)
    assert not gallery.is_fresh(example)
    gallery.draw(example)
    assert (gallery.GALLERY / "dot.png").read_bytes() == b"png"
    assert gallery.is_fresh(example)
    record = json.loads((gallery.GALLERY / "dot.json").read_text())
    assert record["source_sha256"] == gallery.source_hash(example)
    example.write_text(WRITES_FIGURE + "# changed\n")
    assert not gallery.is_fresh(example)


def test_an_entry_has_the_description_figure_command_and_source(gallery):
    example = gallery.EXAMPLES / "dot.py"
    example.write_text(WRITES_FIGURE)
    gallery.draw(example)
    entry = gallery.entry(example)
    assert entry.startswith("## dot\n\nWrites a figure.\n")
    assert "More about it" not in entry
    assert "(dot.png)" in entry
    assert "python examples/dot.py --out dot.png" in entry
    assert "(dot.py)" in entry


def test_an_example_that_fails_is_reported_with_its_output(gallery):
    example = gallery.EXAMPLES / "broken.py"
    example.write_text(FAILS)
    with pytest.raises(RuntimeError, match="no figure today"):
        gallery.draw(example)
    assert not gallery.is_fresh(example)
