"""Pure Block Kit builders: data in, message dict (`text` + `blocks`) out. All foreign text is escaped here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.aws.pricing import Rates, dollars
from bot.costs import CostReport
from bot.errors import BotError, UsageError
from bot.models import ExportJob, ExportStatus, ExportType
from bot.pitr import PitrReport
from bot.timefmt import duration, iso, size
from handlers.parsing import CommandHelp

Message = dict[str, Any]
STATUS_ICON = {
    ExportStatus.COMPLETED: ":white_check_mark:",
    ExportStatus.FAILED: ":x:",
    "IN_PROGRESS": ":hourglass_flowing_sand:",
}
MAX_SECTION = 2900


def escape(text: object) -> str:
    """Escape mrkdwn control characters in user- or AWS-supplied text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: object) -> str:
    """Inline code span for identifiers (escaped; backticks removed so they cannot break out)."""
    return "`" + escape(text).replace("`", "'") + "`"


def section(markdown: str) -> dict[str, Any]:
    """A mrkdwn section, cut to Slack's 3000-character limit."""
    if len(markdown) > MAX_SECTION:
        markdown = markdown[: MAX_SECTION - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown}}


def context(markdown: str) -> dict[str, Any]:
    """Small grey text under a message."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": markdown[:MAX_SECTION]}]}


def message(text: str, *blocks: dict[str, Any]) -> Message:
    """A message with its notification text and blocks."""
    return {"text": text[:3000], "blocks": list(blocks)}


def estimate_label(rates: Rates) -> str:
    """Every dollar figure carries this label."""
    return f"Estimates at list prices for {escape(rates.region)} ({escape(rates.source)})."


def help_message(help_: CommandHelp) -> Message:
    """`<command> help`, and what a bare command shows."""
    usage = "\n".join(help_.usage)
    examples = "\n".join(help_.examples)
    return message(
        f"{help_.command}: {help_.summary}",
        section(f"*{help_.command}* — {help_.summary}"),
        section(f"*Usage*\n```{usage}```"),
        section(f"*Examples*\n```{examples}```"),
    )


def error_message(error: BotError) -> Message:
    """A refusal or failure the user can act on."""
    lines = [f":warning: {escape(error.message)}"]
    if error.fix:
        lines.append(escape(error.fix))
    blocks = [section("\n".join(lines))]
    if isinstance(error, UsageError) and error.usage:
        blocks.append(section(f"*Usage*\n```{escape(error.usage)}```"))
    return message(lines[0], *blocks)


def unexpected_error(reference: str) -> Message:
    """An unexpected failure: no details, a reference to find it in the logs."""
    text = f":boom: Something went wrong on my side (reference `{reference}`). Nothing more was started."
    return message(text, section(text))


def working(text: str) -> Message:
    """The immediate acknowledgement shown while AWS is asked."""
    return message(f":hourglass_flowing_sand: {escape(text)}")


def pitr_message(report: PitrReport) -> Message:
    """PITR status (or the result of turning it on) with its monthly cost."""
    table, window = report.table, report.window
    name = code(table.ref.display)
    if window.enabled:
        head = f":white_check_mark: PITR is *on* for {name}" + (" (just turned on)" if report.changed else "")
        body = (
            f"Recovery period: *{window.recovery_days} days*\nEarliest restorable: {iso(window.earliest)}\n"
            f"Latest restorable: {iso(window.latest)}"
        )
    else:
        head = f":warning: PITR is *off* for {name}"
        body = f"Turn it on with `/ddb-pitr {escape(table.ref.display)} enable [days=1-35]`."
    cost = (
        f"PITR costs about *{dollars(report.monthly_cost)} per month* for {size(report.size.size_bytes)} "
        f"({report.size.item_count:,} items), whatever the recovery period."
    )
    blocks = [section(f"{head}\n{body}"), section(cost)]
    if report.size.note:
        blocks.append(context(escape(report.size.note)))
    blocks.append(context(f"{escape(table.place.region)} · {estimate_label(report.rates)}"))
    return message(head, *blocks)


def export_started(job: ExportJob, new: bool) -> Message:
    """The immediate answer to /ddb-export."""
    if new:
        head = f":rocket: Export {code(job.export_id)} of {code(job.table_key)} started."
    else:
        head = (
            f":repeat: An identical export of {code(job.table_key)} is already under way: {code(job.export_id)} "
            f"(started by {_who(job)}). Nothing new was started or billed."
        )
    window = ""
    if job.export_type == ExportType.INCREMENTAL:
        window = f"\nIncremental: {iso(job.export_from)} → {iso(job.export_to)}"
    elif job.export_time:
        window = f"\nAs of: {iso(job.export_time)}"
    body = (
        f"Destination: {code(job.s3_url)}"
        + (f" (bucket owner {escape(job.bucket_owner)})" if job.bucket_owner else "")
        + f"\nFormat: {escape(job.export_format)}{window}\nI will post the result here when DynamoDB finishes."
    )
    return message(f"Export {job.export_id} of {job.table_key} started", section(head), section(body))


def export_finished(job: ExportJob, cost: Decimal | None, rates: Rates) -> Message:
    """The result of an export: COMPLETED with figures, or FAILED with what to fix."""
    if job.status == ExportStatus.COMPLETED:
        head = f":white_check_mark: Export {code(job.export_id)} of {code(job.table_key)} *COMPLETED*"
        body = (
            f"Items: *{job.item_count or 0:,}* · Billed size: *{size(job.billed_size_bytes)}* · "
            f"Duration: *{duration(job.duration_seconds)}*\nLocation: {code(job.s3_url)}\n"
            f"Cost: *{dollars(cost) if cost is not None else '—'}*"
        )
        text = f"Export {job.export_id} of {job.table_key} COMPLETED: {job.item_count or 0} items"
    else:
        head = f":x: Export {code(job.export_id)} of {code(job.table_key)} *FAILED*"
        body = (
            f"DynamoDB says: {code(job.failure_code or 'unknown')} {escape(job.failure_message or '')}\n"
            f"What to fix: {escape(failure_advice(job))}"
        )
        text = f"Export {job.export_id} of {job.table_key} FAILED: {job.failure_code}"
    who = f"Requested by {_who(job)}" if job.requested_by else "Not started by the bot"
    return message(
        text, section(head), section(body), context(f"{who} · {escape(job.region)} · {estimate_label(rates)}")
    )


def failure_advice(job: ExportJob) -> str:
    """What the user must fix for a failed export, by DynamoDB's failure code."""
    failure = f"{job.failure_code or ''} {job.failure_message or ''}".lower()
    if "accessdenied" in failure.replace(" ", "") or "access denied" in failure:
        owner = f" in account {job.bucket_owner}" if job.bucket_owner else ""
        return (
            f"Let the bot's role write to bucket {job.bucket}{owner}: s3:PutObject, s3:AbortMultipartUpload and "
            "s3:PutObjectAcl (deploy/cross-account-bucket-policy.json), and allow it on the KMS key if SSE-KMS."
        )
    if "nosuchbucket" in failure.replace(" ", "") or "does not exist" in failure:
        return f"Bucket {job.bucket} does not exist (or is in another region/account): create it or fix bucket=."
    if "kms" in failure:
        return "The KMS key must be in the bucket's region and its policy must allow the bot's role."
    return "Check the message above; run the export again once it is fixed. Nothing else was changed."


def status_list(title: str, jobs: list[ExportJob]) -> Message:
    """A list of exports, newest first."""
    if not jobs:
        text = f"{title}: no exports found."
        return message(text, section(f"*{escape(title)}*\nNo exports found. Start one with `/ddb-export <table>`."))
    lines = [_status_line(job) for job in jobs]
    return message(f"{title}: {len(jobs)} exports", section(f"*{escape(title)}*"), section("\n".join(lines)))


def _status_line(job: ExportJob) -> str:
    icon = STATUS_ICON.get(job.status, ":grey_question:")
    kind = "incremental" if job.export_type == ExportType.INCREMENTAL else "full"
    figures = ""
    if job.status == ExportStatus.COMPLETED:
        figures = f" · {job.item_count or 0:,} items · {size(job.billed_size_bytes)}"
    who = f" · by {_who(job)}" if job.requested_by else " · not by the bot"
    return (
        f"{icon} {code(job.export_id)} {code(job.table_key)} {escape(job.status)} ({kind}) · "
        f"{iso(job.started_at or job.created_at)} → {iso(job.ended_at)}{figures}{who}"
    )


def export_detail(job: ExportJob, cost: Decimal | None, rates: Rates) -> Message:
    """One export in detail."""
    fields = [
        ("Export", code(job.export_id)),
        ("Table", code(job.table_key)),
        ("Status", escape(job.status)),
        ("Type", escape(job.export_type)),
        ("Format", escape(job.export_format)),
        ("Started", iso(job.started_at or job.created_at)),
        ("Ended", iso(job.ended_at)),
        ("Duration", duration(job.duration_seconds)),
        ("Items", f"{job.item_count or 0:,}"),
        ("Billed size", size(job.billed_size_bytes)),
        ("Location", code(job.s3_url)),
        ("Cost", dollars(cost) if cost is not None else "—"),
        ("Started by", _who(job) if job.requested_by else "not the bot"),
    ]
    if job.export_type == ExportType.INCREMENTAL:
        fields.insert(5, ("Window", f"{iso(job.export_from)} → {iso(job.export_to)}"))
    elif job.export_time:
        fields.insert(5, ("As of", iso(job.export_time)))
    if job.status == ExportStatus.FAILED:
        fields.append(("Failure", f"{code(job.failure_code or '')} {escape(job.failure_message or '')}"))
        fields.append(("What to fix", escape(failure_advice(job))))
    body = "\n".join(f"*{name}:* {value}" for name, value in fields)
    return message(
        f"Export {job.export_id}: {job.status}",
        section(body),
        context(f"ARN {code(job.export_arn)}"),
        context(estimate_label(rates)),
    )


def cost_message(report: CostReport) -> Message:
    """The cost report of one table."""
    name = code(report.table.ref.display)
    pitr_state = "on" if report.pitr_enabled else "off — this is what turning it on would cost"
    lines = [
        f"*Table* {name}: {size(report.size.size_bytes)}, {report.size.item_count:,} items",
        f"*PITR* ({pitr_state}): *{dollars(report.pitr_monthly)} per month*",
        f"*One full export*: *{dollars(report.full_export)}*",
        f"*One incremental export*: about *{dollars(report.incremental_export)}* — {escape(report.incremental_basis)}",
        f"*S3 storage of kept exports*: {size(report.retained_bytes)} → *{dollars(report.retained_monthly)} per "
        f"month* (S3 Standard; {escape(report.retained_basis)})",
    ]
    blocks = [section(f":moneybag: Backup costs of {name}"), section("\n".join(lines))]
    if report.recent:
        recent = "\n".join(
            f"{code(item.job.export_id)} {iso(item.job.ended_at)} · {size(item.job.billed_size_bytes)} billed · "
            f"*{dollars(item.cost)}*"
            for item in report.recent
        )
        blocks.append(section(f"*Recent exports (actual, from BilledSizeBytes)*\n{recent}"))
    if report.size.note:
        blocks.append(context(f":information_source: {escape(report.size.note)}"))
    blocks.append(context(estimate_label(report.rates)))
    return message(f"Backup costs of {report.table.ref.display}", *blocks)


def _who(job: ExportJob) -> str:
    if job.schedule_id:
        return f"schedule {code(job.schedule_id)}"
    return f"<@{escape(job.requested_by)}>" if job.requested_by[:1] in {"U", "W"} else escape(job.requested_by)
