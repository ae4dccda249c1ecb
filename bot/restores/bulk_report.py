"""The failed-items report a bulk put operation writes to S3, summarised: how many items, the first keys with their
reasons, and where the report is. Item values never leave here: only the table's key attributes are kept.

AWS's report layout, file format and manifest are NOT CONFIRMED (the developer guide's Output page could not be
read), so nothing here relies on names: the files are found by listing the request's own report folder, a file's
kind is taken from its key (a path part naming CONDITION_CHECK_FAILURE, else ERROR; anything else, such as a
manifest, is not counted), gzip is recognised by its magic bytes, and each line is read as JSON holding the item
under `Item`, `Record` (the refused line, itself JSON) or `Keys`. Lines that do not parse are counted, not shown.
Reading is bounded: each line by the longest an item can be written (bot.limits.MAX_EXPORT_LINE), each file's count
by REPORT_COUNT_BYTES, the listing by REPORT_MAX_FILES.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.aws.errors import translate
from bot.bounded import inflate_gzip
from bot.errors import BotError
from bot.limits import MAX_EXPORT_LINE

ERROR, CONDITION = "ERROR", "CONDITION_CHECK_FAILURE"
SHOWN_ITEMS = 5
REPORT_MAX_FILES = 1_000
REPORT_COUNT_BYTES = 4 * 1024**3  # a report file is counted up to this many (inflated) bytes, then "at least"
READ_CHUNK = 1024 * 1024
REASON_CHARS = 160
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FailedItem:
    """One item that was not written: its key attributes (as `name=value` text) and why."""

    keys: str
    reason: str
    kind: str

    def as_dict(self) -> dict[str, str]:
        """JSON-friendly form for the stored result."""
        return {"keys": self.keys, "reason": self.reason, "kind": self.kind}


@dataclass(frozen=True)
class ReportSummary:
    """What the report says: counts per kind (None: could not be counted), the first items, where it is, and
    what could not be read of it."""

    location: str
    errors: int | None
    conditions: int | None
    first: tuple[FailedItem, ...] = ()
    files: int = 0
    unreadable: str | None = None
    at_least: bool = False  # a file was longer than the bot counts: the counts are lower bounds

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the stored result."""
        return {
            "location": self.location,
            "errors": self.errors,
            "conditions": self.conditions,
            "first": [item.as_dict() for item in self.first],
            "files": self.files,
            "unreadable": self.unreadable,
            "at_least": self.at_least,
        }


def read_report(
    s3: Any, bucket: str, folder: str, key_names: Sequence[str], *, owner: str | None = None
) -> ReportSummary:
    """List the report folder and read what is there; an S3 failure becomes a summary saying it was unreadable."""
    location = f"s3://{bucket}/{folder}"
    expected = {"ExpectedBucketOwner": owner} if owner else {}
    try:
        keys = _report_keys(s3, bucket, folder, expected)
        counts = {ERROR: 0, CONDITION: 0}
        shown: list[FailedItem] = []
        at_least = False
        for key, kind in keys:
            body = s3.get_object(Bucket=bucket, Key=key, **expected)["Body"]
            lines, items, capped = _read_lines(_chunks(body), kind, key_names, SHOWN_ITEMS - len(shown))
            counts[kind] += lines
            shown.extend(items)
            at_least = at_least or capped
    except Exception as exc:
        error = translate(exc, "s3:GetObject", f"the failed-items report at `{location}`")
        reason = error.message if isinstance(error, BotError) else type(exc).__name__
        return ReportSummary(location, None, None, unreadable=reason)
    return ReportSummary(location, counts[ERROR], counts[CONDITION], tuple(shown), len(keys), at_least=at_least)


def _report_keys(s3: Any, bucket: str, folder: str, expected: dict[str, str]) -> list[tuple[str, str]]:
    """The report's record files under the folder, with their kind (a manifest or anything else is left out)."""
    found: list[tuple[str, str]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder, **expected):
        for entry in page.get("Contents", []):
            kind = _kind_of(str(entry["Key"])[len(folder) :])
            if kind is not None and int(entry.get("Size") or 0) > 0:
                found.append((str(entry["Key"]), kind))
            if len(found) >= REPORT_MAX_FILES:
                return found
    return found


def _kind_of(relative: str) -> str | None:
    parts = relative.upper().replace("-", "_").split("/")
    if any(CONDITION in part for part in parts):
        return CONDITION
    if parts[-1].endswith((".JSON", ".JSON.GZ")) and "MANIFEST" in parts[-1]:
        return None
    if any(ERROR in part for part in parts):
        return ERROR
    return None


def _chunks(body: Any) -> Iterator[bytes]:
    """The object's bytes, inflated when they are gzip (recognised by the magic bytes, whatever the key says)."""
    raw = iter(lambda: body.read(READ_CHUNK), b"")
    first = next(raw, b"")
    if not first.startswith(GZIP_MAGIC):
        yield first
        yield from raw
        return
    yield from inflate_gzip(_prepend(first, raw))


def _prepend(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _read_lines(
    chunks: Iterable[bytes], kind: str, key_names: Sequence[str], wanted: int
) -> tuple[int, list[FailedItem], bool]:
    """(non-blank lines, the first `wanted` items read from them, whether counting stopped at the bound)."""
    count, seen = 0, 0
    items: list[FailedItem] = []
    pending, skipping = b"", False
    try:
        for chunk in chunks:
            seen += len(chunk)
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            for line in lines:
                if skipping:
                    skipping = False
                    continue
                if line.strip():
                    count += 1
                    if len(items) < wanted:
                        items.extend(_failed_item(line, kind, key_names))
            if len(pending) > MAX_EXPORT_LINE:
                count, pending, skipping = count + 1, b"", True  # a line longer than any item: counted, not read
            if seen > REPORT_COUNT_BYTES:
                return count, items, True
    except zlib.error:
        return count, items, True
    if pending.strip() and not skipping:
        count += 1
        if len(items) < wanted:
            items.extend(_failed_item(pending, kind, key_names))
    return count, items, False


def _failed_item(line: bytes, kind: str, key_names: Sequence[str]) -> list[FailedItem]:
    """The key attributes and the reason of one record; none when the line is not a record the bot can read."""
    try:
        record = json.loads(line)
    except ValueError:
        return []
    if not isinstance(record, dict):
        return []
    item = _item_of(record)
    keys = _keys_text(item, key_names) if item is not None else "keys not readable"
    if kind == CONDITION:
        reason = "its condition was false (the item in the table was left as it was)"
    else:
        code = str(record.get("ErrorCode") or record.get("errorCode") or "error")
        message = str(record.get("ErrorMessage") or record.get("errorMessage") or "")
        reason = f"{code}: {message}"[:REASON_CHARS] if message else code[:REASON_CHARS]
    return [FailedItem(keys, reason, kind)]


def _item_of(record: dict[str, Any]) -> dict[str, Any] | None:
    for member in ("Item", "item", "Keys", "Key"):
        value = record.get(member)
        if isinstance(value, dict):
            return value
    refused = record.get("Record") or record.get("record")
    if isinstance(refused, str):
        try:
            parsed = json.loads(refused)
        except ValueError:
            return None
        return _item_of(parsed) if isinstance(parsed, dict) else None
    return None


def _keys_text(item: dict[str, Any], key_names: Sequence[str]) -> str:
    """`pk=a, sk=1`: the key attributes only (a missing one says so), never another attribute."""
    parts = []
    for name in key_names:
        value = item.get(name)
        if isinstance(value, dict) and len(value) == 1:
            kind, inner = next(iter(value.items()))
            parts.append(f"{name}={str(inner)[:200]} ({kind})")
        else:
            parts.append(f"{name} missing")
    return ", ".join(parts)
