"""Pure Block Kit builders: data in, message dict (`text` + `blocks`) out. All foreign text is escaped here.

Everything built here keeps to Slack's Block Kit limits by construction: long foreign text is shortened with an
ellipsis (never inside an escape, a mention or a code span), lists are summarised ("… and 76 more exports")
instead of being cut mid-line, and the lines a person must see are placed first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
Block = dict[str, Any]
View = dict[str, Any]
STATUS_ICON = {
    ExportStatus.COMPLETED: ":white_check_mark:",
    ExportStatus.FAILED: ":x:",
    "IN_PROGRESS": ":hourglass_flowing_sand:",
}

# Slack's limits (Block Kit reference; the Slack stand-in checks every message against them independently).
SECTION_TEXT = 3000
TEXT_OBJECT = 3000
CONTEXT_ELEMENTS = 10
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
BUTTON_TEXT = 75
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
# Our own budgets, well inside those: a notification is read at a glance (Slack would take 40,000), and one AWS
# message or user-supplied string shown inline never crowds out the lines around it.
NOTIFICATION_TEXT = 3000
FOREIGN_TEXT = 1000
ELLIPSIS = "…"
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


def escape(text: object, limit: int | None = None) -> str:
    """Escape mrkdwn control characters in user- or AWS-supplied text (shortened to `limit` once escaped)."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped if limit is None else shorten(escaped, limit)


def code(text: object, limit: int = FOREIGN_TEXT) -> str:
    """Inline code span for identifiers (escaped; backticks removed so they cannot break out), at most `limit`."""
    return "`" + shorten(escape(text).replace("`", "'"), max(limit - 2, 2)) + "`"


def shorten(markdown: str, limit: int) -> str:
    """`markdown` in at most `limit` characters: cut with an ellipsis, never inside an escape (`&amp;`) or a
    mention (`<@U1>`), and closing a code span or block the cut would leave open."""
    if len(markdown) <= limit:
        return markdown
    budget = limit - len(ELLIPSIS)
    while budget > 0:
        cut = _safe_cut(markdown[:budget]).rstrip()
        closing = _closing(cut)
        if len(cut) + len(ELLIPSIS) + len(closing) <= limit:
            return cut + ELLIPSIS + closing
        budget -= len(closing)
    return ELLIPSIS[:limit]


def _safe_cut(cut: str) -> str:
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    angle = cut.rfind("<")
    if angle != -1 and ">" not in cut[angle:]:
        cut = cut[:angle]
    return cut


def _closing(cut: str) -> str:
    if cut.count("```") % 2:
        return "```"
    return "`" if cut.replace("```", "").count("`") % 2 else ""


def more(count: int, noun: str) -> str:
    """The line that stands for what a list leaves out."""
    return f"{ELLIPSIS} and {count:,} more {noun}"


def listing(lines: Sequence[str], noun: str, limit: int = SECTION_TEXT, separator: str = "\n") -> str:
    """As many whole items as fit in `limit`, then `… and N more <noun>` for the rest (never an item cut in half;
    only a single item longer than the whole budget is shortened). Lines by default; `separator=", "` inline."""
    if not lines:
        return ""
    reserve = len(more(len(lines), noun)) + len(separator)
    shown: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        line = shorten(line, max(limit - reserve, 1))
        added = len(line) + (len(separator) if shown else 0)
        left_after = len(lines) - index - 1
        if used + added + (reserve if left_after else 0) > limit:
            break
        shown.append(line)
        used += added
    if len(shown) < len(lines):
        shown.append(more(len(lines) - len(shown), noun))
    return separator.join(shown)


def mrkdwn(text: str, limit: int = TEXT_OBJECT) -> dict[str, str]:
    """A mrkdwn text object within `limit`."""
    return {"type": "mrkdwn", "text": shorten(text, limit) or " "}


def plain(text: str, limit: int = TEXT_OBJECT) -> dict[str, str]:
    """A plain_text object within `limit` (bot-made text only: plain_text is not escaped)."""
    return {"type": "plain_text", "text": shorten(text, limit) or " "}


def section(markdown: str) -> Block:
    """A mrkdwn section within Slack's 3,000 characters (put what must be seen first; the end may be cut)."""
    return {"type": "section", "text": mrkdwn(markdown, SECTION_TEXT)}


def context(*markdown: str) -> Block:
    """Small grey text under a message: up to 10 elements, the last one saying how many more were left out."""
    parts = list(markdown) or [" "]
    if len(parts) > CONTEXT_ELEMENTS:
        parts = [*parts[: CONTEXT_ELEMENTS - 1], more(len(parts) - CONTEXT_ELEMENTS + 1, "notes")]
    return {"type": "context", "elements": [mrkdwn(part) for part in parts]}


def button(text: str, action_id: str, value: str, *, style: str | None = None, confirm: Block | None = None) -> Block:
    """A button whose label fits Slack's 75 characters."""
    element: Block = {"type": "button", "action_id": action_id, "text": plain(text, BUTTON_TEXT), "value": value}
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, markdown: str, confirm: str, deny: str) -> Block:
    """A confirmation dialog within Slack's limits: title 100, text 300, buttons 30."""
    return {
        "title": plain(title, CONFIRM_TITLE),
        "text": mrkdwn(markdown, CONFIRM_TEXT),
        "confirm": plain(confirm, CONFIRM_BUTTON),
        "deny": plain(deny, CONFIRM_BUTTON),
    }


def fit_blocks(blocks: Sequence[Block], limit: int = MESSAGE_BLOCKS) -> list[Block]:
    """At most `limit` blocks: the buttons (actions blocks) always stay, and what does not fit is summarised in a
    final context block."""
    if len(blocks) <= limit:
        return list(blocks)
    actions = [block for block in blocks if block.get("type") == "actions"]
    others = [block for block in blocks if block.get("type") != "actions"]
    room = max(limit - len(actions) - 1, 0)
    left_out = len(others) - room
    return [*others[:room], context(f"{more(left_out, 'parts')} not shown (Slack shows {limit} blocks)."), *actions]


def message(text: str, *blocks: Block) -> Message:
    """A message: its notification `text` (mrkdwn the caller escaped, shortened here) and at most 50 blocks."""
    return {"text": shorten(text, NOTIFICATION_TEXT), "blocks": fit_blocks(blocks, MESSAGE_BLOCKS)}


def mention_user(user: str) -> str:
    """A deliberate mention of a Slack user id (U…/W…); anything else is shown as escaped text."""
    return f"<@{user}>" if USER_ID.fullmatch(user) else escape(user, 100)


def estimate_label(rates: Rates) -> str:
    """Every dollar figure carries this label."""
    return f"Estimates at list prices for {escape(rates.region, 100)} ({escape(rates.source, FOREIGN_TEXT)})."


def help_message(help_: CommandHelp) -> Message:
    """`<command> help`, and what a bare command shows."""
    usage = escape("\n".join(help_.usage))
    examples = escape("\n".join(help_.examples))
    head = f"{escape(help_.command)}: {escape(help_.summary)}"
    return message(
        head,
        section(f"*{escape(help_.command)}* — {escape(help_.summary)}"),
        section(f"*Usage*\n```{usage}```"),
        section(f"*Examples*\n```{examples}```"),
    )


def error_message(error: BotError) -> Message:
    """A refusal or failure the user can act on: what went wrong, then what to fix (both always shown)."""
    lines = [f":warning: {escape(error.message, FOREIGN_TEXT)}"]
    if error.fix:
        lines.append(escape(error.fix, FOREIGN_TEXT))
    blocks = [section("\n".join(lines))]
    if isinstance(error, UsageError) and error.usage:
        blocks.append(section(f"*Usage*\n```{escape(error.usage, SECTION_TEXT - 20)}```"))
    return message(lines[0], *blocks)


def unexpected_error(reference: str) -> Message:
    """An unexpected failure: no details, a reference to find it in the logs."""
    text = f":boom: Something went wrong on my side (reference {code(reference, 40)}). Nothing more was started."
    return message(text, section(text))


def working(text: str) -> Message:
    """The immediate acknowledgement shown while AWS is asked."""
    return message(f":hourglass_flowing_sand: {escape(text, FOREIGN_TEXT)}")


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
        body = f"Turn it on with {code(f'/ddb-pitr {table.ref.display} enable [days=1-35]')}."
    cost = (
        f"PITR costs about *{dollars(report.monthly_cost)} per month* for {size(report.size.size_bytes)} "
        f"({report.size.item_count:,} items), whatever the recovery period."
    )
    blocks = [section(f"{head}\n{body}"), section(cost)]
    if report.size.note:
        blocks.append(context(escape(report.size.note, FOREIGN_TEXT)))
    blocks.append(context(f"{escape(table.place.region, 100)} · {estimate_label(report.rates)}"))
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
        + (f" (bucket owner {escape(job.bucket_owner, 100)})" if job.bucket_owner else "")
        + f"\nFormat: {escape(job.export_format, 100)}{window}\nI will post the result here when DynamoDB finishes."
    )
    text = f"Export {escape(job.export_id, 200)} of {escape(job.table_key, 600)} started"
    return message(text, section(head), section(body))


def export_finished(job: ExportJob, cost: Decimal | None, rates: Rates) -> Message:
    """The result of an export: COMPLETED with figures, or FAILED with what to fix."""
    subject = f"Export {escape(job.export_id, 200)} of {escape(job.table_key, 600)}"
    if job.status == ExportStatus.COMPLETED:
        head = f":white_check_mark: Export {code(job.export_id)} of {code(job.table_key)} *COMPLETED*"
        body = (
            f"Items: *{job.item_count or 0:,}* · Billed size: *{size(job.billed_size_bytes)}* · "
            f"Duration: *{duration(job.duration_seconds)}*\nLocation: {code(job.s3_url)}\n"
            f"Cost: *{dollars(cost) if cost is not None else '—'}*"
        )
        text = f"{subject} COMPLETED: {job.item_count or 0} items"
    else:
        head = f":x: Export {code(job.export_id)} of {code(job.table_key)} *FAILED*"
        says = f"{code(job.failure_code or 'unknown', 200)} {escape(job.failure_message or '', FOREIGN_TEXT)}"
        body = f"DynamoDB says: {says}\nWhat to fix: {escape(failure_advice(job), FOREIGN_TEXT)}"
        text = f"{subject} FAILED: {escape(job.failure_code or 'unknown', 200)}"
    who = f"Requested by {_who(job)}" if job.requested_by else "Not started by the bot"
    return message(
        text, section(head), section(body), context(f"{who} · {escape(job.region, 100)} · {estimate_label(rates)}")
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
    """A list of exports, newest first; what does not fit in one section is counted, not cut."""
    heading = escape(title, 600)
    if not jobs:
        text = f"{heading}: no exports found."
        return message(text, section(f"*{heading}*\nNo exports found. Start one with `/ddb-export &lt;table&gt;`."))
    lines = [_status_line(job) for job in jobs]
    return message(f"{heading}: {len(jobs)} exports", section(f"*{heading}*"), section(listing(lines, "exports")))


def _status_line(job: ExportJob) -> str:
    icon = STATUS_ICON.get(job.status, ":grey_question:")
    kind = "incremental" if job.export_type == ExportType.INCREMENTAL else "full"
    figures = ""
    if job.status == ExportStatus.COMPLETED:
        figures = f" · {job.item_count or 0:,} items · {size(job.billed_size_bytes)}"
    who = f" · by {_who(job)}" if job.requested_by else " · not by the bot"
    return (
        f"{icon} {code(job.export_id, 200)} {code(job.table_key, 600)} {escape(job.status, 40)} ({kind}) · "
        f"{iso(job.started_at or job.created_at)} → {iso(job.ended_at)}{figures}{who}"
    )


def export_detail(job: ExportJob, cost: Decimal | None, rates: Rates) -> Message:
    """One export in detail: identity and state first, then figures, then a failure and what to fix."""
    fields = [
        ("Export", code(job.export_id, 200)),
        ("Table", code(job.table_key, 600)),
        ("Status", escape(job.status, 40)),
        ("Type", escape(job.export_type, 40)),
        ("Format", escape(job.export_format, 40)),
        ("Started", iso(job.started_at or job.created_at)),
        ("Ended", iso(job.ended_at)),
        ("Duration", duration(job.duration_seconds)),
        ("Items", f"{job.item_count or 0:,}"),
        ("Billed size", size(job.billed_size_bytes)),
        ("Location", code(job.s3_url, 600)),
        ("Cost", dollars(cost) if cost is not None else "—"),
        ("Started by", _who(job) if job.requested_by else "not the bot"),
    ]
    if job.export_type == ExportType.INCREMENTAL:
        fields.insert(5, ("Window", f"{iso(job.export_from)} → {iso(job.export_to)}"))
    elif job.export_time:
        fields.insert(5, ("As of", iso(job.export_time)))
    blocks = [section("\n".join(f"*{name}:* {value}" for name, value in fields))]
    if job.status == ExportStatus.FAILED:
        failure = f"{code(job.failure_code or '', 200)} {escape(job.failure_message or '', FOREIGN_TEXT)}"
        blocks.append(section(f"*What to fix:* {escape(failure_advice(job), FOREIGN_TEXT)}\n*Failure:* {failure}"))
    return message(
        f"Export {escape(job.export_id, 200)}: {escape(job.status, 40)}",
        *blocks,
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
        f"*One incremental export*: about *{dollars(report.incremental_export)}* — "
        f"{escape(report.incremental_basis, 600)}",
        f"*S3 storage of kept exports*: {size(report.retained_bytes)} → *{dollars(report.retained_monthly)} per "
        f"month* (S3 Standard; {escape(report.retained_basis, 600)})",
    ]
    blocks = [section(f":moneybag: Backup costs of {name}"), section("\n".join(lines))]
    if report.recent:
        heading = "*Recent exports (actual, from BilledSizeBytes)*"
        recent = [
            f"{code(item.job.export_id, 200)} {iso(item.job.ended_at)} · {size(item.job.billed_size_bytes)} billed · "
            f"*{dollars(item.cost)}*"
            for item in report.recent
        ]
        blocks.append(section(f"{heading}\n{listing(recent, 'exports', SECTION_TEXT - len(heading) - 1)}"))
    if report.size.note:
        blocks.append(context(f":information_source: {escape(report.size.note, FOREIGN_TEXT)}"))
    blocks.append(context(estimate_label(report.rates)))
    return message(f"Backup costs of {escape(report.table.ref.display, 600)}", *blocks)


def _who(job: ExportJob) -> str:
    if job.schedule_id:
        return f"schedule {code(job.schedule_id, 200)}"
    return mention_user(job.requested_by)
