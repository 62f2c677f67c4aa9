"""The API reference (docs/api/) covers every public name, the site's nav lists every page, and
the code the landing page shows runs as shown."""

import contextlib
import importlib
import io
import math
import pathlib
import pkgutil
import re
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"


def _entries(directory):
    """The `::: path` entries of the Markdown pages in `directory`."""
    found = set()
    for page in directory.glob("*.md"):
        found.update(re.findall(r"^::: (\S+)\s*$", page.read_text(), flags=re.MULTILINE))
    return found


def _public_modules():
    """`brainsim`, `brainsim_ops` and every module under them without a private (`_`) part in
    its name that declares `__all__`."""
    names = []
    for top in ("brainsim", "brainsim_ops"):
        package = importlib.import_module(top)
        names.append(top)
        found = pkgutil.walk_packages(package.__path__, prefix=f"{top}.")
        names += sorted(info.name for info in found)
    public = [n for n in names if not any(part.startswith("_") for part in n.split("."))]
    return [n for n in public if hasattr(importlib.import_module(n), "__all__")]


def _public_names(module_name):
    """The names `module_name` exports in `__all__`, less the submodules (they have pages)."""
    module = importlib.import_module(module_name)
    exported = ((name, getattr(module, name)) for name in module.__all__)
    return [name for name, obj in exported if not isinstance(obj, types.ModuleType)]


ENTRIES = _entries(API)


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_name_has_an_api_reference_entry(module_name):
    missing = [n for n in _public_names(module_name) if f"{module_name}.{n}" not in ENTRIES]
    assert not missing, f"no `::: {module_name}.<name>` entry in docs/api/ for {missing}"


def test_every_api_reference_entry_names_a_public_object():
    public = {f"{m}.{n}" for m in _public_modules() for n in _public_names(m)}
    stale = sorted(ENTRIES - public)
    assert not stale, f"docs/api/ has entries for names no module exports: {stale}"


# Pages that `make docs` writes before building (gitignored, absent from a fresh clone), and
# the script that writes each.
GENERATED = {"gallery/index.md": "scripts/build_gallery.py"}


def test_every_docs_page_is_in_the_nav():
    nav = set(re.findall(r"(\S+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - nav == set(), f"pages missing from mkdocs.yml's nav: {sorted(pages - nav)}"
    missing = nav - pages - set(GENERATED)
    assert missing == set(), f"mkdocs.yml's nav names missing pages: {sorted(missing)}"
    for page, script in GENERATED.items():
        assert page in nav and (ROOT / script).is_file(), (page, script)


def _python_blocks(page):
    """The ```python code blocks of a docs page, in order."""
    text = (ROOT / "docs" / page).read_text()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_landing_page_example_runs_as_shown():
    (block,) = _python_blocks("index.md")
    assert len([line for line in block.splitlines() if line.strip()]) <= 10
    namespace = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "docs/index.md", "exec"), namespace)
    mean_rate = float(namespace["result"].rate())
    # 100 LIF neurons driven from 100 pA (R I = 10 mV, below the 15 mV to threshold: silent) to
    # 400 pA (40 mV: regular firing, ~100 Hz at the top): a mean of some tens of Hz.
    assert 10.0 < mean_rate < 100.0
    assert f"mean rate {mean_rate:.1f} Hz" in printed.getvalue()
    gradient = float(printed.getvalue().split("d rate / d tau_m:")[1])
    # A longer membrane time constant charges the membrane more slowly: the rate falls.
    assert math.isfinite(gradient) and gradient < 0.0


def _titled_blocks(page, title):
    """The ```python title="<title>" code blocks of a docs page, in order."""
    text = (ROOT / "docs" / page).read_text()
    pattern = rf'^```python title="{title}"\n(.*?)^```'
    return re.findall(pattern, text, flags=re.MULTILINE | re.DOTALL)


def _run_small(block, sizes_line, small_sizes, page="from_brian2.md"):
    """Execute a code block of docs page `page` with its sizes line (`n, duration = ...`, the
    block's one assignment of the sizes) replaced by `small_sizes`; its namespace."""
    pattern = rf"^{re.escape(sizes_line)} = .*$"
    small, count = re.subn(pattern, f"{sizes_line} = {small_sizes}", block, flags=re.MULTILINE)
    assert count == 1, f"the block no longer sets `{sizes_line}` in one line"
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(small, f"docs/{page}", "exec"), namespace)
    return namespace


BRIAN2_PAGE = _titled_blocks("from_brian2.md", "brainsim")


def test_brian2_page_pairs_each_brian2_script_with_a_brainsim_block():
    assert len(BRIAN2_PAGE) == 3
    assert len(_titled_blocks("from_brian2.md", "Brian2")) == 3


def test_brian2_page_coba_runs_at_small_size():
    ns = _run_small(BRIAN2_PAGE[0], "n_e, n_i, duration", "160, 40, 50.0")
    result = ns["result"]
    assert result.spikes["E.spikes"].n == 160 and result.spikes["I.spikes"].n == 40
    # The 20 mV drive takes a neuron from rest past threshold (10 mV above rest) within ~14 ms:
    # both populations fire in 50 ms.
    assert float(result.rate("E.spikes")) > 0.0 and float(result.rate("I.spikes")) > 0.0


def test_brian2_page_stdp_network_runs_at_small_size():
    ns = _run_small(BRIAN2_PAGE[1], "n, duration", "1000, 300.0")
    w, w0, g_max = ns["w"], ns["w0"][:, 0], ns["g_max"]
    assert w.shape == (1000,)
    assert float(w.min()) >= 0.0 and float(w.max()) <= g_max  # hard bounds
    assert float(abs(w - w0).max()) > 0.0  # the neuron fires (~20 Hz): the weights moved


def test_brian2_page_tripartite_synapse_runs_at_small_size():
    ns = _run_small(BRIAN2_PAGE[2], "n, duration", "10, 300.0")
    released = ns["result"]["synapses.synapses.stp.r"]
    assert released.shape[1] == 10
    # r_S = u_S x_S: a released fraction of the resources, in [0, 1].
    assert float(released.min()) >= 0.0 and float(released.max()) <= 1.0


BRAINPY_PAGE = _titled_blocks("from_brainpy.md", "brainsim")


def test_brainpy_page_pairs_each_brainpy_script_with_a_brainsim_block():
    assert len(BRAINPY_PAGE) == 2
    assert len(_titled_blocks("from_brainpy.md", "BrainPy")) == 2


def test_brainpy_page_coba_runs_at_small_size():
    ns = _run_small(BRAINPY_PAGE[0], "n_e, n_i, duration", "80, 20, 30.0", "from_brainpy.md")
    result = ns["result"]
    assert result.spikes["E.spikes"].n == 80 and result.spikes["I.spikes"].n == 20
    assert float(result.rate("E.spikes")) > 0.0  # the 20 mV drive crosses threshold


def test_brainpy_page_training_runs_and_lowers_the_loss_at_small_size():
    ns = _run_small(BRAINPY_PAGE[1], "steps, batch", "30, 4", "from_brainpy.md")
    losses = ns["losses"]
    assert len(losses) == 5 and all(math.isfinite(v) for v in losses)
    # 20 classes: an untrained readout gives about ln 20 = 3.0; Adam on one fixed batch lowers
    # it step by step.
    assert abs(losses[0] - math.log(20)) < 0.5
    assert losses[-1] < losses[0]
