"""Verification of an export without restoring it: its manifests against their checksum files and against the bot's
own record of the export, then every data file streamed once (MD5, gzip, item count, every line a valid record).

It lives in bot/verification, not bot/exports, because it reads lines with the loader's reader (bot/loader/lines.py),
and bot/exports may not depend on the loader (the loader depends on bot/exports); verification builds on both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.errors import BotError
from bot.exports.files import (
    FILES_NAME,
    DataFile,
    ExportManifest,
    manifest_changes,
    open_data_file,
    read_manifest,
)
from bot.exports.reference import ExportReference
from bot.loader.lines import ExportLineReader
from bot.models import ExportLocation
from bot.timefmt import iso
from bot.verification.stream import FileCheck, Halted, check_stream

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK = 1024 * 1024
PROGRESS_EVERY_CHUNKS = 1  # within a long file, progress (the runner throttles it, and heartbeats its claim) per MB
KEPT_FAILURES = 10
NO_REFERENCE = (
    "the bot did not see this export complete (it holds no record of its files), so it was verified against its "
    "own manifests only: files rewritten together with their checksums would not be noticed"
)


@dataclass(frozen=True)
class Failure:
    """One thing wrong, and the file (or manifest) it is wrong in."""

    file: str
    problem: str


@dataclass(frozen=True)
class VerifyProgress:
    """How far a verification is."""

    files_done: int
    files_total: int
    items: int
    bytes: int


@dataclass(frozen=True)
class VerifyOutcome:
    """The result: what was checked, how long it took, and the first failures (all counted)."""

    files: int
    items: int
    bytes: int
    seconds: float
    failures: tuple[Failure, ...] = ()
    failure_count: int = 0
    reference_at: datetime | None = None  # when the bot recorded the export; None: its own manifests only
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return self.failure_count == 0


@dataclass
class _Tally:
    files: int = 0
    items: int = 0
    bytes: int = 0
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0

    def fail(self, file: str, problem: str) -> None:
        self.failure_count += 1
        if len(self.failures) < KEPT_FAILURES:
            self.failures.append(Failure(file, problem))


ProgressSink = Callable[[VerifyProgress], None]


def verify_export(
    s3: S3Client,
    location: ExportLocation,
    reference: ExportReference | None,
    reader: ExportLineReader,
    *,
    on_progress: ProgressSink = lambda _p: None,
    halt: threading.Event | None = None,
    on_line: Callable[[bytes], None] | None = None,
) -> VerifyOutcome:
    """Check the export at `location` in full; raises Halted when `halt` is set, never for what it finds wrong.
    `on_line` sees every valid line (a drill draws its sample there, in the same pass)."""
    started = time.monotonic()
    tally = _Tally()
    try:
        manifest = read_manifest(s3, location)
    except BotError as error:
        tally.fail(location.url, error.message)
        return _outcome(tally, started, reference, ())
    notes = manifest.unverified if reference is not None else (*manifest.unverified, NO_REFERENCE)
    expected = _expected_files(manifest, reference, tally)
    stop = halt or threading.Event()
    for data_file in manifest.files:
        checking = _Checking(manifest, reader, tally, stop, on_progress, on_line)
        _check_file(s3, location, data_file, expected.get(data_file.key), checking)
        tally.files += 1
        on_progress(VerifyProgress(tally.files, len(manifest.files), tally.items, tally.bytes))
    _check_totals(manifest, reference, tally)
    return _outcome(tally, started, reference, notes)


def _outcome(tally: _Tally, started: float, reference: ExportReference | None, notes: tuple[str, ...]) -> VerifyOutcome:
    return VerifyOutcome(
        files=tally.files,
        items=tally.items,
        bytes=tally.bytes,
        seconds=time.monotonic() - started,
        failures=tuple(tally.failures),
        failure_count=tally.failure_count,
        reference_at=reference.recorded_at if reference else None,
        notes=notes,
    )


def _expected_files(manifest: ExportManifest, reference: ExportReference | None, tally: _Tally) -> dict[str, DataFile]:
    """What each file must be: the bot's record when it has one (manifest changes are failures), else nothing
    beyond the manifest."""
    if reference is None:
        return {}
    when = iso(reference.recorded_at)
    for name in manifest_changes(reference.checksum, manifest.checksum):
        what = "the listing of its data files" if name == "listing" else name
        tally.fail(what, f"differs from what the bot recorded when the export completed ({when})")
    recorded = {f.key: f for f in reference.files}
    listed = {f.key for f in manifest.files}
    for key in recorded.keys() - listed:
        tally.fail(key, f"was part of the export when it completed ({when}) but {FILES_NAME} no longer lists it")
    for key in listed - recorded.keys():
        tally.fail(key, f"is listed in {FILES_NAME} but was not part of the export when it completed ({when})")
    return recorded


@dataclass(frozen=True)
class _Checking:
    """What every file's check shares."""

    manifest: ExportManifest
    reader: ExportLineReader
    tally: _Tally
    halt: threading.Event
    on_progress: ProgressSink
    on_line: Callable[[bytes], None] | None


def _check_file(
    s3: S3Client, location: ExportLocation, data_file: DataFile, recorded: DataFile | None, checking: _Checking
) -> None:
    manifest, tally, halt, on_progress = checking.manifest, checking.tally, checking.halt, checking.on_progress
    chunks_seen = 0

    def on_chunk(size: int) -> None:
        nonlocal chunks_seen
        if halt.is_set():
            raise Halted
        tally.bytes += size
        chunks_seen += 1
        if chunks_seen % PROGRESS_EVERY_CHUNKS == 0:
            on_progress(VerifyProgress(tally.files, len(manifest.files), tally.items, tally.bytes))

    try:
        with open_data_file(s3, location, DataFile(data_file.key, None, None)) as body:
            check = check_stream(
                body.iter_chunks(CHUNK), checking.reader, manifest.export_type, on_chunk, checking.on_line
            )
    except BotError as error:
        tally.fail(data_file.key, error.message)
        return
    tally.items += check.lines
    problems = _file_problems(check, data_file, recorded)
    if problems:
        tally.fail(data_file.key, "; ".join(problems))


def _file_problems(check: FileCheck, listed: DataFile, recorded: DataFile | None) -> list[str]:
    problems = [check.problem] if check.problem else []
    if listed.md5 is not None and check.md5 != listed.md5:
        problems.append(f"its MD5 is {check.md5}, {FILES_NAME} says {listed.md5}")
    elif recorded is not None and recorded.md5 is not None and check.md5 != recorded.md5:
        problems.append(
            f"its MD5 is {check.md5}, but it was {recorded.md5} when the export completed: the file was rewritten"
        )
    if check.problem is None:
        if listed.item_count is not None and check.lines != listed.item_count:
            problems.append(f"it holds {check.lines} items, {FILES_NAME} says {listed.item_count}")
        elif recorded is not None and recorded.item_count is not None and check.lines != recorded.item_count:
            problems.append(f"it holds {check.lines} items, but {recorded.item_count} when the export completed")
    return problems


def _check_totals(manifest: ExportManifest, reference: ExportReference | None, tally: _Tally) -> None:
    if tally.failure_count:
        return  # a file already failed: a total that differs says nothing more
    if manifest.item_count is not None and tally.items != manifest.item_count:
        tally.fail("manifest-summary.json", f"says {manifest.item_count} items, the data files hold {tally.items}")
    elif reference is not None and reference.item_count is not None and tally.items != reference.item_count:
        tally.fail("the export", f"holds {tally.items} items, {reference.item_count} when it completed")
