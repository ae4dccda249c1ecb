"""The controls of every table a coverage survey found: read from the bot's export records and the catalogue (the
exports), the drill history (the restores proven) and each backup bucket's lifecycle and Object Lock, then judged
by bot.controls.checks. Fed by the survey's result so the survey itself stays as fast as it is.

A bucket is read once per report however many tables export into it (estates put thousands of tables in a few
buckets), and a table with no target is read not at all: every control of it is "not required".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.accounts import Place
from bot.catalog.models import CatalogEntry, entry_of_job
from bot.catalog.store import CatalogStore
from bot.config import ControlTargets
from bot.controls import checks
from bot.controls.models import ControlResult, ControlsReport, Keeping, TableControls
from bot.core import Core
from bot.coverage.models import CoverageReport, TableCoverage
from bot.drills.models import Drill
from bot.drills.store import DrillStore
from bot.errors import BotError
from bot.models import ExportJob, ExportType, export_id_of

logger = logging.getLogger(__name__)


class KeepingReader(Protocol):
    """Reads what a bucket keeps under a prefix (bot.retention.buckets.read_bucket_keeping)."""

    def __call__(self, s3: Any, bucket: str, prefix: str, *, owner: str | None = None) -> Keeping: ...


@dataclass(frozen=True)
class ControlSources:
    """What the controls are read from, built once in bootstrap. `not_backups` gives the ARNs of exports that hold
    part of a table only (a recovery's partition or window), `gone` the ids of exports deleted early: neither ever
    counts as a backup."""

    core: Core
    catalog: CatalogStore
    drills: DrillStore
    read_keeping: KeepingReader
    not_backups: Callable[[], set[str]] = field(default=set)
    gone: Callable[[], set[str]] = field(default=set)


def controls_of(sources: ControlSources, coverage: CoverageReport) -> ControlsReport:
    """Every control of every table of the survey, judged as of the survey's moment."""
    reading = _Reading(sources, coverage)
    return ControlsReport(coverage.at, tuple(reading.table(t) for t in coverage.tables))


class _Reading:
    """One report's reads: the records of every table with a target read in batches (a few queries for thousands of
    tables, where one each took seconds), and each account and bucket asked once."""

    def __init__(self, sources: ControlSources, coverage: CoverageReport) -> None:
        self.sources = sources
        self.now = coverage.at
        self.partial = {export_id_of(arn) for arn in sources.not_backups()} | sources.gone()
        self.accounts: dict[str | None, str | None] = {}
        self.buckets: dict[tuple[str | None, str, str, str | None], Keeping] = {}
        targets = sources.core.config.targets_for
        wanted = [t for t in coverage.tables if targets(t.key).any]
        self.own: dict[tuple[str, str], list[ExportJob]] = {}
        for region in sorted({t.region for t in wanted}):
            keys = [t.key for t in wanted if t.region == region]
            found = sources.core.store.last_completed_by_owner(keys, region, self.partial)
            self.own.update(((key, region), jobs) for key, jobs in found.items())
        self.arns = {(t.key, t.region): self._arn(t) for t in wanted}
        self.catalogued = sources.catalog.newest_by_owner((a for a in self.arns.values() if a), self.partial)
        drilled = [t.key for t in wanted if targets(t.key).restore_proven or targets(t.key).rto]
        self.drilled = sources.drills.last_passed(drilled) if drilled else {}

    def table(self, table: TableCoverage) -> TableControls:
        targets = self.sources.core.config.targets_for(table.key)
        account = self._account(table.alias) if targets.any else None
        exports = self._exports(table) if targets.any else []
        drills = [d for d in self.drilled.get(table.key, []) if d.spec.region == table.region]
        newest = exports[0] if exports else None
        needs_bucket = newest is not None and (targets.retention is not None or targets.immutable)
        keeping = self._keeping(table, newest) if needs_bucket and newest is not None else None
        results = _judged(targets, exports, drills, keeping, account, self.now)
        return TableControls(table.key, table.alias, table.region, account, results)

    def _account(self, alias: str | None) -> str | None:
        if alias not in self.accounts:
            try:
                self.accounts[alias] = self.sources.core.aws.account_id(alias)
            except (BotError, ClientError, BotoCoreError) as exc:
                logger.warning("controls.account_unknown", extra={"account": alias, "error": type(exc).__name__})
                self.accounts[alias] = None
        return self.accounts[alias]

    def _arn(self, table: TableCoverage) -> str | None:
        account = self._account(table.alias)
        name = table.key.split(":", 1)[-1]
        return f"arn:aws:dynamodb:{table.region}:{account}:table/{name}" if account else None

    def _exports(self, table: TableCoverage) -> list[CatalogEntry]:
        """The table's newest completed export in each bucket owner, newest first: the bot's records and those the
        catalogue found (the bot's record wins for the same export)."""
        arn = self.arns.get((table.key, table.region))
        found = {e.export_id: e for e in self.catalogued.get(arn, [])} if arn else {}
        for job in self.own.get((table.key, table.region), []):
            found[job.export_id] = _timed(entry_of_job(job), job)
        usable = [e for e in found.values() if e.usable and e.export_id not in self.partial]
        return sorted(usable, key=lambda e: e.as_of or datetime.min, reverse=True)

    def _keeping(self, table: TableCoverage, newest: CatalogEntry) -> Keeping:
        prefix = newest.prefix or ""
        key = (table.alias, newest.bucket, prefix, newest.bucket_owner)
        if key not in self.buckets:
            s3 = self.sources.core.aws.s3(Place(table.alias, table.region))
            self.buckets[key] = self.sources.read_keeping(s3, newest.bucket, prefix, owner=newest.bucket_owner)
        return self.buckets[key]


def _judged(
    targets: ControlTargets,
    exports: Sequence[CatalogEntry],
    drills: Sequence[Drill],
    keeping: Keeping | None,
    account: str | None,
    now: datetime,
) -> tuple[ControlResult, ...]:
    """Each control, in the order they are listed."""
    newest = exports[0] if exports else None
    return (
        checks.backup_frequency(targets.backup_every, exports, now),
        checks.retention(targets.retention, newest, keeping),
        checks.immutability(targets.immutable, newest, keeping),
        checks.cross_account_copy(targets.cross_account, exports, account),
        checks.restore_proven(targets.restore_proven, targets.rto, drills, now),
    )


def _timed(entry: CatalogEntry, job: ExportJob) -> CatalogEntry:
    """A full export's moment, when DynamoDB's answer gave none: the record's start, as the coverage survey reads it
    (DynamoDB always gives ExportTime; a record made before the export was described has only its own times)."""
    if entry.export_type != ExportType.FULL or entry.export_time is not None:
        return entry
    return replace(entry, export_time=job.started_at or job.created_at)


class ControlsBoard:
    """The controls of the latest coverage survey, judged once per survey: the survey is cached for minutes and the
    Home tabs and `/ddb-coverage` ask again and again, so they share one reading of the same survey."""

    def __init__(self, sources: ControlSources) -> None:
        self.sources = sources
        self._last: tuple[CoverageReport, ControlsReport] | None = None
        self._lock = threading.Lock()

    def of(self, coverage: CoverageReport) -> ControlsReport:
        """The controls of the tables of `coverage` (read again only for another survey)."""
        with self._lock:
            if self._last is not None and self._last[0] is coverage:
                return self._last[1]
        report = controls_of(self.sources, coverage)
        with self._lock:
            self._last = (coverage, report)
        return report
