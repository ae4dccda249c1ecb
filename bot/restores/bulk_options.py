"""The part of an `into=` plan that DynamoDB's own bulk engine runs (StartBulkPutItems): every parameter the run
passes to AWS, fixed when the plan is approved.

Kept apart from bot.restores.models so the plan's other options stay small; a plan holds one only when the full
export of its chain is written by bulk put (plans stored before it existed hold none and hash as they did).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MIN_WRITE_UNITS = 1_024  # StartBulkPutItems' MaxWriteRequestUnits has this minimum (API model)
MAX_INPUT_OBJECTS = 50_000  # documented: at most 50,000 S3 objects per operation…
MAX_OBJECT_BYTES = 5 * 1024**3  # …each at most 5 GB
OUTPUT_TYPES = ("ERROR", "CONDITION_CHECK_FAILURE")


class Engine(StrEnum):
    """What writes an `into=` restore: DynamoDB's bulk put (the full export) or the bot's own loader."""

    BULK = "bulk"
    LOADER = "loader"


class Tier(StrEnum):
    """StartBulkPutItems' PerformanceTier, as `tier=` names it."""

    STANDARD = "standard"
    ACCELERATED = "accelerated"

    @property
    def aws_name(self) -> str:
        """As the API spells it: STANDARD | ACCELERATED."""
        return self.value.upper()


@dataclass(frozen=True)
class BulkPut:
    """StartBulkPutItems for the chain's full export: its data folder, format and compression, the ceiling, the tier
    and where the failed-items report goes. `input_checksum` binds the manifests and the data folder's listing as
    approved (bulk put reads every object under the prefix); `objects` and `input_bytes` are what planning listed."""

    export_id: str
    bucket: str
    bucket_owner: str | None
    key_prefix: str
    input_format: str
    compression: str
    max_write_units: int
    tier: Tier
    report_bucket: str
    report_prefix: str  # the run adds `<request id>/`, so each operation's report has a folder of its own
    input_checksum: str
    objects: int
    input_bytes: int
    report_owner: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan."""
        return {
            "export_id": self.export_id,
            "bucket": self.bucket,
            "bucket_owner": self.bucket_owner,
            "key_prefix": self.key_prefix,
            "input_format": self.input_format,
            "compression": self.compression,
            "max_write_units": self.max_write_units,
            "tier": self.tier.value,
            "report_bucket": self.report_bucket,
            "report_prefix": self.report_prefix,
            "report_owner": self.report_owner,
            "input_checksum": self.input_checksum,
            "objects": self.objects,
            "input_bytes": self.input_bytes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BulkPut:
        """Rebuild from a stored plan."""
        return cls(
            export_id=str(data["export_id"]),
            bucket=str(data["bucket"]),
            bucket_owner=data.get("bucket_owner"),
            key_prefix=str(data["key_prefix"]),
            input_format=str(data.get("input_format") or "DYNAMODB_JSON"),
            compression=str(data.get("compression") or "GZIP"),
            max_write_units=int(data["max_write_units"]),
            tier=Tier(str(data.get("tier") or Tier.STANDARD)),
            report_bucket=str(data["report_bucket"]),
            report_prefix=str(data.get("report_prefix") or ""),
            report_owner=data.get("report_owner"),
            input_checksum=str(data.get("input_checksum") or ""),
            objects=int(data.get("objects") or 0),
            input_bytes=int(data.get("input_bytes") or 0),
        )

    def input_configuration(self) -> dict[str, Any]:
        """InputS3Configuration."""
        config: dict[str, Any] = {
            "S3Bucket": self.bucket,
            "S3KeyPrefix": self.key_prefix,
            "InputFormat": self.input_format,
            "InputCompressionType": self.compression,
        }
        if self.bucket_owner:
            config["S3BucketOwner"] = self.bucket_owner
        return config

    def report_folder(self, request_id: str) -> str:
        """Where this request's operation writes its report (a folder of its own: found by listing it)."""
        return f"{self.report_prefix.rstrip('/')}/{request_id}/".lstrip("/")

    def output_configuration(self, request_id: str) -> dict[str, Any]:
        """OutputS3Configuration: both kinds of report, into the request's own folder."""
        config: dict[str, Any] = {
            "OutputType": list(OUTPUT_TYPES),
            "S3Bucket": self.report_bucket,
            "S3KeyPrefix": self.report_folder(request_id),
        }
        if self.report_owner:
            config["S3BucketOwner"] = self.report_owner
        return config
