"""A data file checked as it streams: the verdict depends on the bytes, never on how S3 happened to chunk them, and
every kind of damage is reported as what it is."""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools

import orjson
from hypothesis import given
from hypothesis import strategies as st

from bot.limits import MAX_EXPORT_LINE
from bot.loader.lines import ExportLineReader
from bot.models import ExportType
from bot.verification.stream import check_stream
from tests.support.export_fixtures import sample_items
from tests.support.hostile import GIB, gzip_bomb, peak_memory

READER = ExportLineReader(("pk", "sk"))


def full_export_file(count: int, seed: int = 0, level: int = 6) -> bytes:
    lines = b"".join(orjson.dumps({"Item": item}) + b"\n" for item in sample_items(count, seed=seed))
    return gzip.compress(lines, compresslevel=level, mtime=0)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


@given(count=st.integers(0, 60), cuts=st.lists(st.integers(0, 10**6), max_size=30), seed=st.integers(0, 5))
def test_the_verdict_does_not_depend_on_chunk_boundaries(count: int, cuts: list[int], seed: int) -> None:
    data = full_export_file(count, seed)
    check = check_stream(chunked(data, cuts), READER, ExportType.FULL)
    assert check.problem is None
    assert check.lines == count
    assert check.md5 == b64md5(data) and check.compressed_bytes == len(data)


@given(count=st.integers(1, 40), cut=st.integers(1, 10**6), cuts=st.lists(st.integers(0, 10**6), max_size=10))
def test_a_file_cut_anywhere_is_reported_as_damaged(count: int, cut: int, cuts: list[int]) -> None:
    data = full_export_file(count)
    truncated = data[: cut % len(data)]
    check = check_stream(chunked(truncated, cuts), READER, ExportType.FULL)
    assert check.problem is not None
    assert check.md5 == b64md5(truncated)


def test_several_gzip_members_are_one_file_as_gzip_allows() -> None:
    data = full_export_file(7, seed=1) + full_export_file(5, seed=2)
    check = check_stream([data[:13], data[13:]], READER, ExportType.FULL)
    assert (check.problem, check.lines) == (None, 12)


def test_a_line_of_another_export_type_is_named_by_its_number() -> None:
    lines = [orjson.dumps({"Item": item}) for item in sample_items(3)]
    lines.insert(2, orjson.dumps({"Keys": {"pk": {"S": "a"}, "sk": {"N": "1"}}}))
    check = check_stream([gzip.compress(b"\n".join(lines) + b"\n")], READER, ExportType.FULL)
    assert check.problem is not None and check.problem.startswith("line 3 is not a record of this export")
    assert check.lines == 2


def test_an_incremental_line_needs_keys_and_its_new_image_must_have_the_same_key() -> None:
    keys = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    good = orjson.dumps({"Keys": keys, "NewImage": {**keys, "x": {"S": "y"}}, "OldImage": keys})
    other = orjson.dumps({"Keys": keys, "NewImage": {"pk": {"S": "b"}, "sk": {"N": "1"}}})
    check = check_stream([gzip.compress(good + b"\n" + other + b"\n")], READER, ExportType.INCREMENTAL)
    assert check.problem == "line 2 is not a record of this export: its NewImage has another key than its Keys"


def test_a_missing_key_attribute_and_bytes_that_are_not_gzip_are_said_as_such() -> None:
    no_sort_key = gzip.compress(orjson.dumps({"Item": {"pk": {"S": "a"}}}) + b"\n")
    assert check_stream([no_sort_key], READER, ExportType.FULL).problem == "line 1 has no key attribute 'sk'"
    not_gzip = check_stream([b"PK\x03\x04 a zip file"], READER, ExportType.FULL).problem
    assert not_gzip is not None and not_gzip.startswith("it is not valid gzip")
    assert check_stream([], READER, ExportType.FULL).problem == "it is empty (0 bytes), not a gzip file"


def test_a_file_that_inflates_to_one_endless_line_is_refused_instead_of_held() -> None:
    bomb = gzip_bomb(GIB)  # 1 GiB of one unterminated line, 1 MB packed
    with peak_memory() as peak:
        check = check_stream([bomb], READER, ExportType.FULL)
    assert check.problem == "line 1 is longer than 53.2 MiB"  # the loader's bound: what it would refuse
    assert peak.bytes < 2.5 * MAX_EXPORT_LINE, f"{peak.mb:.0f} MB allocated to refuse a 1 GiB line"
