"""Replay DynamoDB exports (a full one, then incrementals) into an EXISTING table, for which AWS has no API.

Exports run one after the other in time order; the files of one export hold disjoint keys, so they are loaded in
parallel. Each file is checkpointed once all its writes landed, so a restarted load skips finished files;
replaying an unfinished file again is harmless because its puts and deletes are idempotent and in order.

Each export is read with its own S3 client (its account's credentials and region) and, when the bot recorded the
export, its data files, MD5s and item counts are the record's: every file is checked against it as it is read,
and a file holding other than its promised number of records is reported (`LoadReport.short_files`).
"""

from __future__ import annotations

import gzip
import io
import logging
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import urllib3
from botocore.exceptions import BotoCoreError

from bot.bounded import LineTooLong, numbered_lines, size_text
from bot.errors import BotError, PreconditionFailed
from bot.exports.files import (
    DataFile,
    ExportManifest,
    ExportUnreadable,
    UnsupportedExportFormat,
    open_data_file,
    read_manifest,
)
from bot.limits import MAX_EXPORT_LINE
from bot.loader.batch_writer import MAX_BATCH, BatchWriter, RetryPolicy, WriteCancelled, WriteStats
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.lines import ExportLineReader
from bot.loader.pacing import PacingPolicy, WriteRateController
from bot.loader.spread import DEFAULT_LINES, SpreadWindow
from bot.metrics import LOADER_RATE
from bot.models import ExportFormat, ExportLocation, ExportType

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

MAX_BATCH_BYTES = 14 * 1024 * 1024  # under BatchWriteItem's 16 MB, leaving room for JSON and base64 growth
S3_ATTEMPTS = 3
_READ_BYTES = 1024 * 1024
_TRANSIENT_S3 = (BotoCoreError, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class LoadProgress:
    """A snapshot for the user; `files_done` includes files skipped because an earlier run finished them."""

    files_done: int
    files_total: int
    items_written: int
    deletes_applied: int
    items_per_s: float
    retries: int
    throttles: int
    elapsed_s: float
    units_per_s: float = 0.0  # write units DynamoDB reported consumed, per second since the start
    ceiling: float | None = None  # the user's ceiling in write units per second (None: none)
    items_total: int | None = None  # records in every export's manifests (None when a manifest does not say)
    eta_s: float | None = None  # at the rate so far


@dataclass(frozen=True)
class ExportSource:
    """One export to load: where it is, the S3 client of its own account and region, and the bot's record of its
    data files (None: the manifest's list is all there is)."""

    location: ExportLocation
    s3: S3Client
    recorded_files: tuple[DataFile, ...] | None = None


@dataclass(frozen=True)
class LoadReport:
    """The outcome: `files` counts every data file of the sources, `files_skipped_resumed` those not redone.

    `retries` counts requests sent again (throttled, unprocessed, 5xx, connection lost); `throttles` the calls
    DynamoDB throttled (a throttling error, or UnprocessedItems in the answer); `unverified_files` the data files
    streamed without an MD5 check because their manifest gives none (or there is no manifest, as in moto).
    """

    items_written: int
    deletes_applied: int
    files: int
    files_skipped_resumed: int
    duration_s: float
    retries: int
    throttles: int
    unverified_files: int = 0
    units_consumed: float = 0.0
    ceiling: float | None = None
    changes_applied: int = 0  # puts and deletes of every finished data file, files finished by earlier runs included
    changes_resumed: int = 0  # ... of the files earlier runs finished (skipped now)
    short_files: tuple[str, ...] = ()  # data files holding another number of records than promised, in words


class LoadCheckpoints(Protocol):
    """Remembers which data files of a load are fully written (key → puts, deletes), so a later run skips them."""

    def finished_files(self, load_key: str, export_id: str) -> Mapping[str, tuple[int, int]]: ...

    def mark_finished(self, load_key: str, export_id: str, file_key: str, items: int, deletes: int) -> None: ...


class LoadCancelled(BotError):
    """The caller stopped the load; finished files are checkpointed and a new run continues after them."""

    def __init__(self, report: LoadReport) -> None:
        super().__init__(
            f"The restore was stopped after {report.items_written} items and {report.deletes_applied} deletes.",
            "Resume it to continue with the files not finished yet.",
        )
        self.report = report


class ExportDoesNotMatchTable(PreconditionFailed):
    """The export's items lack the target table's key attributes."""


class ExportFileCorrupt(BotError):
    """A data file is not gzip'd DynamoDB JSON lines."""


class ExportDiffersFromRecord(PreconditionFailed):
    """The export's manifest lists other data files than the bot recorded when the export completed."""


@dataclass
class _Load:
    writer: BatchWriter
    stats: WriteStats
    checkpoints: LoadCheckpoints
    load_key: str
    table_name: str
    lines: ExportLineReader
    halt: threading.Event
    spread_lines: int


@dataclass(frozen=True)
class _Export:
    """One export as loaded: its manifest, the S3 client it is read with, and the data files to write."""

    manifest: ExportManifest
    s3: S3Client
    files: list[DataFile]


@dataclass(frozen=True)
class _FileDone:
    """What one data file's last complete pass wrote (a pass restarted after a broken stream is not counted)."""

    puts: int
    deletes: int
    records: int


@dataclass(frozen=True)
class LoadTiming:
    """How often progress is reported, the writer's backoff, and how long a batch may make no progress at all
    (persistent 5xx, DNS or connection failures, throttling of every write) before the load stops."""

    progress_interval_s: float = 10.0
    backoff_base_s: float = 0.05
    backoff_cap_s: float = 5.0
    retry_seconds: float = 300.0


@dataclass(frozen=True)
class LoadPacing:
    """The write rate: `ceiling` in write units per second (None: as fast as the table takes), the controller's
    other constants, and how many lines a batch is drawn from (spreading writes over partitions; 1: file order)."""

    ceiling: float | None = None
    policy: PacingPolicy = field(default_factory=PacingPolicy)
    spread_lines: int = DEFAULT_LINES


class ExportReplay:
    """One load of exports into one table: a pool of file threads per export, oldest export first.

    `run()` raises LoadCancelled when `cancel` is set, and a BotError naming the file when an export or DynamoDB
    refuses; every file written before that is checkpointed under `load_key`. `s3` reads the sources given as bare
    locations; an `ExportSource` brings its own client.
    """

    def __init__(
        self,
        *,
        s3: S3Client,
        endpoint: DynamoDbEndpoint,
        table_name: str,
        key_names: Sequence[str],
        checkpoints: LoadCheckpoints,
        load_key: str,
        progress: Callable[[LoadProgress], None],
        cancel: threading.Event | None = None,
        concurrency: int = 4,
        timing: LoadTiming = LoadTiming(),
        pacing: LoadPacing = LoadPacing(),
    ) -> None:
        if not key_names:
            raise ValueError("key_names must name the table's partition key (and sort key, if any)")
        self._progress = progress
        self._cancel = cancel if cancel is not None else threading.Event()
        self._concurrency = concurrency
        self._interval = timing.progress_interval_s
        self._tick = min(max(timing.progress_interval_s, 0.01), 0.2)  # also how soon a cancel is noticed
        self._endpoint = endpoint
        self._timing = timing
        self._stats, self._halt = WriteStats(), threading.Event()
        self._s3, self._table_name, self._load_key = s3, table_name, load_key
        self._checkpoints, self._lines = checkpoints, ExportLineReader(key_names)
        self._started = self._last_report = time.monotonic()
        self._files_total = self._done = self._skipped = self._unverified = 0
        self._pacing = pacing
        self._items_total: int | None = None
        self._items_skipped = 0
        self._applied = 0  # puts and deletes of the files finished in this run
        self._short: list[str] = []
        self._rate_shown = 0.0  # this load's share of the LOADER_RATE gauge

    def run(self, sources: Sequence[ExportLocation | ExportSource]) -> LoadReport:
        """Write the exports' items, oldest export first; returns the figures once every write landed."""
        self._started = self._last_report = time.monotonic()
        exports = _in_time_order([self._opened(source) for source in dict.fromkeys(sources)])
        manifests = [export.manifest for export in exports]
        _require_dynamodb_json(manifests)
        timing = self._timing
        retry = RetryPolicy(timing.retry_seconds, timing.backoff_base_s, timing.backoff_cap_s)
        policy = replace(self._pacing.policy, ceiling=self._pacing.ceiling)
        pacer = WriteRateController(policy)
        writer = BatchWriter(
            self._endpoint, self._table_name, stats=self._stats, halt=self._halt, retry=retry, pacer=pacer
        )
        load = _Load(
            writer,
            self._stats,
            self._checkpoints,
            self._load_key,
            self._table_name,
            self._lines,
            self._halt,
            self._pacing.spread_lines,
        )
        self._files_total = sum(len(export.files) for export in exports)
        counts = [manifest.item_count for manifest in manifests]
        self._items_total = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
        logger.info(
            "load.started",
            extra={
                "load_key": load.load_key,
                "table": load.table_name,
                "exports": len(manifests),
                "files": self._files_total,
            },
        )
        try:
            with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="ddb-load") as pool:
                for export in exports:
                    if self._cancel.is_set():
                        raise LoadCancelled(self.report())
                    self._load_export(pool, load, export)
        finally:
            load.halt.set()  # an unexpected error (even KeyboardInterrupt) still stops the file threads
            load.writer.close()
            self._stats.publish()
            self._show_rate(0.0)
        final = self.report()
        _log_done(load.load_key, final)
        return final

    def report(self) -> LoadReport:
        """The figures so far."""
        stats = self._stats
        return LoadReport(
            stats.items_written,
            stats.deletes_applied,
            self._files_total,
            self._skipped,
            time.monotonic() - self._started,
            stats.retries,
            stats.throttles,
            self._unverified,
            stats.units_consumed,
            self._pacing.ceiling,
            self._items_skipped + self._applied,
            self._items_skipped,
            tuple(self._short),
        )

    def _opened(self, source: ExportLocation | ExportSource) -> _Export:
        """The export's manifest, read with its own client, and the files to write: the bot's record of them when
        there is one (the manifest must list the same files), else the manifest's."""
        if isinstance(source, ExportLocation):
            source = ExportSource(source, self._s3)
        manifest = read_manifest(source.s3, source.location)
        if source.recorded_files is None:
            return _Export(manifest, source.s3, list(manifest.files))
        if sorted(f.key for f in manifest.files) != sorted(f.key for f in source.recorded_files):
            raise ExportDiffersFromRecord(
                f"The manifest of {source.location.url} lists other data files than the bot recorded when the export "
                "completed. Nothing of it was written.",
                f"`/ddb-verify {source.location.export_id}` names the files that differ; restore another export.",
            )
        return _Export(manifest, source.s3, list(source.recorded_files))

    def _load_export(self, pool: ThreadPoolExecutor, load: _Load, export: _Export) -> None:
        """The export's unfinished files in parallel (they hold disjoint keys); returns when all are written."""
        location = export.manifest.location
        finished = load.checkpoints.finished_files(load.load_key, location.export_id)
        todo = [data_file for data_file in export.files if data_file.key not in finished]
        self._skipped += len(export.files) - len(todo)
        self._items_skipped += sum(sum(finished[f.key]) for f in export.files if f.key in finished)
        self._done += len(export.files) - len(todo)
        files: dict[Future[_FileDone], DataFile] = {pool.submit(_load_file, load, export, f): f for f in todo}
        pending = set(files)
        failure: BaseException | None = None
        interrupted = False
        while pending:
            if self._cancel.is_set():
                load.halt.set()
            finished_now, pending = wait(pending, timeout=self._tick, return_when=FIRST_COMPLETED)
            for future in finished_now:
                error = future.exception()
                if error is None:
                    self._file_finished(location, files[future], future.result())
                elif isinstance(error, WriteCancelled):
                    interrupted = True
                elif failure is None:
                    failure = error
                    load.halt.set()  # the other files stop at their next batch
            self._maybe_progress()
        if failure is not None:
            raise failure
        if interrupted:
            raise LoadCancelled(self.report())

    def _file_finished(self, location: ExportLocation, data_file: DataFile, done: _FileDone) -> None:
        self._done += 1
        self._unverified += data_file.md5 is None  # streamed without an MD5 to check it against
        self._applied += done.puts + done.deletes
        if data_file.item_count is not None and done.records != data_file.item_count:
            self._short.append(
                f"{location.object_url(data_file.key)} holds {done.records:,} records, "
                f"{data_file.item_count:,} promised"
            )

    def _maybe_progress(self) -> None:
        now = time.monotonic()
        if now - self._last_report < self._interval:
            return
        self._last_report = now
        snapshot = self._snapshot(now - self._started)
        self._stats.publish()
        self._show_rate(snapshot.items_per_s)
        try:
            self._progress(snapshot)
        except Exception:
            logger.exception("load.progress_callback_failed", extra={"load_key": self._load_key})

    def _snapshot(self, elapsed: float) -> LoadProgress:
        stats = self._stats
        done = stats.items_written + stats.deletes_applied
        per_s = done / elapsed if elapsed > 0 else 0.0
        eta = None
        if self._items_total is not None and per_s > 0:
            eta = max(0, self._items_total - self._items_skipped - done) / per_s
        return LoadProgress(
            self._done,
            self._files_total,
            stats.items_written,
            stats.deletes_applied,
            per_s,
            stats.retries,
            stats.throttles,
            elapsed,
            stats.units_consumed / elapsed if elapsed > 0 else 0.0,
            self._pacing.ceiling,
            self._items_total,
            eta,
        )

    def _show_rate(self, per_s: float) -> None:
        """This load's items/s in the process-wide gauge (the sum over running loads), in whole items: the gauge is a
        running sum of each load's changes, and whole numbers add up exactly, so it reads 0 once every load ended
        (fractions left 4.5e-13 behind after concurrent loads, seen in a soak)."""
        shown = float(round(per_s))
        LOADER_RATE.inc(shown - self._rate_shown)
        self._rate_shown = shown


def load_exports(
    *,
    s3: S3Client,
    endpoint: DynamoDbEndpoint,
    sources: Sequence[ExportLocation | ExportSource],
    table_name: str,
    key_names: Sequence[str],
    checkpoints: LoadCheckpoints,
    load_key: str,
    progress: Callable[[LoadProgress], None],
    cancel: threading.Event | None = None,
    concurrency: int = 4,
    progress_interval_s: float = 10.0,
    backoff_base_s: float = 0.05,
    backoff_cap_s: float = 5.0,
    retry_seconds: float = 300.0,
    pacing: LoadPacing = LoadPacing(),
) -> LoadReport:
    """Write the exports' items into `table_name` (whose key attributes are `key_names`), oldest export first.

    Raises LoadCancelled when `cancel` is set, and a BotError naming the file when an export or DynamoDB refuses.
    """
    replay = ExportReplay(
        s3=s3,
        endpoint=endpoint,
        table_name=table_name,
        key_names=key_names,
        checkpoints=checkpoints,
        load_key=load_key,
        progress=progress,
        cancel=cancel,
        concurrency=concurrency,
        timing=LoadTiming(progress_interval_s, backoff_base_s, backoff_cap_s, retry_seconds),
        pacing=pacing,
    )
    return replay.run(sources)


def _require_dynamodb_json(manifests: list[ExportManifest]) -> None:
    for manifest in manifests:
        if manifest.export_format != ExportFormat.DYNAMODB_JSON:
            raise UnsupportedExportFormat(
                f"The export {manifest.location.export_id} is in {manifest.export_format} format; only "
                "DYNAMODB_JSON exports can be loaded into an existing table.",
                "Restore it into a new table with `to=<new table>` (ImportTable reads ION), "
                "or export again as DYNAMODB_JSON.",
            )


def _log_done(load_key: str, final: LoadReport) -> None:
    logger.info(
        "load.done",
        extra={
            "load_key": load_key,
            "items": final.items_written,
            "deletes": final.deletes_applied,
            "files": final.files,
            "files_skipped": final.files_skipped_resumed,
            "seconds": round(final.duration_s, 1),
            "retries": final.retries,
            "throttles": final.throttles,
            "unverified_files": final.unverified_files,
            "short_files": len(final.short_files),
        },
    )


def _in_time_order(exports: list[_Export]) -> list[_Export]:
    """Oldest state first; a full export goes before an incremental ending at the same moment."""
    earliest = datetime.min.replace(tzinfo=UTC)
    return sorted(exports, key=lambda e: (e.manifest.as_of or earliest, e.manifest.export_type != ExportType.FULL))


def _load_file(load: _Load, export: _Export, data_file: DataFile) -> _FileDone:
    """Write one data file and checkpoint it; a broken S3 stream restarts the file (replaying it is harmless)."""
    manifest = export.manifest
    for attempt in range(1, S3_ATTEMPTS + 1):
        if load.halt.is_set():
            raise WriteCancelled
        try:
            items, deletes, lines = _apply_file(load, export, data_file)
        except _TRANSIENT_S3 as error:
            if attempt == S3_ATTEMPTS:
                raise ExportUnreadable(
                    f"Reading {manifest.location.object_url(data_file.key)} failed {attempt} times ({error}).",
                    "Try again; finished files will be skipped.",
                ) from error
            load.halt.wait(attempt)
            continue
        break
    if data_file.item_count is not None and lines != data_file.item_count:
        logger.warning(
            "load.file_count_mismatch",
            extra={"s3_key": data_file.key, "records": lines, "promised": data_file.item_count},
        )
    load.checkpoints.mark_finished(load.load_key, manifest.location.export_id, data_file.key, items, deletes)
    logger.debug("load.file_loaded", extra={"s3_key": data_file.key, "items": items, "deletes": deletes})
    return _FileDone(items, deletes, lines)


def _apply_file(load: _Load, export: _Export, data_file: DataFile) -> tuple[int, int, int]:
    """Stream one file into batches of distinct keys drawn from a spread window; returns (puts, deletes, records)
    once all are written."""
    manifest = export.manifest
    location = manifest.location
    source = location.object_url(data_file.key)
    read = load.lines.read_change if manifest.export_type == ExportType.INCREMENTAL else load.lines.read
    writer = load.writer
    window = SpreadWindow(max(load.spread_lines, MAX_BATCH))
    puts = deletes = records = 0

    def flush() -> None:
        nonlocal puts, deletes
        for requests in window.batches(MAX_BATCH, MAX_BATCH_BYTES):
            writer.write(requests, source)
            sent_puts = sum(1 for _, is_put in requests if is_put)
            puts += sent_puts
            deletes += len(requests) - sent_puts

    with (
        open_data_file(export.s3, location, data_file) as raw,
        gzip.GzipFile(fileobj=raw, mode="rb") as unzipped,
        io.BufferedReader(unzipped, _READ_BYTES) as lines,  # C-level line splitting, not GzipFile.readline
    ):
        try:
            for number, line in numbered_lines(lines, MAX_EXPORT_LINE):
                try:
                    request, key = read(line)
                except (KeyError, ValueError) as error:  # LineRefused and KeyValueRefused are ValueErrors
                    if _skip_or_refuse(line, error, number, source, load):
                        continue
                    raise
                records += 1
                window.add(key, request)  # a later request for a key already held replaces it: last one wins
                if window.full:
                    flush()
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise ExportFileCorrupt(f"{source} is not a complete gzip file ({error}).") from error
        except LineTooLong as error:
            raise ExportFileCorrupt(
                f"Line {error.number} of {source} is longer than {size_text(error.limit)}, more than DynamoDB "
                "writes for an item of 400 KB; it was not read further.",
                "DynamoDB never writes such a line: the file was changed or damaged. Export the table again.",
            ) from error
    flush()
    return puts, deletes, records


def _skip_or_refuse(line: bytes, error: Exception, number: int, source: str, load: _Load) -> bool:
    """A blank line is skipped; any other unreadable line stops the load with a message naming it."""
    if not line.strip():
        return True
    if line.startswith(b"$ion"):
        raise UnsupportedExportFormat(
            f"{source} is in ION format; only DYNAMODB_JSON exports can be loaded into an existing table.",
            "Restore it into a new table with `to=<new table>` (ImportTable reads ION).",
        )
    if isinstance(error, KeyError):
        raise ExportDoesNotMatchTable(
            f"Line {number} of {source} lacks the key attribute {error} of table {load.table_name} "
            f"(key: {', '.join(load.lines.key_names)}).",
            "Restore this export into a table with the same key schema as its source.",
        ) from error
    raise ExportFileCorrupt(
        f"Line {number} of {source} cannot be loaded: {error}.",
        "DynamoDB never writes such a line: the file was changed or damaged. Export the table again.",
    ) from error
