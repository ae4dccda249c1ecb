"""Pure Block Kit builders for schedules, their runs and the daily digest. All foreign text is escaped here,
and every piece of it is bounded, so a list of schedules or tables stays within Slack's limits."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.models import ExportJob, ExportStatus, ExportType
from bot.money import dollars
from bot.schedules.models import Digest, DigestTable, RunKind, RunReport, RunState, Schedule, ScheduleRun, ScheduleView
from bot.schedules.runs import RunOutcome
from bot.schedules.service import AddedSchedule
from bot.timefmt import duration, iso
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    SECTION_TEXT,
    Message,
    code,
    context,
    escape,
    listing,
    mention,
    message,
    more,
    section,
    shorten,
)

MAX_LISTED = 40
FLAGS_TEXT = 1000
DESCRIPTION = 1500  # one schedule's description: its options are user text
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,30}")
RUN_STATE = {
    "claimed": ":hourglass_flowing_sand: starting",
    "started": ":hourglass_flowing_sand: export running",
    RunState.FAILED: ":x: did not start",
    RunState.SKIPPED: ":fast_forward: skipped",
}


def channel_ref(channel: str | None) -> str:
    """A channel as a link when it is an id, as text when it is a #name."""
    if not channel:
        return "DDBBOT_NOTIFY_CHANNEL"
    return f"<#{channel}>" if CHANNEL_ID.fullmatch(channel) else escape(channel, 100)


def when(moment: datetime | None, timezone: str) -> str:
    """ISO-8601 UTC, plus the schedule's local time when it is not UTC."""
    if moment is None:
        return "—"
    if timezone in {"UTC", "Etc/UTC"}:
        return iso(moment)
    local = moment.astimezone(ZoneInfo(timezone)).strftime("%a %H:%M")
    return f"{iso(moment)} ({local} {escape(timezone, 100)})"


def upcoming(view: ScheduleView) -> str:
    """The next fires, so a person can see what the cron expression means (`paused`, or `never` when none)."""
    if view.schedule.paused:
        return "paused"
    return ", ".join(when(moment, view.schedule.timezone) for moment in view.next_runs) or "never"


def describe(schedule: Schedule) -> str:
    """`orders-3fa2`: full export of `orders`, cron `0 2 * * *` Europe/Paris."""
    kind = {"incremental": "incremental export", "drill": "restore drill"}.get(schedule.export_type, "full export")
    options = " ".join(f"{escape(k, 40)}={escape(v, 300)}" for k, v in sorted(schedule.options.items()))
    source = " · from config" if schedule.from_config else ""
    paused = " · *paused*" if schedule.paused else ""
    text = (
        f"{code(schedule.id, 200)}: {kind} of {code(schedule.table, 600)}, cron {code(schedule.cron, 100)} "
        f"{escape(schedule.timezone, 100)} → {channel_ref(schedule.channel)}{source}{paused}"
    )
    return text + (f" · {shorten(options, DESCRIPTION - len(text) - 3)}" if options else "")


def schedule_added(added: AddedSchedule, notify_channel: str | None) -> Message:
    """The answer to `add`."""
    view = added.view
    schedule = view.schedule
    head = f":calendar: Schedule {code(schedule.id, 200)} added."
    lines = [
        describe(schedule),
        f"Next runs: {upcoming(view)}",
        f"Estimated cost: {_cost(view)}",
        f"Results go to {channel_ref(schedule.channel or notify_channel)}.",
    ]
    blocks = [section(head), section("\n".join(lines))]
    if not added.pitr_enabled:
        blocks.append(
            section(
                f":warning: PITR is off for {code(schedule.table, 600)}, so runs will fail until it is on: "
                f"{code(f'/ddb-pitr {schedule.table} enable', 650)}."
            )
        )
    return message(f"Schedule {escape(schedule.id, 200)} added", *blocks)


def schedule_list(views: list[ScheduleView]) -> Message:
    """The answer to `list`: each schedule's next run, last result and monthly cost estimate."""
    if not views:
        text = "No schedules yet."
        return message(text, section(f'{text} Add one with `/ddb-schedule add &lt;table&gt; cron="0 2 * * *"`.'))
    blocks = [section(f"*Scheduled exports* ({len(views)})")]
    for view in views[:MAX_LISTED]:
        schedule = view.schedule
        lines = [
            describe(schedule),
            f"Next runs: {upcoming(view)}",
            f"Last result: {last_result(view.last_run, view.last_export)}",
            f"Estimated cost: {_cost(view)}",
        ]
        blocks.append(section("\n".join(lines)))
    if len(views) > MAX_LISTED:
        blocks.append(context(f"{more(len(views) - MAX_LISTED, 'schedules')} not shown."))
    blocks.append(context("Costs are estimates at list prices of each table's region."))
    return message(f"{len(views)} scheduled exports", *blocks)


def _cost(view: ScheduleView) -> str:
    if view.monthly_cost is None:
        return f"— ({escape(view.cost_basis, 300)})"
    region = f", {escape(view.region, 100)}" if view.region else ""
    return f"*{dollars(view.monthly_cost)} per month* ({escape(view.cost_basis, 300)}{region})"


def last_result(run: ScheduleRun | None, job: ExportJob | None) -> str:
    """One phrase for the newest run."""
    if run is None:
        return "never run"
    at = iso(run.fire_time)
    if job is not None:
        if job.status == ExportStatus.COMPLETED:
            return f":white_check_mark: {code(job.export_id, 200)} completed {iso(job.ended_at)}"
        if job.status == ExportStatus.FAILED:
            return f":x: {code(job.export_id, 200)} failed ({code(job.failure_code or 'unknown', 200)})"
        return f":hourglass_flowing_sand: {code(job.export_id, 200)} running since {at}"
    state = RUN_STATE.get(run.state, escape(run.state, 40))
    reason = f": {escape(run.error, 600)}" if run.error else ""
    return f"{state} at {at}{reason}"


def schedule_removed(schedule: Schedule) -> Message:
    """The answer to `remove`."""
    text = f":wastebasket: Schedule {code(schedule.id, 200)} removed; its past exports stay in S3."
    return message(f"Schedule {escape(schedule.id, 200)} removed", section(text), context(describe(schedule)))


def schedule_paused(schedule: Schedule, changed: bool) -> Message:
    """The answer to `pause` and `resume`."""
    state = "paused" if schedule.paused else "resumed"
    name = code(schedule.id, 200)
    if not changed:
        text = f"Schedule {name} was already {'paused' if schedule.paused else 'running'}."
    elif schedule.paused:
        text = f":double_vertical_bar: Schedule {name} paused: no runs until `/ddb-schedule resume`."
    else:
        text = f":arrow_forward: Schedule {name} resumed; fires missed while paused are not made up."
    return message(f"Schedule {escape(schedule.id, 200)} {state}", section(text), context(describe(schedule)))


def run_started(schedule: Schedule, outcome: RunOutcome, channel: str | None) -> Message:
    """The answer to `run`."""
    job = outcome.job
    name = code(schedule.id, 200)
    if job is None:
        reason = escape(outcome.reason or "nothing to do", FOREIGN_TEXT)
        text = f"Schedule {name} did not start an export: {reason}."
        return message(text, section(text))
    if outcome.duplicate:
        head = f":repeat: Schedule {name} already ran this very second: export {code(job.export_id, 200)}."
    else:
        head = f":rocket: Schedule {name}: export {code(job.export_id, 200)} of {code(job.table_key, 600)} started."
    lines = [_window(job), f"Destination: {code(job.s3_url)}", f"The result goes to {channel_ref(channel)}."]
    plan_note = outcome.run.plan.note if outcome.run and outcome.run.plan else None
    if plan_note:
        lines.insert(0, f":information_source: {escape(plan_note, FOREIGN_TEXT)}")
    text = f"Schedule {escape(schedule.id, 200)}: export {escape(job.export_id, 200)} started"
    return message(text, section(head), section("\n".join(lines)))


def _window(job: ExportJob) -> str:
    if job.export_type == ExportType.INCREMENTAL:
        return f"Incremental: {iso(job.export_from)} → {iso(job.export_to)}"
    return f"Full export as of {iso(job.export_time)}" if job.export_time else "Full export of the latest state"


def run_report(report: RunReport) -> Message:
    """A run's message to the channel: it did not start (with what to fix), was skipped, or has news."""
    schedule, run, job = report.schedule, report.run, report.job
    kind = {RunKind.CATCH_UP: "Catch-up run", RunKind.MANUAL: "Run"}.get(run.kind, "Scheduled run")
    subject = f"{kind} of {code(schedule.id, 200)} ({code(schedule.table, 600)}) for {iso(run.fire_time)}"
    name = escape(schedule.id, 200)
    if run.state == RunState.FAILED:
        after = [f"What to fix: {escape(run.fix, FOREIGN_TEXT)}"] if run.fix else []
        who = mention(report.oncall)
        if who:
            after.append(f"{who} please take a look.")
        head = f":x: {subject} did not start an export."
        # the error gets the room the other lines leave (a many-table fire's names each table not exported)
        room = SECTION_TEXT - len(head) - sum(len(line) + 1 for line in after) - 1
        lines = [head, escape(run.error or "Unknown failure.", room), *after]
        text = f"{kind} of {name} failed: {escape(run.error or '', FOREIGN_TEXT)}"
        return message(text, section("\n".join(lines)), context(describe(schedule)))
    if run.late:
        lines = [
            f":turtle: {subject}: export {code(job.export_id if job else '?', 200)} is still running, and runs of this "
            f"schedule are expected to finish within {schedule.expected_hours:g} hours of their fire.",
            "DynamoDB may just be slow (large table, many exports at once); `/ddb-status` shows it.",
        ]
        who = mention(report.oncall)
        if who:
            lines.append(f"{who} for your information.")
        return message(f"{kind} of {name} is running late", section("\n".join(lines)), context(describe(schedule)))
    if run.state == RunState.SKIPPED:
        text = f":fast_forward: {subject} was skipped. {escape(run.error or '', FOREIGN_TEXT)}"
        return message(f"{kind} of {name} skipped", section(text), context(describe(schedule)))
    lines = []
    if run.kind == RunKind.CATCH_UP:
        lines.append(f":alarm_clock: {subject}: this fire was missed while the bot was down, so it runs now, once.")
    else:
        lines.append(f":information_source: {subject}:")
    if run.error:  # a many-table fire: one line per table
        lines.append(escape(run.error, SECTION_TEXT - 400))
    elif run.plan and run.plan.note:
        lines.append(escape(run.plan.note, FOREIGN_TEXT))
    if job is not None and not run.error:
        lines.append(f"Export {code(job.export_id, 200)} started ({_window(job)}); its result follows here.")
    who = mention(report.oncall)
    if who:  # a many-table fire with tables not exported
        lines.append(f"{who} some tables were not exported; please take a look.")
    return message(f"{kind} of {name}", section("\n".join(lines)), context(describe(schedule)))


def digest_message(digest: Digest) -> Message:
    """The daily digest, flagged tables first."""
    head = f":bar_chart: Daily backup digest, {iso(digest.at)}"
    changes = [escape(line, SECTION_TEXT) for line in digest.coverage_changes]
    coverage = [section("*Coverage since the last digest*\n" + listing(changes, "changes", SECTION_TEXT - 40))]
    if not digest.tables:
        text = f"*{head}*\nNo tables are scheduled or named in the config yet."
        return message(head, section(text), *(coverage if changes else []))
    flagged = len(digest.flagged)
    summary = f"{flagged} table(s) need attention." if flagged else "Every table is in order."
    blocks = [section(f"*{head}*\n{summary}")]
    if changes:
        blocks.extend(coverage)
    blocks.extend(section(_digest_line(table)) for table in digest.tables[:MAX_LISTED])
    if len(digest.tables) > MAX_LISTED:
        blocks.append(context(f"{more(len(digest.tables) - MAX_LISTED, 'tables')} not shown."))
    blocks.append(context(escape(digest.region_note, FOREIGN_TEXT)))
    return message(f"Daily backup digest: {summary}", *blocks)


def _drill(table: DigestTable) -> str:
    drill = table.last_drill
    if drill is None:
        return "never (`/ddb-drill`)"
    when = drill.finished_at or drill.created_at
    detail = f", recovered in {duration(drill.result.recovery_seconds)}" if drill.result.recovery_seconds else ""
    return f"{escape(drill.status, 20)} {iso(when)}{detail}"


def _digest_line(table: DigestTable) -> str:
    icon = ":warning:" if table.flags else ":white_check_mark:"
    last = table.last_success
    pitr = {True: "on", False: "*off*", None: "unknown"}[table.pitr_enabled]
    cost = dollars(table.month_to_date) if table.month_to_date is not None else "—"
    lines = [
        f"{icon} {code(table.table_key, 600)}",
        f"Last successful export: {f'{code(last.export_id, 200)} {iso(last.ended_at)}' if last else 'none'}"
        f" · Next run: {iso(table.next_run) if table.next_run else 'not scheduled'}",
        f"PITR: {pitr} · Month to date: {cost} · Last restore drill: {_drill(table)}",
    ]
    if table.flags:
        flags = [escape(flag, 300) for flag in table.flags]
        lines.append("Flagged: " + listing(flags, "flags", FLAGS_TEXT, "; "))
    if table.error:
        lines.append(f"Could not read it: {escape(table.error, FOREIGN_TEXT)}")
    return "\n".join(lines)
