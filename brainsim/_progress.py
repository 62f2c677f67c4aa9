"""The progress bar of runs, sweeps and fits."""

from __future__ import annotations


def progress_bar(*args, **kwargs):
    """A tqdm bar (`tqdm(*args, **kwargs)`): the notebook bar where Jupyter widgets are
    installed, else the text bar.

    `tqdm.auto` would pick the notebook bar in any Jupyter kernel and, without `ipywidgets`,
    print a warning on import and fall back to text.
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(*args, **kwargs)
