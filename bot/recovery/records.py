"""What an export holds for recovery: a full export's items, an incremental export's changes (each key's state
before its window and at its end), optionally only those of one key or partition.

The files are found through the export's manifests and each is checked against its MD5 before a line is read
(bot/exports/files.py), as the loader reads them. Scanning for one key is the slow path of `/ddb-item` older than
the PITR window: every line's key attributes are decoded on their own by the loader's msgspec reader, and only the
lines of the wanted key are parsed whole, so a scan costs about what gzip does (bench/recovery.py measures it).
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from bot.bounded import LineTooLong, numbered_lines
from bot.exports.files import DataFile, ExportManifest, open_data_file
from bot.limits import MAX_EXPORT_LINE
from bot.loader.keys import comparable
from bot.loader.lines import ExportLineReader
from bot.loader.replay import ExportFileCorrupt
from bot.recovery.keys import ItemKey, KeySchema

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Change:
    """One key changed in an incremental window: its state before the window and at its end (None: absent)."""

    keys: dict[str, Any]
    old: dict[str, Any] | None
    new: dict[str, Any] | None


class ExportRecords:
    """Reads the records of exports of one table; `key` narrows them to one item or partition."""

    def __init__(self, s3: S3Client, schema: KeySchema, key: ItemKey | None = None) -> None:
        self._s3 = s3
        self._schema = schema
        self._lines = ExportLineReader(schema.names)
        self._wanted = _wanted(key) if key is not None else None
        self.compressed_bytes = 0  # read so far: what a scan's speed is measured in

    def items(self, manifest: ExportManifest) -> Iterator[dict[str, Any]]:
        """A full export's items (of the key, when one was given)."""
        for line in self._matching(manifest, self._lines.read):
            item = msgspec.json.decode(line).get("Item")
            if isinstance(item, dict):
                yield item

    def changes(self, manifest: ExportManifest) -> Iterator[Change]:
        """An incremental export's records (of the key, when one was given)."""
        for line in self._matching(manifest, self._lines.read_change):
            record = msgspec.json.decode(line)
            yield Change(record["Keys"], record.get("OldImage"), record.get("NewImage"))

    def _matching(self, manifest: ExportManifest, read: Any) -> Iterator[bytes]:
        for data_file in manifest.files:
            yield from self._file_lines(manifest, data_file, read)

    def _file_lines(self, manifest: ExportManifest, data_file: DataFile, read: Any) -> Iterator[bytes]:
        source = manifest.location.object_url(data_file.key)
        with open_data_file(self._s3, manifest.location, data_file) as raw:
            counted = _Counted(raw, self)
            try:
                with (
                    gzip.GzipFile(fileobj=counted, mode="rb") as unzipped,
                    io.BufferedReader(unzipped, READ_BYTES) as lines,
                ):
                    for number, line in numbered_lines(lines, MAX_EXPORT_LINE):
                        if not line.strip():
                            continue
                        try:
                            _, key = read(line)
                        except (KeyError, ValueError) as error:  # LineRefused, KeyValueRefused
                            raise ExportFileCorrupt(
                                f"Line {number} of {source} is not an export record ({error})."
                            ) from None
                        if self._wanted is None or self._wanted(key):
                            yield line
            except (gzip.BadGzipFile, EOFError, zlib.error) as error:
                raise ExportFileCorrupt(f"{source} is not a complete gzip file ({error}).") from error
            except LineTooLong as error:
                raise ExportFileCorrupt(
                    f"Line {error.number} of {source} is longer than DynamoDB writes for any item; it was not read."
                ) from error


def merge_changes(streams: Iterable[Iterable[Change]], schema: KeySchema) -> list[Change]:
    """Consecutive windows' changes as one window's: each key's earliest OldImage and latest NewImage, in the order
    keys were first met (streams oldest first)."""
    merged: dict[Hashable, Change] = {}
    for stream in streams:
        for change in stream:
            identity = schema.identity(change.keys)
            first = merged.get(identity)
            merged[identity] = change if first is None else Change(first.keys, first.old, change.new)
    return list(merged.values())


def replay_items(
    base: Iterable[dict[str, Any]], windows: Iterable[Iterable[Change]], schema: KeySchema
) -> list[dict[str, Any]]:
    """A full export's items with later incrementals applied (each key's newest image, deletes removed): the state
    at the end of the last window."""
    state: dict[Hashable, dict[str, Any] | None] = {schema.identity(item): item for item in base}
    for window in windows:
        for change in window:
            state[schema.identity(change.keys)] = change.new
    return [item for item in state.values() if item is not None]


def _wanted(key: ItemKey) -> Callable[[Hashable], bool]:
    """A test on the comparable key the line reader returns: this partition (and sort key, when given)."""
    schema = key.schema
    partition = comparable(schema.partition.name, *_kind_and_text(key.partition))
    if key.sort is None or schema.sort is None:
        return lambda found: isinstance(found, tuple) and found[0] == partition
    whole = (partition, comparable(schema.sort.name, *_kind_and_text(key.sort)))
    return lambda found: found == whole


def _kind_and_text(value: dict[str, str]) -> tuple[str, str]:
    ((kind, text),) = value.items()
    return kind, text


class _Counted(io.RawIOBase):
    """Counts the compressed bytes read through it."""

    def __init__(self, inner: Any, records: ExportRecords) -> None:
        self._inner = inner
        self._records = records

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        self._records.compressed_bytes += count
        return count
