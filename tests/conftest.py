"""Shared fixtures: x64 precision for accuracy tests, a headless matplotlib backend, running an
example script or importing one, central finite differences for gradient tests."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def x64():
    """Run the test body with 64-bit floats (accuracy and finite-difference tests)."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def run_example(tmp_path):
    """`run_example(name, *args, min_bytes=10_000)` runs `examples/<name>.py --out <png> *args`
    in a fresh interpreter, checks that it exits cleanly and writes a figure of at least
    `min_bytes`, and returns its stdout."""
    examples = pathlib.Path(__file__).resolve().parents[1] / "examples"

    def run(name, *args, min_bytes=10_000):
        out = tmp_path / f"{name}.png"
        completed = subprocess.run(
            [sys.executable, str(examples / f"{name}.py"), "--out", str(out), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert out.stat().st_size > min_bytes
        return completed.stdout

    return run


@pytest.fixture(scope="session")
def load_script():
    """`load_script("examples/eprop_sine.py")` imports a script of the repository (a path
    relative to its root) as a module, to call its functions from a test."""
    root = pathlib.Path(__file__).resolve().parents[1]

    def load(relative):
        path = root / relative
        spec = importlib.util.spec_from_file_location(f"{path.parent.name}_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def _central_differences(f, x, eps=1e-6):
    """Gradient of the scalar function `f` at the array `x` by central differences."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (float(f(up)) - float(f(down))) / (2 * eps)
    return grad


@pytest.fixture
def finite_differences():
    """`finite_differences(f, x, eps=1e-6)`: the central-difference gradient of `f` at `x`
    (use with `x64`)."""
    return _central_differences
