"""`make demo` without a terminal (as in CI) runs the scripted tour against the real bot and must succeed, quietly:
everything the bot and the libraries log goes to the log file, nothing of it to the console."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo.tour import STEPS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    log_file = tmp_path_factory.mktemp("demo") / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDBBOT_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.demo", "--log-file", str(log_file)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=240,  # about 20 s quiet, 45 s beside two busy loops and another suite: room for a busier machine
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result, log_file


def test_demo_tour_runs_every_step_to_the_end(tour: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    output = tour[0].stdout
    for step in STEPS:
        assert f": {step.title} ──" in output, f"step {step.title!r} did not run\n{output}"
    assert f"Tour finished: {len(STEPS)} steps, every check passed" in output, output
    assert output.rstrip().endswith("Stopped."), output[-500:]


def test_the_tour_shows_no_traceback_and_no_warning_and_says_where_the_logs_are(
    tour: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, log_file = tour
    console = result.stdout + result.stderr
    assert "Traceback" not in console and "WARNING" not in console, console
    assert result.stderr == "", result.stderr
    assert console.count(str(log_file)) == 1, "the console names the log file once"
    logged = log_file.read_text(encoding="utf-8")
    assert re.search(r"WARNING bot\.aws\.pricing pricing\.price_list_unavailable .*region=", logged), (
        "warnings went there"
    )
    assert re.search(r" command\.answered command=/ddb-export .*outcome=ok", logged), "a command's event, fields after"


def test_the_tour_exports_at_a_time_and_a_window_checked_against_the_history(
    tour: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    output = tour[0].stdout
    assert re.search(r"/ddb-export orders at=20\d\d-\d\d-\d\dT[\d:]+Z", output), output
    assert re.search(r"✓ export \S+ holds \d+ items: the items the table held an hour ago", output), output
    assert re.search(r"/ddb-export orders since=20[\d\-T:]+Z until=20[\d\-T:]+Z", output), output
    assert re.search(r"Incremental: 20\S+ → 20\S+", output), output
    assert re.search(r"✓ export \S+ holds [1-9]\d* items: one line per item written in that hour", output), output


def test_the_tour_uses_the_aliased_account_and_shows_costs_in_dollars(
    tour: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    output = tour[0].stdout
    assert "PITR is on for `staging:orders`" in output, output
    assert re.search(r"Export `[^`]+` of `staging:orders` COMPLETED", output), output
    assert "✓ export" in output and "of staging:orders is in acme-staging-backups" in output, output
    assert "Point-in-time recovery is off for `customers`" in output, output
    costs = output[output.index(": What backups of a table cost ──") :]
    assert re.search(r"Backup costs of `orders`[\s\S]*\$[1-9][\d,]*\.\d\d", costs), costs[:3000]


def test_the_tour_fills_both_forms_and_approves_from_app_home(
    tour: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    output = tour[0].stdout
    # the Schedule exports form: refused cron shown under its field, then added as incremental
    assert re.search(r"┌─ Schedule exports ─ a form only alice sees", output), output
    assert re.search(r"\{1\} When \(cron, UTC\): \[every night\]\n\s+│\s+⚠ `cron=\"every night\"`", output), output
    assert re.search(r"Schedule `orders-[0-9a-f]+` added[\s\S]*incremental export of `orders`, cron `30 3", output)
    # the Restore… form: a name DynamoDB refuses, then a request approved by bob on his Home tab
    assert "┌─ Restore an export ─ a form only alice sees" in output, output
    assert "⚠ `to=`: `orders copy` is not a valid DynamoDB table name" in output, output
    assert re.search(r"\[Home tab of bob\][\s\S]*Waiting for approval[\s\S]*`orders-from-form`", output), output
    assert re.search(r"bob pressed \[\d+\] Approve on bob's Home tab", output), output
    assert re.search(r"✅ You approved `r-[0-9a-f]+`; the restore is starting", output), output
    assert "✓ AWS: table orders-from-form is ACTIVE with" in output, output


def test_the_tour_restores_and_schedules_as_before(tour: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    output = tour[0].stdout
    assert re.search(r"Restore request `r-[^`]+`\*? from @U0ALICE needs 1 approval", output), output
    assert re.search(r"\[\d+\] Approve\s+\[\d+\] Reject", output), output
    assert "you cannot approve it" in output, output
    assert "Approved — restore finished by @U0BOB" in output, output
    assert "Not carried over by DynamoDB" in output, output
    assert re.search(r"✓ AWS: table orders-restored is ACTIVE with (\d+) items, the same as orders", output), output
    schedule_id = re.search(r"Schedule `(orders-[0-9a-f]+)` added.\n[^\n]*full export", output)
    assert schedule_id, output
    assert f"Requested by schedule `{schedule_id.group(1)}`" in output, output
