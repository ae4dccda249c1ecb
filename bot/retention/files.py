"""An export's files in S3, counted before a deletion is asked and deleted once it is approved.

In a versioned bucket (always so with Object Lock) deleting a key only hides it behind a delete marker, the bytes
stay; an early deletion is meant to remove them, so there every version and delete marker under the export's
folder is deleted by its VersionId. Object Lock refuses those of locked versions (AccessDenied): they are counted
as kept, never retried as if the refusal were passing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import translate
from bot.exports.files import list_objects
from bot.models import ExportLocation

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys a request


@dataclass(frozen=True)
class Deleted:
    """What one pass deleted, and what S3 refused (key → error code) in words afterwards."""

    deleted: int
    refused: dict[str, str] = field(default_factory=dict)


def export_objects(s3: Any, location: ExportLocation) -> list[tuple[str, int]]:
    """Every object of the export's folder (manifests and data files), with its size."""
    return [(str(obj["Key"]), int(obj.get("Size", 0))) for obj in list_objects(s3, location, location.folder)]


def delete_export_files(s3: Any, location: ExportLocation, versioned: bool) -> Deleted:
    """Delete everything under the export's folder (every version when `versioned`); safe to run again."""
    owner = {"ExpectedBucketOwner": location.bucket_owner} if location.bucket_owner else {}
    targets = list(_versions(s3, location, owner) if versioned else _keys(s3, location))
    deleted, refused = 0, {}
    try:
        for start in range(0, len(targets), DELETE_BATCH):
            batch = targets[start : start + DELETE_BATCH]
            answer = s3.delete_objects(Bucket=location.bucket, Delete={"Objects": batch, "Quiet": True}, **owner)
            errors = answer.get("Errors", [])
            refused.update({str(e.get("Key")): str(e.get("Code", "")) for e in errors})
            deleted += len(batch) - len(errors)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, "s3:DeleteObject", f"bucket `{location.bucket}`") from exc
    return Deleted(deleted, refused)


def _keys(s3: Any, location: ExportLocation) -> Iterator[dict[str, str]]:
    for key, _size in export_objects(s3, location):
        yield {"Key": key}


def _versions(s3: Any, location: ExportLocation, owner: dict[str, str]) -> Iterator[dict[str, str]]:
    try:
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=location.bucket, Prefix=location.folder, **owner
        )
        for page in pages:
            for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                yield {"Key": str(version["Key"]), "VersionId": str(version["VersionId"])}
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, "s3:ListBucketVersions", f"bucket `{location.bucket}`") from exc
