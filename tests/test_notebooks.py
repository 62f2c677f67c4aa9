"""Every notebook in notebooks/ runs top to bottom without an error or a warning from brainsim,
and is stored without outputs."""

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


# Appended after the notebook's last cell: how many figures it drew (the Agg backend keeps them).
COUNT_FIGURES = "import matplotlib.pyplot\nprint(len(matplotlib.pyplot.get_fignums()))"


def _execute(notebook, directory):
    """Run `notebook` (a NotebookNode) in a fresh kernel with the working directory `directory`,
    warnings from brainsim as errors and the headless Agg backend; return the number of
    figures it drew."""
    notebook.cells.insert(0, nbformat.v4.new_code_cell(STRICT_WARNINGS))
    notebook.cells.append(nbformat.v4.new_code_cell(COUNT_FIGURES))
    client = nbclient.NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(directory)}},
    )
    client.execute(env={**os.environ, "MPLBACKEND": "Agg"})
    return int(notebook.cells[-1].outputs[0].text)


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
def test_notebook_runs_without_error_or_brainsim_warning(path):
    figures = _execute(nbformat.read(path, as_version=4), path.parent)
    assert figures > 0, f"{path.name} draws no figure"


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
