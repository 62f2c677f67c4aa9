"""The progress bar of runs, sweeps and fits: no tqdm.auto warning without Jupyter widgets."""

import sys
import warnings

import tqdm.std

from brainsim._progress import progress_bar


def test_text_bar_without_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` raises
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar = progress_bar(total=3, disable=True)
    assert type(bar) is tqdm.std.tqdm


def test_sweep_and_fit_modules_use_it():
    import brainsim._sweep._sweep as sweep
    import brainsim.fit._evolution as evolution
    import brainsim.fit._fitter as fitter

    for module in (sweep, evolution, fitter):
        assert module.progress_bar is progress_bar
        assert not hasattr(module, "tqdm"), module.__name__
