"""Pure Block Kit builders for schedules, their runs and the daily digest. All foreign text is escaped here,
and every piece of it is bounded, so a list of schedules or tables stays within Slack's limits."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.models import ExportJob, ExportStatus, ExportType
from bot.money import dollars
from bot.schedules.costly import CostlySchedule
from bot.schedules.models import Digest, DigestTable, RunKind, RunReport, RunState, Schedule, ScheduleRun, ScheduleView
from bot.schedules.runs import RunOutcome
from bot.schedules.service import AddedSchedule
from bot.timefmt import duration
from handlers.kit import emoji
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    SECTION_TEXT,
    Message,
    button,
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
from handlers.kit.text import channel, count, plural, when

CONFIRM_ACTION = "schedule_confirm"
MAX_LISTED = 40
FLAGS_TEXT = 1000
DESCRIPTION = 1500  # one schedule's description: its options are user text
RUN_STATE = {
    "claimed": f"{emoji.RUNNING} starting",
    "started": f"{emoji.RUNNING} export running",
    RunState.FAILED: f"{emoji.FAIL} did not start",
    RunState.SKIPPED: f"{emoji.SKIPPED} skipped",
}
NO_CHANNEL = "nowhere yet: the bot has no notification channel set; ask whoever runs the bot to set one"


def channel_ref(target: str | None) -> str:
    """A channel as a link when it is an id, as text when it is a #name; the bot's notification channel when the
    schedule names none."""
    return channel(target) if target else "the bot's notification channel"


def fire_time(moment: datetime | None, timezone: str) -> str:
    """A fire in each reader's own time zone, plus the schedule's local time when its zone is not UTC."""
    if moment is None or timezone in {"UTC", "Etc/UTC"}:
        return when(moment)
    local = moment.astimezone(ZoneInfo(timezone)).strftime("%a %H:%M")
    return f"{when(moment)} ({local} {escape(timezone, 100)})"


def upcoming(view: ScheduleView) -> str:
    """The next fires, so a person can see what the cron expression means (`paused`, or `never` when none)."""
    if view.schedule.paused:
        return "paused"
    return ", ".join(fire_time(moment, view.schedule.timezone) for moment in view.next_runs) or "never"


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
    head = f"{emoji.SCHEDULE} Schedule {code(schedule.id, 200)} added."
    target = schedule.channel or notify_channel
    lines = [
        describe(schedule),
        f"Next runs: {upcoming(view)}",
        f"Estimated cost: {_cost(view)}",
        f"Results go to {channel(target) if target else NO_CHANNEL}.",
    ]
    blocks = [section(head), section("\n".join(lines))]
    if not added.pitr_enabled:
        blocks.append(
            section(
                f"{emoji.WARN} PITR is off for {code(schedule.table, 600)}, so runs will fail until it is on: "
                f"{code(f'/ddb-pitr {schedule.table} enable', 650)}."
            )
        )
    return message(f"Schedule {escape(schedule.id, 200)} added", *blocks)


def schedule_confirm(costly: CostlySchedule, value: str | None) -> Message:
    """The question before a costly schedule is added: why, its monthly cost, and a Confirm button (`value`: the
    request it carries; None when too long for a button, then `confirm=true` is the way)."""
    view = costly.view
    reasons = [f"• {escape(reason, 600)}" for reason in costly.reasons]
    head = f"{emoji.CONFIRM} Before I add this schedule: it would cost *{_monthly(view)}*, and"
    blocks = [
        section(head + "\n" + listing(reasons, "reasons", 2000)),
        section("\n".join([describe(view.schedule), f"Next runs: {upcoming(view)}", f"Estimated cost: {_cost(view)}"])),
    ]
    if value is None:
        blocks.append(section("Nothing was added. To add it anyway, run the same command with `confirm=true`."))
    else:
        confirm = button("Add it anyway", CONFIRM_ACTION, value, style="primary")
        blocks.append(context("Nothing was added yet. Scripts can skip this question with `confirm=true`."))
        blocks.append({"type": "actions", "elements": [confirm]})
    return message(f"Confirm the schedule of {escape(view.schedule.table, 600)}: {_monthly(view)}", *blocks)


def _monthly(view: ScheduleView) -> str:
    return f"{dollars(view.monthly_cost)} per month" if view.monthly_cost is not None else "an unknown amount a month"


def schedule_list(views: list[ScheduleView]) -> Message:
    """The answer to `list`: each schedule's next run, last result and monthly cost estimate."""
    if not views:
        text = "No schedules yet."
        return message(text, section(f'{text} Add one with `/ddb-schedule add &lt;table&gt; cron="0 2 * * *"`.'))
    blocks = [section(f"*Scheduled exports* ({count(len(views))})")]
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
    return message(plural(len(views), "scheduled export"), *blocks)


def _cost(view: ScheduleView) -> str:
    if view.monthly_cost is None:
        return f"— ({escape(view.cost_basis, 300)})"
    region = f", {escape(view.region, 100)}" if view.region else ""
    return f"*{dollars(view.monthly_cost)} per month* ({escape(view.cost_basis, 300)}{region})"


def last_result(run: ScheduleRun | None, job: ExportJob | None) -> str:
    """One phrase for the newest run."""
    if run is None:
        return "never run"
    at = when(run.fire_time)
    if job is not None:
        if job.status == ExportStatus.COMPLETED:
            return f"{emoji.OK} {code(job.export_id, 200)} completed {when(job.ended_at)}"
        if job.status == ExportStatus.FAILED:
            return f"{emoji.FAIL} {code(job.export_id, 200)} failed ({code(job.failure_code or 'unknown', 200)})"
        return f"{emoji.RUNNING} {code(job.export_id, 200)} running since {at}"
    state = RUN_STATE.get(run.state, escape(run.state, 40))
    reason = f": {escape(run.error, 600)}" if run.error else ""
    return f"{state} at {at}{reason}"


def schedule_removed(schedule: Schedule) -> Message:
    """The answer to `remove`."""
    text = f"{emoji.REMOVED} Schedule {code(schedule.id, 200)} removed; its past exports stay in S3."
    return message(f"Schedule {escape(schedule.id, 200)} removed", section(text), context(describe(schedule)))


def schedule_paused(schedule: Schedule, changed: bool) -> Message:
    """The answer to `pause` and `resume`."""
    state = "paused" if schedule.paused else "resumed"
    name = code(schedule.id, 200)
    if not changed:
        text = f"Schedule {name} was already {'paused' if schedule.paused else 'running'}."
    elif schedule.paused:
        text = f"{emoji.PAUSED} Schedule {name} paused: no runs until `/ddb-schedule resume`."
    else:
        text = f"{emoji.RESUMED} Schedule {name} resumed; fires missed while paused are not made up."
    return message(f"Schedule {escape(schedule.id, 200)} {state}", section(text), context(describe(schedule)))


def run_started(schedule: Schedule, outcome: RunOutcome, target: str | None) -> Message:
    """The answer to `run`."""
    job = outcome.job
    name = code(schedule.id, 200)
    if job is None:
        reason = escape(outcome.reason or "nothing to do", FOREIGN_TEXT)
        text = f"Schedule {name} did not start an export: {reason}."
        return message(text, section(text))
    if outcome.duplicate:
        head = f"{emoji.SAME} Schedule {name} already ran this very second: export {code(job.export_id, 200)}."
    else:
        head = (
            f"{emoji.STARTED} Schedule {name}: export {code(job.export_id, 200)} of {code(job.table_key, 600)} started."
        )
    lines = [
        _window(job),
        f"Destination: {code(job.s3_url)}",
        f"The result goes to {channel(target) if target else NO_CHANNEL}.",
    ]
    plan_note = outcome.run.plan.note if outcome.run and outcome.run.plan else None
    if plan_note:
        lines.insert(0, f"{emoji.INFO} {escape(plan_note, FOREIGN_TEXT)}")
    text = f"Schedule {escape(schedule.id, 200)}: export {escape(job.export_id, 200)} started"
    return message(text, section(head), section("\n".join(lines)))


def _hours(hours: float | None) -> str:
    return f"{hours or 0:g} hour" + ("" if hours == 1 else "s")


def _window(job: ExportJob) -> str:
    if job.export_type == ExportType.INCREMENTAL:
        return f"Incremental: {when(job.export_from)} → {when(job.export_to)}"
    return f"Full export as of {when(job.export_time)}" if job.export_time else "Full export of the latest state"


def run_report(report: RunReport) -> Message:
    """A run's message to the channel: it did not start (with what to fix), was skipped, or has news."""
    schedule, run, job = report.schedule, report.run, report.job
    kind = {RunKind.CATCH_UP: "Catch-up run", RunKind.MANUAL: "Run"}.get(run.kind, "Scheduled run")
    subject = f"{kind} of {code(schedule.id, 200)} ({code(schedule.table, 600)}) for {when(run.fire_time)}"
    name = escape(schedule.id, 200)
    if run.state == RunState.FAILED:
        after = [f"What to fix: {escape(run.fix, FOREIGN_TEXT)}"] if run.fix else []
        who = mention(report.oncall)
        if who:
            after.append(f"{who} please take a look.")
        head = f"{emoji.FAIL} {subject} did not start an export."
        # the error gets the room the other lines leave (a many-table fire's names each table not exported)
        room = SECTION_TEXT - len(head) - sum(len(line) + 1 for line in after) - 1
        lines = [head, escape(run.error or "Unknown failure.", room), *after]
        text = f"{kind} of {name} failed: {escape(run.error or '', FOREIGN_TEXT)}"
        return message(text, section("\n".join(lines)), context(describe(schedule)))
    if run.late:
        lines = [
            f"{emoji.LATE} {subject}: export {code(job.export_id if job else '?', 200)} is still running, and runs of "
            f"this schedule are expected to finish within {_hours(schedule.expected_hours)} of their fire.",
            "DynamoDB may just be slow (large table, many exports at once); `/ddb-status` shows it.",
        ]
        who = mention(report.oncall)
        if who:
            lines.append(f"{who} for your information.")
        return message(f"{kind} of {name} is running late", section("\n".join(lines)), context(describe(schedule)))
    if run.state == RunState.SKIPPED:
        text = f"{emoji.SKIPPED} {subject} was skipped. {escape(run.error or '', FOREIGN_TEXT)}"
        return message(f"{kind} of {name} skipped", section(text), context(describe(schedule)))
    lines = []
    if run.kind == RunKind.CATCH_UP:
        lines.append(f"{emoji.CATCH_UP} {subject}: this fire was missed while the bot was down, so it runs now, once.")
    else:
        lines.append(f"{emoji.INFO} {subject}:")
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
    head = f"{emoji.DIGEST} Daily backup digest, {when(digest.at)}"
    changes = [escape(line, SECTION_TEXT) for line in digest.coverage_changes]
    coverage = [section("*Coverage since the last digest*\n" + listing(changes, "changes", SECTION_TEXT - 40))]
    if not digest.tables:
        text = f"*{head}*\nNo tables are scheduled or named in the config yet."
        return message(head, section(text), *(coverage if changes else []))
    flagged = len(digest.flagged)
    needs = "needs" if flagged == 1 else "need"
    summary = f"{plural(flagged, 'table')} {needs} attention." if flagged else "Every table is in order."
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
    moment = drill.finished_at or drill.created_at
    detail = f", recovered in {duration(drill.result.recovery_seconds)}" if drill.result.recovery_seconds else ""
    return f"{escape(drill.status, 20)} {when(moment)}{detail}"


def _digest_line(table: DigestTable) -> str:
    icon = emoji.WARN if table.flags else emoji.OK
    last = table.last_success
    pitr = {True: "on", False: "*off*", None: "unknown"}[table.pitr_enabled]
    cost = dollars(table.month_to_date) if table.month_to_date is not None else "—"
    lines = [
        f"{icon} {code(table.table_key, 600)}",
        f"Last successful export: {f'{code(last.export_id, 200)} {when(last.ended_at)}' if last else 'none'}"
        f" · Next run: {when(table.next_run) if table.next_run else 'not scheduled'}",
        f"PITR: {pitr} · Month to date: {cost} · Last restore drill: {_drill(table)}",
    ]
    if table.flags:
        flags = [escape(flag, 300) for flag in table.flags]
        lines.append("Flagged: " + listing(flags, "flags", FLAGS_TEXT, "; "))
    if table.error:
        lines.append(f"Could not read it: {escape(table.error, FOREIGN_TEXT)}")
    return "\n".join(lines)
