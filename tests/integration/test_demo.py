"""`make demo` without a terminal (as in CI) runs the scripted tour against the real bot and must succeed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.demo.tour import STEPS

ROOT = Path(__file__).resolve().parents[2]


def test_demo_tour_runs_to_the_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDBBOT_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.demo"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=240,  # about 20 s quiet, 45 s beside two busy loops and another suite: room for a busier machine
        cwd=ROOT,
        env=env,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, f"exit {result.returncode}\n--- stdout\n{output}\n--- stderr\n{result.stderr}"
    assert re.search(r"Export `[^`]+` of `orders` COMPLETED", output), output
    assert "Point-in-time recovery is off for `customers`" in output, output
    assert re.search(r"\$\d+\.\d\d", output), output
    for step in STEPS:
        assert f": {step.title} ──" in output, f"step {step.title!r} did not run\n{output}"
    # the two-person restore: asked by alice, refused to her, approved by bob, the table checked in moto
    assert re.search(r"Restore request `r-[^`]+`\*? from @U0ALICE needs 1 approval", output), output
    assert re.search(r"\[\d+\] Approve\s+\[\d+\] Reject", output), output
    assert "you cannot approve it" in output, output
    assert "Approved — restore finished by @U0BOB" in output, output
    assert "Not carried over by DynamoDB" in output, output
    assert "✓ moto: table orders-restored is ACTIVE with 3 items, the same as orders" in output, output
    # a schedule: added, listed, run now with its result in #backups
    schedule_id = re.search(r"Schedule `(orders-[0-9a-f]+)` added", output)
    assert schedule_id, output
    assert f"Requested by schedule `{schedule_id.group(1)}`" in output, output
    assert "Tour finished" in output, output
