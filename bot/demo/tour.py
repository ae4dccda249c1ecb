"""The scripted tour `make demo` runs without a terminal (CI): real commands, printed replies, checked outcomes.

The tour is a list of steps (commands and clicks, as alice or bob); features append theirs. After the exports it
shows the two-person restore (alice asks, her own Approve is refused, bob approves, the new table is checked in
moto) and a schedule (added, listed, run now).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from bot.demo.console import CHANNELS, USERS, Console, Shown
from bot.exports.status import looks_like_export
from bot.store import Store

OPS = "C0OPS"
BACKUPS = "C0BACKUPS"
APPROVALS = "C0APPROVALS"
ALICE = "U0ALICE"
BOB = "U0BOB"
APPROVE = "restore_approve"  # handlers.restore_blocks.APPROVE_ACTION
REJECT = "restore_reject"  # handlers.restore_blocks.REJECT_ACTION
RESTORED_TABLE = "orders-restored"
SOURCE_TABLE = "orders"
SOURCE_ITEMS = 3  # bot.demo.world puts 3 orders in the table
STEP_TIMEOUT = 10.0
EXPORT_TIMEOUT = 20.0
RESTORE_TIMEOUT = 20.0
TABLE_WAIT_SECONDS = 5.0
SHOWN_LINES = 6  # lines of each message quoted when a check fails
_STARTED = re.compile(r"^Export (?P<id>\S+) of (?P<table>\S+) started")
_REQUEST = re.compile(r"^Restore request (?P<id>\S+) ")
_SCHEDULE_ADDED = re.compile(r"^Schedule (?P<id>\S+) added")


class TourFailed(Exception):
    """An expected reply did not appear in time; the message says which step and what was missing."""


@dataclass(frozen=True)
class Expect:
    """Something the bot must show after a step, found by a predicate on what the console printed."""

    description: str
    matches: Callable[[Shown], bool]
    timeout: float = STEP_TIMEOUT
    where: Callable[[TourState, Shown], bool] | None = None  # a further condition on what earlier steps learned

    def predicate(self, state: TourState) -> Callable[[Shown], bool]:
        """`matches`, and `where` with the tour's state when there is one."""
        where = self.where
        if where is None:
            return self.matches
        return lambda item: self.matches(item) and where(state, item)


@dataclass
class TourState:
    """What the tour learns on the way (e.g. the export's id) for later steps."""

    console: Console
    store: Store | None
    values: dict[str, str] = field(default_factory=dict)
    aws_endpoint: str | None = None  # the demo's moto; None: boto3's own chain (AWS_ENDPOINT_URL in the demo)

    def value(self, key: str) -> str:
        """Something an earlier step remembered; a clear failure when that step did not run or learn it."""
        found = self.values.get(key)
        if found is None:
            raise TourFailed(f"an earlier step should have remembered the {key.replace('_', ' ')}, but none was seen")
        return found

    def dynamodb(self) -> Any:
        """A boto3 DynamoDB client against the demo's AWS, to check what the bot did there."""
        return boto3.Session().client("dynamodb", endpoint_url=self.aws_endpoint)

    def export_reference(self) -> str:
        """The export id when it has AWS's form, else its ARN (moto's ids are not shaped like AWS's)."""
        export_id = self.values.get("export_id")
        if export_id is None:
            raise TourFailed("no export id was seen in the started message")
        if looks_like_export(export_id) or self.store is None:
            return export_id
        job = self.store.find_export(export_id)
        if job is None:
            raise TourFailed(f"export {export_id} is not in the bot's database")
        return job.export_arn


@dataclass(frozen=True)
class Step:
    """One thing the tour does (a command, a click) as some user in some channel, and what must follow it."""

    title: str
    action: Callable[[TourState], None]
    expect: Sequence[Expect] = ()
    user: str | None = None
    channel: str | None = None
    after: Callable[[TourState, list[Shown]], None] | None = None

    def run(self, state: TourState) -> list[Shown]:
        """Act and wait for every expectation; returns what matched them, in order."""
        console = state.console
        if self.user is not None:
            console.user = self.user
        if self.channel is not None:
            console.channel = self.channel
        since = console.mark
        self.action(state)
        found: list[Shown] = []
        for expectation in self.expect:
            item = console.wait_for(expectation.predicate(state), since=since, timeout=expectation.timeout)
            if item is None:
                raise TourFailed(_missing(self.title, expectation, console.shown(since)))
            found.append(item)
        console.settle()
        for expectation in self.expect:
            console.say(console.style.dim(f"  ✓ {expectation.description}"))
        if self.after is not None:
            self.after(state, found)
        return found


def command(
    title: str,
    name: str,
    text: str | Callable[[TourState], str] = "",
    expect: Sequence[Expect] = (),
    *,
    user: str | None = None,
    channel: str | None = None,
    after: Callable[[TourState, list[Shown]], None] | None = None,
) -> Step:
    """A step that sends slash command `name` (`text` may be computed from what earlier steps learned)."""

    def send(state: TourState) -> None:
        state.console.command(name, text(state) if callable(text) else text)

    return Step(title, send, expect, user, channel, after)


def click(
    title: str,
    action_id: str,
    expect: Sequence[Expect] = (),
    *,
    user: str | None = None,
    channel: str | None = None,
    after: Callable[[TourState, list[Shown]], None] | None = None,
) -> Step:
    """A step that presses the newest button on screen with `action_id` (e.g. `approve`, as another user)."""

    def press(state: TourState) -> None:
        matching = [button for button in state.console.buttons() if button.action_id == action_id]
        if not matching:
            raise TourFailed(f"tour step {title!r}: no button with action_id {action_id!r} is on screen")
        button = matching[-1]
        if button.confirm:
            who = state.console.user_name(state.console.user)
            state.console.say(state.console.style.dim(f'(Slack asks first "{button.confirm}"; {who} confirms)'))
        state.console.press(button.number)

    return Step(title, press, expect, user, channel, after)


# ----------------------------------------------------------------------------------------- expectations


def reply(
    description: str,
    pattern: str,
    *,
    channel: str = OPS,
    timeout: float = STEP_TIMEOUT,
    only_to: str | None = None,
    where: Callable[[TourState, Shown], bool] | None = None,
) -> Expect:
    """A message (new or updated) in `channel` whose rendered text matches `pattern`; with `only_to`, an
    ephemeral one only that user sees; with `where`, one that also fits what earlier steps learned.
    """
    compiled = re.compile(pattern)

    def matches(item: Shown) -> bool:
        return (
            item.kind in {"message", "update"}
            and item.channel == channel
            and (only_to is None or (item.ephemeral and item.user == only_to))
            and bool(compiled.search(item.text))
        )

    return Expect(description, matches, timeout, where)


def same_message(key: str) -> Callable[[TourState, Shown], bool]:
    """The message remembered as `key` (an update of it)."""
    return lambda state, item: item.ts == state.value(key)


def in_thread(key: str) -> Callable[[TourState, Shown], bool]:
    """A reply in the thread of the message remembered as `key`."""
    return lambda state, item: item.thread_ts == state.value(key)


def mentions(key: str) -> Callable[[TourState, Shown], bool]:
    """A message naming what was remembered as `key` (an id)."""
    return lambda state, item: state.value(key) in item.text


def ack(description: str, pattern: str) -> Expect:
    """The HTTP answer to the request itself (help and bad input come back this way)."""
    compiled = re.compile(pattern)
    return Expect(description, lambda item: item.kind == "ack" and bool(compiled.search(item.text)))


def _remember_export(state: TourState, found: list[Shown]) -> None:
    match = _STARTED.match(found[0].raw_text)
    if match is None:
        raise TourFailed(f"could not read the export id from {found[0].raw_text!r}")
    state.values["export_id"] = match.group("id")


def _remember_request(state: TourState, found: list[Shown]) -> None:
    """The approval message's ts and the request id; alice's answer must name the same request."""
    approval, answer = found[0], found[1]
    match = _REQUEST.match(approval.raw_text)
    if match is None:
        raise TourFailed(f"could not read the request id from the approval message {approval.raw_text!r}")
    request_id = match.group("id")
    if request_id not in answer.text:
        raise TourFailed(
            f"alice's answer does not name request {request_id} that #approvals shows:\n{_indented(answer.text)}"
        )
    state.values["request_id"] = request_id
    state.values["approval_ts"] = approval.ts
    on_it = {button.action_id for button in state.console.buttons() if button.message_ts == approval.ts}
    missing = {APPROVE, REJECT} - on_it
    if missing:
        raise TourFailed(
            f"the approval message of {request_id} has no pressable {sorted(missing)} button(s); "
            f"its buttons: {sorted(on_it) or 'none'}"
        )


def _approval_still_pending(state: TourState, found: list[Shown]) -> None:
    """A refused click must leave the approval message (and its buttons) alone."""
    approval_ts = state.value("approval_ts")
    on_it = [button for button in state.console.buttons() if button.message_ts == approval_ts]
    left = [button.label for button in on_it]
    if APPROVE not in {button.action_id for button in on_it}:
        raise TourFailed(
            f"after alice's refused click the approval message should still offer Approve to bob; it offers {left}"
        )
    state.console.say(state.console.style.dim(f"  ✓ the approval message still waits for bob ({', '.join(left)})"))


def _restored_table_in_moto(state: TourState, found: list[Shown]) -> None:
    """The restored table, read from moto itself: ACTIVE, with the source's items."""
    ddb = state.dynamodb()
    deadline = time.monotonic() + TABLE_WAIT_SECONDS
    while True:
        tables = ddb.list_tables()["TableNames"]
        status = None
        if RESTORED_TABLE in tables:
            status = ddb.describe_table(TableName=RESTORED_TABLE)["Table"]["TableStatus"]
        if status == "ACTIVE" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if status is None:
        raise TourFailed(f"the bot reported the restore finished, but moto has no table {RESTORED_TABLE} ({tables})")
    if status != "ACTIVE":
        raise TourFailed(f"table {RESTORED_TABLE} is {status} in moto, not ACTIVE, {TABLE_WAIT_SECONDS:.0f}s after")
    restored, source = _scan(ddb, RESTORED_TABLE), _scan(ddb, SOURCE_TABLE)
    if len(restored) != SOURCE_ITEMS or restored != source:
        raise TourFailed(
            f"table {RESTORED_TABLE} in moto holds {len(restored)} item(s), expected the {SOURCE_ITEMS} of "
            f"{SOURCE_TABLE}:\n"
            f"  restored: {restored}\n  source:   {source}"
        )
    state.console.say(
        state.console.style.dim(
            f"  ✓ moto: table {RESTORED_TABLE} is ACTIVE with {len(restored)} items, the same as {SOURCE_TABLE}"
        )
    )


def _restore_finished(state: TourState, found: list[Shown]) -> None:
    """Once decided the approval message offers no buttons; then the new table is checked in moto itself."""
    approval_ts = state.value("approval_ts")
    left = [button.label for button in state.console.buttons() if button.message_ts == approval_ts]
    if left:
        raise TourFailed(f"the settled approval message still offers buttons {left}; a decided request must not")
    _restored_table_in_moto(state, found)


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: (str(item.get("pk")), str(item.get("sk"))))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _remember_schedule(state: TourState, found: list[Shown]) -> None:
    match = _SCHEDULE_ADDED.match(found[0].raw_text)
    if match is None:
        raise TourFailed(f"could not read the schedule id from {found[0].raw_text!r}")
    state.values["schedule_id"] = match.group("id")


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _missing(title: str, expectation: Expect, seen: list[Shown]) -> str:
    lines = [f"tour step {title!r}: expected {expectation.description} within {expectation.timeout:.0f}s."]
    if seen:
        lines.append("Shown since the step began:")
        for item in seen:
            text = item.text.splitlines() or [""]
            lines.append(f"  {_describe(item)}: {text[0]}")
            lines += [f"      {line}" for line in text[1:SHOWN_LINES]]
            if len(text) > SHOWN_LINES:
                lines.append(f"      … ({len(text) - SHOWN_LINES} more lines)")
    else:
        lines.append("Nothing was shown since the step began.")
    return "\n".join(lines)


def _describe(item: Shown) -> str:
    where = f"{item.kind} in {CHANNELS.get(item.channel, item.channel)}"
    if item.thread_ts:
        where += f" (thread reply to {item.thread_ts})"
    if item.ephemeral:
        where += f" (only {USERS.get(item.user or '', item.user or '?')} sees it)"
    return where


# ------------------------------------------------------------------------------------------------ steps

STEPS: list[Step] = [
    command(
        "PITR status of a protected table",
        "/ddb-pitr",
        "orders",
        [reply("PITR reported on for orders, with its monthly cost", r"PITR is on for `orders`[\s\S]*per month")],
    ),
    command(
        "PITR status of an unprotected table",
        "/ddb-pitr",
        "customers",
        [reply("PITR reported off for customers", r"PITR is off for `customers`")],
    ),
    command(
        "Backup coverage of every table",
        "/ddb-coverage",
        "",
        [reply("every table with what it lacks, worst first", r"Backup coverage[\s\S]*`customers`[\s\S]*PITR off")],
    ),
    command(
        "Export a table without PITR (refused)",
        "/ddb-export",
        "customers",
        [reply("the export refused because PITR is off", r"Point-in-time recovery is off for `customers`")],
    ),
    command(
        "Export a table and follow it to the end",
        "/ddb-export",
        "orders",
        [
            reply("the export started in #ops", r"Export `[^`]+` of `orders` started"),
            reply(
                "the COMPLETED result posted in #backups",
                r"Export `[^`]+` of `orders` COMPLETED",
                channel=BACKUPS,
                timeout=EXPORT_TIMEOUT,
            ),
        ],
        after=_remember_export,
    ),
    command(
        "Recent exports of all tables",
        "/ddb-status",
        "",
        [reply("the export listed as COMPLETED", r"Recent exports \(all tables\)[\s\S]*COMPLETED")],
    ),
    command("Exports of one table", "/ddb-status", "orders", [reply("the table's exports", r"Exports of orders")]),
    command(
        "One export in detail",
        "/ddb-status",
        TourState.export_reference,
        [reply("the export's details with its cost", r"Status: COMPLETED[\s\S]*Cost:")],
    ),
    command(
        "What backups of a table cost",
        "/ddb-cost",
        "orders",
        [reply("dollar figures for PITR, exports and S3", r"Backup costs of `orders`[\s\S]*\$\d+\.\d\d")],
    ),
    command("Help for a command", "/ddb-export", "help", [ack("usage in the immediate answer", r"Usage")]),
    # ---- a restore needs a second person: alice asks, bob approves
    command(
        "alice asks to restore the export into a new table",
        "/ddb-restore",
        lambda state: f"{state.value('export_id')} to={RESTORED_TABLE}",
        [
            reply(
                "the approval message in #approvals, with Approve and Reject",
                rf"Restore request `[^`]+`\*? from @{ALICE} needs 1 approval[\s\S]*`{RESTORED_TABLE}`"
                r"[\s\S]*\[\d+\] Approve\s+\[\d+\] Reject",
                channel=APPROVALS,
            ),
            reply(
                "alice told her request id and where it waits",
                r"Restore request `[^`]+` is waiting for 1 approval",
                only_to=ALICE,
            ),
        ],
        user=ALICE,
        channel=OPS,
        after=_remember_request,
    ),
    click(
        "alice presses Approve on her own request",
        APPROVE,
        [
            reply(
                "refused, in a reply only alice sees: she asked for it",
                r"you cannot approve it",
                channel=APPROVALS,
                only_to=ALICE,
            )
        ],
        user=ALICE,
        after=_approval_still_pending,
    ),
    click(
        "bob (an approver) presses Approve: the restore runs (ImportTable)",
        APPROVE,
        [
            reply(
                "bob's approval confirmed to him",
                r"You approved `[^`]+`",
                channel=APPROVALS,
                only_to=BOB,
                where=mentions("request_id"),
            ),
            reply(
                "the restore's report in the approval message's thread: finished, 3 of 3 items, what was not carried "
                "over",
                rf"Restore `[^`]+` into `{RESTORED_TABLE}` finished[\s\S]*Items: {SOURCE_ITEMS} of {SOURCE_ITEMS} items"
                r"[\s\S]*Not carried over by DynamoDB",
                channel=APPROVALS,
                timeout=RESTORE_TIMEOUT,
                where=in_thread("approval_ts"),
            ),
            reply(
                "the approval message itself settled: approved by bob, restore finished, no buttons left",
                rf"Approved — restore finished by @{BOB}",
                channel=APPROVALS,
                timeout=RESTORE_TIMEOUT,
                where=same_message("approval_ts"),
            ),
        ],
        user=BOB,
        after=_restore_finished,
    ),
    # ---- a nightly export, and running it now
    command(
        "alice schedules a nightly export of orders",
        "/ddb-schedule",
        f'add {SOURCE_TABLE} cron="0 2 * * *"',
        [
            reply(
                "the schedule added, with its next three runs and monthly cost",
                r"Schedule `[^`]+` added[\s\S]*Next runs: 20[^,]+, 20[^,]+, 20",
            )
        ],
        user=ALICE,
        channel=OPS,
        after=_remember_schedule,
    ),
    command(
        "The schedules",
        "/ddb-schedule",
        "list",
        [
            reply(
                "the new schedule listed with its next run",
                r"Scheduled exports[\s\S]*cron `0 2 \* \* \*`[\s\S]*Next runs: 20\d\d-",
                where=mentions("schedule_id"),
            )
        ],
    ),
    command(
        "Run the schedule now",
        "/ddb-schedule",
        lambda state: f"run {state.value('schedule_id')}",
        [
            reply("the run's export started", r"Schedule `[^`]+`: export `[^`]+` of `orders` started"),
            reply(
                "its COMPLETED result in #backups, naming the schedule",
                r"Export `[^`]+` of `orders` COMPLETED",
                channel=BACKUPS,
                timeout=EXPORT_TIMEOUT,
                where=mentions("schedule_id"),
            ),
        ],
    ),
]


def run_tour(
    console: Console, store: Store | None = None, steps: Sequence[Step] = STEPS, *, aws_endpoint: str | None = None
) -> None:
    """Run every step, printing as the console would; raises TourFailed at the first missing reply."""
    state = TourState(console, store, aws_endpoint=aws_endpoint)
    started = time.monotonic()
    for number, step in enumerate(steps, start=1):
        console.say("")
        console.say(console.style.bold(f"── Step {number}/{len(steps)}: {step.title} ──"))
        step.run(state)
    elapsed = time.monotonic() - started
    console.say("")
    console.say(f"Tour finished: {len(steps)} steps, every check passed in {elapsed:.1f}s.")


__all__ = [
    "STEPS",
    "Expect",
    "Step",
    "TourFailed",
    "TourState",
    "ack",
    "click",
    "command",
    "in_thread",
    "mentions",
    "reply",
    "run_tour",
    "same_message",
]
