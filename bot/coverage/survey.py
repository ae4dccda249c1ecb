"""The survey behind `/ddb-coverage`: every table of the bot's own account and of each aliased account, each
read with bounded concurrency (DescribeTable, DescribeContinuousBackups, ListExports), cached for a while.

A place (account and region) that cannot be listed is reported with the reason, never silently left out. The
last export of a table is the newer of the bot's own record and ListExports, which also sees exports started
outside the bot; ListExports has no export time, so it is read from the export id, whose first part is the
export's start in milliseconds since the epoch (as in every export ARN DynamoDB issues).

A table is one name in one account and one region: its schedules and its exports are matched on all three, so a
same-named table elsewhere lends it neither. Only a running export schedule is export coverage; a paused one or a
drill schedule is named in the row instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.aws.tables import TableRef
from bot.core import Core
from bot.coverage.models import Cover, CoverageReport, ScheduledPlace, TableCoverage, Unreadable, schedule_cover
from bot.drills.models import DRILL_MAX_AGE, Drill, drill_flag
from bot.errors import BotError
from bot.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)
WORKERS = 32  # concurrent calls: 5,000 tables in about 15 s at 30 ms a call, far below the control plane's 2,500/s
ALL = "all"
OWN = "this account"


@dataclass(frozen=True)
class Listed:
    """A table found in a place."""

    name: str
    place: Place


class CoverageSurvey:
    """Reads coverage; a repeated question within `cache_seconds` is answered from the last survey."""

    def __init__(
        self,
        core: Core,
        schedules: Callable[[], list[ScheduledPlace]],
        *,
        cache_seconds: float = 300.0,
        stale_after: timedelta = timedelta(days=7),
        last_drill: Callable[[str], Drill | None] = lambda _table_key: None,
        drill_max_age: timedelta = DRILL_MAX_AGE,
    ) -> None:
        self.drill_max_age = drill_max_age
        self.core = core
        self.schedules = schedules  # every schedule, resolved to the place and table it acts on
        self.last_drill = last_drill
        self.cache_seconds = cache_seconds
        self.stale_after = stale_after
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

    def unprotected(self) -> frozenset[str]:
        """Every table without PITR in the bot's account and every aliased one (for the digest)."""
        return frozenset(t.key for t in self.report().tables if t.pitr_enabled is False)

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
            scheduled = self.schedules()
            known = self._recorded_exports(listed)
            tables = list(pool.map(lambda t: self._read(t, scheduled, known, protected.get(t.place)), listed))
        return CoverageReport(
            at=self.core.clock(),
            tables=tuple(tables),
            unreadable=tuple(unreadable),
            stale_after=self.stale_after,
            places=len(places),
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
        except Exception as exc:  # AWS Backup is optional: say it was not checked, survey the tables anyway
            logger.info(
                "coverage.backup_unchecked",
                extra={"account": place.alias or OWN, "region": place.region, "error": str(exc)},
            )
            code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else type(exc).__name__
            return Unreadable(
                place.alias or OWN,
                place.region,
                f"not checked: backup:ListProtectedResources answered {code or 'an error'}.",
                "To count the tables AWS Backup protects, allow the bot's role backup:ListProtectedResources "
                "(statement AwsBackupCoverage in deploy/iam-policy.json).",
                what="AWS Backup",
            )

    def _read(
        self,
        table: Listed,
        scheduled: list[ScheduledPlace],
        known: Mapping[tuple[str, Place], ExportJob],
        protected: set[str] | None,
    ) -> TableCoverage:
        key = _key(table)
        cover = schedule_cover(scheduled, table.place.alias, table.place.region, table.name)
        note = None if cover in (None, Cover.EXPORTS) else str(cover)
        try:
            info, window = self.core.describe(TableRef(table.name, alias=table.place.alias), table.place)
            exported = _newest([_job_time(known.get((key, table.place))), self._listed_export(table.place, info.arn)])
        except BotError as error:
            return TableCoverage(
                key,
                table.place.alias,
                table.place.region,
                None,
                None,
                None,
                None,
                cover == Cover.EXPORTS,
                problem=error.message,
                schedule_note=note,
            )
        return TableCoverage(
            key=key,
            alias=table.place.alias,
            region=table.place.region,
            pitr_enabled=window.enabled,
            recovery_days=window.recovery_days,
            deletion_protection=bool(info.snapshot.get("DeletionProtectionEnabled", False)),
            last_export=exported,
            scheduled=cover == Cover.EXPORTS,
            schedule_note=note,
            in_default_region=self._in_default_region(table.place),
            backup_protected=None if protected is None else info.arn in protected,
            drill_issue=drill_flag(self.last_drill(key), self.core.clock(), self.drill_max_age),
        )

    def _listed_export(self, place: Place, table_arn: str) -> datetime | None:
        """The start of the newest COMPLETED export ListExports knows of (also those the bot did not start)."""
        client = self.core.aws.dynamodb(place)
        newest: datetime | None = None
        token: str | None = None
        try:
            while True:
                page = (
                    client.list_exports(TableArn=table_arn, NextToken=token)
                    if token
                    else client.list_exports(TableArn=table_arn)
                )
                for summary in page.get("ExportSummaries", []):
                    if summary.get("ExportStatus") == ExportStatus.COMPLETED:
                        newest = _newest([newest, export_started(summary["ExportArn"])])
                token = page.get("NextToken")
                if not token:
                    return newest
        except Exception as exc:
            raise translate(exc, "dynamodb:ListExports", f"Exports of `{table_arn}`") from exc


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
