"""The examples run at their default (small) size and write their figures."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_single_neurons_example_writes_figure(tmp_path):
    out = tmp_path / "patterns.png"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "single_neurons.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert out.stat().st_size > 10_000
    assert "Izhikevich CH" in completed.stdout


def test_coba_example_prints_rates_and_writes_raster(tmp_path):
    out = tmp_path / "raster.png"
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "coba.py"),
            "--n",
            "1000",
            "--duration",
            "200",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert out.stat().st_size > 10_000
    assert "CV(ISI)" in completed.stdout
