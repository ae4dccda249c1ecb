"""Block Kit for `/ddb-retention`: the warnings first, then what each bucket's rules delete, each export's date, and
the proposed rule to copy. Pure builders; every id, key, bucket and AWS-supplied text is escaped here."""

from __future__ import annotations

from bot.models import ExportType
from bot.retention.buckets import BucketKeeping
from bot.retention.models import Fate, Proposal, RetentionAsk, RetentionReport
from handlers.kit import emoji
from handlers.kit.blocks import Block, Message, code, context, escape, listing, message, section
from handlers.kit.text import plural, when

REPLACES_ALL = (
    "PutBucketLifecycleConfiguration and `aws_s3_bucket_lifecycle_configuration` replace every lifecycle rule of the "
    "bucket: add the bucket's other rules before applying. The bot never changes lifecycle rules."
)


def retention_message(report: RetentionReport) -> Message:
    """The answer to `/ddb-retention <table>`."""
    table = code(report.table, 600)
    blocks: list[Block] = [section(f"*Retention of {table}*: {_asked(report.ask)}")]
    if report.warnings:
        lines = [f"{emoji.WARN} {escape(warning)}" for warning in report.warnings]
        blocks.append(section(listing(lines, "warnings")))
    blocks.append(section(listing([_bucket_line(k) for k in report.keepings], "buckets") or "No export bucket known."))
    fates = [_fate_line(fate) for fate in report.fates]
    if fates:
        blocks.append(section("*When each export goes:*\n" + listing(fates, "exports", 2900)))
    else:
        blocks.append(section("No completed export of the table is catalogued."))
    for proposal in report.proposals:
        blocks.extend(_proposal_blocks(proposal))
    if report.proposals:
        blocks.append(context(REPLACES_ALL))
    summary = f"Retention of {escape(report.table, 600)}: {plural(len(report.warnings), 'warning')}"
    return message(summary, *blocks)


def _asked(ask: RetentionAsk) -> str:
    parts = []
    if ask.keep_days is not None:
        parts.append(f"keep {plural(ask.keep_days, 'day')}")
    if ask.fulls is not None:
        parts.append(f"at least {plural(ask.fulls, 'full export')}")
    if not parts:
        return "no retention asked (add `keep=35d` or `fulls=4`, or set them for the table in the config file)."
    return ", ".join(parts) + "."


def _bucket_line(keeping: BucketKeeping) -> str:
    where = code(f"s3://{keeping.bucket}/{keeping.prefix}", 400)
    if keeping.problem is not None:
        return f"{emoji.FAIL} {where}: not read. {escape(keeping.problem, 600)}"
    said = []
    if keeping.expiration_days is not None:
        said.append(f"the rules delete files {plural(keeping.expiration_days, 'day')} after they are written")
    if keeping.expiration_date is not None:
        said.append(f"a rule deletes every file on {keeping.expiration_date.isoformat()}")
    if not said:
        said.append("no rule deletes the exports")
    said.append(_versions(keeping))
    if keeping.object_lock_mode is not None:
        said.append(
            f"Object Lock ({escape(keeping.object_lock_mode, 20)}) holds each file "
            f"{plural(keeping.object_lock_days, 'day')}: nothing deletes it sooner"
        )
    notes = "".join(f"\n  {emoji.INFO} {escape(note, 400)}" for note in keeping.notes)
    return f"{where}: " + "; ".join(said) + "." + notes


def _versions(keeping: BucketKeeping) -> str:
    if keeping.versioning == "Off":
        return "versioning off"
    if keeping.noncurrent_expiration_days is None:
        return (
            f"versioning {escape(keeping.versioning, 20).lower()}: deleted files stay as older versions (still billed) "
            "since no rule removes them"
        )
    return (
        f"versioning {escape(keeping.versioning, 20).lower()}: older versions removed "
        f"{plural(keeping.noncurrent_expiration_days, 'day')} later"
    )


def _fate_line(fate: Fate) -> str:
    entry = fate.entry
    kind = "full" if entry.export_type == ExportType.FULL else "incremental"
    head = f"{code(entry.export_id, 140)} {kind} of {when(entry.as_of)}"
    if fate.deleted:
        return f"{head}: {emoji.REMOVED} deleted early"
    if fate.expires_at is None:
        return f"{head}: kept (no rule deletes it)"
    return f"{head}: deleted {when(fate.expires_at)}"


def _proposal_blocks(proposal: Proposal) -> list[Block]:
    where = code(f"s3://{proposal.bucket}/{proposal.prefix}", 400)
    return [
        section(
            f"*Proposed rule for {where}*: delete files {plural(proposal.days, 'day')} after they are written "
            f"({escape(proposal.why, 600)})."
        ),
        section(f"Lifecycle configuration (JSON):\n```{escape(proposal.lifecycle_json, 2700)}```"),
        section(f"Terraform:\n```{escape(proposal.terraform, 2700)}```"),
    ]
