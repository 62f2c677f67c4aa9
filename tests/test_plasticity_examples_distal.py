"""examples/distal_reward.py runs briefly and writes its figure."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_distal_reward_example_prints_weights_and_writes_figure(tmp_path):
    out = tmp_path / "distal.png"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "distal_reward.py"), "--n", "200",
         "--minutes", "0.5", "--chunk", "10", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert out.stat().st_size > 10_000
    assert "chosen synapse" in completed.stdout and "wall time" in completed.stdout
