"""`/ddb-retention <table> delete <export>` through the signed endpoint: a request a second person approves with a
button, never the requester; once approved the export's objects are gone from moto's bucket and the catalogue no
longer offers it; a chain's base full export and a non-operator are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.retention.models import DeletionState
from bot.retention.store import export_deletions
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.integration.retention.test_retention import answer_to, full_export, incremental
from tests.support.aws_world import s3_keys
from tests.support.restore_flow import APPROVALS, click, ephemeral_to, wait_until
from tests.support.slack_requests import SignedSlackClient

REQUESTER, APPROVER, OUTSIDER = "U0ALICE", "U0BOB", "U0MALLORY"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
DAY = timedelta(days=1)
APPROVE, REJECT = "retention_delete_approve", "retention_delete_reject"


@pytest.fixture
def bot(start_bot: BotFactory) -> BotRuntime:
    return start_bot(operators=[REQUESTER], approvers=[REQUESTER, APPROVER], approval_channel=APPROVALS)


@pytest.fixture
def signed(bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)


def ask_deletion(signed: SignedSlackClient, slack: SlackStandIn, text: str, user: str = REQUESTER) -> str:
    return answer_to(signed, slack, "/ddb-retention", f"orders delete {text}", user)


def approval_message(slack: SlackStandIn) -> PostedMessage:
    return slack.wait_for(lambda m: m.channel == APPROVALS and m.thread_ts is None and "Deletion request" in m.text)


def deletion_state(bot: BotRuntime) -> tuple[str, int | None]:
    with bot.services.engine.connect() as connection:
        row = connection.execute(select(export_deletions.c.state, export_deletions.c.deleted_objects)).one()
    return str(row.state), row.deleted_objects


def catalogue_text(signed: SignedSlackClient, slack: SlackStandIn) -> str:
    return answer_to(signed, slack, "/ddb-catalog", "orders")


def test_an_early_deletion_needs_a_second_person_and_then_the_files_are_gone(
    bot: BotRuntime, s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    keep = full_export(s3, NOW - 9 * DAY, "keep")
    doomed = full_export(s3, NOW - 2 * DAY, "doomed")
    objects = len(s3_keys(s3, "acme-ddb-backups", doomed.folder))
    assert objects > 2

    answer = ask_deletion(signed, slack, doomed.export_id)
    assert "Deletion request" in answer and "an approver other than you must approve it" in answer
    message = approval_message(slack)
    assert doomed.export_id in message.text and f"{objects} objects" in message.text
    assert "cannot be undone" in json.dumps(message.blocks)

    click(signed, slack, message, APPROVE, REQUESTER)
    ephemeral_to(slack, REQUESTER, "You asked for this deletion, so you cannot approve it")
    assert deletion_state(bot) == ("PENDING", None)
    assert len(s3_keys(s3, "acme-ddb-backups", doomed.folder)) == objects, "nothing deleted on one person's word"

    click(signed, slack, message, APPROVE, APPROVER)
    wait_until(lambda: deletion_state(bot)[0] == DeletionState.DELETED or None, "the deletion done", timeout=30)
    assert deletion_state(bot) == ("DELETED", objects)
    assert s3_keys(s3, "acme-ddb-backups", doomed.folder) == []
    assert s3_keys(s3, "acme-ddb-backups", keep.folder) != [], "only that export"
    listed = catalogue_text(signed, slack)
    assert doomed.export_id not in listed and keep.export_id in listed
    slack.wait_for(
        lambda m: m.thread_ts == message.ts and f"{objects} objects deleted." in json.dumps(m.blocks), timeout=20
    )


def test_a_rejected_deletion_deletes_nothing(
    bot: BotRuntime, s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    doomed = full_export(s3, NOW - 2 * DAY, "doomed")
    ask_deletion(signed, slack, doomed.export_id)
    message = approval_message(slack)
    click(signed, slack, message, REJECT, APPROVER)
    wait_until(lambda: deletion_state(bot)[0] == "REJECTED" or None, "rejected", timeout=20)
    click(signed, slack, message, APPROVE, APPROVER)
    ephemeral_to(slack, APPROVER, "already rejected")
    assert s3_keys(s3, "acme-ddb-backups", doomed.folder) != []


def test_a_full_export_a_kept_chain_builds_on_is_refused_naming_the_chain(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    base = full_export(s3, NOW - 3 * DAY, "base")
    first = incremental(s3, NOW - 3 * DAY, NOW - 2 * DAY)
    last = incremental(s3, NOW - 2 * DAY, NOW - DAY)
    answer = ask_deletion(signed, slack, base.export_id)
    assert f"The full export {base.export_id} is the base of a chain of 2 incremental exports" in answer
    assert f"({first.export_id} → {last.export_id}" in answer and "Nothing was asked." in answer
    assert s3_keys(s3, "acme-ddb-backups", base.folder) != []


def test_a_non_operator_may_not_ask_for_a_deletion(s3: Any, signed: SignedSlackClient, slack: SlackStandIn) -> None:
    doomed = full_export(s3, NOW - 2 * DAY, "doomed")
    answer = ask_deletion(signed, slack, doomed.export_id, user=OUTSIDER)
    assert "Only operators may ask for an export to be deleted early." in answer
    assert "Deletion request" not in answer


def test_an_unknown_export_is_named(s3: Any, signed: SignedSlackClient, slack: SlackStandIn) -> None:
    full_export(s3, NOW - 2 * DAY, "one")
    answer = ask_deletion(signed, slack, "01700000000000-deadbeef")
    assert "The catalogue of `orders` has no export `01700000000000-deadbeef`." in answer


def test_files_object_lock_holds_are_reported_as_kept(
    bot: BotRuntime, s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    s3.put_bucket_versioning(Bucket="acme-ddb-backups", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(
        Bucket="acme-ddb-backups",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
        },
    )
    doomed = full_export(s3, NOW - 2 * DAY, "locked")
    objects = len(s3_keys(s3, "acme-ddb-backups", doomed.folder))
    ask_deletion(signed, slack, doomed.export_id)
    message = approval_message(slack)
    click(signed, slack, message, APPROVE, APPROVER)
    wait_until(lambda: deletion_state(bot)[0] in {"PARTIAL", "DELETED", "FAILED"} or None, "the deletion", timeout=30)
    assert deletion_state(bot) == ("PARTIAL", 0)
    assert len(s3_keys(s3, "acme-ddb-backups", doomed.folder)) == objects, "S3 kept every locked file"
    slack.wait_for(
        lambda m: m.thread_ts == message.ts and "Object Lock (COMPLIANCE, 30 days" in json.dumps(m.blocks), timeout=20
    )


def test_a_bot_that_asks_several_approvers_does_not_offer_a_deletion_one_approval_would_decide(
    start_bot: BotFactory, s3: Any, slack: SlackStandIn
) -> None:
    strict = start_bot(
        operators=[REQUESTER], approvers=[REQUESTER, APPROVER], approval_channel=APPROVALS, required_approvals=2
    )
    doomed = full_export(s3, NOW - 2 * DAY, "doomed")
    objects = len(s3_keys(s3, "acme-ddb-backups", doomed.folder))
    answer = ask_deletion(SignedSlackClient(f"{strict.url}/slack/events", SIGNING_SECRET), slack, doomed.export_id)
    assert "asks 2 approvers" in answer and "Nothing was asked" in answer
    assert not [m for m in slack.messages() if m.channel == APPROVALS], "no approval message"
    assert len(s3_keys(s3, "acme-ddb-backups", doomed.folder)) == objects
