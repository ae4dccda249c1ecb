"""Block Kit for exports: started, finished (COMPLETED with figures, FAILED with what to fix), the /ddb-status list
and one export in detail. Pure builders; every export id, table name and AWS message is escaped here."""

from __future__ import annotations

from decimal import Decimal

from bot.exports.start import StartedExport
from bot.models import ExportJob, ExportStatus, ExportType
from bot.money import PriceBasis, dollars
from bot.timefmt import duration, size
from handlers.kit import emoji
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    Message,
    code,
    context,
    escape,
    estimate_label,
    listing,
    message,
    section,
)
from handlers.kit.text import count, plural, user, when

STATUS_ICON = {
    ExportStatus.COMPLETED: emoji.OK,
    ExportStatus.FAILED: emoji.FAIL,
    ExportStatus.IN_PROGRESS: emoji.RUNNING,
}


def export_started(started: StartedExport) -> Message:
    """The immediate answer to /ddb-export: started, or what the identical export asked for moments ago is doing
    (running since when, or finished when and how), with `force=true` for a fresh one."""
    job = started.job
    name, table = code(job.export_id), code(job.table_key)
    if started.new:
        head = f"{emoji.STARTED} Export {name} of {table} started."
        if started.forced:
            head += " (`force=true`: a fresh export beside the identical one started moments ago; billed again.)"
        text = f"Export {escape(job.export_id, 200)} of {escape(job.table_key, 600)} started"
        result = "I will post the result here when DynamoDB finishes."
    elif not job.finished:
        head = (
            f"{emoji.SAME} An identical export of {table} is already under way since "
            f"{when(job.started_at or job.created_at)}: {name} (started by {_who(job)}). Nothing new was started or "
            "billed."
        )
        text = f"An identical export of {escape(job.table_key, 600)} is already under way"
        result = "Its result will be posted when DynamoDB finishes."
    else:
        finished = when(job.ended_at) if job.ended_at else f"(it started {when(job.started_at or job.created_at)})"
        head = (
            f"{STATUS_ICON.get(job.status, emoji.UNKNOWN)} An identical export of {table} finished {finished}: "
            f"{name} *{escape(job.status, 40)}*"
            f"{_finished_figures(job)} (started by {_who(job)}). Nothing new was started or billed."
        )
        text = f"An identical export of {escape(job.table_key, 600)} finished moments ago"
        result = (
            f"Details: `/ddb-status {escape(job.export_id, 200)}`. Need a fresh export anyway (say, just before a "
            "risky change)? Run the same command with `force=true`."
        )
    window = ""
    if job.export_type == ExportType.INCREMENTAL:
        window = f"\nIncremental: {when(job.export_from)} → {when(job.export_to)}"
    elif job.export_time:
        window = f"\nAs of: {when(job.export_time)}"
    body = (
        f"Destination: {code(job.s3_url)}"
        + (f" (bucket owner {code(job.bucket_owner, 20)})" if job.bucket_owner else "")
        + f"\nFormat: {escape(job.export_format, 100)}{window}\n{result}"
    )
    return message(text, section(head), section(body))


def _finished_figures(job: ExportJob) -> str:
    if job.status != ExportStatus.COMPLETED:
        return f" ({code(job.failure_code or 'unknown', 200)})"
    return f", {plural(job.item_count or 0, 'item')}, {size(job.billed_size_bytes)}"


def export_finished(job: ExportJob, cost: Decimal | None, basis: PriceBasis) -> Message:
    """The result of an export: COMPLETED with figures, or FAILED with what to fix."""
    subject = f"Export {escape(job.export_id, 200)} of {escape(job.table_key, 600)}"
    if job.status == ExportStatus.COMPLETED:
        head = f"{emoji.OK} Export {code(job.export_id)} of {code(job.table_key)} *COMPLETED*"
        body = (
            f"Items: *{count(job.item_count or 0)}* · Billed size: *{size(job.billed_size_bytes)}* · "
            f"Duration: *{duration(job.duration_seconds)}*\nLocation: {code(job.s3_url)}\n"
            f"Cost: *{dollars(cost) if cost is not None else '—'}*"
        )
        text = f"{subject} COMPLETED: {plural(job.item_count or 0, 'item')}"
    else:
        head = f"{emoji.FAIL} Export {code(job.export_id)} of {code(job.table_key)} *FAILED*"
        says = f"{code(job.failure_code or 'unknown', 200)} {escape(job.failure_message or '', FOREIGN_TEXT)}"
        body = f"DynamoDB says: {says}\nWhat to fix: {escape(failure_advice(job), FOREIGN_TEXT)}"
        text = f"{subject} FAILED: {escape(job.failure_code or 'unknown', 200)}"
    who = f"Requested by {_who(job)}" if job.requested_by else "Not started by the bot"
    return message(
        text, section(head), section(body), context(f"{who} · {escape(job.region, 100)} · {estimate_label(basis)}")
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


def status_list(title: str, jobs: list[ExportJob], table: str | None = None) -> Message:
    """A list of exports, newest first; what does not fit in one section is counted, not cut. `table`: the one
    table listed, named in the hint when it has none."""
    heading = escape(title, 600)
    if not jobs:
        text = f"{heading}: no exports found."
        start = f"`/ddb-export {escape(table, 600)}`" if table else "`/ddb-export` and the table's name"
        return message(text, section(f"*{heading}*\nNo exports found. Start one with {start}."))
    lines = [_status_line(job) for job in jobs]
    return message(
        f"{heading}: {plural(len(jobs), 'export')}", section(f"*{heading}*"), section(listing(lines, "exports"))
    )


def _status_line(job: ExportJob) -> str:
    icon = STATUS_ICON.get(job.status, emoji.UNKNOWN)
    kind = "incremental" if job.export_type == ExportType.INCREMENTAL else "full"
    figures = ""
    if job.status == ExportStatus.COMPLETED:
        figures = f" · {plural(job.item_count or 0, 'item')} · {size(job.billed_size_bytes)}"
    who = f" · by {_who(job)}" if job.requested_by else " · not by the bot"
    return (
        f"{icon} {code(job.export_id, 200)} {code(job.table_key, 600)} {escape(job.status, 40)} ({kind}) · "
        f"{when(job.started_at or job.created_at)} → {when(job.ended_at)}{figures}{who}"
    )


def export_detail(job: ExportJob, cost: Decimal | None, basis: PriceBasis) -> Message:
    """One export in detail: identity and state first, then figures, then a failure and what to fix."""
    fields = [
        ("Export", code(job.export_id, 200)),
        ("Table", code(job.table_key, 600)),
        ("Status", escape(job.status, 40)),
        ("Type", escape(job.export_type, 40)),
        ("Format", escape(job.export_format, 40)),
        ("Started", when(job.started_at or job.created_at)),
        ("Ended", when(job.ended_at)),
        ("Duration", duration(job.duration_seconds)),
        ("Items", count(job.item_count or 0)),
        ("Billed size", size(job.billed_size_bytes)),
        ("Location", code(job.s3_url, 600)),
        ("Cost", dollars(cost) if cost is not None else "—"),
        ("Started by", _who(job) if job.requested_by else "not the bot"),
    ]
    if job.export_type == ExportType.INCREMENTAL:
        fields.insert(5, ("Window", f"{when(job.export_from)} → {when(job.export_to)}"))
    elif job.export_time:
        fields.insert(5, ("As of", when(job.export_time)))
    blocks = [section("\n".join(f"*{name}:* {value}" for name, value in fields))]
    if job.status == ExportStatus.FAILED:
        failure = f"{code(job.failure_code or '', 200)} {escape(job.failure_message or '', FOREIGN_TEXT)}"
        blocks.append(section(f"*What to fix:* {escape(failure_advice(job), FOREIGN_TEXT)}\n*Failure:* {failure}"))
    return message(
        f"Export {escape(job.export_id, 200)}: {escape(job.status, 40)}",
        *blocks,
        context(f"ARN {code(job.export_arn)}"),
        context(estimate_label(basis)),
    )


def _who(job: ExportJob) -> str:
    if job.schedule_id:
        return f"schedule {code(job.schedule_id, 200)}"
    return user(job.requested_by)
