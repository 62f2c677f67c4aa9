"""Central finite differences for the gradient tests of brainsim.fit (use with `x64`)."""

import numpy as np
import pytest


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
    """`finite_differences(f, x, eps=1e-6)`: the central-difference gradient of `f` at `x`."""
    return _central_differences
