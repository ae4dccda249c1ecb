"""The scripted tour `make demo` runs without a terminal (CI): real commands, clicks and forms, printed replies,
checked outcomes.

The tour is a list of steps (commands, clicks, forms filled and submitted, the Home tab opened, as alice or bob);
features append theirs. It shows PITR and coverage (also of the aliased account `staging`), the Schedule exports form
(a refused cron, then a good one), exports now, at a past time and of a window (checked against the seeded history),
one in the aliased account, costs in dollars, the two-person restore from the command (alice asks, her own Approve is
refused, bob approves, the new table is read back), the Restore… form (a refused name, then a good one) approved by bob
in his App Home, and a schedule (added, listed, run now).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.demo.console import Console
from bot.demo.seeded_world import STAGING, STAGING_BUCKET, DemoAws
from bot.demo.tour_checks import (
    APPROVE,
    HOME_APPROVE,
    SOURCE_TABLE,
    approval_still_pending,
    export_holds,
    export_in_bucket,
    home_offers_approval,
    remember_export,
    remember_request,
    remember_schedule,
    restore_finished,
)
from bot.demo.tour_kit import (
    OPS,
    Expect,
    Step,
    TourFailed,
    TourState,
    ack,
    click,
    command,
    fill_form,
    in_thread,
    mentions,
    open_home,
    reply,
    run_steps,
    same_message,
    shown,
)
from bot.store import Store
from bot.timefmt import iso

BACKUPS = "C0BACKUPS"
APPROVALS = "C0APPROVALS"
ALICE = "U0ALICE"
BOB = "U0BOB"
RESTORED_TABLE = "orders-restored"
FORM_TABLE = "orders-from-form"
EXPORT_TIMEOUT = 20.0
RESTORE_TIMEOUT = 20.0
OPEN_RESTORE_FORM = "restore_open_form"  # handlers.restores.form_blocks.OPEN_FORM_ACTION
OPEN_SCHEDULE_FORM = "coverage_schedule"  # handlers.coverage.schedule_form.SCHEDULE_ACTION (one per row)
DOLLARS = r"\$(?:[1-9][\d,]*\.\d\d)"  # a figure of a dollar or more: the tables have production-like sizes


def _moment(state: TourState, key: str, ago: timedelta) -> str:
    """A time `ago` before now, to the second, remembered as `key` (the checks compare with the history there)."""
    moment = datetime.now(UTC).replace(microsecond=0) - ago
    state.values[key] = iso(moment)
    return iso(moment)


def _at_export(state: TourState) -> str:
    return f"{SOURCE_TABLE} at={_moment(state, 'at', timedelta(hours=1))}"


def _window_export(state: TourState) -> str:
    since, until = _moment(state, "since", timedelta(hours=2)), _moment(state, "until", timedelta(hours=1))
    return f"{SOURCE_TABLE} since={since} until={until}"


def _held_at(state: TourState) -> int:
    return state.seeded().items_at(SOURCE_TABLE, _parsed(state.value("at")))


def _changed_in_window(state: TourState) -> int:
    return state.seeded().changed_between(SOURCE_TABLE, _parsed(state.value("since")), _parsed(state.value("until")))


def _parsed(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _approval(pattern: str) -> Expect:
    return reply(
        "the approval message in #approvals, with Approve and Reject",
        rf"Restore request `[^`]+`\*? from @{ALICE} needs 1 approval[\s\S]*`{pattern}`"
        r"[\s\S]*\[\d+\] Approve\s+\[\d+\] Reject",
        channel=APPROVALS,
    )


def _waiting() -> Expect:
    return reply(
        "alice told her request id and where it waits",
        r"Restore request `[^`]+` is waiting for 1 approval",
        only_to=ALICE,
    )


def _finished(key: str, table: str) -> Expect:
    return reply(
        f"the restore's report in the approval message's thread: finished into {table}",
        rf"Restore `[^`]+` into `{table}` finished[\s\S]*Items(?: in the new table: \d+|: (\d+) of \1 items)"
        r"[\s\S]*Not carried over by DynamoDB",
        channel=APPROVALS,
        timeout=RESTORE_TIMEOUT,
        where=in_thread(f"{key}_ts"),
    )


def _completed(description: str, table: str = SOURCE_TABLE) -> Expect:
    return reply(description, rf"Export `[^`]+` of `{table}` COMPLETED", channel=BACKUPS, timeout=EXPORT_TIMEOUT)


STEPS: list[Step] = [
    # ---- what is protected, in both accounts
    command(
        "PITR status of a protected table",
        "/ddb-pitr",
        SOURCE_TABLE,
        [reply("PITR reported on for orders, with its monthly cost", rf"PITR is on for `orders`[\s\S]*{DOLLARS}")],
    ),
    command(
        "PITR status of an unprotected table",
        "/ddb-pitr",
        "customers",
        [reply("PITR reported off for customers", r"PITR is off for `customers`")],
    ),
    command(
        "PITR status of the same table name in the aliased account `staging`",
        "/ddb-pitr",
        f"{STAGING}:orders",
        [
            reply(
                "PITR reported on for staging:orders (through the assumed role)", rf"PITR is on for `{STAGING}:orders`"
            )
        ],
    ),
    command(
        "Backup coverage of every table, in every account",
        "/ddb-coverage",
        "",
        [
            reply(
                "every table with what it lacks, worst first, the staging account's too",
                rf"Backup coverage[\s\S]*`customers`[\s\S]*PITR off[\s\S]*`{STAGING}:orders`",
            )
        ],
    ),
    # ---- the Schedule exports form behind a coverage row
    click(
        "alice clicks Schedule exports on the orders row: the form opens",
        OPEN_SCHEDULE_FORM,
        [shown("the Schedule exports form, a nightly cron prefilled", "modal", r"Schedule exports[\s\S]*0 2 \* \* \*")],
        user=ALICE,
        channel=OPS,
        where=lambda state, button: button.value == SOURCE_TABLE,
    ),
    fill_form(
        "alice writes a cron the bot cannot read and submits",
        {1: "every night"},
        [shown("the form stays open with the error under the cron field", "form_errors", r"\{1\}[^\n]*\n[^\n]*⚠")],
    ),
    fill_form(
        "alice fixes the cron, picks incremental exports and submits",
        {1: "30 3 * * *", 2: "Incremental"},
        [
            shown("the form closed", "modal_closed", r"submitted and closed"),
            reply(
                "the schedule added, told to alice only, with its next runs",
                r"Schedule `[^`]+` added[\s\S]*Next runs: 20",
                only_to=ALICE,
            ),
        ],
    ),
    # ---- exports: refused, now, at a past time, of a window, in the other account
    command(
        "Export a table without PITR (refused)",
        "/ddb-export",
        "customers",
        [reply("the export refused because PITR is off", r"Point-in-time recovery is off for `customers`")],
    ),
    command(
        "Export a table and follow it to the end",
        "/ddb-export",
        SOURCE_TABLE,
        [
            reply("the export started in #ops", r"Export `[^`]+` of `orders` started"),
            _completed("its COMPLETED result"),
        ],
        after=remember_export("export_id"),
    ),
    command(
        "Export the table as it was an hour ago (at=)",
        "/ddb-export",
        _at_export,
        [reply("the export at that time started", r"Export `[^`]+` of `orders` started"), _completed("its result")],
        after=export_holds("at_export", _held_at, "the items the table held an hour ago, by its history"),
    ),
    command(
        "Export what changed between two hours and one hour ago (incremental)",
        "/ddb-export",
        _window_export,
        [
            reply("the incremental export started", r"Export `[^`]+` of `orders` started"),
            _completed("its result: the changes of that hour"),
        ],
        after=export_holds("window_export", _changed_in_window, "one line per item written in that hour"),
    ),
    command(
        "Export the aliased account's table (to its own bucket, from the config file)",
        "/ddb-export",
        f"{STAGING}:orders",
        [
            reply("the export started", rf"Export `[^`]+` of `{STAGING}:orders` started"),
            _completed("its COMPLETED result", f"{STAGING}:orders"),
        ],
        after=export_in_bucket("staging_export", STAGING_BUCKET),
    ),
    command(
        "Recent exports of all tables",
        "/ddb-status",
        "",
        [reply("the exports listed as COMPLETED", r"Recent exports \(all tables\)[\s\S]*COMPLETED")],
    ),
    command("Exports of one table", "/ddb-status", SOURCE_TABLE, [reply("the table's exports", r"Exports of orders")]),
    command(
        "One export in detail",
        "/ddb-status",
        TourState.export_reference,
        [reply("the export's details with its cost", r"Status: COMPLETED[\s\S]*Cost:")],
    ),
    command(
        "What backups of a table cost",
        "/ddb-cost",
        SOURCE_TABLE,
        [reply("dollar figures for PITR, exports and S3", rf"Backup costs of `orders`[\s\S]*{DOLLARS}")],
    ),
    command("Help for a command", "/ddb-export", "help", [ack("usage in the immediate answer", r"Usage")]),
    # ---- a restore needs a second person: alice asks, bob approves
    command(
        "alice asks to restore the export into a new table",
        "/ddb-restore",
        lambda state: f"{state.value('export_id')} to={RESTORED_TABLE}",
        [_approval(RESTORED_TABLE), _waiting()],
        user=ALICE,
        channel=OPS,
        after=remember_request("request"),
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
        after=approval_still_pending,
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
                where=mentions("request"),
            ),
            _finished("request", RESTORED_TABLE),
            reply(
                "the approval message itself settled: approved by bob, restore finished, no buttons left",
                rf"Approved — restore finished by @{BOB}",
                channel=APPROVALS,
                timeout=RESTORE_TIMEOUT,
                where=same_message("request_ts"),
            ),
        ],
        user=BOB,
        after=restore_finished("request", RESTORED_TABLE),
    ),
    # ---- the Restore… form, approved from bob's App Home
    command(
        "alice lists the exports she can restore",
        "/ddb-restore",
        "",
        [reply("the completed exports, each with a Restore… button", r"Recent exports \(all tables\)[\s\S]*Restore…")],
        user=ALICE,
        channel=OPS,
    ),
    click(
        "alice clicks Restore… on the full export of orders: the form opens",
        OPEN_RESTORE_FORM,
        [shown("the Restore… form with its fields", "modal", r"Restore an export[\s\S]*\{1\} Target table")],
        where=lambda state, button: state.value("export_id") in button.value,
    ),
    fill_form(
        "alice names a target table DynamoDB would refuse and submits",
        {1: "orders copy"},
        [shown("the form stays open, the bot's error under the target", "form_errors", r"not a valid DynamoDB table")],
    ),
    fill_form(
        "alice names a good target and submits",
        {1: FORM_TABLE, 4: "On-demand"},
        [shown("the form closed", "modal_closed", r"submitted and closed"), _approval(FORM_TABLE), _waiting()],
        after=remember_request("form_request", first=1),
    ),
    open_home(
        "bob opens the bot's App Home",
        [shown("bob's Home tab: coverage, what runs, the request waiting for him", "home", r"Waiting for approval")],
        user=BOB,
        after=home_offers_approval("form_request"),
    ),
    click(
        "bob clicks Approve on his Home tab: the restore runs",
        HOME_APPROVE,
        [
            shown("the Home tab again, saying he approved it", "home", r"You approved `[^`]+`", only_to=BOB),
            _finished("form_request", FORM_TABLE),
        ],
        user=BOB,
        where=lambda state, button: state.value("form_request") in button.value,
        after=restore_finished("form_request", FORM_TABLE),
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
        after=remember_schedule,
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
    console: Console,
    store: Store | None = None,
    steps: Sequence[Step] = STEPS,
    *,
    aws_endpoint: str | None = None,
    world: DemoAws | None = None,
) -> None:
    """Run every step against the demo's world; raises TourFailed at the first missing reply."""
    run_steps(console, steps, TourState(console, store, aws_endpoint=aws_endpoint, world=world))


__all__ = ["STEPS", "TourFailed", "run_tour"]
