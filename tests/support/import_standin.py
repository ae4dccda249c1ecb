"""ImportTable as AWS documents it, in place of moto's (which runs in this process, behind moto's server).

moto's ImportTable ends FAILED as soon as one item is rejected, reports no CloudWatchLogGroupArn, and parses data
files with a parser that mangles JSON escapes. AWS's DescribeImport (ImportTableDescription) says otherwise, and
the restores must be tested against what AWS does:

- every line of every object under S3KeyPrefix is one record (`{"Item": {...}}` in DYNAMODB_JSON), gzip'd when
  InputCompressionType is GZIP; blank lines (and empty files) hold nothing;
- an item that fails validation (a key attribute of the table's key schema missing, or of another type than its
  AttributeDefinitions say) is skipped: counted in ErrorCount, not in ImportedItemCount, and logged to CloudWatch
  Logs, log group `/aws-dynamodb/imports`, one event per item naming its S3 object and line;
- ProcessedItemCount counts every record read, rejected ones included; ProcessedSizeBytes their bytes;
- the import still ends COMPLETED when items were rejected; ImportTableDescription carries CloudWatchLogGroupArn.

`aws_import_table()` patches moto's TableImport for the duration of a `with` block and restores it afterwards.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOG_GROUP = "/aws-dynamodb/imports"
KEY_TYPES = {"S", "N", "B"}


@contextmanager
def aws_import_table() -> Iterator[None]:
    """moto's ImportTable behaves as AWS documents it inside the block."""
    from moto.dynamodb.models.table_import import TableImport

    original = (TableImport._process_s3_files, TableImport.response)
    TableImport._process_s3_files = _process_s3_files  # type: ignore[method-assign]
    TableImport.response = _response  # type: ignore[method-assign]
    try:
        yield
    finally:
        TableImport._process_s3_files, TableImport.response = original  # type: ignore[method-assign]


def _process_s3_files(self: Any, s3_backend: Any, bucket: Any) -> None:
    from moto.dynamodb.models import dynamodb_backends

    dynamo = dynamodb_backends[self.account_id][self.region_name]
    self.table = dynamo.create_table(
        name=self.table_name,
        billing_mode=self.billing_mode,
        throughput=self.throughput,
        schema=self.key_schema,
        global_indexes=self.global_indexes,
        indexes=None,
        attr=self.attrs,
        sse_specification=None,
        streams=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    key_types = _key_types(self.key_schema, self.attrs)
    keys, _, _, _ = s3_backend.list_objects(
        bucket, prefix=self.s3_source.get("S3KeyPrefix"), delimiter=None, marker=None, max_keys=None
    )
    rejected: list[dict[str, Any]] = []
    for key in keys:
        body = gzip.decompress(key.value) if self.compression_type == "GZIP" else key.value
        for index, line in enumerate(body.splitlines()):
            if not line.strip():
                continue
            self.processed_count += 1
            self.processed_bytes += len(line)
            problem = _import_one(self.table, line, key_types)
            if problem is None:
                self.imported_count += 1
                continue
            self.error_count += 1
            rejected.append(
                {
                    "itemS3Pointer": {"bucket": bucket.name, "key": key.name, "itemIndex": index},
                    "importArn": self.arn,
                    "errorMessages": [problem],
                }
            )
    if rejected:
        _log(self, rejected)
    self.status = "COMPLETED"  # rejected items do not fail the import: they are counted and logged


def _key_types(key_schema: list[dict[str, str]], attrs: list[dict[str, str]]) -> dict[str, str]:
    types = {a["AttributeName"]: a["AttributeType"] for a in attrs}
    return {k["AttributeName"]: types[k["AttributeName"]] for k in key_schema}


def _import_one(table: Any, line: bytes, key_types: dict[str, str]) -> str | None:
    """Put one record's item; the reason it is rejected, or None."""
    try:
        record = json.loads(line)
    except ValueError:
        return "Unexpected token: the line is not valid JSON"
    item = record.get("Item") if isinstance(record, dict) else None
    if not isinstance(item, dict):
        return "The record has no Item"
    for name, wanted in key_types.items():
        value = item.get(name)
        if not isinstance(value, dict) or len(value) != 1:
            return f"One or more parameter values were invalid: Missing the key {name} in the item"
        (found,) = value
        if found != wanted or found not in KEY_TYPES:
            return (
                f"One or more parameter values were invalid: Type mismatch for key {name} expected: {wanted} "
                f"actual: {found}"
            )
    try:
        table.put_item(item_attrs=item)
    except Exception as error:  # moto's own validation of the other attributes: AWS rejects such items too
        return f"One or more parameter values were invalid: {getattr(error, 'message', type(error).__name__)}"
    return None


def _log(self: Any, rejected: list[dict[str, Any]]) -> None:
    from moto.logs.models import logs_backends

    logs = logs_backends[self.account_id][self.region_name]
    if LOG_GROUP not in logs.groups:
        logs.create_log_group(LOG_GROUP, tags={})
    stream = self.arn.rsplit("/", 1)[-1]
    logs.create_log_stream(LOG_GROUP, stream)
    now = int(time.time() * 1000)
    logs.put_log_events(LOG_GROUP, stream, [{"timestamp": now, "message": json.dumps(event)} for event in rejected])


def _response(self: Any) -> dict[str, Any]:
    description = {
        "ImportArn": self.arn,
        "ImportStatus": self.status,
        "TableArn": self.table_arn,
        "ProcessedItemCount": self.processed_count,
        "ProcessedSizeBytes": self.processed_bytes,
        "ErrorCount": self.error_count,
        "ImportedItemCount": self.imported_count,
        "CloudWatchLogGroupArn": f"arn:aws:logs:{self.region_name}:{self.account_id}:log-group:{LOG_GROUP}:*",
    }
    if self.failure_code:
        description.update(FailureCode=self.failure_code, FailureMessage=self.failure_message)
    return description
