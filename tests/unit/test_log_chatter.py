"""Libraries' routine lines stay out of a bot run at INFO and appear, marked DEBUG, at DEBUG: APScheduler's two lines
per job run (every 5 s), Alembic's and Bolt's start-up chatter. Real libraries doing what the bot's start does."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_sdk import WebClient

from bot.db import make_engine
from bot.logs import configure_logging
from bot.schema_migrations import migrate

ROUTINE = (
    "executed successfully",
    "Running job",
    "Scheduler started",
    "Running upgrade",
    "Context impl",
    "As you gave",
)


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def fail() -> None:
    raise RuntimeError("the job failed")


def start_like_the_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, level: int) -> None:
    """Configure logging, upgrade a new database, build a Bolt app with a client, run a good job and a failing one."""
    configure_logging("json", level=level)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-chatter-test")  # as in production: Bolt reads it too
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    migrate(engine)
    engine.dispose()
    App(client=WebClient(token="xoxb-chatter-test"), signing_secret="s" * 32, token_verification_enabled=False)
    finished = {"fine": threading.Event(), "failing": threading.Event()}

    def on_job(event: JobExecutionEvent) -> None:
        finished[event.job_id].set()

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_listener(on_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    for job_id, work in (("fine", lambda: None), ("failing", fail)):
        scheduler.add_job(work, "interval", seconds=5, id=job_id, name=job_id, next_run_time=datetime.now(UTC))
    scheduler.start()
    try:
        assert all(done.wait(30) for done in finished.values()), "the jobs never ran"
    finally:
        scheduler.shutdown()


def entries(err: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_a_bot_at_info_logs_no_library_chatter_but_keeps_their_errors_and_its_own_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start_like_the_bot(tmp_path, monkeypatch, logging.INFO)
    logged = entries(capsys.readouterr().err)
    assert [e["message"] for e in logged if any(r in e["message"] for r in ROUTINE)] == []
    assert any(e["message"] == "schema.upgraded" and e["from_revision"] is None and e["to_revision"] for e in logged)
    failed = [e for e in logged if e["logger"].startswith("apscheduler") and 'Job "failing' in e["message"]]
    assert [e["level"] for e in failed] == ["ERROR"] and "the job failed" in failed[0]["exception"]


def test_at_debug_the_library_lines_appear_marked_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start_like_the_bot(tmp_path, monkeypatch, logging.DEBUG)
    logged = entries(capsys.readouterr().err)
    for routine in ROUTINE:
        found = [e for e in logged if routine in e["message"]]
        assert found, f"no {routine!r} line at DEBUG"
        assert {e["level"] for e in found} == {"DEBUG"}, routine
