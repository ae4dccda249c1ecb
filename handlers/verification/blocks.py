"""Block Kit for verifications: queued, started, progress, result, and the line /ddb-status shows. Pure builders;
every file name and message from S3 or a user is escaped and shortened here."""

from __future__ import annotations

from bot.timefmt import duration, iso, size
from bot.verification.models import Verification, VerificationStatus
from bot.verification.verify import VerifyProgress
from handlers.kit.blocks import (
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
