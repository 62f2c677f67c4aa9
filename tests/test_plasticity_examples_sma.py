"""examples/song_miller_abbott.py runs at a short duration and writes its figure."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_song_miller_abbott_example_prints_fractions_and_writes_figure(tmp_path):
    out = tmp_path / "sma.png"
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "song_miller_abbott.py"),
            "--duration",
            "5",
            "--seed",
            "1",
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
    assert "output rate" in completed.stdout
    assert "> 0.9 g_max" in completed.stdout
    assert "Brian2 reference" in completed.stdout
