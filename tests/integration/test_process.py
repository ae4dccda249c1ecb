"""`python -m bot` as a process: settings checked at start, /healthz, clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.db import make_engine
from bot.demo.slack_standin import SlackStandIn
from bot.schema_migrations import migrate
from tests.integration.conftest import SIGNING_SECRET
from tests.support.slack_requests import SignedSlackClient

AWS_SECRET = "process-test-aws-secret-not-real"
COMMANDS = [
    ("/ddb-pitr", "orders", "PITR is *on*"),
    ("/ddb-export", "orders", "started"),
    ("/ddb-status", "orders", "Exports of"),
    ("/ddb-cost", "orders", "PITR"),
    ("/ddb-export", "nosuchtable", "No table `nosuchtable`"),
]
SERVING = "http.serving"  # the log events that say which port was bound (DDBBOT_LOG_FORMAT=json)
SERVING_METRICS = "metrics.serving"


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDBBOT_"))}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.update({"DDBBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "AWS_SECRET_ACCESS_KEY": AWS_SECRET})
    env.update(extra)
    return env


class BotProcess:
    """`python -m bot` in a child process whose stderr is read all along (a full pipe would block the bot)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace"))

    @property
    def logs(self) -> str:
        return "".join(self.lines)

    def events(self) -> list[dict[str, Any]]:
        """The complete JSON lines logged so far."""
        return [json.loads(line) for line in list(self.lines) if line.startswith("{") and line.endswith("\n")]

    def port(self, timeout: float = 60, serving: str = SERVING) -> int:
        """The port the bot bound (PORT=0: the system picked a free one, so no other process can take it first);
        `serving=SERVING_METRICS` for DDBBOT_METRICS_PORT's."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [entry["port"] for entry in self.events() if entry["message"] == serving]
            if found:
                return int(found[0])
            assert self.process.poll() is None, f"the bot exited: {self.logs}"
            time.sleep(0.05)
        raise AssertionError(f"the bot never said which port it serves: {self.logs}")

    def wait_healthy(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the bot exited: {self.logs}"
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{url} never answered 200")

    def stop(self) -> int:
        """SIGTERM, then the exit code (and every line it wrote)."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)


def test_missing_settings_stop_the_bot_with_a_sentence_naming_them(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"], env=bot_env(tmp_path), capture_output=True, timeout=60, cwd=tmp_path, check=False
    )
    assert result.returncode == 2
    assert b"SLACK_BOT_TOKEN" in result.stderr and b"SLACK_SIGNING_SECRET" in result.stderr


def test_the_bot_serves_health_and_commands_and_stops_cleanly_on_sigterm(world: str, tmp_path: Path) -> None:
    with SlackStandIn(token="xoxb-process-test") as slack:
        env = bot_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-process-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT="0",
            DDBBOT_METRICS_PORT="0",
            DDBBOT_EXPORT_BUCKET="acme-ddb-backups",
            DDBBOT_LOG_FORMAT="json",
        )
        bot = BotProcess(env, tmp_path)
        try:
            port = bot.port()
            bot.wait_healthy(f"http://127.0.0.1:{port}/healthz")
            signed = SignedSlackClient(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
            for command, text, answered in COMMANDS:
                assert signed.command(command, text, response_url=slack.response_url("C0OPS")).status == 200
                slack.wait_for(lambda m, answered=answered: answered in m.text + json.dumps(m.blocks), timeout=60)
            assert signed.raw(b"command=%2Fddb-export&text=orders", signature="v0=" + "0" * 64).status == 401
            assert bot.stop() == 0
        finally:
            bot.kill()
    lines = [line for line in bot.logs.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line of the whole run is one JSON object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert any(entry["message"] == "bot.stopped" for entry in entries)
    assert any(entry["message"] == "scheduler.started" and entry["schedules"] >= 0 for entry in entries)
    chatter = [e["message"] for e in entries if e["logger"].startswith(("apscheduler", "alembic", "slack_bolt"))]
    assert chatter == [], "at INFO, APScheduler's, Alembic's and Bolt's routine lines stay out (they are DEBUG)"
    assert any(entry.get("command") == "/ddb-export" and entry.get("user") == "U0ALICE" for entry in entries), (
        "the log lines of a command carry its context"
    )
    for secret in ("xoxb-process-test", SIGNING_SECRET, AWS_SECRET):
        assert secret not in bot.logs
    assert "order#0" not in bot.logs  # no item contents


def test_a_database_newer_than_the_bot_stops_it_with_a_sentence_saying_so(moto_endpoint: str, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999-newer'"))
    engine.dispose()
    with SlackStandIn(token="xoxb-process-test") as slack:  # Slack and AWS answer: the database is what stops it
        env = bot_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-process-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
        )
        result = subprocess.run(
            [sys.executable, "-m", "bot"], env=env, capture_output=True, timeout=60, cwd=tmp_path, check=False
        )
    assert result.returncode == 2
    assert b"9999-newer" in result.stderr and b"newer release" in result.stderr
    assert b"Traceback" not in result.stderr
