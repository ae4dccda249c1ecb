"""`make demo` without a terminal (as in CI) runs the scripted tour against the real bot and must succeed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_tour_runs_to_the_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDBBOT_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.demo"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=90,
        cwd=ROOT,
        env=env,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, f"exit {result.returncode}\n--- stdout\n{output}\n--- stderr\n{result.stderr}"
    assert re.search(r"Export `[^`]+` of `orders` COMPLETED", output), output
    assert "Point-in-time recovery is off for `customers`" in output, output
    assert re.search(r"\$\d+\.\d\d", output), output
    assert "Tour finished" in output, output
