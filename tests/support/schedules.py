"""Reaching the scheduling parts of a running bot, and waiting for what its background threads do."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bot.background.leader import LeaderGate
from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.schedules.service import ScheduleCore
from bot.wiring.runtime import BotRuntime
from scheduler.runner import ScheduleRunner
from tests.support.slack_requests import SignedSlackClient

T = TypeVar("T")


def gate_of(bot: BotRuntime) -> LeaderGate:
    """The leader gate that runs the tracker and the scheduler."""
    return next(job for job in bot.services.background if isinstance(job, LeaderGate))


def runner_of(bot: BotRuntime) -> ScheduleRunner:
    """The bot's scheduler."""
    return next(job for job in gate_of(bot).jobs if isinstance(job, ScheduleRunner))


def schedules_of(bot: BotRuntime) -> ScheduleCore:
    """The bot's schedule use cases (same store, calendar and notifier as the scheduler's)."""
    return runner_of(bot).sc


def wait_until(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Poll until `check` returns something truthy (background threads need time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def text_of(message: PostedMessage) -> str:
    """A message's text and every block, for assertions."""
    return message.text + json.dumps(message.blocks)


def schedule_command(
    signed: SignedSlackClient, slack: SlackStandIn, text: str, *, channel: str = "C0OPS", **kwargs: Any
) -> PostedMessage:
    """Send /ddb-schedule and wait for its answer through response_url (not the 'working' ack)."""
    seen = {m.ts for m in slack.messages()}
    response = signed.command(
        "/ddb-schedule", text, channel_id=channel, response_url=slack.response_url(channel), **kwargs
    )
    assert response.status == 200, response.body
    if response.body.startswith("{") and "hourglass" not in response.body:
        body = response.json()
        return PostedMessage(channel, "", body.get("text", ""), body.get("blocks", []), None, True, None, "ack")
    return slack.wait_for(
        lambda m: m.ts not in seen and m.via == "response_url" and not m.text.startswith(":hourglass"), timeout=60
    )
