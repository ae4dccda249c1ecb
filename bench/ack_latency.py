"""Benchmark 1: acknowledgement latency of 200 signed slash commands sent 20 at a time to the running bot."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import figure, free_port, percentile, start_moto_process, stop, table, wait_for_http, write_section
from bot.demo.slack_requests import SignedSlackClient
from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.demo.world import build_world

COMMANDS = 200
CONCURRENCY = 20
FINAL_TIMEOUT = 60.0
MIX = [("/ddb-status", "orders"), ("/ddb-pitr", "orders"), ("/ddb-cost", "orders"), ("/ddb-export", "orders")]


class Finals:
    """Records when each command's final answer (not the 'working' ack) reached Slack."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.done = threading.Condition()

    def on_message(self, message: PostedMessage) -> None:
        if message.via == "response_url" and not message.text.startswith(":hourglass"):
            with self.done:
                self.at.setdefault(message.channel, time.monotonic())
                self.done.notify_all()

    def wait(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.done:
            while len(self.at) < count and time.monotonic() < deadline:
                self.done.wait(deadline - time.monotonic())


def run() -> str:
    """Run the benchmark and return its Markdown section."""
    moto, endpoint = start_moto_process()
    env_aws = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_PRICING": f"http://127.0.0.1:{free_port()}",
    }
    os.environ.update(env_aws)
    build_world(endpoint)
    secret = secrets.token_hex(16)
    finals = Finals()
    with SlackStandIn(token="xoxb-bench") as slack, tempfile.TemporaryDirectory() as tmp:
        slack.listeners.append(finals.on_message)
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DDBBOT_"))},
            **env_aws,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": slack.api_url,
            "PORT": str(port),
            "DDBBOT_METRICS_PORT": str(free_port()),
            "DDBBOT_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "DDBBOT_EXPORT_BUCKET": "acme-ddb-backups",
            "DDBBOT_NOTIFY_CHANNEL": "C0BENCH",
            "DDBBOT_POLL_SECONDS": "2",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", bot)
            client = SignedSlackClient(f"http://127.0.0.1:{port}/slack/events", secret)
            acks, sent_at, errors = _send_all(client, slack)
            finals.wait(COMMANDS, FINAL_TIMEOUT)
        finally:
            stop(bot)
            stop(moto)
    final = [finals.at[key] - sent_at[key] for key in sent_at if key in finals.at]
    unanswered = COMMANDS - len(final)
    rows = [
        ("ack (HTTP 200 from /slack/events)", *_ms(acks)),
        ("final reply (via response_url)", *_ms(final)),
    ]
    verdict = "met" if percentile(acks, 99) < 0.250 and not errors and not unanswered else "MISSED"
    return (
        f"{COMMANDS} Slack-signed slash commands ({', '.join(c for c, _ in MIX)} in turn), {CONCURRENCY} at a "
        f"time, to `python -m bot` (waitress) with AWS on moto's server (separate process).\n\n"
        + table(["", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows)
        + f"\n\nErrors (non-200 acks): {errors}; commands without a final reply: {unanswered}. "
        f"Goal p99 ack < 250 ms, zero errors, every command answered: **{verdict}**."
    )


def _send_all(client: SignedSlackClient, slack: SlackStandIn) -> tuple[list[float], dict[str, float], int]:
    acks: list[float] = []
    sent_at: dict[str, float] = {}
    errors = 0
    lock = threading.Lock()

    def send(index: int) -> None:
        nonlocal errors
        command, text = MIX[index % len(MIX)]
        if command == "/ddb-export":
            text = f"orders prefix=bench/{index}"
        key = f"R{index:04d}"
        url = slack.response_url(key)
        started = time.monotonic()
        with lock:
            sent_at[key] = started
        response = client.command(command, text, response_url=url)
        with lock:
            acks.append(time.monotonic() - started)
            errors += response.status != 200

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(send, range(COMMANDS)))
    return acks, sent_at, errors


def _ms(values: list[float]) -> list[str]:
    return [figure(percentile(values, p) * 1000 if values else None, 0) for p in (50, 95, 99, 100)]


if __name__ == "__main__":
    section = run()
    write_section("1. Acknowledgement latency under load", section)
    print(section)
