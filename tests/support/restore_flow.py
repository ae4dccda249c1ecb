"""Driving restores through the running bot as people would: export, ask, click; and reading the outcome."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.models import ExportJob, ExportStatus
from bot.restores.models import RestoreRequest, RestoreStatus
from bot.restores.store import RestoreStore
from bot.wiring.runtime import BotRuntime
from tests.support.export_fixtures import key_of
from tests.support.slack_requests import SignedSlackClient, SlackHttpResponse

APPROVALS = "C0APPROVALS"
OPS = "C0OPS"
REQUESTER, APPROVER, SECOND_APPROVER, OUTSIDER = "U0ALICE", "U0BOB", "U0CAROL", "U0MALLORY"
RESTORE_SETTINGS: dict[str, Any] = {
    "approval_channel": APPROVALS,
    "approvers": [REQUESTER, APPROVER, SECOND_APPROVER],
}
ENDED = {RestoreStatus.SUCCEEDED, RestoreStatus.PARTIAL, RestoreStatus.FAILED, RestoreStatus.CANCELLED}


def export_table(bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, table: str) -> ExportJob:
    """/ddb-export <table> and wait until the bot recorded it COMPLETED."""
    response = signed.command("/ddb-export", table, response_url=slack.response_url(OPS))
    assert response.status == 200, response.body
    return wait_until(lambda: _completed_export(bot, table), f"export of {table} completed")


def _completed_export(bot: BotRuntime, table: str) -> ExportJob | None:
    jobs = bot.services.core.store.recent_exports(table)
    return jobs[0] if jobs and jobs[0].status == ExportStatus.COMPLETED else None


def ask(signed: SignedSlackClient, slack: SlackStandIn, text: str, *, user: str = REQUESTER, channel: str = OPS) -> str:
    """Send /ddb-restore; returns the response_url key the answer lands in (the channel)."""
    response = signed.command(
        "/ddb-restore", text, user_id=user, channel_id=channel, response_url=slack.response_url(channel, user=user)
    )
    assert response.status == 200, response.body
    return channel


def approval_message(slack: SlackStandIn, request_id: str | None = None, timeout: float = 60.0) -> PostedMessage:
    """The approval message in the approval channel (of one request, when its id is given)."""
    return slack.wait_for(
        lambda m: (
            m.channel == APPROVALS
            and m.thread_ts is None
            and "Restore request" in m.text
            and (request_id is None or request_id in m.text)
        ),
        timeout=timeout,
    )


def buttons(message: PostedMessage) -> dict[str, str]:
    """action_id → value of the message's buttons."""
    found = {}
    for block in message.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found[element["action_id"]] = element["value"]
    return found


def click(
    signed: SignedSlackClient,
    slack: SlackStandIn,
    message: PostedMessage,
    action: str,
    user: str,
    value: str | None = None,
) -> SlackHttpResponse:
    """Click a button of the approval message as `user`; refusals land ephemerally in the approval channel."""
    response_url = slack.response_url(APPROVALS, user=user, original_ts=message.ts)
    return signed.click(
        action,
        value if value is not None else buttons(message)[action],
        message_ts=message.ts,
        channel_id=APPROVALS,
        user_id=user,
        response_url=response_url,
    )


def ephemeral_to(slack: SlackStandIn, user: str, contains: str, timeout: float = 60.0) -> PostedMessage:
    """An ephemeral reply to `user` containing `contains`."""
    return slack.wait_for(lambda m: m.ephemeral and m.user == user and contains in m.text, timeout=timeout)


def request_of(bot: BotRuntime, request_id: str) -> RestoreRequest:
    """The request as stored."""
    found = RestoreStore(bot.services.engine).get(request_id)
    assert found is not None, request_id
    return found


def latest_request(bot: BotRuntime) -> RestoreRequest:
    """The newest request."""
    found = RestoreStore(bot.services.engine).recent(1)
    assert found, "no restore request stored"
    return found[0]


def ask_retry(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, request_id: str
) -> tuple[RestoreRequest, PostedMessage]:
    """`/ddb-restore retry <id>`: the new request it stored and the approval message posted for it."""
    ask(signed, slack, f"retry {request_id}")
    retry = wait_until(lambda: (r := latest_request(bot)).id != request_id and r, f"the retry of {request_id}")
    return retry, approval_message(slack, retry.id)


def text_of(message: PostedMessage) -> str:
    """A message's text and blocks, as one string to look for what a person reads."""
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def wait_for_status(bot: BotRuntime, request_id: str, statuses: set[str], timeout: float = 60.0) -> RestoreRequest:
    """Poll the store until the request reaches one of `statuses`."""
    return wait_until(
        lambda: r if (r := request_of(bot, request_id)).status in statuses else None,
        f"request {request_id} in {statuses}",
        timeout,
    )


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll `probe` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def scan_all(ddb: Any, table: str) -> dict[str, dict[str, Any]]:
    """Every item of a table keyed by its `pk` (and `sk`) text."""
    items: dict[str, dict[str, Any]] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            key = item["pk"]["S"] + ("|" + next(iter(item["sk"].values())) if "sk" in item else "")
            items[key] = item
    return items


def create_staging(ddb: Any, name: str = "staging", sort_type: str = "N") -> None:
    """An existing on-demand table keyed pk (S) + sk (`sort_type`), as the export fixtures' items are."""
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": sort_type},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def staged(ddb: Any, table: str = "staging") -> dict[tuple[str, ...], dict[str, Any]]:
    """Every item of a table keyed by its (pk, sk) text, as `export_fixtures.key_of` keys them."""
    return {key_of(i): i for page in ddb.get_paginator("scan").paginate(TableName=table) for i in page["Items"]}


def thread_of(slack: SlackStandIn, message: PostedMessage) -> list[PostedMessage]:
    """Replies in the approval message's thread."""
    return [m for m in slack.messages(APPROVALS) if m.thread_ts == message.ts]
