"""Block Kit for verifications: queued, started, progress, result, and the line /ddb-status shows. Pure builders;
every file name and message from S3 or a user is escaped and shortened here."""

from __future__ import annotations

from bot.timefmt import duration, size
from bot.verification.models import Verification, VerificationStatus
from bot.verification.verify import VerifyProgress
from handlers.kit import emoji
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    SECTION_TEXT,
    Block,
    Message,
    code,
    context,
    escape,
    listing,
    message,
    more,
    section,
)
from handlers.kit.text import count, plural, user, when

SHOWN_FAILURES = 5
FILE_NAME = 300  # a data file's key is long; its tail names it


def _subject(verification: Verification) -> str:
    return f"export {code(verification.target.export_id, 200)}"


def verification_queued(verification: Verification) -> Message:
    """The answer to /ddb-verify: queued, and where progress will be."""
    head = f"{emoji.VERIFY} Verification {code(verification.id, 40)} of {_subject(verification)} queued."
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
            f"{emoji.AGAIN} Verification {code(verification.id, 40)} of {_subject(verification)} was "
            "interrupted (the bot stopped or lost its claim); starting it over."
        )
    else:
        head = f"{emoji.VERIFY} Verifying {_subject(verification)} ({code(verification.id, 40)})…"
    who = f"Asked by {user(verification.requested_by)}" if verification.requested_by else "Scheduled"
    return message(f"Verifying export {escape(verification.target.export_id, 200)}", section(head), context(who))


def verification_progress(verification: Verification, progress: VerifyProgress) -> Message:
    """One progress line, edited in place."""
    text = (
        f"{emoji.RUNNING} {count(progress.files_done)} of {plural(progress.files_total, 'file')} checked · "
        f"{plural(progress.items, 'item')} · {size(progress.bytes)}"
    )
    return message(text, section(text))


def verification_result(verification: Verification) -> Message:
    """One of three outcomes, never "OK" beside "not verified": verified; verified with its gaps named (what could
    not be checked); failed, naming the first files. Then what it was compared with."""
    figures = (
        f"{plural(verification.files, 'file')} · {plural(verification.items, 'item')} · {size(verification.bytes)} "
        f"checked in {duration(verification.seconds)}"
    )
    export = code(verification.target.export_id, 200)
    subject = f"Export {escape(verification.target.export_id, 200)}"
    gaps = [f"• {escape(note, FOREIGN_TEXT)}" for note in verification.notes]
    if verification.status != VerificationStatus.PASSED:
        head = (
            f"{emoji.FAIL} Export {export} *failed verification*: "
            f"{plural(verification.failure_count, 'problem')} found ({figures})"
        )
        text = f"{subject} failed verification"
    elif gaps:
        head = f"{emoji.WARN} Export {export} *verified, with {plural(len(gaps), 'gap')}*: {figures}"
        text = f"{subject} verified, with {plural(len(gaps), 'gap')}: what could not be checked is named"
    else:
        head = f"{emoji.OK} Export {export} *verified*: {figures}"
        text = f"{subject} verified"
    blocks: list[Block] = [section(head)]
    if verification.failures:
        lines = [
            f"• {code(f.file[-FILE_NAME:], FILE_NAME + 2)}: {escape(f.problem, FOREIGN_TEXT)}"
            for f in verification.failures[:SHOWN_FAILURES]
        ]
        hidden = verification.failure_count - len(lines)
        blocks.append(section(listing(lines, "problems") + (f"\n{more(hidden, 'problems')}" if hidden > 0 else "")))
    if gaps:
        blocks.append(section("*Not verified:*\n" + listing(gaps, "gaps", SECTION_TEXT - 20)))
    blocks.append(context(reference_line(verification)))
    if verification.attempts > 1:
        blocks.append(context(f"Started over after an interruption (attempt {verification.attempts})."))
    return message(text, *blocks)


def reference_line(verification: Verification) -> str:
    """What the files were compared with."""
    if verification.reference_at is not None:
        taken = when(verification.reference_at)
        return f"Compared with the bot's record of the export, taken when it completed ({taken})."
    return "The bot holds no record of this export's files: verified against its own manifests only."


def last_verification_block(verification: Verification | None, export_id: str) -> Block:
    """The line /ddb-status <export> shows (`export_id`: the export it is about, for the command to check it)."""
    if verification is None:
        return context(f"Never verified. Check it with `/ddb-verify {escape(export_id, 200)}`.")
    if verification.status == VerificationStatus.PASSED:
        outcome = f"*verified, with {plural(len(verification.notes), 'gap')}*" if verification.notes else "*verified*"
        text = (
            f"{emoji.WARN if verification.notes else emoji.OK} Last verification {code(verification.id, 40)}: "
            f"{outcome} {when(verification.finished_at)} · {plural(verification.files, 'file')} · "
            f"{plural(verification.items, 'item')} · {duration(verification.seconds)}"
        )
    elif verification.status == VerificationStatus.FAILED:
        first = verification.failures[0] if verification.failures else None
        what = f": {code(first.file[-FILE_NAME:], FILE_NAME + 2)} {escape(first.problem, 600)}" if first else ""
        finished = when(verification.finished_at)
        text = f"{emoji.FAIL} Last verification {code(verification.id, 40)} *failed* {finished}{what}"
    else:
        state = escape(verification.status, 20)
        text = f"{emoji.RUNNING} Verification {code(verification.id, 40)} is {state}."
    return section(text)
