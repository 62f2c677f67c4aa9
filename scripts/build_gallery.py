"""Build the examples gallery of the documentation: run every `examples/*.py` at its default
size and write `docs/gallery/index.md` with each example's description, figure, command and
source.

A figure is made again only when its example's source changed: beside each figure,
`docs/gallery/<name>.json` records the SHA-256 of the source that drew it and how long the run
took. Examples run two at a time, each in a fresh interpreter with the Agg backend, in a
temporary working directory (so that files an example writes besides its figure do not land in
the checkout). Examples that fail stop the build, after the others ran, with their output;
those that ran longer than `SLOW_S` are named in the summary.

    python scripts/build_gallery.py            # what `make docs` runs first
    python scripts/build_gallery.py --jobs 1   # one example at a time
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GALLERY = ROOT / "docs" / "gallery"
SLOW_S = 120.0
TIMEOUT_S = 1800.0

HEADER = """\
# Examples gallery

Each script in `examples/` reproduces a result from the literature or shows one capability of
brainsim, and draws one figure. The figures below are the ones the scripts
draw at their default size; every script also takes options (`--help`) for a smaller or larger
run. The run times were measured on the machine that built this site, two examples at a time.

## How to run them

From the repository's root, after `make demo` (or `pip install -e ".[dev]"`):

```bash
python examples/coba.py --out coba.png
```

"""


def source_hash(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def describe(path: pathlib.Path) -> str:
    """The first paragraph of the example's module docstring, on one line."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not docstring:
        raise ValueError(f"{path.relative_to(ROOT)} has no module docstring to describe it")
    return " ".join(docstring.split("\n\n")[0].split())


def is_fresh(path: pathlib.Path) -> bool:
    record = GALLERY / f"{path.stem}.json"
    if not (record.exists() and (GALLERY / f"{path.stem}.png").exists()):
        return False
    return json.loads(record.read_text())["source_sha256"] == source_hash(path)


def draw(path: pathlib.Path) -> float:
    """Run the example into `docs/gallery/<name>.png`; return its run time in seconds."""
    figure = GALLERY / f"{path.stem}.png"
    digest = source_hash(path)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        completed = subprocess.run(
            [sys.executable, str(path), "--out", str(figure)],
            cwd=workdir,
            env={**os.environ, "MPLBACKEND": "Agg"},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    seconds = time.perf_counter() - began
    if completed.returncode != 0 or not figure.exists():
        raise RuntimeError(
            f"examples/{path.name} failed (exit {completed.returncode}, figure written: "
            f"{figure.exists()}):\n{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}"
        )
    record = {"source_sha256": digest, "seconds": round(seconds, 1)}
    (GALLERY / f"{path.stem}.json").write_text(json.dumps(record) + "\n")
    return seconds


def entry(path: pathlib.Path) -> str:
    seconds = json.loads((GALLERY / f"{path.stem}.json").read_text())["seconds"]
    return (
        f"## {path.stem}\n\n"
        f"{describe(path)}\n\n"
        f"![The figure drawn by examples/{path.name}]({path.stem}.png)\n\n"
        f"```bash\npython examples/{path.name} --out {path.stem}.png\n```\n\n"
        f"[Source: examples/{path.name}]({path.name}) · ran in {seconds:.0f} s\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="examples run at the same time")
    args = parser.parse_args()
    GALLERY.mkdir(parents=True, exist_ok=True)
    examples = sorted(EXAMPLES.glob("*.py"))
    stale = [path for path in examples if not is_fresh(path)]
    print(f"gallery: {len(examples) - len(stale)} figures up to date, {len(stale)} to draw")
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(draw, path): path for path in stale}
        for future in concurrent.futures.as_completed(futures):
            try:
                print(f"gallery: examples/{futures[future].name} drawn in {future.result():.0f} s")
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                failures.append(str(error))
    if failures:
        sys.exit("gallery: examples failed:\n\n" + "\n\n".join(failures))
    for path in examples:
        shutil.copyfile(path, GALLERY / path.name)
    (GALLERY / "index.md").write_text(HEADER + "\n".join(entry(path) for path in examples))
    slow = {
        path.name: json.loads((GALLERY / f"{path.stem}.json").read_text())["seconds"]
        for path in examples
    }
    slow = {name: seconds for name, seconds in slow.items() if seconds > SLOW_S}
    if slow:
        listed = ", ".join(f"{name} ({seconds:.0f} s)" for name, seconds in slow.items())
        print(f"gallery: slower than {SLOW_S:.0f} s at default size: {listed}")


if __name__ == "__main__":
    main()
