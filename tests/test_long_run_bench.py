"""bench/long_run.py compares a resumed run with a shorter reference by prefixes."""

import importlib.util
import pathlib

import numpy as np
import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench" / "long_run.py"


@pytest.fixture(scope="module")
def long_run():
    spec = importlib.util.spec_from_file_location("bench_long_run", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("block", [3, 4, 1 << 24])
def test_a_longer_run_equals_a_reference_that_is_its_prefix(long_run, block):
    run = np.arange(10.0)
    assert long_run._equal_prefix(run, run[:4], block=block)
    assert long_run._equal_prefix(run, run, block=block)
    assert not long_run._equal_prefix(run, run[:4] + 1, block=block)
    assert not long_run._equal_prefix(run[:4], run, block=block)  # shorter than the reference
    traces = np.arange(30.0).reshape(10, 3)
    assert long_run._equal_prefix(traces, traces[:7], block=block)
