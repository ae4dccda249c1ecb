"""The exports a recovery starts: a FILTERED full export of one key at a time (`/ddb-item`, `/ddb-recover`), or the
incremental exports of a window (`/ddb-revert`), and following them with DescribeExport.

These are not backups: a partition's export must never be mistaken for a table's, so they are kept in the recovery's
own record (never in the bot's export catalogue, which restores and coverage read) and written under their own
`<prefix>/recovery/<table>/` folder. The filter is a KeyConditionExpression on the key (the only part that reduces
what DynamoDB reads); ProjectionExpression is never used, so the items come whole. Every call carries a ClientToken
derived from the preparation, so starting again after a crash finds the same export instead of a second one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code, error_message, translate
from bot.aws.table_info import TableInfo
from bot.core import Core
from bot.errors import BotError, UsageError
from bot.exports.start import Destination as ExportDestination
from bot.exports.start import ExportOptions, export_error, resolve_destination
from bot.models import (
    MAX_INCREMENTAL_WINDOW,
    MIN_INCREMENTAL_WINDOW,
    ExportFormat,
    ExportLocation,
    ExportType,
    export_id_of,
)
from bot.recovery.keys import ItemKey
from bot.recovery.where import FilterExpression
from bot.timefmt import iso, stamp

DONE, FAILED, RUNNING = "COMPLETED", "FAILED", "IN_PROGRESS"


@dataclass(frozen=True)
class RecoveryExport:
    """One export a recovery started, as it stood when last described."""

    arn: str
    bucket: str
    prefix: str
    owner: str | None
    export_type: str
    export_time: datetime | None = None
    window_from: datetime | None = None
    window_to: datetime | None = None
    status: str = RUNNING
    billed_bytes: int | None = None
    item_count: int | None = None
    failure: str | None = None

    @property
    def export_id(self) -> str:
        """The ExportId (the ARN's last part)."""
        return export_id_of(self.arn)

    @property
    def location(self) -> ExportLocation:
        """Where its files are."""
        return ExportLocation(self.bucket, self.prefix, self.export_id, self.owner)

    def as_dict(self) -> dict[str, Any]:
        """For the preparation's record."""
        data = asdict(self)
        for name in ("export_time", "window_from", "window_to"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecoveryExport:
        """Rebuild from the record."""
        values = dict(data)
        for name in ("export_time", "window_from", "window_to"):
            values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
        return cls(**values)


@dataclass(frozen=True)
class Destination:
    """Where a recovery's exports go: the table's export bucket, under `<prefix>/recovery/<table>/<time>-<id>`."""

    bucket: str
    owner: str | None
    folder: str


def destination(core: Core, info: TableInfo, preparation_id: str, moment: datetime) -> Destination:
    """The bucket the table's exports go to (the config's, then DDBBOT_EXPORT_*), a folder of this preparation's."""
    found = resolve_destination(core, info.ref.key, ExportOptions())
    parts = (found.prefix, "recovery", info.name, f"{stamp(moment)}-{preparation_id}")
    return Destination(found.bucket, found.owner, "/".join(p for p in parts if p))


def start_filtered_export(
    core: Core, info: TableInfo, where: Destination, key: ItemKey, at: datetime, token: str
) -> RecoveryExport:
    """A full export of the table at `at`, filtered to the key (an item, or a whole partition)."""
    request = _request(info, where, token, ExportType.FULL)
    request["ExportTime"] = at
    request["FilterSpecification"] = key.key_condition()
    started = _start(core, info, where, request)
    return replace(started, export_time=at)


def start_incremental_export(
    core: Core,
    info: TableInfo,
    where: Destination,
    window: tuple[datetime, datetime],
    token: str,
    filter_: FilterExpression | None = None,
) -> RecoveryExport:
    """An incremental export of [start, end) with both images (and `filter_` as its FilterExpression)."""
    request = _request(info, where, token, ExportType.INCREMENTAL)
    request["IncrementalExportSpecification"] = {
        "ExportFromTime": window[0],
        "ExportToTime": window[1],
        "ExportViewType": "NEW_AND_OLD_IMAGES",
    }
    if filter_ is not None:
        request["FilterSpecification"] = filter_.specification()
    started = _start(core, info, where, request)
    return replace(started, window_from=window[0], window_to=window[1])


def windows(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """[since, until) as consecutive incremental windows DynamoDB accepts (15 minutes to 24 hours each), as few and
    as equal as possible."""
    span = until - since
    if span < MIN_INCREMENTAL_WINDOW:
        raise UsageError(
            f"The window since={iso(since)} until={iso(until)} covers {span}; DynamoDB's incremental exports cover "
            "at least 15 minutes, and a wider export would also undo changes outside the window.",
            "Widen the window to at least 15 minutes (e.g. `since=-45m until=-30m`).",
        )
    count = -(-span // MAX_INCREMENTAL_WINDOW)  # ceiling division of timedeltas
    step = span / count
    edges = [since + step * n for n in range(count)] + [until]
    return [(edges[n], edges[n + 1]) for n in range(count)]


def refresh(core: Core, place: Place, export: RecoveryExport) -> RecoveryExport:
    """DescribeExport: the export as it stands now (unchanged once it finished)."""
    if export.status != RUNNING:
        return export
    try:
        described = core.aws.dynamodb(place).describe_export(ExportArn=export.arn)["ExportDescription"]
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeExport", f"Export `{export.export_id}`") from exc
    status = str(described.get("ExportStatus") or RUNNING)
    failure = None
    if status == FAILED:
        failure = str(described.get("FailureCode") or "") or "no reason given"
    return replace(
        export,
        status=status,
        billed_bytes=described.get("BilledSizeBytes"),
        item_count=described.get("ItemCount"),
        failure=failure,
    )


def _request(info: TableInfo, where: Destination, token: str, export_type: ExportType) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableArn": info.arn,
        "S3Bucket": where.bucket,
        "S3Prefix": where.folder,
        "ExportFormat": "DYNAMODB_JSON",
        "ExportType": export_type.value,
        "ClientToken": token,
    }
    if where.owner:
        request["S3BucketOwner"] = where.owner
    return request


def _start(core: Core, info: TableInfo, where: Destination, request: dict[str, Any]) -> RecoveryExport:
    try:
        described = core.aws.dynamodb(info.place).export_table_to_point_in_time(**request)["ExportDescription"]
    except ClientError as exc:
        raise _refused(core, exc, info, where) from exc
    except Exception as exc:
        raise translate(exc, "dynamodb:ExportTableToPointInTime", f"Table `{info.ref.display}`") from exc
    return RecoveryExport(
        arn=str(described["ExportArn"]),
        bucket=request["S3Bucket"],
        prefix=request["S3Prefix"],
        owner=request.get("S3BucketOwner"),
        export_type=request["ExportType"],
        status=str(described.get("ExportStatus") or RUNNING),
    )


def _refused(core: Core, exc: ClientError, info: TableInfo, where: Destination) -> BotError:
    """A filter DynamoDB refuses is said as such (its message names the problem); anything else as for any export."""
    if error_code(exc) == "ValidationException":
        return _filter_refused(exc)
    target = ExportDestination(where.bucket, where.owner, where.folder, ExportFormat.DYNAMODB_JSON)
    return export_error(core, exc, info, info.place, target, where.folder)


def _filter_refused(exc: ClientError) -> BotError:
    return UsageError(
        f"DynamoDB refused the export's filter: {error_message(exc)[:300]}. Nothing was started.",
        "Check `where=`: attribute names as the items have them, texts in quotes (`where=\"deploy = 'v2'\"`).",
    )
