"""What the tour checks beyond the replies it waits for: ids remembered for later steps, approval messages and their
buttons, restored tables read back from AWS, exports holding what the seeded history says they must."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from bot.demo.console import Shown
from bot.demo.tour_kit import TourFailed, TourState, indented

APPROVE = "restore_approve"  # handlers.restores.blocks.APPROVE_ACTION
REJECT = "restore_reject"  # handlers.restores.blocks.REJECT_ACTION
HOME_APPROVE = "home_restore_approve"  # handlers.home.blocks.HOME_APPROVE_ACTION
SOURCE_TABLE = "orders"
TABLE_WAIT_SECONDS = 5.0
_STARTED = re.compile(r"^Export (?P<id>\S+) of (?P<table>\S+) started")
_REQUEST = re.compile(r"^Restore request (?P<id>\S+) ")
_SCHEDULE_ADDED = re.compile(r"^Schedule (?P<id>\S+) added")


def remember_export(key: str) -> Callable[[TourState, list[Shown]], None]:
    """Remember the id of the export the step's first reply says was started, as `key`."""

    def remember(state: TourState, found: list[Shown]) -> None:
        match = _STARTED.match(found[0].raw_text)
        if match is None:
            raise TourFailed(f"could not read the export id from {found[0].raw_text!r}")
        state.values[key] = match.group("id")

    return remember


def export_holds(key: str, expected: Callable[[TourState], int], what: str) -> Callable[[TourState, list[Shown]], None]:
    """After `remember_export(key)`: the finished export (in the bot's database) holds `expected` items."""

    def check(state: TourState, found: list[Shown]) -> None:
        remember_export(key)(state, found)
        if state.store is None:
            raise TourFailed("the tour needs the bot's database to check what an export holds")
        job = state.store.find_export(state.value(key))
        wanted = expected(state)
        if job is None or job.item_count != wanted:
            held = "no such export" if job is None else f"{job.item_count} items"
            raise TourFailed(f"export {state.value(key)} should hold {wanted} items ({what}); it holds {held}")
        state.console.say(state.console.style.dim(f"  ✓ export {job.export_id} holds {wanted} items: {what}"))

    return check


def export_in_bucket(key: str, bucket: str) -> Callable[[TourState, list[Shown]], None]:
    """After `remember_export(key)`: the export was written to `bucket` (the aliased table's own bucket)."""

    def check(state: TourState, found: list[Shown]) -> None:
        remember_export(key)(state, found)
        job = state.store.find_export(state.value(key)) if state.store is not None else None
        if job is None or job.bucket != bucket:
            raise TourFailed(f"export {state.value(key)} should be in bucket {bucket}: {job}")
        state.console.say(state.console.style.dim(f"  ✓ export {job.export_id} of {job.table_key} is in {bucket}"))

    return check


def remember_request(key: str, first: int = 0) -> Callable[[TourState, list[Shown]], None]:
    """The approval message's ts and the request id (as `key`, `key_ts`), from the step's replies `first` (the
    approval message) and the one after it (the requester's answer, which must name the same request); the approval
    message must offer Approve and Reject."""

    def remember(state: TourState, found: list[Shown]) -> None:
        approval, answer = found[first], found[first + 1]
        match = _REQUEST.match(approval.raw_text)
        if match is None:
            raise TourFailed(f"could not read the request id from the approval message {approval.raw_text!r}")
        request_id = match.group("id")
        if request_id not in answer.text:
            raise TourFailed(
                f"the requester's answer does not name request {request_id} that #approvals shows:\n"
                f"{indented(answer.text)}"
            )
        state.values[key] = request_id
        state.values[f"{key}_ts"] = approval.ts
        on_it = {button.action_id for button in state.console.buttons() if button.message_ts == approval.ts}
        missing = {APPROVE, REJECT} - on_it
        if missing:
            raise TourFailed(
                f"the approval message of {request_id} has no pressable {sorted(missing)} button(s); "
                f"its buttons: {sorted(on_it) or 'none'}"
            )

    return remember


def approval_still_pending(state: TourState, found: list[Shown]) -> None:
    """A refused click must leave the approval message (and its buttons) alone."""
    approval_ts = state.value("request_ts")
    on_it = [button for button in state.console.buttons() if button.message_ts == approval_ts]
    left = [button.label for button in on_it]
    if APPROVE not in {button.action_id for button in on_it}:
        raise TourFailed(
            f"after alice's refused click the approval message should still offer Approve to bob; it offers {left}"
        )
    state.console.say(state.console.style.dim(f"  ✓ the approval message still waits for bob ({', '.join(left)})"))


def home_offers_approval(key: str) -> Callable[[TourState, list[Shown]], None]:
    """bob's Home tab lists the request remembered as `key` with an Approve button he can click."""

    def check(state: TourState, found: list[Shown]) -> None:
        request_id = state.value(key)
        buttons = [b for b in state.console.buttons() if b.action_id == HOME_APPROVE and request_id in b.value]
        if request_id not in found[0].text or not buttons:
            raise TourFailed(f"the Home tab should list {request_id} with an Approve button:\n{found[0].text}")
        state.console.say(state.console.style.dim(f"  ✓ the Home tab offers [{buttons[-1].number}] Approve"))

    return check


def restore_finished(key: str, table: str) -> Callable[[TourState, list[Shown]], None]:
    """Once decided the approval message offers no buttons; then the new table is checked in AWS itself."""

    def check(state: TourState, found: list[Shown]) -> None:
        approval_ts = state.value(f"{key}_ts")
        left = [button.label for button in state.console.buttons() if button.message_ts == approval_ts]
        if left:
            raise TourFailed(f"the settled approval message still offers buttons {left}; a decided request must not")
        restored_table_holds_source(state, table)

    return check


def restored_table_holds_source(state: TourState, table: str) -> None:
    """The restored table, read from AWS itself: ACTIVE, with the items of the source table."""
    ddb = state.dynamodb()
    deadline = time.monotonic() + TABLE_WAIT_SECONDS
    while True:
        tables = ddb.list_tables()["TableNames"]
        status = None
        if table in tables:
            status = ddb.describe_table(TableName=table)["Table"]["TableStatus"]
        if status == "ACTIVE" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if status is None:
        raise TourFailed(f"the bot reported the restore finished, but AWS has no table {table} ({tables})")
    if status != "ACTIVE":
        raise TourFailed(f"table {table} is {status} in AWS, not ACTIVE, {TABLE_WAIT_SECONDS:.0f}s after")
    restored, source = _scan(ddb, table), _scan(ddb, SOURCE_TABLE)
    if not source or restored != source:
        raise TourFailed(
            f"table {table} holds {len(restored)} item(s), expected the {len(source)} of {SOURCE_TABLE}:\n"
            f"  restored: {restored}\n  source:   {source}"
        )
    state.console.say(
        state.console.style.dim(
            f"  ✓ AWS: table {table} is ACTIVE with {len(restored)} items, the same as {SOURCE_TABLE}"
        )
    )


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: (str(item.get("pk")), str(item.get("sk"))))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def remember_schedule(state: TourState, found: list[Shown]) -> None:
    """The id of the schedule the first reply says was added."""
    match = _SCHEDULE_ADDED.match(found[0].raw_text)
    if match is None:
        raise TourFailed(f"could not read the schedule id from {found[0].raw_text!r}")
    state.values["schedule_id"] = match.group("id")
