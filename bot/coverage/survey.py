"""The survey behind `/ddb-coverage`: every table of the bot's own account and of each aliased account, each
read with bounded concurrency (DescribeTable, DescribeContinuousBackups, over lean HTTP: bot/coverage/reads.py),
cached for a while. What every row needs besides its own reads (schedules, recorded exports, each table's newest
drill) is asked once a survey, while the tables are read.

A place (account and region) that cannot be listed is reported with the reason, never silently left out, and a table
that cannot be read is listed with why; neither holds back the other places or tables (one result per target). The
last export of a table is the newer of the bot's own record and ListExports, which also sees exports started
outside the bot; ListExports has no export time, so it is read from the export id, whose first part is the
export's start in milliseconds since the epoch (as in every export ARN DynamoDB issues). ListExports is asked once
per place, without TableArn (every export of the account and region, 25 a page), while the tables are read, and its
answer is grouped by table ARN: two calls a table instead of three, and a place whose exports cannot be listed has
each of its tables named with why, as a failed per-table listing did. The pages of one place follow each other (a
place holding 90 days of nightly exports of 1,000 tables pages 3,600 times, about 2 minutes at 30 ms a call: fewer
calls than per table, but longer than its table reads).

A table is one name in one account and one region: its schedules and its exports are matched on all three, so a
same-named table elsewhere lends it neither. Only a running export schedule is export coverage; a paused one or a
drill schedule is named in the row instead.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError, EndpointConnectionError

from bot.aws.accounts import TRUSTED_PARAMETERS, Place
from bot.aws.errors import ACCESS_DENIED, error_code, translate
from bot.aws.table_info import PitrWindow, TableInfo
from bot.aws.tables import TableRef
from bot.core import Core
from bot.coverage.models import Cover, CoverageReport, ScheduledPlace, TableCoverage, Unreadable, schedule_cover
from bot.coverage.reads import LeanReads
from bot.drills.models import DRILL_MAX_AGE, Drill, drill_flag
from bot.errors import BotError
from bot.metrics import TABLE_PITR, table_label
from bot.models import ExportJob, ExportStatus, PitrSurvey

logger = logging.getLogger(__name__)
# AWS Backup's answers when it is not offered or not set up where it was asked (not a missing permission)
BACKUP_ABSENT = {"404", "NotFound", "ResourceNotFoundException", "UnknownOperationException", "InvalidAction"}
WORKERS = 32  # concurrent calls: 5,000 tables (2 calls each) in about 10 s at 30 ms a call, far below 2,500/s
ALL = "all"
OWN = "this account"


@dataclass(frozen=True)
class Listed:
    """A table found in a place."""

    name: str
    place: Place


@dataclass(frozen=True)
class _Context:
    """What one survey asked once and every row of it uses (see `CoverageSurvey._context`)."""

    now: datetime
    schedules: Mapping[tuple[str | None, str], list[ScheduledPlace]]  # by (alias, region)
    recorded: Mapping[tuple[str, Place], ExportJob]  # the bot's newest completed export of each table
    drills: Mapping[str, Drill]  # each table's newest drill, by table key
    default_region: Mapping[Place, bool]


class CoverageSurvey:
    """Reads coverage; a repeated question within `cache_seconds` is answered from the last survey."""

    def __init__(
        self,
        core: Core,
        schedules: Callable[[], list[ScheduledPlace]],
        *,
        cache_seconds: float = 300.0,
        stale_after: timedelta = timedelta(days=7),
        last_drills: Callable[[], Mapping[str, Drill]] = dict,
        drill_max_age: timedelta = DRILL_MAX_AGE,
        not_backups: Callable[[], set[str]] = set,
    ) -> None:
        """`not_backups` gives the ARNs of exports that hold part of a table only (a recovery's filtered and
        incremental exports): ListExports cannot tell them apart, and they must never count as a table's backup.
        `last_drills` gives each table's newest restore drill by table key, asked once a survey."""
        self.not_backups = not_backups
        self.drill_max_age = drill_max_age
        self.core = core
        self.schedules = schedules  # every schedule, resolved to the place and table it acts on
        self.last_drills = last_drills
        self.cache_seconds = cache_seconds
        self.stale_after = stale_after
        self.reads = LeanReads(core.aws)  # each table's two reads without botocore's CPU per call
        self._cache: dict[tuple[str, str | None], tuple[float, CoverageReport]] = {}
        self._lock = threading.Lock()

    def report(self, scope: str = ALL, region: str | None = None) -> CoverageReport:
        """Coverage of `scope` (an alias, or `all`: the bot's own account and every alias) in `region`."""
        key = (scope, region)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1]
        report = self._survey(self._places(scope, region))
        with self._lock:
            self._cache[key] = (time.monotonic(), report)
        return report

    def unprotected(self) -> PitrSurvey:
        """Every table without PITR in the bot's account and every aliased one, those with it, and what could not be
        read (for the digest)."""
        report = self.report()
        not_read = [f"`{t.key}`" for t in report.tables if t.problem is not None]
        not_read += [f"`{u.account}` {u.region}" for u in report.unreadable if u.what == "tables"]
        return PitrSurvey(
            without=frozenset(t.key for t in report.tables if t.pitr_enabled is False),
            with_pitr=frozenset(t.key for t in report.tables if t.pitr_enabled is True),
            not_read=tuple(not_read),
        )

    def forget(self) -> None:
        """Drop cached surveys (after a change the next answer must show, such as PITR turned on)."""
        with self._lock:
            self._cache.clear()

    def _places(self, scope: str, region: str | None) -> list[Place]:
        """The bot's own account (for `all`) in its region, and each alias in each of its `regions`."""
        aliases = sorted(self.core.aws.aliases) if scope == ALL else [scope]
        own = [self.core.aws.place_of(TableRef("-", region=region))] if scope == ALL else []
        return own + [
            Place(alias, where)
            for alias in aliases
            for where in ([region] if region else self.core.aws.regions_of(alias))
        ]

    def _in_default_region(self, place: Place) -> bool:
        return self.core.aws.place_of(TableRef("-", alias=place.alias)).region == place.region

    def _survey(self, places: list[Place]) -> CoverageReport:
        listed: list[Listed] = []
        unreadable: list[Unreadable] = []
        protected: dict[Place, set[str]] = {}
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for place, found in zip(places, pool.map(self._list, places), strict=True):
                if isinstance(found, Unreadable):
                    unreadable.append(found)
                else:
                    listed.extend(Listed(name, place) for name in found)
            readable = [
                p for p in places if not any(u.account == (p.alias or OWN) and u.region == p.region for u in unreadable)
            ]
            for place, arns in zip(readable, pool.map(self._protected, readable), strict=True):
                if isinstance(arns, Unreadable):
                    unreadable.append(arns)
                else:
                    protected[place] = arns
            exports = {place: pool.submit(self._exports_of, place) for place in readable}  # queued before the reads
            reads = pool.map(self._describe, listed)
            context = self._context(listed, places)  # the store's answers, while the tables are read
            tables = [
                self._coverage(t, r, context, protected.get(t.place), exports[t.place].result())
                for t, r in zip(listed, reads, strict=True)
            ]
        return CoverageReport(
            at=self.core.clock(),
            tables=tuple(tables),
            unreadable=tuple(unreadable),
            stale_after=self.stale_after,
            places=len(places),
        )

    def _context(self, listed: list[Listed], places: list[Place]) -> _Context:
        """What every row needs besides its own reads, each asked once a survey: the schedules (grouped by place),
        the exports the bot recorded, the newest drills, and whether a place is its account's default region."""
        by_place: dict[tuple[str | None, str], list[ScheduledPlace]] = {}
        for schedule in self.schedules():
            by_place.setdefault((schedule.alias, schedule.region), []).append(schedule)
        return _Context(
            now=self.core.clock(),
            schedules=by_place,
            recorded=self._recorded_exports(listed),
            drills=self.last_drills(),
            default_region={place: self._in_default_region(place) for place in places},
        )

    def _recorded_exports(self, listed: list[Listed]) -> dict[tuple[str, Place], ExportJob]:
        """The newest completed export the bot recorded of each table, in that table's own region."""
        known: dict[tuple[str, Place], ExportJob] = {}
        for place in dict.fromkeys(t.place for t in listed):
            jobs = self.core.store.last_completed((_key(t) for t in listed if t.place == place), region=place.region)
            known.update({(key, place): job for key, job in jobs.items()})
        return known

    def _list(self, place: Place) -> list[str] | Unreadable:
        label = f"account `{place.alias}`" if place.alias else "this account"
        try:
            client = self.core.aws.dynamodb(place)
            return [n for page in client.get_paginator("list_tables").paginate() for n in page["TableNames"]]
        except Exception as exc:  # any failure of one place is reported, the others are still surveyed
            error = translate(exc, "dynamodb:ListTables", f"Tables of {label} ({place.region})")
            logger.warning(
                "coverage.tables_unlisted",
                extra={"account": place.alias or OWN, "region": place.region, "error": str(exc)},
            )
            return Unreadable(place.alias or OWN, place.region, error.message, error.fix)

    def _protected(self, place: Place) -> set[str] | Unreadable:
        """The ARNs of the DynamoDB tables AWS Backup protects in that place (backup:ListProtectedResources)."""
        try:
            client = self.core.aws.client(place, "backup")
            pages = client.get_paginator("list_protected_resources").paginate()
            return {
                r["ResourceArn"]
                for page in pages
                for r in page.get("Results", [])
                if r.get("ResourceType") == "DynamoDB"
            }
        except Exception as exc:  # AWS Backup is optional: say why it was not counted, survey the tables anyway
            logger.info(
                "coverage.backup_not_checked",
                extra={"account": place.alias or OWN, "region": place.region, "error": type(exc).__name__},
            )
            return _backup_unreadable(place, exc)

    def _describe(self, table: Listed) -> tuple[TableInfo, PitrWindow] | str:
        """DescribeTable and DescribeContinuousBackups of one table, or why it could not be read."""
        ref = TableRef(table.name, alias=table.place.alias)
        try:
            read = self.reads.describe(ref, table.place)
            if read is None:  # anything but a plain success: botocore asks again, retries and words it
                return self.core.describe(ref, table.place, TRUSTED_PARAMETERS)
            TABLE_PITR.labels(table_label(ref.key)).set(1 if read[1].enabled else 0)  # as Core.describe keeps it
            return read
        except BotError as error:
            return error.message
        except Exception:  # one table's unexpected answer is that table's problem, never the whole survey's
            reference = uuid.uuid4().hex[:8]
            logger.exception("coverage.table_unread", extra={"table": _key(table), "region": table.place.region})
            return f"something went wrong reading it (reference {reference})"

    def _coverage(
        self,
        table: Listed,
        read: tuple[TableInfo, PitrWindow] | str,
        context: _Context,
        protected: set[str] | None,
        exports: Mapping[str, datetime] | BotError,
    ) -> TableCoverage:
        """One table's row from what was read of it and of its place (exports listed there, AWS Backup)."""
        key = _key(table)
        where = (table.place.alias, table.place.region)
        cover = schedule_cover(context.schedules.get(where, []), *where, table.name)
        if isinstance(read, str):
            return _unread(table, cover, read)
        if isinstance(exports, BotError):
            return _unread(table, cover, exports.message)
        info, window = read
        return TableCoverage(
            key=key,
            alias=table.place.alias,
            region=table.place.region,
            pitr_enabled=window.enabled,
            recovery_days=window.recovery_days,
            deletion_protection=bool(info.snapshot.get("DeletionProtectionEnabled", False)),
            last_export=_newest([_job_time(context.recorded.get((key, table.place))), exports.get(info.arn)]),
            scheduled=cover == Cover.EXPORTS,
            schedule_note=_schedule_note(cover),
            in_default_region=context.default_region[table.place],
            backup_protected=None if protected is None else info.arn in protected,
            drill_issue=drill_flag(context.drills.get(key), context.now, self.drill_max_age),
        )

    def _exports_of(self, place: Place) -> dict[str, datetime] | BotError:
        """The start of the newest COMPLETED export of each table of the place that ListExports knows of (also those
        the bot did not start), by table ARN: one listing of the whole account and region (TableArn is optional)."""
        newest: dict[str, datetime] = {}
        partial = self.not_backups()  # a recovery's partition or window exports are no table's backup
        try:
            client = self.core.aws.dynamodb(place)
            token: str | None = None
            while True:
                page = client.list_exports(MaxResults=25, **({"NextToken": token} if token else {}))
                for summary in page.get("ExportSummaries", []):
                    started = export_started(summary["ExportArn"])
                    if (
                        summary.get("ExportStatus") == ExportStatus.COMPLETED
                        and started is not None
                        and summary["ExportArn"] not in partial
                    ):
                        table_arn = summary["ExportArn"].split("/export/", 1)[0]
                        newest[table_arn] = max(started, newest.get(table_arn, started))
                token = page.get("NextToken")
                if not token:
                    return newest
        except Exception as exc:  # that place's tables say why; the other places are still surveyed
            label = f"account `{place.alias}`" if place.alias else "this account"
            logger.warning("coverage.exports_unlisted", extra={"account": place.alias or OWN, "region": place.region})
            return translate(exc, "dynamodb:ListExports", f"Exports of {label} ({place.region})")


def _unread(table: Listed, cover: Cover | None, problem: str) -> TableCoverage:
    """A table listed but not read: named with why (and with what its schedules do)."""
    return TableCoverage(
        _key(table),
        table.place.alias,
        table.place.region,
        None,
        None,
        None,
        None,
        cover == Cover.EXPORTS,
        problem=problem,
        schedule_note=_schedule_note(cover),
    )


def _schedule_note(cover: Cover | None) -> str | None:
    """What a table's schedules do when they do not export it (paused, drills only); None otherwise."""
    return None if cover in (None, Cover.EXPORTS) else str(cover)


def export_started(export_arn: str) -> datetime | None:
    """The start time encoded in an export id (`…/export/01768385930622-efd1a093`: milliseconds since the epoch)."""
    digits = export_arn.rsplit("/", 1)[-1].split("-", 1)[0]
    if not digits.isdigit() or len(digits) > 15:
        return None
    return datetime.fromtimestamp(int(digits) / 1000, tz=UTC)


def _job_time(job: ExportJob | None) -> datetime | None:
    return (job.export_time or job.started_at or job.created_at) if job is not None else None


def _newest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def _key(table: Listed) -> str:
    return TableRef(table.name, alias=table.place.alias).key


def _backup_unreadable(place: Place, exc: Exception) -> Unreadable:
    """Why AWS Backup's protected tables were not counted there, as what to do: nothing when AWS Backup is not
    available or not used in that region, the permission when it was refused, the code otherwise."""
    code = error_code(exc) if isinstance(exc, ClientError) else ""
    where = (place.alias or OWN, place.region)
    if code in BACKUP_ABSENT or isinstance(exc, EndpointConnectionError):
        return Unreadable(
            *where,
            f"AWS Backup is not available or not used in {place.region}: no table there is counted as protected by it.",
            None,
            what="AWS Backup",
        )
    if code in ACCESS_DENIED:
        return Unreadable(
            *where,
            "not checked: the bot's role may not list what AWS Backup protects.",
            "To count the tables AWS Backup protects, allow the bot's role backup:ListProtectedResources "
            "(statement AwsBackupCoverage in deploy/iam-policy.json).",
            what="AWS Backup",
        )
    said = code or type(exc).__name__
    return Unreadable(*where, f"not checked: AWS Backup answered {said}.", "Try again later.", what="AWS Backup")
