"""The recovery builders stay within Slack's limits whatever they are given (the Slack stand-in's validator, as in
test_block_kit_limits.py), let no foreign text notify anyone, and put item values only where they belong."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.recovery.actions import RepairAction
from bot.recovery.exporting import RecoveryExport
from bot.recovery.keys import ItemKey, KeyAttribute, KeySchema
from bot.recovery.models import Counts, Kind, Preparation, Source, State
from bot.recovery.service import Started
from bot.recovery.views import item_view
from bot.restores.models import (
    Estimate,
    RestoreMode,
    RestorePlan,
    RestoreRequest,
    RestoreStatus,
)
from bot.restores.notify import RestoreOutcome
from bot.restores.repairs import RepairOptions
from handlers.kit import blocks
from handlers.recovery import blocks as recovery_blocks
from handlers.recovery.parsing import ITEM_HELP, RECOVER_HELP, REVERT_HELP
from handlers.restores import blocks as restore_blocks
from tests.unit.handlers.test_block_kit_limits import (
    MAXIMAL,
    Given,
    foreign_text,
    limit_errors,
    stray_control_sequences,
)

T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "S"))
Payload = dict[str, Any]


def preparation(g: Given, kind: Kind = Kind.ITEM) -> Preparation:
    key = ItemKey(SCHEMA, {"S": g.text[:2048]}, {"S": g.text[:1024]})
    export = RecoveryExport(
        f"arn:aws:dynamodb:us-east-1:1:table/{g.name}/export/01-a", "b", g.text, None, "FULL_EXPORT"
    )
    return Preparation(
        id="v-0123456789",
        kind=kind,
        state=State.ANSWERED,
        source=Source.EXPORTS,
        requested_by=g.user,
        channel_id="C0OPS",
        table=g.name,
        table_name=g.name,
        table_arn=f"arn:aws:dynamodb:us-east-1:1:table/{g.name}",
        account_alias=None,
        region="us-east-1",
        schema=SCHEMA,
        key=key if kind != Kind.REVERT else None,
        at=T0,
        as_of=T0 - timedelta(hours=1),
        since=T0,
        until=T0 + timedelta(hours=1),
        where=g.text if kind == Kind.REVERT else None,
        exports=(export,) * min(g.rows, 20),
        counts=Counts(g.rows, g.rows, g.rows, g.rows, g.rows),
    )


def item(g: Given, n: int, value: str) -> dict[str, Any]:
    return {"pk": {"S": f"{g.text[:100]}{n}"}, "sk": {"S": "1"}, "note": {"S": value}, g.text[:200]: {"S": value}}


def actions(g: Given) -> list[RepairAction]:
    return [
        RepairAction(n, {"pk": {"S": str(n)}}, f"pk={g.text[:300]}{n}", item(g, n, g.text), item(g, n, "then"))
        for n in range(g.rows)
    ]


def request(g: Given, mode: RestoreMode = RestoreMode.REVERT) -> RestoreRequest:
    options = RepairOptions(
        "v-0123456789", SCHEMA.as_dict(), (g.text,) * min(g.rows, 20), "d" * 64, g.rows, g.rows, g.rows,
        item_key=g.text if mode == RestoreMode.RECOVER else None, at=T0, since=T0, until=T0, where=g.text,
    )  # fmt: skip
    plan = RestorePlan(mode, options.exports, g.name, None, "us-east-1", options)
    return RestoreRequest(
        id="r-0123456789",
        status=RestoreStatus.SUCCEEDED,
        plan=plan,
        plan_hash=plan.digest(),
        requested_by=g.user,
        required_approvals=1,
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        estimate=Estimate("$1.00", 60.0, g.text),
        approval_channel="C0APPROVALS",
        approval_ts="1.2",
    )


def outcome(g: Given) -> RestoreOutcome:
    left = [{"key": g.text, "outcome": "conflict", "note": g.text}] * min(g.rows, 20)
    details = {"unchanged": g.rows, "conflicts": g.rows, "uncheckable": 1, "refused": 1, "left_alone": left}
    return RestoreOutcome(items_written=g.rows, deletes_applied=g.rows, duration_seconds=60.0, details=details)


Case = Callable[[Given], Payload]
CASES: dict[str, list[Case]] = {
    "started_reply": [
        lambda g, k=k: recovery_blocks.started_reply(Started(preparation(g, k), (g.text,) * g.rows)) for k in Kind
    ],
    "items_message": [
        lambda g, k=k, o=o: recovery_blocks.items_message(item_view(preparation(g, k), actions(g)), offer_restore=o)
        for k in Kind
        for o in (True, False)
    ],
    "approval_thread": [lambda g: recovery_blocks.approval_thread(preparation(g, Kind.REVERT), request(g))],
    "requested_note": [lambda g: recovery_blocks.requested_note(preparation(g, Kind.RECOVER), request(g))],
    "failed_note": [lambda g: recovery_blocks.failed_note(preparation(g), g.text)],
}
RESTORE_CASES: list[Case] = (
    [lambda g, m=m: restore_blocks.approval_request(request(g, m)) for m in (RestoreMode.RECOVER, RestoreMode.REVERT)]
    + [
        lambda g, m=m: restore_blocks.finished_note(request(g, m), outcome(g))
        for m in (RestoreMode.RECOVER, RestoreMode.REVERT)
    ]
    + [lambda g, h=h: blocks.help_message(h) for h in (ITEM_HELP, RECOVER_HELP, REVERT_HELP)]
)
ALL = [case for cases in CASES.values() for case in cases] + RESTORE_CASES


def test_every_recovery_builder_has_cases_here() -> None:
    public = {
        name
        for name, function in inspect.getmembers(recovery_blocks, inspect.isfunction)
        if function.__module__ == recovery_blocks.__name__ and function.__annotations__.get("return") == "Message"
    }
    assert public == set(CASES)


@pytest.mark.parametrize("case", ALL)
def test_with_maximal_inputs_every_recovery_message_stays_within_slacks_limits(case: Case) -> None:
    payload = case(MAXIMAL)
    assert limit_errors("", payload) == []
    assert stray_control_sequences(payload, MAXIMAL) == []


@given(text=foreign_text(6), rows=st.integers(0, 30))
def test_for_any_text_no_recovery_message_breaks_a_limit_or_lets_foreign_text_notify(text: str, rows: int) -> None:
    g = Given(name="orders", text=text, user="U0ALICE", rows=rows)
    for case in ALL:
        payload = case(g)
        assert limit_errors("", payload) == []
        assert stray_control_sequences(payload, g) == []


def test_values_appear_in_the_private_answer_and_nowhere_else() -> None:
    g = Given(name="orders", text="SECRET-4111", user="U0ALICE", rows=2)
    private = json.dumps(recovery_blocks.items_message(item_view(preparation(g), actions(g)), offer_restore=True))
    assert "then" in private and "Restore this version" in private
    thread = json.dumps(recovery_blocks.approval_thread(preparation(g, Kind.REVERT), request(g)))
    assert "Show the items (private)" in thread and "then" not in thread
