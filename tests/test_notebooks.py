"""Every notebook in notebooks/ runs top to bottom without an error or a warning from brainsim,
and is stored without outputs. Each execution is saved (without the cell the test adds) for the
documentation's tutorials (`scripts/build_tutorials.py`), so that `make docs` after `make test`
runs no notebook again."""

import os
import pathlib

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

# Injected before the notebook's first cell (not stored in it): any warning raised from a
# brainsim or brainsim_ops module, or whose message names brainsim, becomes an error.
STRICT_WARNINGS = """\
import warnings
warnings.filterwarnings("error", module="brainsim")
warnings.filterwarnings("error", message="brainsim")
"""


# Figures as Jupyter shows them: drawn headless by matplotlib's inline backend into PNG outputs
# (under the plain Agg backend a notebook would show none, and the tutorials need them).
INLINE_FIGURES = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def _execute(notebook, directory):
    """Run `notebook` (a NotebookNode) in a fresh kernel with the working directory `directory`
    and warnings from brainsim as errors; return the number of figures it showed."""
    notebook.cells.insert(0, nbformat.v4.new_code_cell(STRICT_WARNINGS))
    client = nbclient.NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(directory)}},
    )
    client.execute(env={**os.environ, **INLINE_FIGURES})
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def _without_injected_cell(notebook):
    """`notebook` as executed, less the first cell that `_execute` added, with the execution
    counts of the remaining cells as if they had run alone."""
    notebook.cells = notebook.cells[1:]
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.execution_count is None:
            continue
        cell.execution_count -= 1
        for output in cell.outputs:
            if output.get("execution_count") is not None:
                output.execution_count -= 1
    return notebook


def _notebook(*sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return notebook


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 11, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {index} has stored outputs"
            assert cell.execution_count is None, f"{path.name}: cell {index} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error_or_brainsim_warning(path, load_script):
    notebook = nbformat.read(path, as_version=4)
    figures = _execute(notebook, path.parent)
    assert figures > 0, f"{path.name} shows no figure"
    load_script("scripts/build_tutorials.py").save_execution(
        _without_injected_cell(notebook), path
    )


def test_a_saved_execution_has_the_notebooks_cells_and_counts(tmp_path, load_script):
    source = tmp_path / "three_cells.ipynb"
    draw = "import matplotlib.pyplot as plt\nplt.plot([0, 1]);"
    nbformat.write(_notebook("x = 6 * 7", "x", draw), source)
    notebook = nbformat.read(source, as_version=4)
    assert _execute(notebook, tmp_path) == 1
    tutorials = load_script("scripts/build_tutorials.py")
    tutorials.CACHE = tmp_path / "cache"
    saved = nbformat.read(
        tutorials.save_execution(_without_injected_cell(notebook), source), as_version=4
    )
    assert [cell.source for cell in saved.cells][:2] == ["x = 6 * 7", "x"]
    assert [cell.execution_count for cell in saved.cells] == [1, 2, 3]
    assert saved.cells[1].outputs[0].execution_count == 2
    assert saved.cells[1].outputs[0].data["text/plain"] == "42"
    assert tutorials.fresh_execution(source) is not None
    nbformat.write(_notebook("x = 6 * 9", "x"), source)
    assert tutorials.fresh_execution(source) is None


def test_a_brainsim_warning_in_a_notebook_fails_it(tmp_path):
    warn = (
        "import warnings\n"
        'warnings.warn_explicit("brainsim_ops: native CPU kernels unavailable", RuntimeWarning,'
        ' "ops/_native.py", 99, module="brainsim_ops._native")'
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="RuntimeWarning"):
        _execute(_notebook("x = 1", warn), tmp_path)


def test_an_error_in_a_notebook_fails_it(tmp_path):
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="ZeroDivisionError"):
        _execute(_notebook("1 / 0"), tmp_path)
