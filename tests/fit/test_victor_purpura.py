import numpy as np
import pytest

from brainsim.fit import victor_purpura


def _dynamic_programme(a, b, q):
    """Independent reference: the O(n·m) table of Victor & Purpura (1996), cell by cell."""
    g = [[0.0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        for j in range(len(b) + 1):
            if i == 0 or j == 0:
                g[i][j] = float(i + j)
            else:
                g[i][j] = min(
                    g[i - 1][j] + 1, g[i][j - 1] + 1, g[i - 1][j - 1] + q * abs(a[i - 1] - b[j - 1])
                )
    return g[-1][-1]


@pytest.mark.parametrize("q", [0.0, 0.05, 0.5, 3.0])
def test_vectorised_rows_match_the_cell_by_cell_programme(q):
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = np.sort(rng.uniform(0, 100, rng.integers(0, 10)))
        b = np.sort(rng.uniform(0, 100, rng.integers(0, 10)))
        assert victor_purpura(a, b, q=q) == pytest.approx(_dynamic_programme(a, b, q), abs=1e-12)


def test_known_values():
    a, b = np.array([10.0, 20.0, 30.0]), np.array([11.0, 30.0])
    assert victor_purpura(a, a, q=1.0) == 0.0
    assert victor_purpura(a, b, q=0.0) == 1.0                   # count difference
    assert victor_purpura(a, b, q=0.1) == pytest.approx(1.1)    # shift 10 -> 11, delete 20
    assert victor_purpura(a, b, q=1e6) == 3.0                   # only 30 is shared
    assert victor_purpura(a, b, q=0.1) == victor_purpura(b, a, q=0.1)
    assert victor_purpura([], [1.0, 2.0, np.inf], q=1.0) == 2.0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="q"):
        victor_purpura([1.0], [2.0], q=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        victor_purpura([np.nan], [2.0], q=1.0)
