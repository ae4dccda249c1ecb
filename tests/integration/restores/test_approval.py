"""Restores only run after another person approves them: end to end through the bot, moto and the Slack stand-in."""

from __future__ import annotations

import json
from typing import Any

from bot.demo.slack_standin import SlackStandIn
from bot.restores.models import RestoreStatus
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.aws_world import create_table
from tests.support.restore_flow import (
    APPROVALS,
    APPROVER,
    OPS,
    OUTSIDER,
    REQUESTER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    buttons,
    click,
    ephemeral_to,
    export_table,
    latest_request,
    request_of,
    scan_all,
    wait_for_status,
)
from tests.support.slack_requests import SignedSlackClient

# Every DynamoDB type, with values that break naive handling: 38-digit numbers, binary that is not UTF-8,
# text with mrkdwn control characters, NULLs, nested maps in lists in maps. Two things are left out only because
# moto's ImportTable parses the export with a JSON parser that drops any item holding an empty map and keeps
# `\uXXXX` escapes undecoded (moto's export writes non-ASCII text escaped): non-ASCII text and `{"M": {}}`.
# Real ImportTable reads both; the into= tests (our own loader) cover them.
TYPED_ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": "all-types"},
        "sk": {"S": "v1"},
        "text": {"S": "hello <@U0ALICE> & <!channel> `code` *bold*"},
        "big": {"N": "12345678901234567890.123456789012345678"},
        "tiny": {"N": "-0.00000000000000000000000000000000000001"},
        "bin": {"B": b"\x00\x01\xfe\xff binary"},
        "yes": {"BOOL": True},
        "no": {"BOOL": False},
        "nothing": {"NULL": True},
        "strings": {"SS": ["a", "b", "c d"]},
        "numbers": {"NS": ["1", "2.5", "99999999999999999999999999999999999999"]},
        "blobs": {"BS": [b"\x00", b"\xff\xfe", b"plain"]},
        "map": {
            "M": {
                "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"B": b"\x01\x02"}, "flag": {"BOOL": True}}}]},
                "empty_list": {"L": []},
            }
        },
        "list": {"L": [{"NULL": True}, {"BOOL": False}, {"SS": ["q"]}, {"NS": ["7"]}, {"BS": [b"z"]}]},
    },
    {"pk": {"S": "plain"}, "sk": {"S": "v2"}, "n": {"N": "0"}, "s": {"S": ""}},
]


def test_approved_restore_creates_a_table_identical_to_the_source_with_every_type(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    create_table(ddb, "typed", pitr=True, items=TYPED_ITEMS)
    job = export_table(restore_bot, signed_restore, slack, "typed")

    ask(signed_restore, slack, f"{job.export_arn} to=typed-copy")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    assert set(buttons(message)) == {"restore_approve", "restore_reject"}
    assert all(value == f"{request.id}:{request.plan_hash}" for value in buttons(message).values())
    assert request.id in message.text
    body = " ".join(b.get("text", {}).get("text", "") for b in message.blocks if b.get("type") == "section")
    assert "typed-copy" in body and job.export_id in body and "Estimated cost" in body and "Expires" in body
    reply = slack.wait_for(lambda m: m.channel == OPS and m.user == REQUESTER and request.id in m.text)
    assert "waiting for 1 approval" in reply.blocks[0]["text"]["text"]

    click(signed_restore, slack, message, "restore_approve", REQUESTER)
    ephemeral_to(slack, REQUESTER, "cannot approve it")
    click(signed_restore, slack, message, "restore_approve", OUTSIDER)
    ephemeral_to(slack, OUTSIDER, "Only approvers")
    assert request_of(restore_bot, request.id).status == "PENDING"
    assert "typed-copy" not in ddb.list_tables()["TableNames"]

    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert scan_all(ddb, "typed-copy") == scan_all(ddb, "typed")
    assert len(scan_all(ddb, "typed-copy")) == len(TYPED_ITEMS)

    settled = slack.wait_for(lambda m: m.ts == message.ts and "restore finished" in str(m.blocks))
    assert buttons(settled) == {}
    assert f"<@{APPROVER}>" in str(settled.blocks)
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "finished" in m.text)
    assert "Not carried over" in str(report.blocks) and "PITR" in str(report.blocks)
    assert "/ddb-pitr typed-copy enable" in str(report.blocks)
    slack.wait_for(lambda m: m.channel == REQUESTER and request.id in m.text and "finished" in m.text)

    actions = [e["action"] for e in restore_bot.services.core.store.audit_entries(action=None, limit=200)]
    for action in ("restore.request", "restore.approve", "restore.start", "restore.finish"):
        assert action in actions


def test_rejected_request_restores_nothing_and_says_so(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    ask(signed_restore, slack, f"{job.export_id} to=orders-rejected")
    message = approval_message(slack)
    request = latest_request(restore_bot)

    click(signed_restore, slack, message, "restore_reject", APPROVER)
    assert wait_for_status(restore_bot, request.id, {RestoreStatus.REJECTED}).decided_by == APPROVER
    settled = slack.wait_for(lambda m: m.ts == message.ts and "Rejected" in str(m.blocks))
    assert buttons(settled) == {}
    slack.wait_for(lambda m: m.thread_ts == message.ts and "Nothing was restored" in m.text)
    slack.wait_for(lambda m: m.channel == REQUESTER and "Rejected" in m.text)

    click(signed_restore, slack, message, "restore_approve", APPROVER)
    ephemeral_to(slack, APPROVER, "already decided")
    assert request_of(restore_bot, request.id).status == RestoreStatus.REJECTED
    assert "orders-rejected" not in ddb.list_tables()["TableNames"]


def test_second_approve_of_a_decided_request_does_nothing(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    ask(signed_restore, slack, f"{job.export_arn} to=orders-once")
    message = approval_message(slack)
    request = latest_request(restore_bot)

    click(signed_restore, slack, message, "restore_approve", APPROVER)
    wait_for_status(restore_bot, request.id, {RestoreStatus.APPROVED, RestoreStatus.RUNNING, RestoreStatus.SUCCEEDED})
    click(signed_restore, slack, message, "restore_approve", "U0CAROL")
    ephemeral_to(slack, "U0CAROL", "already decided")
    assert (
        wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"}).status == RestoreStatus.SUCCEEDED
    )
    starts = restore_bot.services.core.store.audit_entries(action="restore.start")
    assert [e["target"] for e in starts].count(request.id) == 1
    assert len(scan_all(ddb, "orders-once")) == 3


def test_expired_request_cannot_be_approved_and_loses_its_buttons(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    ask(signed_restore, slack, f"{job.export_arn} to=orders-late")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    _expire_now(restore_bot, request.id)

    click(signed_restore, slack, message, "restore_approve", APPROVER)
    ephemeral_to(slack, APPROVER, "expired")
    assert wait_for_status(restore_bot, request.id, {RestoreStatus.EXPIRED}).status == RestoreStatus.EXPIRED
    settled = slack.wait_for(lambda m: m.ts == message.ts and "Expired" in str(m.blocks))
    assert buttons(settled) == {}
    assert "orders-late" not in ddb.list_tables()["TableNames"]


def test_sweeper_expires_a_forgotten_request(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    ask(signed_restore, slack, f"{job.export_arn} to=orders-forgotten")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    _expire_now(restore_bot, request.id)

    wait_for_status(restore_bot, request.id, {RestoreStatus.EXPIRED})
    settled = slack.wait_for(lambda m: m.ts == message.ts and "Expired" in str(m.blocks))
    assert buttons(settled) == {}
    assert restore_bot.services.core.store.audit_entries(action="restore.expire")


def test_existing_to_target_is_refused_before_any_approval_is_asked(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    ask(signed_restore, slack, f"{job.export_arn} to=customers")
    refusal = slack.wait_for(lambda m: m.channel == OPS and "already exists" in m.text)
    assert "customers" in refusal.text
    assert not slack.messages(APPROVALS)
    audit = restore_bot.services.core.store.audit_entries(action="restore.request")
    assert audit and audit[0]["result"].startswith("refused")


def test_pitr_restore_creates_the_target_table(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    ask(signed_restore, slack, "pitr orders to=orders-pitr at=latest")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    assert request.mode == "pitr"
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    assert ddb.describe_table(TableName="orders-pitr")["Table"]["TableStatus"] == "ACTIVE"
    assert scan_all(ddb, "orders-pitr") == scan_all(ddb, "orders")


def test_restore_button_opens_the_form_and_its_submission_asks_for_approval(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    ask(signed_restore, slack, "orders")
    listing = slack.wait_for(lambda m: m.channel == OPS and "Exports of orders" in m.text)
    button = next(
        b["accessory"] for b in listing.blocks if b.get("accessory", {}).get("action_id") == "restore_open_form"
    )
    assert button["value"] == job.export_arn

    signed_restore.click(
        "restore_open_form",
        button["value"],
        message_ts=listing.ts,
        channel_id=OPS,
        user_id=REQUESTER,
        response_url=slack.response_url(OPS, user=REQUESTER),
    )
    opened = _wait_call(slack, "views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "restore_form"

    values = {
        "restore_target": {"value": {"type": "plain_text_input", "value": "orders-from-form"}},
        "restore_mode": {"value": {"type": "radio_buttons", "selected_option": {"value": "to"}}},
        "restore_key": {"value": {"type": "plain_text_input", "value": None}},
        "restore_billing": {"value": {"type": "static_select", "selected_option": {"value": "on-demand"}}},
    }
    response = signed_restore.view_submission(
        "restore_form", values, user_id=REQUESTER, private_metadata=view["private_metadata"]
    )
    assert response.status == 200
    message = approval_message(slack)
    assert "orders-from-form" in str(message.blocks)
    slack.wait_for(lambda m: m.via == "chat.postEphemeral" and m.user == REQUESTER and "waiting for" in m.text)


def test_form_with_a_table_name_slack_would_refuse_is_answered_under_the_target_field(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    values = {
        "restore_target": {"value": {"type": "plain_text_input", "value": "bad name with spaces"}},
        "restore_mode": {"value": {"type": "radio_buttons", "selected_option": {"value": "to"}}},
    }
    metadata = f'{{"source": "{job.export_arn}", "channel": "{OPS}"}}'
    response = signed_restore.view_submission("restore_form", values, user_id=REQUESTER, private_metadata=metadata)
    assert response.status == 200
    assert response.json()["response_action"] == "errors"
    assert "restore_target" in response.json()["errors"]


def test_form_in_into_mode_loads_the_export_into_the_existing_table_after_approval(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    job = export_table(restore_bot, signed_restore, slack, "orders")
    create_table(ddb, "staging", pitr=False, items=[])
    values = {
        "restore_target": {"value": {"type": "plain_text_input", "value": "staging"}},
        "restore_mode": {"value": {"type": "radio_buttons", "selected_option": {"value": "into"}}},
        "restore_key": {"value": {"type": "plain_text_input", "value": None}},
    }
    metadata = json.dumps({"source": job.export_arn, "channel": OPS})
    response = signed_restore.view_submission("restore_form", values, user_id=REQUESTER, private_metadata=metadata)
    assert response.status == 200 and not response.body, response.body
    message = approval_message(slack)
    assert "staging" in str(message.blocks) and "existing table" in str(message.blocks).lower()
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, latest_request(restore_bot).id, {RestoreStatus.SUCCEEDED, RestoreStatus.FAILED})
    assert done.status == RestoreStatus.SUCCEEDED
    loaded = {item["pk"]["S"] for item in ddb.scan(TableName="staging")["Items"]}
    assert loaded == {item["pk"]["S"] for item in ddb.scan(TableName="orders")["Items"]} and loaded


def _expire_now(bot: Any, request_id: str) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from bot.restores.store import restore_requests
    from bot.timefmt import utcnow

    with bot.services.engine.begin() as connection:
        connection.execute(
            update(restore_requests)
            .where(restore_requests.c.id == request_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def _wait_call(slack: SlackStandIn, method: str) -> Any:
    from tests.support.restore_flow import wait_until

    return wait_until(lambda: next((c for c in slack.calls if c.method == method), None), method, 60)


def test_after_a_restore_the_settings_dynamodb_did_not_carry_over_are_listed(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn, ddb: Any, world: str
) -> None:
    from tests.support.aws_world import client

    ddb.create_table(
        TableName="ledger",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        DeletionProtectionEnabled=True,
        Tags=[{"Key": "team", "Value": "payments"}],
    )
    ddb.update_time_to_live(TableName="ledger", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    ddb.update_continuous_backups(
        TableName="ledger", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    client("application-autoscaling", world).register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/ledger",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        MinCapacity=5,
        MaxCapacity=50,
    )
    ask(signed_restore, slack, "pitr ledger to=ledger-restored")
    message = approval_message(slack)
    request = latest_request(restore_bot)
    click(signed_restore, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message
    needed = {c["setting"]: c for c in done.result["not_carried_over"] if c["needed"]}
    assert set(needed) == {"TTL", "Streams", "PITR", "Tags", "Auto scaling", "Deletion protection"}
    assert "AttributeName=ttl" in needed["TTL"]["action"]
    assert "StreamViewType=NEW_IMAGE" in needed["Streams"]["action"]
    assert "Key=team,Value=payments" in needed["Tags"]["action"]
    assert "5–50" in needed["Auto scaling"]["source_state"]
    report = slack.wait_for(lambda m: m.thread_ts == message.ts and "finished" in m.text)
    for setting in needed:
        assert setting in str(report.blocks)
    slack.wait_for(lambda m: m.channel == REQUESTER and "Set again on the new table" in str(m.blocks))


def test_two_distinct_approvers_one_through_a_user_group_are_needed_when_configured(
    start_bot: BotFactory, slack: SlackStandIn, ddb: Any
) -> None:
    slack.set_usergroup("S0DBAS", [APPROVER])
    bot = start_bot(approval_channel=APPROVALS, approvers=["S0DBAS", "U0CAROL"], required_approvals=2)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    ask(signed, slack, f"{job.export_arn} to=orders-twice")
    message = approval_message(slack)
    request = latest_request(bot)
    assert "needs 2 approvals" in str(message.blocks)

    click(signed, slack, message, "restore_approve", APPROVER)
    ephemeral_to(slack, APPROVER, "1 more approval needed")
    partial = slack.wait_for(lambda m: m.ts == message.ts and "Approved so far" in str(m.blocks))
    assert set(buttons(partial)) == {"restore_approve", "restore_reject"}
    click(signed, slack, message, "restore_approve", APPROVER)
    ephemeral_to(slack, APPROVER, "already approved")
    assert request_of(bot, request.id).status == "PENDING"

    click(signed, slack, message, "restore_approve", "U0CAROL")
    done = wait_for_status(bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED and done.decided_by == f"{APPROVER},U0CAROL"
    assert len(scan_all(ddb, "orders-twice")) == 3


def test_pitr_requests_outside_the_window_or_without_pitr_are_refused_before_approval(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn
) -> None:
    ask(signed_restore, slack, "pitr orders to=orders-ancient at=2020-01-01T00:00:00Z")
    slack.wait_for(lambda m: m.channel == OPS and "outside the PITR window" in m.text)
    ask(signed_restore, slack, "pitr customers to=customers-copy")
    slack.wait_for(lambda m: m.channel == OPS and "Point-in-time recovery is off" in m.text)
    assert not slack.messages(APPROVALS)


def test_form_errors_are_shown_under_their_field(
    restore_bot: Any, signed_restore: SignedSlackClient, slack: SlackStandIn
) -> None:
    values = {
        "restore_target": {"value": {"type": "plain_text_input", "value": "orders-new"}},
        "restore_mode": {"value": {"type": "radio_buttons", "selected_option": {"value": "to"}}},
        "restore_key": {"value": {"type": "plain_text_input", "value": "pk"}},
    }
    metadata = f'{{"source": "01768385930622-efd1a093", "channel": "{OPS}"}}'
    response = signed_restore.view_submission("restore_form", values, user_id=REQUESTER, private_metadata=metadata)
    assert response.json()["response_action"] == "errors"
    assert list(response.json()["errors"]) == ["restore_key"]


def test_a_new_table_outside_the_restore_prefix_is_refused_before_approval_and_one_inside_is_asked(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    bot = start_bot(**RESTORE_SETTINGS, restore_table_prefix="restored-")
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    job = export_table(bot, signed, slack, "orders")
    ask(signed, slack, f"{job.export_arn} to=orders-copy")
    refusal = slack.wait_for(lambda m: m.channel == OPS and "restored-" in m.text + json.dumps(m.blocks))
    assert "to=restored-orders-copy" in json.dumps(refusal.blocks)
    ask(signed, slack, "pitr orders to=orders-pitr-copy")
    slack.wait_for(lambda m: m.channel == OPS and "orders-pitr-copy" in m.text and "restored-" in json.dumps(m.blocks))
    assert not slack.messages(APPROVALS)
    ask(signed, slack, f"{job.export_arn} to=restored-orders")
    assert "restored-orders" in approval_message(slack).text
