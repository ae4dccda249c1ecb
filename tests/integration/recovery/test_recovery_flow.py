"""/ddb-item, /ddb-recover and /ddb-revert end to end: signed Slack requests to the running bot, AWS from the
DynamoDB stand-ins (filtered and incremental exports of a table with a history), Slack from its stand-in."""

from __future__ import annotations

import json
from typing import Any

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.recovery.models import State
from bot.recovery.store import RecoveryStore
from bot.restores.models import RestoreStatus
from bot.restores.store import RestoreStore
from bot.wiring.runtime import BotRuntime
from tests.integration.recovery.conftest import (
    CREATED,
    DEPLOYED,
    HAND_FIXED,
    LOST,
    SECRET,
    TABLE,
    order,
    original,
)
from tests.support.restore_flow import (
    APPROVER,
    OPS,
    OUTSIDER,
    REQUESTER,
    approval_message,
    buttons,
    click,
    ephemeral_to,
    latest_request,
    wait_for_status,
)
from tests.support.slack_requests import SignedSlackClient


def command(signed: SignedSlackClient, slack: SlackStandIn, name: str, text: str, user: str = REQUESTER) -> None:
    response = signed.command(name, text, user_id=user, channel_id=OPS, response_url=slack.response_url(OPS, user=user))
    assert response.status == 200, response.body


def live(ddb: Any, pk: str) -> dict[str, Any] | None:
    found = ddb.get_item(TableName=TABLE, Key=order(pk), ConsistentRead=True).get("Item")
    return dict(found) if found else None


def direct_message(slack: SlackStandIn, user: str, contains: str, timeout: float = 30.0) -> PostedMessage:
    return slack.wait_for(lambda m: m.channel == user and contains in m.text, timeout=timeout)


def public(slack: SlackStandIn) -> list[PostedMessage]:
    """What more than one person can see: every message that is neither ephemeral nor a direct message."""
    return [m for m in slack.messages() if not m.ephemeral and not m.channel.startswith("U")]


def shown(message: PostedMessage) -> str:
    return message.text + json.dumps(message.blocks)


def test_ddb_item_shows_the_deleted_item_to_the_requester_alone(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    command(signed, slack, "/ddb-item", f"{TABLE} pk={LOST} sk=1 at=-150m")
    started = ephemeral_to(slack, REQUESTER, "started", timeout=60)
    assert "pk=C-1, sk=1" in shown(started) and SECRET not in shown(started)
    answer = direct_message(slack, REQUESTER, "(private)")
    body = shown(answer)
    assert SECRET in body and "deleted since" in body and "(absent)" in body
    assert "Restore this version" in body
    assert all(SECRET not in shown(m) for m in public(slack)), "an item value reached a channel"
    assert live(ddb, LOST) is None  # looking changes nothing
    version = buttons(answer)["recovery_restore_version"]
    assert click(signed, slack, answer, "recovery_restore_version", OUTSIDER, value=version).status == 200
    assert "operator" in ephemeral_to(slack, OUTSIDER, "operator").text
    assert click(signed, slack, answer, "recovery_restore_version", REQUESTER, value=version).status == 200
    message = approval_message(slack, timeout=60)  # Restore this version: a /ddb-recover request, to be approved
    assert latest_request(bot).mode == "recover" and SECRET not in shown(message)
    assert live(ddb, LOST) is None


def test_ddb_recover_brings_the_item_back_after_a_second_person_approves(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    command(signed, slack, "/ddb-recover", f"{TABLE} pk={LOST} sk=1 at=-150m")
    message = approval_message(slack, timeout=60)
    request = latest_request(bot)
    assert request.mode == "recover" and request.status == RestoreStatus.PENDING
    assert SECRET not in shown(message)
    own = click(signed, slack, message, "restore_approve", REQUESTER)
    assert own.status == 200
    assert "cannot approve" in ephemeral_to(slack, REQUESTER, "cannot approve").text
    assert live(ddb, LOST) is None
    click(signed, slack, message, "restore_approve", APPROVER)
    ended = {RestoreStatus.SUCCEEDED, RestoreStatus.PARTIAL, RestoreStatus.FAILED}
    finished = wait_for_status(bot, request.id, ended, timeout=60)
    assert finished.status == RestoreStatus.SUCCEEDED, finished.failure_message
    assert finished.outcome_check is not None and finished.outcome_check.figures == "1 of 1 items"
    assert live(ddb, LOST) == original(LOST)
    assert all(SECRET not in shown(m) for m in public(slack)), "an item value reached a channel"


def test_ddb_revert_undoes_the_deploy_and_leaves_the_hand_fixed_item_alone(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    command(signed, slack, "/ddb-revert", f"{TABLE} since=-90m until=-60m")
    message = approval_message(slack, timeout=60)
    request = latest_request(bot)
    assert request.mode == "revert"
    thread = slack.wait_for(lambda m: m.thread_ts == message.ts and "Dry run" in shown(m), timeout=60)
    assert "12 to put back, 5 to delete, 1 conflict" in shown(thread), shown(thread)
    assert "12 to put back, 5 to delete, 1 conflict" in shown(message), "the plan summary shows the dry run"
    assert "Sample (conflicts): pk=D-03, sk=1" in shown(message)
    assert SECRET not in shown(message) and SECRET not in shown(thread)
    show = click(signed, slack, thread, "recovery_show_items", APPROVER, value=buttons(thread)["recovery_show_items"])
    assert show.status == 200
    assert SECRET in shown(ephemeral_to(slack, APPROVER, "(private)"))
    refused = click(
        signed, slack, thread, "recovery_show_items", OUTSIDER, value=buttons(thread)["recovery_show_items"]
    )
    assert refused.status == 200
    assert "private" in ephemeral_to(slack, OUTSIDER, "private").text
    assert click(signed, slack, message, "restore_approve", REQUESTER).status == 200
    assert "cannot approve" in ephemeral_to(slack, REQUESTER, "cannot approve").text
    assert latest_request(bot).status == RestoreStatus.PENDING and live(ddb, CREATED[0]) is not None
    click(signed, slack, message, "restore_approve", APPROVER)
    ended = {RestoreStatus.SUCCEEDED, RestoreStatus.PARTIAL, RestoreStatus.FAILED}
    finished = wait_for_status(bot, request.id, ended, timeout=90)
    assert finished.status == RestoreStatus.PARTIAL, finished.failure_message  # the conflict: one key not reverted
    check = finished.outcome_check
    assert check is not None and check.reasons and f"pk={HAND_FIXED}" in check.reasons[0]
    for pk in DEPLOYED:
        if pk != HAND_FIXED:
            assert live(ddb, pk) == original(pk), pk
    assert live(ddb, HAND_FIXED) == order(HAND_FIXED, status="fixed by hand", card=SECRET, note="ops")
    for pk in CREATED:
        assert live(ddb, pk) is None, pk
    assert live(ddb, LOST) is None  # deleted before the window: not the revert's
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "PARTIAL" in m.text, timeout=60)
    assert "Conflicts (changed since, left alone): *1*" in shown(report)
    assert f"pk={HAND_FIXED}" in shown(report)
    assert finished.result["items_written"] == 12 and finished.result["deletes_applied"] == 5
    outcomes = RecoveryStore(bot.services.engine).tally(finished.plan.options.preparation)  # type: ignore[union-attr]
    assert outcomes == {"written": 17, "conflict": 1}
    assert all(SECRET not in shown(m) for m in public(slack)), "an item value reached a channel"


def test_a_non_operator_is_refused_each_command(
    bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    asks = {
        "/ddb-item": f"{TABLE} pk={LOST} sk=1 at=-150m",
        "/ddb-recover": f"{TABLE} pk={LOST} sk=1 at=-150m",
        "/ddb-revert": f"{TABLE} since=-90m until=-60m",
    }
    for n, (name, text) in enumerate(asks.items(), start=1):
        command(signed, slack, name, text, user=OUTSIDER)
        slack.wait_for(lambda _m, n=n: len(refusals_to(slack, OUTSIDER)) >= n, timeout=60)
    assert len(refusals_to(slack, OUTSIDER)) == len(asks)
    assert all(SECRET not in shown(m) for m in slack.messages())
    assert RecoveryStore(bot.services.engine).in_state(State.EXPORTING) == []  # nothing was started
    assert RestoreStore(bot.services.engine).recent() == []


def refusals_to(slack: SlackStandIn, user: str) -> list[PostedMessage]:
    return [m for m in slack.messages() if m.ephemeral and m.user == user and "operator" in m.text]
