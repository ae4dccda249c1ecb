"""Start a native Export to S3 after a pre-flight that refuses anything DynamoDB would refuse or bill twice."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import ACCESS_DENIED, error_code, translate
from bot.aws.names import BUCKET_EXAMPLE, BUCKET_RULE, is_account_id, is_bucket_name
from bot.aws.table_info import PitrWindow, TableInfo
from bot.background.fence import Step, no_step
from bot.core import Core
from bot.errors import BotError, PreconditionFailed, UsageError
from bot.exports.encryption import check_key_region, check_kms_key
from bot.exports.status import count_finished, refresh_export, result_fields
from bot.metrics import EXPORTS_STARTED, table_label
from bot.models import (
    MAX_INCREMENTAL_WINDOW,
    MIN_INCREMENTAL_WINDOW,
    ExportFormat,
    ExportJob,
    ExportStatus,
    ExportType,
    Requester,
    export_id_of,
)
from bot.money import dollars
from bot.pitr import PitrReport, pitr_status
from bot.timefmt import iso, stamp

FORMATS = {"dynamodb_json": ExportFormat.DYNAMODB_JSON, "ion": ExportFormat.ION}
DUPLICATE_LOOKBACK = timedelta(minutes=5)
POLICY_FILE = "deploy/cross-account-bucket-policy.json"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportOptions:
    """What the user (or a schedule) asked for; None means "use the default"."""

    bucket: str | None = None
    prefix: str | None = None
    owner: str | None = None
    export_format: ExportFormat | None = None
    at: datetime | None = None
    since: datetime | None = None
    until: datetime | None = None
    kms_key: str | None = None


@dataclass(frozen=True)
class Destination:
    """Resolved bucket, owner, base prefix, format and KMS key (None: the bucket's default encryption)."""

    bucket: str
    owner: str | None
    prefix: str
    export_format: ExportFormat
    kms_key: str | None = None


@dataclass(frozen=True)
class StartedExport:
    """The export and whether this request started it (False: an identical one is running or finished moments
    ago, and `job` says which and how it ended); `forced` when `force=true` started it beside such a one."""

    job: ExportJob
    new: bool
    forced: bool = False


def check_bucket(bucket: str) -> str:
    """Validate an S3 bucket name, saying how to write one."""
    if not is_bucket_name(bucket):
        raise UsageError(
            f"`bucket={bucket}` is not a valid S3 bucket name: {BUCKET_RULE}, e.g. `bucket={BUCKET_EXAMPLE}`."
        )
    return bucket


def check_owner(owner: str) -> str:
    """Validate a bucket owner account id."""
    if not is_account_id(owner):
        raise UsageError(
            f"`owner={owner}` must be the 12-digit AWS account id that owns the bucket, e.g. `owner=123456789012`."
        )
    return owner


def check_format(text: str) -> ExportFormat:
    """Map dynamodb_json|ion to DynamoDB's ExportFormat."""
    found = FORMATS.get(text.lower())
    if found is None:
        raise UsageError(
            f"`format={text}` is not an export format. Use `format=dynamodb_json` (default) or `format=ion`."
        )
    return found


def resolve_destination(core: Core, table_key: str, options: ExportOptions) -> Destination:
    """Command options first, then the table's config defaults, then DDBBOT_EXPORT_*."""
    table_defaults = core.config.defaults_for(table_key)
    if options.bucket:
        bucket, owner = options.bucket, options.owner
    elif table_defaults.bucket:
        bucket, owner = table_defaults.bucket, options.owner or table_defaults.owner
    elif core.defaults.bucket:
        bucket, owner = core.defaults.bucket, options.owner or core.defaults.owner
    else:
        raise PreconditionFailed(
            "No bucket to export to: the command has no `bucket=`, and the bot has no default bucket. "
            "Nothing was started.",
            "Add `bucket=` and the bucket's name to the command, or ask whoever runs the bot to set a default "
            "export bucket.",
        )
    prefix = options.prefix if options.prefix is not None else table_defaults.prefix or core.defaults.prefix
    fmt = options.export_format or (
        check_format(table_defaults.export_format) if table_defaults.export_format else ExportFormat.DYNAMODB_JSON
    )
    kms_key = options.kms_key or table_defaults.kms_key
    return Destination(
        check_bucket(bucket),
        check_owner(owner) if owner else None,
        prefix.strip("/"),
        fmt,
        check_kms_key(kms_key) if kms_key else None,
    )


def start_export(
    core: Core,
    table_text: str,
    options: ExportOptions,
    requester: Requester,
    *,
    client_token: str | None = None,
    schedule_id: str | None = None,
    folder_time: datetime | None = None,
    steps: Step = no_step,
    force: bool = False,
) -> StartedExport:
    """Pre-flight, then ExportTableToPointInTime with a ClientToken; stores and audits the export. `steps` is told
    "aws_called" once DynamoDB answered and "recorded" once the export is stored (claimed work's crash points).

    An identical export running or finished in the last few minutes is answered instead of starting another (it
    is refreshed from DynamoDB first, so the answer says how it really stands); one that failed does not stop a
    retry. `force` starts a fresh one anyway, with a ClientToken of its own."""
    ref, place = core.table(table_text)
    destination = resolve_destination(core, ref.key, options)
    info, window = core.describe(ref, place)
    if not window.enabled:
        raise _pitr_off(core, table_text)
    now = core.clock()
    plan = _plan_times(options, window, now)
    if destination.kms_key:
        check_key_region(core, place, destination.bucket, destination.owner, destination.kms_key)
    fingerprint = _fingerprint(info.arn, destination, plan)
    duplicate = None if client_token is not None else _recent_duplicate(core, fingerprint)
    if duplicate is not None and not force:
        return StartedExport(duplicate, new=False)
    folder = "/".join(p for p in (destination.prefix, info.name, stamp(folder_time or plan.folder_time or now)) if p)
    fresh = f"|{uuid.uuid4().hex}" if force else ""  # a new ClientToken: DynamoDB would answer the old export
    token = client_token or hashlib.sha256(f"{fingerprint}|{folder}{fresh}".encode()).hexdigest()[:32]
    request = _export_request(info, destination, plan, folder, token)
    audit = {
        "table": ref.key,
        "region": place.region,
        **{k: v for k, v in request.items() if k != "TableArn"},
        **({"force": True, "beside": duplicate.export_id if duplicate else None} if force else {}),
    }
    try:
        description = core.aws.dynamodb(place).export_table_to_point_in_time(**request)["ExportDescription"]
    except Exception as exc:
        error = export_error(core, exc, info, place, destination, folder)
        core.store.audit(requester.user_id, "export.start", ref.key, audit, f"error: {error}")
        raise error from exc
    steps("aws_called")
    job = _job(description, info, destination, plan, folder, token, fingerprint, requester, schedule_id)
    stored, new = core.store.record_export(job)
    steps("recorded")
    if new:
        EXPORTS_STARTED.labels(table_label(stored.table_key), stored.export_type).inc()
        if stored.finished:
            count_finished(stored)
    core.store.audit(
        requester.user_id,
        "export.start",
        ref.key,
        audit,
        f"started {stored.export_id}" if new else f"already running as {stored.export_id}",
    )
    return StartedExport(stored, new, forced=force and duplicate is not None)


def _recent_duplicate(core: Core, fingerprint: str) -> ExportJob | None:
    """An identical export running or recorded in the last minutes, as DynamoDB now sees it; a failed one is no
    reason not to try again."""
    duplicate = core.store.find_duplicate(fingerprint, DUPLICATE_LOOKBACK)
    if duplicate is not None and not duplicate.finished:
        try:
            duplicate = refresh_export(core, duplicate)
        except BotError:
            logger.warning("export.duplicate_not_refreshed", extra={"export_id": duplicate.export_id})
    if duplicate is None or duplicate.status == ExportStatus.FAILED:
        return None
    return duplicate


@dataclass(frozen=True)
class TimePlan:
    """The export's type and times after checking them against the PITR window."""

    export_type: ExportType
    export_time: datetime | None
    since: datetime | None
    until: datetime | None
    folder_time: datetime | None


def _plan_times(options: ExportOptions, window: PitrWindow, now: datetime) -> TimePlan:
    if options.since is None:
        if options.until is not None:
            raise UsageError("`until=` needs `since=`: an incremental export covers [since, until).")
        if options.at is not None and not window.contains(options.at):
            raise PreconditionFailed(
                f"`at={iso(options.at)}` is outside the table's PITR window "
                f"({iso(window.earliest)} to {iso(window.latest)}). Nothing was started.",
                "Pick a time inside that window, or leave `at=` out to export the latest state.",
            )
        return TimePlan(ExportType.FULL, options.at, None, None, options.at)
    if options.at is not None:
        raise UsageError("Give either `at=` (full export at a point in time) or `since=` (incremental), not both.")
    latest = window.latest or now
    until = options.until or min(options.since + MAX_INCREMENTAL_WINDOW, latest)
    span = until - options.since
    if span < MIN_INCREMENTAL_WINDOW or span > MAX_INCREMENTAL_WINDOW:
        raise UsageError(
            f"An incremental export must cover 15 minutes to 24 hours; since={iso(options.since)} "
            f"until={iso(until)} covers {span}. Adjust `since=`/`until=`."
        )
    for name, moment in (("since", options.since), ("until", until)):
        if not window.contains(moment):
            raise PreconditionFailed(
                f"`{name}={iso(moment)}` is outside the table's PITR window ({iso(window.earliest)} to "
                f"{iso(window.latest)}). Nothing was started.",
                "Both ends of an incremental export must lie inside the PITR window.",
            )
    return TimePlan(ExportType.INCREMENTAL, None, options.since, until, until)


def _fingerprint(table_arn: str, destination: Destination, plan: TimePlan) -> str:
    parts = [
        table_arn,
        destination.bucket,
        destination.owner,
        destination.prefix,
        destination.export_format,
        plan.export_type,
        iso(plan.export_time),
        iso(plan.since),
        iso(plan.until),
        *([destination.kms_key] if destination.kms_key else []),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _export_request(
    info: TableInfo, destination: Destination, plan: TimePlan, folder: str, token: str
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableArn": info.arn,
        "S3Bucket": destination.bucket,
        "S3Prefix": folder,
        "ExportFormat": destination.export_format,
        "ExportType": plan.export_type,
        "ClientToken": token,
    }
    if destination.owner:
        request["S3BucketOwner"] = destination.owner
    if destination.kms_key:
        request["S3SseAlgorithm"] = "KMS"
        request["S3SseKmsKeyId"] = destination.kms_key
    if plan.export_time:
        request["ExportTime"] = plan.export_time
    if plan.export_type == ExportType.INCREMENTAL:
        request["IncrementalExportSpecification"] = {
            "ExportFromTime": plan.since,
            "ExportToTime": plan.until,
            "ExportViewType": "NEW_AND_OLD_IMAGES",
        }
    return request


def _job(
    description: Any,
    info: TableInfo,
    destination: Destination,
    plan: TimePlan,
    folder: str,
    token: str,
    fingerprint: str,
    requester: Requester,
    schedule_id: str | None,
) -> ExportJob:
    arn = description["ExportArn"]
    result = {k: v for k, v in result_fields(description).items() if v is not None}
    result.setdefault("export_time", plan.export_time)
    return ExportJob(
        export_arn=arn,
        export_id=export_id_of(arn),
        table_key=info.ref.key,
        table_name=info.name,
        table_arn=info.arn,
        account_alias=info.place.alias,
        region=info.place.region,
        export_type=plan.export_type,
        export_format=destination.export_format,
        bucket=destination.bucket,
        bucket_owner=destination.owner,
        s3_prefix=folder,
        client_token=token,
        fingerprint=fingerprint,
        export_from=plan.since,
        export_to=plan.until,
        requested_by=requester.user_id,
        channel_id=requester.channel_id,
        response_url=requester.response_url,
        schedule_id=schedule_id,
        kms_key=destination.kms_key,
        table_snapshot=info.snapshot,
        **{"status": ExportStatus.IN_PROGRESS, **result},
    )


def _pitr_off(core: Core, table_text: str) -> BotError:
    report: PitrReport = pitr_status(core, table_text)
    return PreconditionFailed(
        f"Point-in-time recovery is off for `{report.table.ref.display}`, and DynamoDB can only export a table "
        "with PITR on. Nothing was started.",
        f"Turn it on with `/ddb-pitr {table_text} enable` (about {dollars(report.monthly_cost)} per month at "
        f"list price in {report.rates.region}), then run the export again.",
    )


def export_error(
    core: Core, exc: Exception, info: TableInfo, place: Place, destination: Destination, folder: str
) -> BotError:
    """ExportTableToPointInTime's refusal as what to fix (a recovery's exports are refused the same way)."""
    code = error_code(exc) if isinstance(exc, ClientError) else ""
    if code in ACCESS_DENIED and destination.owner:
        return bucket_policy_error(core, place, destination.bucket, destination.owner, folder)
    if code == "PointInTimeRecoveryUnavailableException":
        return _pitr_off(core, info.ref.display)
    if code == "InvalidExportTimeException":
        return PreconditionFailed(
            "DynamoDB says the export time is outside the PITR window. Nothing was started.",
            "Check `/ddb-pitr` for the window and pick a time inside it.",
        )
    if code == "ExportConflictException":
        return PreconditionFailed(
            "DynamoDB refused the export: an export with the same ClientToken but other "
            "parameters was started in the last 8 hours. Nothing new was started.",
            "Wait for it, or change the prefix or the time.",
        )
    if code == "LimitExceededException":
        return PreconditionFailed(
            "DynamoDB's limit of 300 concurrent exports (or 100 TB in flight) is reached.",
            "Wait for running exports to finish (`/ddb-status`), then try again.",
        )
    return translate(exc, "dynamodb:ExportTableToPointInTime", f"Table `{info.ref.display}`")


def bucket_policy_error(core: Core, place: Place, bucket: str, owner: str, folder: str) -> BotError:
    """AccessDenied on another account's bucket: name the missing bucket-policy statement."""
    principal = core.aws.principal_arn(place)
    return PreconditionFailed(
        f"DynamoDB could not write to bucket `{bucket}` owned by account {owner}: access denied. Nothing was started.",
        f"The bucket policy in account {owner} needs the statement `AllowDdbBackupBotExports` from {POLICY_FILE}: "
        f"Allow `{principal}` to s3:PutObject, s3:AbortMultipartUpload and s3:PutObjectAcl on "
        f"`arn:aws:s3:::{bucket}/{folder.split('/')[0]}/*`. With SSE-KMS, the key policy must allow the role too.",
    )
