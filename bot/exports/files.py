"""Find the data files of a DynamoDB export in S3, through its manifests, so a loader can replay them.

Real exports list their files in manifest-files.json; incremental exports share one `data/` folder per
prefix, so listing a folder is only a fallback for exports without manifests (moto's, see `_fallback`).
Both manifests are checked against their checksum files (`.md5` in real exports, `.checksum` in AWS's text);
whatever cannot be checked is named in `ExportManifest.unverified`, so nobody restores unchecked data unawares.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.bounded import TooLarge, read_at_most
from bot.errors import AwsError, BotError, NotFound, PreconditionFailed, UsageError
from bot.limits import MAX_CHECKSUM_FILE, MAX_MANIFEST_FILES, MAX_MANIFEST_SUMMARY
from bot.models import ExportFormat, ExportLocation, ExportType
from bot.words import plural

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)
_EXPORT_URL = re.compile(
    r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?:(?P<prefix>.+)/)?AWSDynamoDB/(?P<export_id>[^/]+)/?$"
)
_EXPORT_ID_TIME = re.compile(r"^(?P<millis>\d{14})-[0-9a-f]{8}$")
_MISSING = ("NoSuchKey", "404", "NotFound")
SPOOL_BYTES = 8 * 1024 * 1024  # a data file being checked stays in memory up to this size
URL_USAGE = "s3://<bucket>/<prefix>/AWSDynamoDB/<ExportId>/ (the folder that holds manifest-summary.json)"
SUMMARY_NAME, FILES_NAME = "manifest-summary.json", "manifest-files.json"
CHECKSUM_SUFFIXES = (".md5", ".checksum")  # what real exports write, then what AWS's documentation names
# Why each manifest has its bound (derived in bot/limits.py), as the refusal says it.
_SUMMARY_BOUND = "far more than a manifest-summary.json's few fixed fields take"
_FILES_BOUND = "more than the manifest-files.json of an export of 50,000 data files (the most a restore reads)"
_CHECKSUM_BOUND = "more than an MD5 checksum file holds"


class InvalidExportUrl(UsageError):
    """The text given as an export location is not one."""


class ExportNotFound(NotFound):
    """Nothing readable is at the export location."""


class ExportUnreadable(AwsError):
    """S3 refused to list or read the export's objects."""


class ExportManifestInvalid(BotError):
    """A manifest exists but cannot be understood or fails its own checksum."""


class ChecksumMismatch(BotError):
    """A data file's bytes differ from what its manifest promised."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(
            message, "Nothing of that file was written. Export the table again or check who changed the object."
        )
        self.key = key


class UnsupportedExportFormat(PreconditionFailed):
    """Only DYNAMODB_JSON exports can be replayed into an existing table."""


@dataclass(frozen=True)
class DataFile:
    """One gzip data file; `md5` is the manifest's base64 MD5 of the compressed bytes (None when unknown)."""

    key: str
    md5: str | None
    item_count: int | None


@dataclass(frozen=True)
class ExportManifest:
    """What an export holds, from its manifests (or from a listing when it has none: `summary` is None)."""

    location: ExportLocation
    summary: dict[str, Any] | None
    export_type: ExportType
    export_format: ExportFormat
    export_time: datetime | None
    from_time: datetime | None
    to_time: datetime | None
    item_count: int | None
    files: list[DataFile] = field(default_factory=list)
    unverified: tuple[str, ...] = ()  # what could not be checked, in words an approver reads
    checksum: str = ""  # the MD5s of the manifests as read (of the listing, without manifests): see `checksum_of`

    @property
    def as_of(self) -> datetime | None:
        """The moment whose table state the export reflects: what orders a full export and its incrementals."""
        if self.export_type == ExportType.INCREMENTAL:
            return self.to_time or self.from_time
        return self.export_time


def parse_s3_export_url(url: str, bucket_owner: str | None = None) -> ExportLocation:
    """Turn `s3://bucket/prefix/AWSDynamoDB/<ExportId>/` (or its manifest-summary.json) into a location."""
    text = url.strip()
    if text.endswith("/manifest-summary.json"):
        text = text[: -len("manifest-summary.json")]
    match = _EXPORT_URL.match(text)
    if match is None or match["export_id"] == "data":
        raise InvalidExportUrl(f"`{url}` is not an export location.", usage=URL_USAGE)
    prefix = match["prefix"].strip("/") if match["prefix"] else None
    return ExportLocation(match["bucket"], prefix or None, match["export_id"], bucket_owner)


def read_manifest(s3: S3Client, location: ExportLocation) -> ExportManifest:
    """Read the export's manifests and list its data files; exports without manifests are found by listing.

    A manifest that fails its checksum is refused; one without a checksum file is read, and said so in
    `unverified`, as are data files the manifest gives no MD5 for.
    """
    summary_bytes = _get(s3, location, location.folder + SUMMARY_NAME, MAX_MANIFEST_SUMMARY, _SUMMARY_BOUND)
    if summary_bytes is None:
        return _fallback(s3, location)
    unverified = _check_manifest(s3, location, location.folder + SUMMARY_NAME, summary_bytes)
    summary = _json_object(summary_bytes, location, SUMMARY_NAME)
    files_key = _resolve_key(s3, location, summary.get("manifestFilesS3Key"), FILES_NAME)
    files_bytes = _get(s3, location, files_key, MAX_MANIFEST_FILES, _FILES_BOUND)
    if files_bytes is None:
        raise ExportManifestInvalid(
            f"The export at {location.url} has a manifest-summary.json but no manifest-files.json "
            f"({location.object_url(files_key)}); it may still be in progress or was partly deleted."
        )
    unverified += _check_manifest(s3, location, files_key, files_bytes)
    files = _parse_files(files_bytes, location)
    if files:
        first = _resolve_key(s3, location, files[0].key, None)
        if first != files[0].key:
            files = [DataFile(_join(location.prefix, f.key), f.md5, f.item_count) for f in files]
    unchecked = sum(1 for f in files if f.md5 is None)
    if unchecked:
        unverified += (
            f"{unchecked} of {len(files)} data files have no MD5 in the manifest: they are written unchecked",
        )
    facts = summary_facts(summary, location)
    return ExportManifest(
        location=location,
        summary=summary,
        export_type=facts.export_type,
        export_format=facts.export_format,
        export_time=facts.export_time,
        from_time=facts.from_time,
        to_time=facts.to_time,
        item_count=facts.item_count,
        files=files,
        unverified=unverified,
        checksum=f"{SUMMARY_NAME}={_md5(summary_bytes)} {FILES_NAME}={_md5(files_bytes)}",
    )


@dataclass(frozen=True)
class ExportSummary:
    """What a manifest-summary.json says about its export (anyone who can write to the bucket can edit it: every
    field is checked for its type, and what is not right is None)."""

    location: ExportLocation
    export_type: ExportType
    export_format: ExportFormat
    export_time: datetime | None
    from_time: datetime | None
    to_time: datetime | None
    item_count: int | None
    billed_size_bytes: int | None
    export_arn: str | None
    table_arn: str | None
    sse_algorithm: str | None
    kms_key: str | None


def read_summary(s3: S3Client, location: ExportLocation) -> ExportSummary | None:
    """The export's manifest-summary.json alone, bounded, without its file list: what a catalogue keeps. None when
    the export has none (still running, or not an export)."""
    data = _get(s3, location, location.folder + SUMMARY_NAME, MAX_MANIFEST_SUMMARY, _SUMMARY_BOUND)
    return None if data is None else summary_facts(_json_object(data, location, SUMMARY_NAME), location)


def summary_facts(summary: dict[str, Any], location: ExportLocation) -> ExportSummary:
    """Read a manifest-summary.json's fields; a full export without `exportTime` is timed by its ExportId."""
    export_type = _enum(ExportType, summary.get("exportType"), ExportType.FULL, location)
    export_time = _time(summary.get("exportTime"))
    if export_type == ExportType.FULL and export_time is None:
        export_time = _time_from_export_id(location.export_id)
    return ExportSummary(
        location=location,
        export_type=export_type,
        export_format=_enum(ExportFormat, summary.get("outputFormat"), ExportFormat.DYNAMODB_JSON, location),
        export_time=export_time,
        from_time=_time(summary.get("exportFromTime")),
        to_time=_time(summary.get("exportToTime")),
        item_count=_count(summary.get("itemCount")),
        billed_size_bytes=_count(summary.get("billedSizeBytes")),
        export_arn=_text(summary.get("exportArn"), 1024),
        table_arn=_text(summary.get("tableArn"), 1024),
        sse_algorithm=_text(summary.get("s3SseAlgorithm"), 16),
        kms_key=_text(summary.get("s3SseKmsKeyId"), 2048),
    )


def _text(value: object, limit: int) -> str | None:
    """A text field of a manifest: a string within the bound AWS's own fields keep, else unknown."""
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def manifest_changes(before: str, after: str) -> list[str]:
    """Which parts of two `ExportManifest.checksum`s differ (the file names, or `the listing`), for messages."""
    old, new = _checksum_parts(before), _checksum_parts(after)
    return [name for name in sorted(old.keys() | new.keys()) if old.get(name) != new.get(name)]


def _checksum_parts(checksum: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in checksum.split(" ") if part)


@contextmanager
def open_data_file(s3: S3Client, location: ExportLocation, data_file: DataFile) -> Iterator[Any]:
    """The file's compressed bytes; with a manifest MD5 they are checked in full before any item is read.

    Checked bytes wait in memory up to SPOOL_BYTES, then in a temporary file, so memory stays bounded.
    """
    try:
        body = s3.get_object(Bucket=location.bucket, Key=data_file.key, **_owner(location))["Body"]
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404"):
            raise ExportNotFound(
                f"The data file {location.object_url(data_file.key)} listed by the export is missing.",
                "The export was partly deleted; export the table again.",
            ) from error
        raise ExportUnreadable(
            f"S3 refused to read {location.object_url(data_file.key)}: {code or 'error'}.",
            "The bot's role needs s3:GetObject on the export bucket (and the KMS key, if any).",
            code=code,
        ) from error
    try:
        if data_file.md5 is None:
            yield body  # nothing to check against: stream straight from S3
            return
        with SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            digest = hashlib.md5(usedforsecurity=False)
            for chunk in body.iter_chunks(1024 * 1024):
                digest.update(chunk)
                spool.write(chunk)
            actual = base64.b64encode(digest.digest()).decode()
            if actual != data_file.md5:
                raise ChecksumMismatch(
                    f"The data file {location.object_url(data_file.key)} does not match its manifest checksum "
                    f"(MD5 {actual}, manifest says {data_file.md5}).",
                    data_file.key,
                )
            spool.seek(0)
            yield spool
    finally:
        body.close()


def _fallback(s3: S3Client, location: ExportLocation) -> ExportManifest:
    """Find the data files of an export that has no manifests, as moto writes them.

    moto writes no manifests and puts its one data file in `<prefix>/AWSDynamoDB/<random uuid>/data/`, not under
    the ExportId. The bot gives every export its own S3Prefix, so when the export's own `data/` folder is empty
    every `*/data/*` object under `<prefix>/AWSDynamoDB/` belongs to this export; objects from several such
    folders mean the prefix is shared, and the export is refused rather than mixed with another.
    """
    objects = list_objects(s3, location, location.folder + "data/")
    if not objects:
        objects = [
            obj
            for obj in list_objects(s3, location, location.root)
            if re.fullmatch(r"[^/]+/data/[^/]+", obj["Key"][len(location.root) :])  # not the shared data/ folder
        ]
        folders = {obj["Key"][len(location.root) :].split("/", 1)[0] for obj in objects}
        if len(folders) > 1:
            raise ExportManifestInvalid(
                f"The export at {location.url} has no manifests, and {len(folders)} exports share its prefix "
                f"s3://{location.bucket}/{location.root}, so its data files cannot be told apart.",
                "Give each export its own S3 prefix (the bot does this for exports it starts).",
            )
    if not objects:
        raise ExportNotFound(
            f"No export was found at {location.url}: no manifest-summary.json and no data files.",
            "Check the bucket, the prefix and the export id (from `DescribeExport`), and that the export completed.",
        )
    latest = max(obj["LastModified"] for obj in objects)
    listing = "\n".join(
        f"{o['Key']} {o.get('ETag', '')} {o.get('Size', '')}" for o in sorted(objects, key=lambda o: o["Key"])
    ).encode()
    return ExportManifest(
        location=location,
        summary=None,
        export_type=ExportType.FULL,
        export_format=ExportFormat.DYNAMODB_JSON,
        export_time=_time_from_export_id(location.export_id) or latest.astimezone(UTC),
        from_time=None,
        to_time=None,
        item_count=None,
        files=[DataFile(obj["Key"], None, None) for obj in sorted(objects, key=lambda o: o["Key"])],
        unverified=(
            f"the export has no manifests: its {plural(len(objects), 'data file')} "
            f"{'was' if len(objects) == 1 else 'were'} found by listing the folder, with no manifest "
            "checksum to check against",
        ),
        checksum=f"listing={_md5(listing)}",
    )


def _parse_files(data: bytes, location: ExportLocation) -> list[DataFile]:
    files = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            key, md5, count = entry["dataFileS3Key"], entry.get("md5Checksum"), entry.get("itemCount")
            if not isinstance(key, str) or not isinstance(md5, str | None) or _count(count) != count:
                raise TypeError
            files.append(DataFile(key, md5, count))
        except (ValueError, KeyError, TypeError) as error:
            raise ExportManifestInvalid(
                f"Line {number} of the manifest-files.json of {location.url} is not a data file entry (a JSON "
                "object with a text `dataFileS3Key`, a text `md5Checksum` and a whole `itemCount`).",
                "Export the table again, or find out who changed the export's objects.",
            ) from error
    return files


def _count(value: object) -> int | None:
    """A count from a manifest, which anyone who can write to the bucket can edit: an int, else unknown."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _enum(kind: type[ExportType] | type[ExportFormat], value: object, default: str, location: ExportLocation) -> Any:
    try:
        return kind(str(value or default))
    except ValueError as error:
        raise ExportManifestInvalid(
            f"The manifest-summary.json of {location.url} gives an unknown {kind.__name__}: "
            f"{str(value)[:40]!r} (expected one of {', '.join(kind)})."
        ) from error


def _check_manifest(s3: S3Client, location: ExportLocation, key: str, data: bytes) -> tuple[str, ...]:
    """Check a manifest against its checksum file (`.md5`, else `.checksum`): a mismatch is refused, since a
    truncated file list would silently skip data; a missing checksum file is returned as a reason."""
    name = key.rsplit("/", 1)[-1]
    base = key.rsplit(".", 1)[0]
    for suffix in CHECKSUM_SUFFIXES:
        expected = _get(s3, location, base + suffix, MAX_CHECKSUM_FILE, _CHECKSUM_BOUND)
        if expected is None:
            continue
        if not _digest_matches(expected, data):
            raise ExportManifestInvalid(
                f"{location.object_url(key)} does not match its checksum {location.object_url(base + suffix)}; "
                "the export cannot be trusted.",
                "Export the table again, or find out who changed the export's objects.",
            )
        return ()
    what = (
        "its list of data files is" if name == FILES_NAME else "the table, export id, time and item count it gives are"
    )
    return (f"{name} has no checksum file: {what} not verified",)


def _digest_matches(expected: bytes, data: bytes) -> bool:
    """A checksum file holds the base64 MD5 of the file; a hex MD5 is accepted too (the same digest)."""
    digest = hashlib.md5(data, usedforsecurity=False).digest()
    text = expected.decode("ascii", errors="replace").strip()
    return text in (base64.b64encode(digest).decode(), digest.hex())


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _resolve_key(s3: S3Client, location: ExportLocation, key: str | None, default_name: str | None) -> str:
    """Manifests give keys with or without the S3 prefix (AWS's examples disagree): use the one that exists."""
    if not key:
        return location.folder + (default_name or "")
    if not location.prefix or key.startswith(location.prefix + "/"):
        return key
    if _exists(s3, location, key):
        return key
    prefixed = _join(location.prefix, key)
    return prefixed if _exists(s3, location, prefixed) else key


def _join(prefix: str | None, key: str) -> str:
    return f"{prefix}/{key}" if prefix else key


def _owner(location: ExportLocation) -> dict[str, Any]:
    return {"ExpectedBucketOwner": location.bucket_owner} if location.bucket_owner else {}


def _exists(s3: S3Client, location: ExportLocation, key: str) -> bool:
    try:
        s3.head_object(Bucket=location.bucket, Key=key, **_owner(location))
    except ClientError as error:
        if _code(error) in _MISSING:
            return False
        raise _unreadable(error, location, key) from error
    except BotoCoreError as error:
        raise _unreachable(error, location) from error
    return True


def _get(s3: S3Client, location: ExportLocation, key: str, limit: int, why: str) -> bytes | None:
    """The object's bytes, refused past `limit` (S3's Content-Length is checked before anything is read)."""
    try:
        answer = s3.get_object(Bucket=location.bucket, Key=key, **_owner(location))
        with closing(answer["Body"]) as body:
            return read_at_most(body, limit, location.object_url(key), why, declared=answer.get("ContentLength"))
    except TooLarge as error:
        raise ExportManifestInvalid(error.message, "Find out who wrote it there: DynamoDB did not.") from error
    except ClientError as error:
        if _code(error) in _MISSING:
            return None
        raise _unreadable(error, location, key) from error
    except BotoCoreError as error:
        raise _unreachable(error, location) from error


def list_objects(s3: S3Client, location: ExportLocation, prefix: str) -> list[dict[str, Any]]:
    """Every object under `prefix` in the export's bucket (the owner checked when known), errors translated."""
    objects: list[dict[str, Any]] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=location.bucket, Prefix=prefix, **_owner(location)
        ):
            objects.extend(dict(obj) for obj in page.get("Contents", []))
    except ClientError as error:
        raise _unreadable(error, location, prefix) from error
    except BotoCoreError as error:
        raise _unreachable(error, location) from error
    return objects


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _unreadable(error: ClientError, location: ExportLocation, key: str) -> BotError:
    code = _code(error)
    if code == "NoSuchBucket":
        return ExportNotFound(
            f"The bucket {location.bucket} does not exist (or is in another partition).",
            "Check the export location.",
        )
    fix = "The bot's role needs s3:GetObject and s3:ListBucket on the export bucket (and the KMS key, if any)."
    if location.bucket_owner and code in ("AccessDenied", "403"):
        fix = (
            f"Either the bucket {location.bucket} is not owned by account {location.bucket_owner} (S3 checks the "
            f"owner on every read), or {fix[0].lower()}{fix[1:]}"
        )
    return ExportUnreadable(f"S3 refused to read {location.object_url(key)}: {code or 'error'}.", fix, code=code)


def _unreachable(error: BotoCoreError, location: ExportLocation) -> BotError:
    """The cause goes to the log; the user reads what failed (botocore's text can hold endpoint URLs)."""
    logger.warning("s3.unreachable", extra={"url": location.url, "error_type": type(error).__name__}, exc_info=error)
    return ExportUnreadable(
        f"S3 could not be reached to read {location.url}.", "Try again; if it persists, check the bot's network."
    )


def _json_object(data: bytes, location: ExportLocation, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as error:
        where = f" (line {error.lineno}, column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
        raise ExportManifestInvalid(f"The {name} of {location.url} is not JSON{where}.") from error
    if not isinstance(value, dict):
        raise ExportManifestInvalid(f"The {name} of {location.url} is not a JSON object.")
    return value


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _time_from_export_id(export_id: str) -> datetime | None:
    """Real ExportIds start with the export's start in epoch milliseconds: `01768385930622-efd1a093`."""
    match = _EXPORT_ID_TIME.match(export_id)
    return datetime.fromtimestamp(int(match["millis"]) / 1000, UTC) if match else None
