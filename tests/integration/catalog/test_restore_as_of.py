"""`/ddb-restore <table> at=<time> into=…` beyond the PITR window: the bot picks the catalogue's chain (a full
export found in the bucket and the incrementals after it), a second person approves it, and the target holds the
table as it was at that time; a time the chain cannot reach is refused naming why; inside the window `to=` is a
PITR restore."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.demo.slack_standin import SlackStandIn
from bot.restores.models import RestoreMode, RestoreStatus
from bot.timefmt import iso
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.support.aws_world import DEFAULT_ACCOUNT, set_pitr_window
from tests.support.export_fixtures import decoded, key_of, sample_items, write_full_export, write_incremental_export
from tests.support.restore_flow import (
    APPROVER,
    OPS,
    OUTSIDER,
    REQUESTER,
    RESTORE_SETTINGS,
    approval_message,
    ask,
    click,
    create_staging,
    latest_request,
    staged,
    wait_for_status,
    wait_until,
)
from tests.support.slack_requests import SignedSlackClient

BUCKET, PREFIX = "acme-ddb-backups", "dynamodb-exports/ledger"
T0 = (datetime.now(UTC) - timedelta(days=120)).replace(minute=0, second=0, microsecond=0)
H = timedelta(hours=1)
OPEN_FORM = "restore_open_form"  # the Restore… button (handlers.restores.form_blocks.OPEN_FORM_ACTION)


@pytest.fixture
def restore_bot(start_bot: BotFactory) -> BotRuntime:
    return start_bot(**RESTORE_SETTINGS)


@pytest.fixture
def signed(restore_bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{restore_bot.url}/slack/events", SIGNING_SECRET)


@pytest.fixture
def ledger(ddb: Any) -> str:
    """A table keyed like the export fixtures' items (pk S, sk N), with PITR on."""
    create_staging(ddb, "ledger")
    ddb.update_continuous_backups(
        TableName="ledger", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return "ledger"


def keys(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


def test_a_restore_as_of_a_time_beyond_pitr_picks_the_catalogues_chain_and_restores_it(
    restore_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any, ledger: str
) -> None:
    base = list(sample_items(20, seed=5))
    full = write_full_export(s3, BUCKET, f"{PREFIX}/full", base, files=2, export_time=T0, table_name="ledger")
    renamed = {**base[0], "name": {"S": "renamed"}}
    first = write_incremental_export(
        s3, BUCKET, f"{PREFIX}/inc", [(keys(renamed), renamed, base[0])], T0, T0 + H, table_name="ledger"
    )
    second = write_incremental_export(
        s3, BUCKET, f"{PREFIX}/inc", [(keys(base[1]), None, base[1])], T0 + H, T0 + 2 * H, table_name="ledger"
    )
    later = write_incremental_export(
        s3, BUCKET, f"{PREFIX}/inc", [(keys(base[2]), None, base[2])], T0 + 2 * H, T0 + 3 * H, table_name="ledger"
    )
    create_staging(ddb)

    ask(signed, slack, f"ledger at={iso(T0 + 2 * H)} into=staging")
    message = approval_message(slack, timeout=40)
    request = latest_request(restore_bot)
    assert request.mode == RestoreMode.LOAD
    assert list(request.plan.sources) == [full.url, first.url, second.url]
    assert later.url not in request.plan.sources
    click(signed, slack, message, "restore_approve", APPROVER)
    done = wait_for_status(restore_bot, request.id, {RestoreStatus.SUCCEEDED, "FAILED"})
    assert done.status == RestoreStatus.SUCCEEDED, done.failure_message

    expected = {key_of(i): decoded(i) for i in base}
    expected[key_of(renamed)] = decoded(renamed)
    del expected[key_of(base[1])]
    assert staged(ddb) == expected


def test_a_time_the_chain_cannot_reach_is_refused_naming_the_gap(
    signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any, ledger: str
) -> None:
    write_full_export(s3, BUCKET, f"{PREFIX}/full", sample_items(3), export_time=T0, table_name="ledger")
    write_incremental_export(s3, BUCKET, f"{PREFIX}/inc", [], T0 + H, T0 + 2 * H, table_name="ledger")
    create_staging(ddb)

    ask(signed, slack, f"ledger at={iso(T0 + 2 * H)} into=staging")

    refusal = slack.wait_for(lambda m: m.channel == OPS and "cannot be restored" in m.text, timeout=20)
    assert f"no export covers {iso(T0)} → {iso(T0 + H)}" in refusal.text
    assert "Nothing was requested" in refusal.text and not slack.messages("C0APPROVALS")


def test_inside_the_pitr_window_a_new_table_comes_from_pitr(
    restore_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    set_pitr_window(DEFAULT_ACCOUNT, "orders", now - 24 * H, now)
    at = now - H
    ask(signed, slack, f"orders at={iso(at)} to=restored-orders")
    approval_message(slack, timeout=40)
    request = latest_request(restore_bot)
    assert request.mode == RestoreMode.PITR and request.target == "restored-orders"


def test_the_catalogues_restore_button_asks_for_that_chain_through_the_form(
    restore_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, ddb: Any, s3: Any, ledger: str
) -> None:
    base = list(sample_items(6, seed=7))
    full = write_full_export(s3, BUCKET, f"{PREFIX}/full", base, files=1, export_time=T0, table_name="ledger")
    first = write_incremental_export(
        s3, BUCKET, f"{PREFIX}/inc", [(keys(base[0]), None, base[0])], T0, T0 + H, table_name="ledger"
    )
    create_staging(ddb)
    at = iso(T0 + H)
    signed.command("/ddb-catalog", f"ledger at={at}", user_id=REQUESTER, response_url=slack.response_url(OPS))
    answer = slack.wait_for(
        lambda m: m.via == "response_url" and "can be restored as of" in json.dumps(m.blocks), timeout=20
    )
    button = next(b["accessory"] for b in answer.blocks if b.get("accessory", {}).get("action_id") == OPEN_FORM)
    assert button["value"] == f"ledger at={at}"

    signed.click(
        OPEN_FORM,
        button["value"],
        message_ts=answer.ts,
        channel_id=OPS,
        user_id=REQUESTER,
        response_url=slack.response_url(OPS, user=REQUESTER),
    )
    view = wait_until(lambda: next((c for c in slack.calls if c.method == "views.open"), None), "views.open", 20)
    view = view.params["view"]
    assert "`ledger` as of" in json.dumps(view["blocks"])
    values = {
        "restore_target": {"value": {"type": "plain_text_input", "value": "staging"}},
        "restore_mode": {"value": {"type": "radio_buttons", "selected_option": {"value": "into"}}},
    }
    response = signed.view_submission(
        "restore_form", values, user_id=REQUESTER, private_metadata=view["private_metadata"]
    )
    assert response.status == 200 and not response.body, response.body

    approval_message(slack, timeout=40)
    request = latest_request(restore_bot)
    assert request.mode == RestoreMode.LOAD and request.target == "staging" and request.requested_by == REQUESTER
    assert list(request.plan.sources) == [full.url, first.url]


def test_only_an_operator_gets_the_form_from_the_catalogues_button(start_bot: BotFactory, slack: SlackStandIn) -> None:
    bot = start_bot(**RESTORE_SETTINGS, operators=[REQUESTER])
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    signed.click(
        OPEN_FORM,
        f"ledger at={iso(T0)}",
        message_ts="1.0",
        channel_id=OPS,
        user_id=OUTSIDER,
        response_url=slack.response_url(OPS, user=OUTSIDER),
    )
    slack.wait_for(lambda m: m.ephemeral and m.user == OUTSIDER, timeout=20)
    assert not [c for c in slack.calls if c.method == "views.open"]
