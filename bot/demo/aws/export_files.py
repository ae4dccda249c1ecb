"""An export's objects in S3, laid out exactly as DynamoDB writes them (see the module docstring of exports.py).

Full export, `<p>` = S3Prefix (may be absent):
    <p>/AWSDynamoDB/<ExportId>/_started                      empty, written when the export starts
    <p>/AWSDynamoDB/<ExportId>/data/<26 random chars>.json.gz at least one; an empty one is a 20-byte gzip of nothing
    <p>/AWSDynamoDB/<ExportId>/manifest-files.json  (+ .md5)  JSON Lines, one line per data file
    <p>/AWSDynamoDB/<ExportId>/manifest-summary.json (+ .md5) one JSON object, written last
Incremental exports put their data files in the folder SHARED by every export under the prefix,
`<p>/AWSDynamoDB/data/`, so they are found only through manifest-files.json. A .md5 file holds the base64 MD5 of
its manifest; a data file's `md5Checksum` is the base64 MD5 of its gzip bytes and its `etag` a one-part multipart
ETag (`<hex>-1`). Keys in the manifests (`dataFileS3Key`, `manifestFilesS3Key`) are whole keys within the bucket,
prefix included (AWS's examples disagree; readers try the key as given first).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.demo.aws.clock import from_epoch_seconds
from bot.demo.aws.ion_items import ion_line

_NAME_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class ExportTarget:
    """Where an export writes: bucket, prefix, expected owner and server-side encryption."""

    bucket: str
    prefix: str | None
    owner: str | None
    sse: str | None
    kms_key: str | None

    def key(self, *parts: str) -> str:
        prefix = (self.prefix or "").strip("/")
        return "/".join(([prefix] if prefix else []) + ["AWSDynamoDB", *parts])

    def put(self, s3: Any, key: str, body: bytes) -> None:
        put_object(s3, self.bucket, key, body, owner=self.owner, sse=self.sse, kms_key=self.kms_key)


def put_object(
    s3: Any, bucket: str, key: str, body: bytes, *, owner: str | None, sse: str | None, kms_key: str | None
) -> None:
    """An object written as DynamoDB writes its outputs: to the expected owner's bucket, with the requested
    server-side encryption (`AES256` | `KMS`, as the DynamoDB APIs spell it)."""
    extra: dict[str, Any] = {}
    if owner:
        extra["ExpectedBucketOwner"] = owner
    if sse == "AES256":
        extra["ServerSideEncryption"] = "AES256"
    elif sse == "KMS":
        extra["ServerSideEncryption"] = "aws:kms"
        if kms_key:
            extra["SSEKMSKeyId"] = kms_key
    s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def data_file_name() -> str:
    """26 random lowercase letters and digits, as DynamoDB names its data files."""
    return "".join(secrets.choice(_NAME_ALPHABET) for _ in range(26))


def json_line(record: dict[str, Any]) -> bytes:
    """One data line: compact DynamoDB JSON, UTF-8, newline-terminated."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324  (S3's checksum, not security)


def write_started(s3: Any, target: ExportTarget, export_id: str) -> None:
    target.put(s3, target.key(export_id, "_started"), b"")


def write_export(
    s3: Any,
    target: ExportTarget,
    export_id: str,
    summary: dict[str, Any],
    lines: list[bytes],
    *,
    incremental: bool,
    lines_per_file: int,
    ion: bool = False,
) -> str:
    """Data files, then manifest-files, then manifest-summary (with `manifestFilesS3Key` and `itemCount` added);
    with `ion`, the lines (DynamoDB JSON) are written as Ion text in `.ion.gz` files.

    Returns the manifest-summary's key (the description's ExportManifest).
    """
    if ion:
        lines = [ion_line(json.loads(line)) for line in lines]
    suffix = ".ion.gz" if ion else ".json.gz"
    manifest_lines = []
    chunks = [lines[i : i + lines_per_file] for i in range(0, len(lines), lines_per_file)] or [[]]
    for chunk in chunks:
        body = gzip.compress(b"".join(chunk), mtime=0)
        folder = ("data",) if incremental else (export_id, "data")
        key = target.key(*folder, data_file_name() + suffix)
        target.put(s3, key, body)
        etag = hashlib.md5(hashlib.md5(body).digest()).hexdigest() + "-1"  # noqa: S324
        manifest_lines.append(
            {"itemCount": len(chunk), "md5Checksum": md5_base64(body), "etag": etag, "dataFileS3Key": key}
        )
    files = b"".join(json_line(line) for line in manifest_lines)
    files_key = target.key(export_id, "manifest-files.json")
    _put_with_md5(s3, target, files_key, files)
    summary = {**summary, "manifestFilesS3Key": files_key, "itemCount": len(lines)}
    summary_key = target.key(export_id, "manifest-summary.json")
    _put_with_md5(s3, target, summary_key, json.dumps(summary, separators=(",", ":")).encode())
    return summary_key


def _put_with_md5(s3: Any, target: ExportTarget, key: str, body: bytes) -> None:
    target.put(s3, key, body)
    target.put(s3, key.removesuffix(".json") + ".md5", md5_base64(body).encode())


def manifest_summary(description: dict[str, Any], start: datetime, target: ExportTarget, billed: int) -> dict[str, Any]:
    """manifest-summary.json's fields from an ExportDescription, in the order a real export writes them (endTime,
    manifestFilesS3Key and itemCount are filled in when the export finishes)."""
    incremental = description["ExportType"] == "INCREMENTAL_EXPORT"
    summary: dict[str, Any] = {
        "version": "2023-08-01" if incremental else "2020-06-30",
        "exportArn": description["ExportArn"],
        "startTime": iso_millis(start),
        "endTime": None,
        "tableArn": description["TableArn"],
        "tableId": description["TableId"],
    }
    if incremental:
        spec = description["IncrementalExportSpecification"]
        summary["exportFromTime"] = iso_millis(from_epoch_seconds(spec["ExportFromTime"]))
        summary["exportToTime"] = iso_millis(from_epoch_seconds(spec["ExportToTime"]))
    else:
        summary["exportTime"] = iso_millis(from_epoch_seconds(description["ExportTime"]))
    summary.update(
        s3Bucket=target.bucket,
        s3Prefix=target.prefix,
        s3SseAlgorithm=target.sse or "AES256",
        s3SseKmsKeyId=target.kms_key,
        manifestFilesS3Key=None,
        billedSizeBytes=billed,
        itemCount=None,
        outputFormat=description["ExportFormat"],
    )
    if incremental:
        view = description["IncrementalExportSpecification"]["ExportViewType"]
        summary.update(outputView=view, exportType="INCREMENTAL_EXPORT")
    return summary


def iso_millis(moment: datetime) -> str:
    """A time as the manifests write it: `2026-01-14T10:18:50.622Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
