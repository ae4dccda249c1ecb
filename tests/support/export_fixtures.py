"""Writes DynamoDB exports to S3 laid out exactly as real exports are, with a realistic mix of item types.

Layout (see the reference on DynamoDB exports): `_started`, manifest-summary.json/.md5, manifest-files.json/.md5
(`checksums=".checksum"` names them as AWS's documentation does, `checksums=None` leaves them out, and
`md5_missing=n` drops the MD5 of n data files from the manifest, for the checks an export cannot pass) and gzip data
files named with 26 random lowercase letters and digits; empty partitions are 20-byte gzip files.
Full exports keep their data in `<p>/AWSDynamoDB/<ExportId>/data/`; incremental exports put theirs in the
`<p>/AWSDynamoDB/data/` folder shared by every export of the prefix. Items stream through temporary files, so
millions of them can be written without holding them in memory.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import random
import string
import tempfile
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bot.models import ExportLocation

ACCOUNT = "123456789012"
REGION = "us-east-1"
EMPTY_GZIP = gzip.compress(b"", mtime=0)
assert len(EMPTY_GZIP) == 20

CHECKSUM_SUFFIXES = (".md5", ".checksum")
Item = dict[str, Any]
Change = tuple[Item, Item | None] | tuple[Item, Item | None, Item | None]


# ----------------------------------------------------------------------------------------------- sample items


def sample_items(n: int, seed: int = 0, start: int = 0) -> Iterator[Item]:
    """`n` wire-format items (key `pk` S + `sk` N, unique by index) mixing every DynamoDB type, ~300 bytes each."""
    rng = random.Random(seed)
    bits = rng.getrandbits
    words = ["alpha", "beta", "gamma", "delta", "Zoë", "naïve", "日本", "emoji 🚀", 'quote "q"', "back\\slash", ""]
    names = [" ".join(rng.choice(words[:-1]) for _ in range(2)) for _ in range(256)]
    texts = [rng.choice(words) + "".join(rng.choices(string.ascii_letters, k=rng.randint(0, 8))) for _ in range(256)]
    numbers = _canonical_numbers(rng)
    unique_blobs: set[str] = set()
    while len(unique_blobs) < 256:
        unique_blobs.add(base64.b64encode(rng.randbytes(rng.randint(4, 18))).decode())
    blobs = sorted(unique_blobs)
    unique_texts = sorted({t for t in texts if t})
    for i in range(start, start + n):
        r = bits(32)
        s0, s1, s2 = r & 0xFF, (r >> 8) & 0xFF, (r >> 16) & 0xFF
        count = 1 + (r >> 24) % 2
        item: Item = {
            "pk": {"S": f"user#{i // 4:08d}"},
            "sk": {"N": str(i % 4)},
            "name": {"S": names[s0]},
            "bio": {"S": texts[s1] if r & 8 else ""},
            "age": {"N": str(s2 % 100)},
            "balance": {"N": numbers[s1]},
            "avatar": {"B": blobs[s2]},
            "active": {"BOOL": bool(r & 1)},
            "tags": {"SS": unique_texts[s0 % 100 : s0 % 100 + count]},
            "scores": {"NS": numbers[s2 // 2 : s2 // 2 + count]},
            "keys": {"BS": blobs[s0 // 2 : s0 // 2 + count]},
            "profile": {
                "M": {
                    "city": {"S": names[s2]},
                    "history": {
                        "L": [
                            {"S": texts[s2]},
                            {"M": {"at": {"N": str(1_700_000_000 + i)}, "ok": {"BOOL": bool(r & 2)}}},
                            {"L": [{"B": blobs[s1]}, {"NULL": True}]},
                        ]
                    },
                }
            },
        }
        if r & 4:
            item["deleted_at"] = {"NULL": True}
        yield item


def _canonical_numbers(rng: random.Random) -> list[str]:
    """Distinct numbers as DynamoDB writes them (no trailing zeros), up to its 38 significant digits."""
    values = {"0", "-1", "12345678901234567890123456789.123456789", "0.000000001", "-98765432109876543210.5"}
    while len(values) < 256:
        whole = rng.randint(-(10**20), 10**20) if rng.random() < 0.1 else rng.randint(-1000, 10**5)
        fraction = str(rng.randint(1, 999)).rstrip("0")
        values.add(str(whole) if rng.random() < 0.4 else f"{whole}.{fraction}")
    return sorted(values)


def decoded(item: Item) -> Item:
    """The item as the low-level boto3 client returns it: `B` and `BS` values as bytes, everything else as is."""
    return {name: _decoded_value(value) for name, value in item.items()}


def _decoded_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _decoded_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_decoded_value(v) for v in inner]}
    return {kind: inner}


def key_of(item: Item, key_names: Sequence[str] = ("pk", "sk")) -> tuple[str, ...]:
    """The item's key as a tuple of the key values' text (the form `DynamoDbSink.items` uses)."""
    return tuple(str(next(iter(item[name].values()))) for name in key_names)


# ----------------------------------------------------------------------------------------------- exports


def write_full_export(
    s3: Any,
    bucket: str,
    prefix: str | None,
    items: Iterable[Item],
    *,
    files: int = 3,
    empty_files: int = 1,
    export_time: datetime | None = None,
    export_id: str | None = None,
    table_name: str = "source",
    export_format: str = "DYNAMODB_JSON",
    keys_include_prefix: bool = True,
    compresslevel: int = 1,
    checksums: str | None = ".md5",
    md5_missing: int = 0,
    raw_lines: Iterable[bytes] = (),
) -> ExportLocation:
    """A FULL_EXPORT of `items` spread over `files` data files (plus `empty_files` empty partitions); `raw_lines`
    (each with its newline) follow the items as they are, for lines no export writer would make."""
    export_time = _ms(export_time or datetime.now(UTC))
    export_id = export_id or _export_id(export_time)
    location = ExportLocation(bucket, prefix, export_id)
    s3.put_object(Bucket=bucket, Key=location.folder + "_started", Body=b"")
    entries, count = _write_data_files(
        s3,
        location,
        location.folder + "data/",
        enumerate_lines(itertools.chain((orjson.dumps({"Item": item}) + b"\n" for item in items), raw_lines)),
        files,
        empty_files,
        keys_include_prefix,
        compresslevel,
    )
    summary = _summary(location, table_name, export_time, export_time + timedelta(minutes=5), count, export_format)
    summary["exportTime"] = _iso(export_time)
    _write_manifests(s3, location, summary, _without_md5(entries, md5_missing), keys_include_prefix, checksums)
    return location


def enumerate_lines(lines: Iterable[bytes]) -> Iterator[tuple[bytes, int]]:
    """(line, number): the data files take the lines round robin by number."""
    return ((line, number) for number, line in enumerate(lines))


def write_incremental_export(
    s3: Any,
    bucket: str,
    prefix: str | None,
    changes: Iterable[Change],
    from_time: datetime,
    to_time: datetime,
    *,
    files: int = 2,
    empty_files: int = 1,
    export_id: str | None = None,
    table_name: str = "source",
    view: str = "NEW_AND_OLD_IMAGES",
    keys_include_prefix: bool = True,
    compresslevel: int = 1,
    checksums: str | None = ".md5",
    md5_missing: int = 0,
) -> ExportLocation:
    """An INCREMENTAL_EXPORT: each change is (keys, new image or None for a delete[, old image]).

    Changes with the same keys land in the same file, in the given order, as DynamoDB partitions by key.
    """
    start = _ms(to_time) + timedelta(seconds=24)
    export_id = export_id or _export_id(start)
    location = ExportLocation(bucket, prefix, export_id)
    s3.put_object(Bucket=bucket, Key=location.folder + "_started", Body=b"")
    micros = int(from_time.timestamp() * 1_000_000)

    def lines() -> Iterator[tuple[bytes, int]]:
        for number, change in enumerate(changes):
            keys, new_image = change[0], change[1]
            record: dict[str, Any] = {"Metadata": {"WriteTimestampMicros": {"N": str(micros + number)}}, "Keys": keys}
            old_image = change[2] if len(change) == 3 else None
            if old_image is not None and view == "NEW_AND_OLD_IMAGES":
                record["OldImage"] = old_image
            if new_image is not None:
                record["NewImage"] = new_image
            yield orjson.dumps(record) + b"\n", zlib.crc32(orjson.dumps(keys, option=orjson.OPT_SORT_KEYS))

    entries, count = _write_data_files(
        s3, location, location.root + "data/", lines(), files, empty_files, keys_include_prefix, compresslevel
    )
    summary = _summary(location, table_name, start, start + timedelta(minutes=5), count, "DYNAMODB_JSON")
    summary["version"] = "2023-08-01"
    summary["exportFromTime"] = _iso(_ms(from_time))
    summary["exportToTime"] = _iso(_ms(to_time))
    summary["billedSizeBytes"] = max(10_000_000, summary["billedSizeBytes"])
    summary["outputView"] = view
    summary["exportType"] = "INCREMENTAL_EXPORT"
    _write_manifests(s3, location, summary, _without_md5(entries, md5_missing), keys_include_prefix, checksums)
    return location


def write_moto_style_export(s3: Any, bucket: str, prefix: str, items: Iterable[Item]) -> ExportLocation:
    """An export as moto writes one: no manifests, one `<p>/AWSDynamoDB/<uuid>/data/<uuid>.gz`, not under the id."""
    body = gzip.compress(b"".join(orjson.dumps({"Item": item}) + b"\n" for item in items), compresslevel=1)
    s3.put_object(Bucket=bucket, Key=f"{prefix}/AWSDynamoDB/{uuid.uuid4()}/data/{uuid.uuid4()}.gz", Body=body)
    return ExportLocation(bucket, prefix, uuid.uuid4().hex)


# ----------------------------------------------------------------------------------------------- internals


def _write_data_files(
    s3: Any,
    location: ExportLocation,
    folder: str,
    lines: Iterable[tuple[bytes, int]],
    files: int,
    empty_files: int,
    keys_include_prefix: bool,
    compresslevel: int,
) -> tuple[list[dict[str, Any]], int]:
    """Gzip each (line, slot) into file `slot % files` (on disk), upload them, and return the manifest entries."""
    entries: list[dict[str, Any]] = []
    total = 0
    with tempfile.TemporaryDirectory(prefix="export-fixture-") as tmp:
        paths = [Path(tmp) / f"{n}.json.gz" for n in range(files)]
        writers = [gzip.open(path, "wb", compresslevel=compresslevel) for path in paths]  # noqa: SIM115
        counts = [0] * files
        try:
            for line, slot in lines:
                slot %= files
                writers[slot].write(line)
                counts[slot] += 1
        finally:
            for writer in writers:
                writer.close()
        for path, count in zip(paths, counts, strict=True):
            key = folder + _random_name()
            digest = hashlib.md5(usedforsecurity=False)
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                    digest.update(chunk)
            with path.open("rb") as handle:
                s3.put_object(Bucket=location.bucket, Key=key, Body=handle)
            entries.append(_entry(location, key, count, digest.digest(), keys_include_prefix))
            total += count
    for _ in range(empty_files):
        key = folder + _random_name()
        s3.put_object(Bucket=location.bucket, Key=key, Body=EMPTY_GZIP)
        entries.append(_entry(location, key, 0, hashlib.md5(EMPTY_GZIP).digest(), keys_include_prefix))  # noqa: S324
    random.Random(location.export_id).shuffle(entries)
    return entries, total


def _entry(location: ExportLocation, key: str, count: int, md5: bytes, keys_include_prefix: bool) -> dict[str, Any]:
    return {
        "itemCount": count,
        "md5Checksum": base64.b64encode(md5).decode(),
        "etag": md5.hex() + "-1",
        "dataFileS3Key": key if keys_include_prefix else _relative(location, key),
    }


def _write_manifests(
    s3: Any,
    location: ExportLocation,
    summary: dict[str, Any],
    entries: list[dict[str, Any]],
    with_prefix: bool,
    checksums: str | None,
) -> None:
    files_key = location.folder + "manifest-files.json"
    files_body = b"".join(orjson.dumps(entry) + b"\n" for entry in entries)
    summary["manifestFilesS3Key"] = files_key if with_prefix else _relative(location, files_key)
    summary_body = orjson.dumps(summary)
    s3.put_object(Bucket=location.bucket, Key=files_key, Body=files_body)
    s3.put_object(Bucket=location.bucket, Key=location.folder + "manifest-summary.json", Body=summary_body)
    if checksums is None:
        return
    assert checksums in CHECKSUM_SUFFIXES, checksums
    s3.put_object(Bucket=location.bucket, Key=location.folder + "manifest-files" + checksums, Body=_b64md5(files_body))
    summary_checksum = location.folder + "manifest-summary" + checksums
    s3.put_object(Bucket=location.bucket, Key=summary_checksum, Body=_b64md5(summary_body))


def _without_md5(entries: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The entries with `md5Checksum` left out of the first `count` (in manifest order)."""
    return [{k: v for k, v in e.items() if k != "md5Checksum"} if n < count else e for n, e in enumerate(entries)]


def _summary(
    location: ExportLocation, table: str, start: datetime, end: datetime, count: int, export_format: str
) -> dict[str, Any]:
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return {
        "version": "2020-06-30",
        "exportArn": f"{table_arn}/export/{location.export_id}",
        "startTime": _iso(start),
        "endTime": _iso(end),
        "tableArn": table_arn,
        "tableId": str(uuid.uuid5(uuid.NAMESPACE_URL, table_arn)),
        "s3Bucket": location.bucket,
        "s3Prefix": location.prefix,
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": "",
        "billedSizeBytes": count * 300,
        "itemCount": count,
        "outputFormat": export_format,
    }


def _relative(location: ExportLocation, key: str) -> str:
    return key[len(location.prefix) + 1 :] if location.prefix else key


def _b64md5(data: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest())


def _random_name() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=26)) + ".json.gz"


def _export_id(moment: datetime) -> str:
    return f"{int(moment.timestamp() * 1000):014d}-{uuid.uuid4().hex[:8]}"


def _ms(moment: datetime) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


def _iso(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


# ----------------------------------------------------------------------------------------------- a chain's history


@dataclass(frozen=True)
class ExportChain:
    """A full export and two incrementals after it, and the table they describe once applied in order."""

    full: ExportLocation
    first: ExportLocation
    second: ExportLocation
    table: dict[tuple[str, ...], Item]  # by key_of: what a replay of the whole chain must leave (decoded items)
    writes: int  # items the chain puts (the full export's, then each incremental's new images)
    deletes: int  # deletes the incrementals apply


def write_export_chain(
    s3: Any, bucket: str, prefix: str, base: list[Item], at: datetime, *, full_files: int = 3, full_empty: int = 1
) -> ExportChain:
    """The full export of `base` at `at`; an hour later five items renamed, three deleted and five inserted; an hour
    after that one insert deleted again, one deleted item revived and one renamed item renamed again (NEW_IMAGE view).
    `table` is that history applied by hand, never by the code under test."""
    full = write_full_export(s3, bucket, prefix, base, files=full_files, empty_files=full_empty, export_time=at)
    renamed = [{**item, "name": {"S": f"renamed {n}"}} for n, item in enumerate(base[:5])]
    deleted, inserted = base[5:8], list(sample_items(5, seed=4, start=1000))
    changes: list[Change] = [(key_attributes(i), i, base[n]) for n, i in enumerate(renamed)]
    changes += [(key_attributes(i), None, i) for i in deleted] + [(key_attributes(i), i) for i in inserted]
    first = write_incremental_export(s3, bucket, prefix, changes, at, at + timedelta(hours=1), files=2)
    revived = {**base[5], "name": {"S": "back again"}}
    again = {**renamed[0], "name": {"S": "renamed twice"}}
    later: list[Change] = [(key_attributes(inserted[0]), None, inserted[0]), (key_attributes(revived), revived)]
    later.append((key_attributes(again), again, renamed[0]))
    hours = (at + timedelta(hours=1), at + timedelta(hours=2))
    second = write_incremental_export(s3, bucket, prefix, later, *hours, files=2, view="NEW_IMAGE")
    table = {key_of(i): decoded(i) for i in base}
    table.update({key_of(i): decoded(i) for i in renamed})
    for item in deleted:
        del table[key_of(item)]
    table.update({key_of(i): decoded(i) for i in inserted})
    del table[key_of(inserted[0])]
    table |= {key_of(revived): decoded(revived), key_of(again): decoded(again)}
    return ExportChain(full, first, second, table, len(base) + len(renamed) + len(inserted) + 2, len(deleted) + 1)


def key_attributes(item: Item) -> Item:
    """The key attributes of a `pk`/`sk` item, as an incremental export names a change."""
    return {"pk": item["pk"], "sk": item["sk"]}
