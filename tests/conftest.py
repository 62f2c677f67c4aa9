"""Shared fixtures: x64 precision for accuracy tests, a headless matplotlib backend."""

import os

import jax
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def x64():
    """Run the test body with 64-bit floats (accuracy and finite-difference tests)."""
    with jax.enable_x64(True):
        yield
