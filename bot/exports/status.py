"""Export status: what the bot started merged with DynamoDB's ListExports, and refreshing one export."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import replace
from typing import Any

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.aws.tables import TABLE_ARN, TableRef
from bot.core import Core
from bot.errors import NotFound
from bot.metrics import EXPORT_SECONDS, EXPORTS_FINISHED, table_label
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType, export_id_of

logger = logging.getLogger(__name__)
EXPORT_ID = re.compile(r"^\d{14}-[0-9a-f]{8}$")
EXPORT_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):dynamodb:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):table/.+/export/.+$"
)
MAX_LISTED = 25
MAX_DESCRIBED = 10


def looks_like_export(text: str) -> bool:
    """An export id (`01768385930622-efd1a093`) or export ARN rather than a table."""
    return bool(EXPORT_ID.match(text) or EXPORT_ARN.match(text))


def recent_exports(core: Core, limit: int = 15) -> list[ExportJob]:
    """The newest exports the bot knows of, all tables."""
    return core.store.recent_exports(limit=limit)


def table_exports(core: Core, table_text: str) -> tuple[TableRef, list[ExportJob]]:
    """One table's exports: the bot's records merged with ListExports (90 days), newest first."""
    ref, place = core.table(table_text)
    client = core.aws.dynamodb(place)
    info = core.table_info(ref, place)
    known = {job.export_arn: job for job in core.store.recent_exports(ref.key, limit=MAX_LISTED)}
    try:
        summaries = client.list_exports(TableArn=info.arn, MaxResults=MAX_LISTED).get("ExportSummaries", [])
    except Exception as exc:
        raise translate(exc, "dynamodb:ListExports", f"Table `{ref.display}`") from exc
    unknown = [s["ExportArn"] for s in summaries if s["ExportArn"] not in known]
    for arn in sorted(unknown, key=export_id_of, reverse=True)[:MAX_DESCRIBED]:
        known[arn] = _foreign_job(describe_export(core, place, arn), ref, place)
    jobs = sorted(known.values(), key=_newest_key, reverse=True)
    return ref, jobs[:MAX_LISTED]


def export_detail(core: Core, text: str) -> ExportJob:
    """One export by id or ARN, refreshed from DynamoDB when it is still running or not ours."""
    job = core.store.find_export(text)
    if job is not None:
        return refresh_export(core, job) if not job.finished else job
    arn = EXPORT_ARN.match(text)
    if not arn:
        raise NotFound(
            f"I have no record of export `{text}`.",
            "Give its full ARN (from the AWS console or `/ddb-status <table>`), or list a table's exports "
            "with `/ddb-status <table>`.",
        )
    where = TableRef("unknown", region=arn["region"], account_id=arn["account"], partition=arn["partition"])
    place = core.aws.place_of(where, what=f"Export `{export_id_of(text)}`")
    description = describe_export(core, place, text)
    table = TABLE_ARN.match(str(description.get("TableArn", "")))
    ref = TableRef(table["name"], region=arn["region"], account_id=arn["account"]) if table else TableRef("unknown")
    return _foreign_job(description, ref, place)


def describe_export(core: Core, place: Place, export_arn: str) -> dict[str, Any]:
    """DescribeExport, translated."""
    try:
        description: dict[str, Any] = dict(
            core.aws.dynamodb(place).describe_export(ExportArn=export_arn)["ExportDescription"]
        )
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeExport", f"Export `{export_id_of(export_arn)}`") from exc
    return description


def refresh_exports(core: Core, jobs: list[ExportJob]) -> tuple[int, int]:
    """Refresh many running exports cheaply: a ListExports page per 25 exports of a table gives their
    statuses, and only those that changed (or were not listed) cost a DescribeExport. Returns (finished, errors)."""
    groups: dict[tuple[str | None, str, str], list[ExportJob]] = defaultdict(list)
    for job in jobs:
        groups[(job.account_alias, job.region, job.table_arn)].append(job)
    finished = errors = 0
    for (alias, region, table_arn), group in groups.items():
        statuses = _listed_statuses(core, Place(alias, region), table_arn, {j.export_arn for j in group})
        for job in group:
            if statuses.get(job.export_arn) == ExportStatus.IN_PROGRESS:
                continue
            try:
                finished += refresh_export(core, job).finished
            except Exception:
                errors += 1
                logger.exception("export.refresh_failed", extra={"export_id": job.export_id})
    return finished, errors


def _listed_statuses(core: Core, place: Place, table_arn: str, wanted: set[str]) -> dict[str, str]:
    """ExportStatus by ARN from ListExports, stopping once every wanted export was seen; {} on failure."""
    found: dict[str, str] = {}
    if not table_arn:
        return found
    request: dict[str, Any] = {"TableArn": table_arn, "MaxResults": MAX_LISTED}
    try:  # one account's failure (its alias gone from the config, its role refused) is its exports' alone
        client = core.aws.dynamodb(place)
        for _ in range(len(wanted) // MAX_LISTED + 3):
            page = client.list_exports(**request)
            found.update({s["ExportArn"]: s.get("ExportStatus", "") for s in page.get("ExportSummaries", [])})
            if wanted <= found.keys() or not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except Exception:
        logger.warning("export.list_failed", extra={"table_arn": table_arn})
    return found


def refresh_export(core: Core, job: ExportJob) -> ExportJob:
    """Ask DynamoDB how a running export is doing and record it; finishing happens exactly once."""
    place = Place(job.account_alias, job.region)
    description = describe_export(core, place, job.export_arn)
    result = result_fields(description)
    if result["export_time"] is None:  # AWS always says; a description without it never erases the time asked for
        del result["export_time"]
    status = result["status"]
    if status in {ExportStatus.COMPLETED, ExportStatus.FAILED}:
        if core.store.finish_export(job.export_arn, **result):
            finished = replace(job, **result)
            count_finished(finished)
            return finished
        return core.store.get_export(job.export_arn) or replace(job, **result)  # another poller finished it
    progress = {k: v for k, v in result.items() if k != "status" and v is not None}
    if progress:
        core.store.update_export(job.export_arn, **progress)
    return replace(job, **progress)


def count_finished(job: ExportJob) -> None:
    """Each export is counted once: by the poller whose compare-and-set finished it, or at start when DynamoDB
    answered with a finished export."""
    EXPORTS_FINISHED.labels(table_label(job.table_key), job.export_type, job.status).inc()
    if job.duration_seconds is not None:
        EXPORT_SECONDS.labels(job.export_type).observe(job.duration_seconds)


def result_fields(description: dict[str, Any]) -> dict[str, Any]:
    """The fields of an ExportDescription that change as the export runs."""
    return {
        "status": description.get("ExportStatus", ExportStatus.IN_PROGRESS),
        "started_at": description.get("StartTime"),
        "ended_at": description.get("EndTime"),
        "item_count": description.get("ItemCount"),
        "billed_size_bytes": description.get("BilledSizeBytes"),
        "failure_code": description.get("FailureCode"),
        "failure_message": description.get("FailureMessage"),
        "manifest_key": description.get("ExportManifest"),
        "export_time": description.get("ExportTime"),
    }


def _foreign_job(description: dict[str, Any], ref: TableRef, place: Place) -> ExportJob:
    """An export the bot did not start, shaped like one it did (requested_by is empty)."""
    arn = description["ExportArn"]
    result = result_fields(description)
    return ExportJob(
        export_arn=arn,
        export_id=export_id_of(arn),
        table_key=ref.key,
        table_name=ref.name,
        table_arn=str(description.get("TableArn", "")),
        region=place.region,
        account_alias=place.alias,
        export_type=ExportType(description.get("ExportType") or ExportType.FULL),
        export_format=ExportFormat(description.get("ExportFormat") or ExportFormat.DYNAMODB_JSON),
        bucket=str(description.get("S3Bucket", "")),
        bucket_owner=description.get("S3BucketOwner"),
        s3_prefix=str(description.get("S3Prefix") or ""),
        kms_key=description.get("S3SseKmsKeyId"),
        requested_by="",
        **result,
    )


def _newest_key(job: ExportJob) -> str:
    moment = job.started_at or job.created_at
    return moment.isoformat() if moment else job.export_id
