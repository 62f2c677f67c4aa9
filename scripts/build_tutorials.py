"""Put an executed copy of every notebook in `notebooks/` into `docs/tutorials/`, where
mkdocs-jupyter renders it.

The notebooks are stored without outputs; `make test` executes each of them
(`tests/test_notebooks.py`) and saves the executed notebook to `build/notebooks/<name>.ipynb`
with the SHA-256 of the source it ran in its metadata. This script copies those executions whose
source is unchanged and executes the others (changed since the test ran, or never run here),
so that `make docs` on a fresh clone works and after `make test` executes nothing again.

    python scripts/build_tutorials.py      # what `make docs` runs first
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import shutil
import time

import nbclient
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CACHE = ROOT / "build" / "notebooks"
TUTORIALS = ROOT / "docs" / "tutorials"
CELL_TIMEOUT_S = 300
# matplotlib's inline backend: figures drawn headless into PNG outputs, as Jupyter shows them
INLINE_FIGURES = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def source_hash(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_execution(notebook: nbformat.NotebookNode, source: pathlib.Path) -> pathlib.Path:
    """Write the executed `notebook` of the notebook file `source` to the cache, marked with the
    source's hash; return the cached file's path."""
    notebook.metadata["brainsim"] = {"source_sha256": source_hash(source)}
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / source.name
    partial = cached.with_suffix(f".{os.getpid()}.partial")
    nbformat.write(notebook, partial)
    partial.replace(cached)
    return cached


def fresh_execution(source: pathlib.Path) -> pathlib.Path | None:
    """The cached execution of `source` if it ran this very source, else None."""
    cached = CACHE / source.name
    if not cached.exists():
        return None
    metadata = nbformat.read(cached, as_version=4).metadata.get("brainsim", {})
    return cached if metadata.get("source_sha256") == source_hash(source) else None


def execute(source: pathlib.Path) -> pathlib.Path:
    """Execute `source` in a fresh kernel (working directory `notebooks/`, inline figures); stop
    at the first error; save and return the execution."""
    notebook = nbformat.read(source, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
    )
    client.execute(env={**os.environ, **INLINE_FIGURES})
    return save_execution(notebook, source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    TUTORIALS.mkdir(parents=True, exist_ok=True)
    for stale in set(TUTORIALS.glob("*.ipynb")) - {
        TUTORIALS / path.name for path in NOTEBOOKS.glob("*.ipynb")
    }:
        stale.unlink()
    for source in sorted(NOTEBOOKS.glob("*.ipynb")):
        cached = fresh_execution(source)
        if cached is None:
            began = time.perf_counter()
            cached = execute(source)
            print(f"tutorials: {source.name} executed in {time.perf_counter() - began:.0f} s")
        else:
            print(f"tutorials: {source.name} up to date")
        shutil.copyfile(cached, TUTORIALS / source.name)


if __name__ == "__main__":
    main()
