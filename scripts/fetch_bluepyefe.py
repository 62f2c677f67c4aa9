"""Convert BluePyEfe 2.3.63's IDRest recordings to `brainsim/datasets/bluepyefe_idrest.npz`.

Run once, at development time (the result is committed; nothing is downloaded at run time):

    .venv/bin/pip install igor2            # only for this script, not a brainsim dependency
    .venv/bin/python scripts/fetch_bluepyefe.py

The script downloads BluePyEfe's source distribution (the wheel carries no data) with
`pip download --no-deps --no-binary :all: bluepyefe==2.3.63` into a temporary directory,
reads the Igor binary waves of cells B6, B8 and B95 (`Ch0`: injected current, pA; `Ch3`:
membrane potential, mV, not corrected for the 14 mV liquid-junction potential) with `igor2`,
and writes one compressed file of float32 arrays, one row per sweep:

    current (pA), voltage (mV), dt (ms), cell (str), sweep_id (int),
    holding (pA), amplitude (pA, above holding), step_start (ms), step_end (ms)

The step is estimated from the recorded current by `brainsim.datasets.estimate_step`. The
tests and examples of BluePyEfe are BSD-licensed (its LICENSE.txt); see ATTRIBUTION.md.
"""

import argparse
import pathlib
import subprocess
import sys
import tarfile
import tempfile

import igor2.binarywave
import numpy as np

from brainsim.datasets import estimate_step

VERSION = "2.3.63"
SWEEPS = {
    "B6": ("B6/B6", range(181, 186)),
    "B8": ("B8/B8", range(145, 150)),
    "B95": ("B95", range(107, 108)),
}
ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "brainsim" / "datasets" / "bluepyefe_idrest.npz"


def download_sdist(directory: pathlib.Path) -> pathlib.Path:
    """Download BluePyEfe's source distribution into `directory` and unpack it."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         f"bluepyefe=={VERSION}", "--dest", str(directory)],
        check=True,
    )
    (archive,) = directory.glob(f"bluepyefe-{VERSION}.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(directory, filter="data")
    return directory / f"bluepyefe-{VERSION}"


def read_wave(path: pathlib.Path) -> tuple[np.ndarray, float]:
    """The samples of one Igor binary wave and its sampling interval (ms)."""
    wave = igor2.binarywave.load(path)["wave"]
    header = wave["wave_header"]
    dt_s = header["sfA"][0] if "sfA" in header else header["hsA"]  # version 5 / version 2
    return np.asarray(wave["wData"], dtype=np.float32), float(dt_s) * 1e3


def convert(source: pathlib.Path) -> dict[str, np.ndarray]:
    """Read every IDRest sweep of B6, B8 and B95 into the columns of the npz file."""
    waves = source / "tests" / "exp_data"
    rows = []
    for cell, (prefix, numbers) in SWEEPS.items():
        for number in numbers:
            current, dt_i = read_wave(waves / f"{prefix}_Ch0_IDRest_{number}.ibw")
            voltage, dt_v = read_wave(waves / f"{prefix}_Ch3_IDRest_{number}.ibw")
            if dt_i != dt_v or current.shape != voltage.shape:
                raise ValueError(f"{cell} sweep {number}: current and voltage differ in dt/length")
            holding, amplitude, start, end = estimate_step(current, dt_i)
            rows.append((current, voltage, dt_i, cell, number, holding, amplitude, start, end))
    columns = list(zip(*rows, strict=True))
    return {
        "current": np.stack(columns[0]),
        "voltage": np.stack(columns[1]),
        "dt": np.asarray(columns[2], dtype=np.float32),
        "cell": np.asarray(columns[3]),
        "sweep_id": np.asarray(columns[4], dtype=np.int32),
        "holding": np.asarray(columns[5], dtype=np.float32),
        "amplitude": np.asarray(columns[6], dtype=np.float32),
        "step_start": np.asarray(columns[7], dtype=np.float32),
        "step_end": np.asarray(columns[8], dtype=np.float32),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        columns = convert(download_sdist(pathlib.Path(tmp)))
    np.savez_compressed(args.out, **columns)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    for cell, sweep, amplitude in zip(columns["cell"], columns["sweep_id"], columns["amplitude"],
                                      strict=True):
        print(f"  {cell} sweep {sweep}: step {amplitude:.1f} pA above holding")


if __name__ == "__main__":
    main()
