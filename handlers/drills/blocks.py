"""Block Kit for verifications (queued, started, progress, result, the line /ddb-status shows) and drills (queued,
result). Pure builders; every file name, key and message from S3 or a user is escaped and shortened here."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.drills.drill_models import DRILL_MAX_AGE, Drill, DrillStatus
from bot.drills.drill_service import QueuedDrill
from bot.drills.models import Verification, VerificationStatus
from bot.drills.tables import DRILL_TAG
from bot.drills.verify import VerifyProgress
from bot.timefmt import duration, iso, size
from handlers.blocks import (
    FOREIGN_TEXT,
    Block,
    Message,
    code,
    context,
    escape,
    listing,
    mention_user,
    message,
    section,
)

SHOWN_FAILURES = 5
FILE_NAME = 300  # a data file's key is long; its tail names it


def _subject(verification: Verification) -> str:
    return f"export {code(verification.target.export_id, 200)}"


def verification_queued(verification: Verification) -> Message:
    """The answer to /ddb-verify: queued, and where progress will be."""
    head = f":mag: Verification {code(verification.id, 40)} of {_subject(verification)} queued."
    body = (
        f"Location: {code(verification.target.location.url, 600)}\n"
        "I will check its manifests, every data file's MD5 and item count, gzip and every line, and post progress "
        "and the result in a thread here."
    )
    return message(f"Verification {escape(verification.id, 40)} queued", section(head), section(body))


def verification_started(verification: Verification, resumed: bool) -> Message:
    """The thread's parent (or, after a restart, a reply saying the verification starts over)."""
    if resumed:
        head = (
            f":arrows_counterclockwise: Verification {code(verification.id, 40)} of {_subject(verification)} was "
            "interrupted (the bot stopped or lost its claim); starting it over."
        )
    else:
        head = f":mag: Verifying {_subject(verification)} ({code(verification.id, 40)})…"
    who = f"Asked by {mention_user(verification.requested_by)}" if verification.requested_by else "Scheduled"
    return message(f"Verifying export {escape(verification.target.export_id, 200)}", section(head), context(who))


def verification_progress(verification: Verification, progress: VerifyProgress) -> Message:
    """One progress line, edited in place."""
    text = (
        f":hourglass_flowing_sand: {progress.files_done:,} of {progress.files_total:,} files checked · "
        f"{progress.items:,} items · {size(progress.bytes)}"
    )
    return message(text, section(text))


def verification_result(verification: Verification) -> Message:
    """The result: what was checked and how long it took, or the first failures naming their files; then notes."""
    figures = (
        f"{verification.files:,} files · {verification.items:,} items · {size(verification.bytes)} checked in "
        f"{duration(verification.seconds)}"
    )
    if verification.status == VerificationStatus.PASSED:
        head = f":white_check_mark: Export {code(verification.target.export_id, 200)} *verified OK*: {figures}"
        text = f"Export {escape(verification.target.export_id, 200)} verified OK"
    else:
        head = (
            f":x: Export {code(verification.target.export_id, 200)} *failed verification*: "
            f"{verification.failure_count:,} problem(s) found ({figures})"
        )
        text = f"Export {escape(verification.target.export_id, 200)} failed verification"
    blocks: list[Block] = [section(head)]
    if verification.failures:
        lines = [
            f"• {code(f.file[-FILE_NAME:], FILE_NAME + 2)}: {escape(f.problem, FOREIGN_TEXT)}"
            for f in verification.failures[:SHOWN_FAILURES]
        ]
        hidden = verification.failure_count - len(lines)
        blocks.append(section(listing(lines, "problems") + (f"\n… and {hidden:,} more" if hidden > 0 else "")))
    blocks.append(context(reference_line(verification)))
    if verification.attempts > 1:
        blocks.append(context(f"Started over after an interruption (attempt {verification.attempts})."))
    if verification.notes:
        blocks.append(context(escape("Not verified: " + "; ".join(verification.notes), FOREIGN_TEXT)))
    return message(text, *blocks)


def reference_line(verification: Verification) -> str:
    """What the files were compared with."""
    if verification.reference_at is not None:
        taken = iso(verification.reference_at)
        return f"Compared with the bot's record of the export, taken when it completed ({taken})."
    return "The bot holds no record of this export's files: verified against its own manifests only."


def last_verification_block(verification: Verification | None) -> Block:
    """The line /ddb-status <export> shows."""
    if verification is None:
        return context("Never verified. Check it with `/ddb-verify &lt;export&gt;`.")
    if verification.status == VerificationStatus.PASSED:
        text = (
            f":white_check_mark: Last verification {code(verification.id, 40)}: *OK* {iso(verification.finished_at)}"
            f" · {verification.files:,} files · {verification.items:,} items · {duration(verification.seconds)}"
        )
    elif verification.status == VerificationStatus.FAILED:
        first = verification.failures[0] if verification.failures else None
        what = f": {code(first.file[-FILE_NAME:], FILE_NAME + 2)} {escape(first.problem, 600)}" if first else ""
        text = f":x: Last verification {code(verification.id, 40)} *failed* {iso(verification.finished_at)}{what}"
    else:
        state = escape(verification.status, 20)
        text = f":hourglass_flowing_sand: Verification {code(verification.id, 40)} is {state}."
    return section(text)


def drill_queued(queued: QueuedDrill) -> Message:
    """The answer to /ddb-drill: the plan (source, throwaway table, estimate) before anything is created."""
    drill, estimate = queued.drill, queued.estimate
    spec = drill.spec
    head = f":test_tube: Drill {code(drill.id, 40)} of {code(spec.table_key, 600)} queued."
    lines = [
        f"Restoring export {code(spec.export.export_id, 200)} ({spec.expected_items or 0:,} items) into "
        f"{code(spec.drill_table, 300)}, tagged `{DRILL_TAG}={escape(drill.id, 40)}`.",
        f"Then: key schema and GSIs, item count, {spec.sample_size:,} sampled items compared attribute for attribute.",
        f"Estimated cost: *{escape(estimate.cost_usd or 'unknown', 40)}*, duration about "
        f"*{duration(estimate.duration_seconds)}*"
        + (f" (target {duration(spec.rto_seconds)})" if spec.rto_seconds else ""),
        "The drill table is kept afterwards (`keep=true`)." if spec.keep else "The drill table is deleted afterwards.",
    ]
    return message(
        f"Drill {escape(drill.id, 40)} of {escape(spec.table_key, 600)} queued",
        section(head),
        section("\n".join(lines)),
        context(escape(estimate.basis, FOREIGN_TEXT)),
    )


def drill_result(drill: Drill) -> Message:
    """Passed or failed, the figures, the first differences, recovery time against its target, the table's fate."""
    spec, result = drill.spec, drill.result
    table = code(spec.table_key, 600)
    if drill.status == DrillStatus.PASSED:
        head = f":white_check_mark: Restore drill of {table} *passed* ({code(drill.id, 40)})"
        text = f"Restore drill of {escape(spec.table_key, 600)} passed"
    else:
        head = (
            f":x: Restore drill of {table} *failed* ({code(drill.id, 40)}): "
            f"{escape(result.failure or 'unknown', FOREIGN_TEXT)}"
        )
        text = f"Restore drill of {escape(spec.table_key, 600)} failed"
    target = f" (target {duration(spec.rto_seconds)})" if spec.rto_seconds else ""
    figures = [
        f"Export {code(spec.export.export_id, 200)} → {code(spec.drill_table, 300)}",
        f"Items: {result.items_imported if result.items_imported is not None else '—'} imported of "
        f"{result.items_expected if result.items_expected is not None else '—'} in the export",
        f"Sample compared: {result.sample_compared:,} items, {result.difference_count:,} different",
        f"Recovery time: *{duration(result.recovery_seconds)}*{target}",
    ]
    blocks: list[Block] = [section(head), section("\n".join(figures))]
    if result.differences:
        lines = [f"• {escape(d, 600)}" for d in result.differences]
        blocks.append(section("*First differences*\n" + listing(lines, "differences")))
    fates = {"kept": "Drill table kept (keep=true)", "deleted": "Drill table deleted", "left": "Drill table left"}
    fate = "kept" if result.kept else "deleted" if result.deleted else "left" if result.left_behind else ""
    lines = [fates.get(fate, "No drill table was left behind"), *result.notes]
    blocks.append(context(escape(" ".join(f"{line[:1].upper()}{line[1:]}." for line in lines), FOREIGN_TEXT)))
    return message(text, *blocks)


def last_drill_block(drill: Drill | None, now: datetime, max_age: timedelta = DRILL_MAX_AGE) -> Block:
    """The line /ddb-status <table> shows: the last drill, flagged when it failed or is older than `max_age`
    (DDBBOT_DRILL_MAX_AGE_DAYS)."""
    if drill is None:
        return context(":warning: Never drilled: prove its backups restore with `/ddb-drill &lt;table&gt;`.")
    when = drill.finished_at or drill.created_at
    if drill.status == DrillStatus.PASSED:
        stale = when is not None and now - when > max_age
        flag = ":warning:" if stale else ":white_check_mark:"
        text = (
            f"{flag} Last restore drill {code(drill.id, 40)} *passed* {iso(when)}: "
            f"{drill.result.items_imported or 0:,} items, recovered in {duration(drill.result.recovery_seconds)}"
            + (f" — *older than {max_age.days} days*, drill again." if stale else "")
        )
    elif drill.status == DrillStatus.FAILED:
        text = (
            f":x: Last restore drill {code(drill.id, 40)} *failed* {iso(when)}: "
            f"{escape(drill.result.failure or 'unknown', 600)}"
        )
    else:
        text = f":hourglass_flowing_sand: Restore drill {code(drill.id, 40)} is {escape(drill.status, 20)}."
    return section(text)
