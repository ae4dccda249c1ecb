"""Recovery records with maximal inputs and the recovery builders' cases, for the Block Kit checks of every builder
(tests/unit/handlers/test_block_kit_limits.py) and the recovery's own (test_recovery_blocks.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.recovery.actions import RepairAction
from bot.recovery.asks import Started
from bot.recovery.exporting import RecoveryExport
from bot.recovery.keys import ItemKey, KeyAttribute, KeySchema
from bot.recovery.models import Counts, Kind, Preparation, Source, State
from bot.recovery.views import item_view
from bot.restores.models import Estimate, RestoreMode, RestorePlan, RestoreRequest, RestoreStatus
from bot.restores.notify import RestoreOutcome
from bot.restores.repairs import RepairOptions
from handlers.recovery import blocks as recovery_blocks


class Given(Protocol):
    """What a builder is given from outside (test_block_kit_limits.Given has these fields)."""

    @property
    def name(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def rows(self) -> int: ...


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
    "preparation_failed": [lambda g: recovery_blocks.preparation_failed(preparation(g), g.text)],
}
