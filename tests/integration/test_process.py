"""`python -m bot` as a process: settings checked at start, /healthz, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.demo.slack_standin import SlackStandIn
from tests.integration.conftest import SIGNING_SECRET
from tests.support.slack_requests import SignedSlackClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDBBOT_"))}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.update({"DDBBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", **extra})
    return env


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered 200")


def test_missing_settings_stop_the_bot_with_a_sentence_naming_them(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"], env=bot_env(tmp_path), capture_output=True, timeout=60, cwd=tmp_path, check=False
    )
    assert result.returncode == 2
    assert b"SLACK_BOT_TOKEN" in result.stderr and b"SLACK_SIGNING_SECRET" in result.stderr


def test_the_bot_serves_health_and_commands_and_stops_cleanly_on_sigterm(world: str, tmp_path: Path) -> None:
    port = free_port()
    with SlackStandIn(token="xoxb-process-test") as slack:
        env = bot_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-process-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT=str(port),
            DDBBOT_EXPORT_BUCKET="acme-ddb-backups",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
            signed = SignedSlackClient(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
            assert signed.command("/ddb-pitr", "orders", response_url=slack.response_url("C0OPS")).status == 200
            slack.wait_for(lambda m: "PITR is *on*" in m.text, timeout=15)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
        logs = process.stderr.read().decode() if process.stderr else ""
    assert "stopped cleanly" in logs
    assert "xoxb-process-test" not in logs and SIGNING_SECRET not in logs
