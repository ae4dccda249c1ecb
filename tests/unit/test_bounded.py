"""The bounded readers every reader of untrusted bytes uses: what they return equals the unbounded reading's when
the input is within its bound, whatever its chunking, and anything over the bound is refused having read at most
one byte more."""

from __future__ import annotations

import gzip
import io
import itertools
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.bounded import (
    GZIP_WBITS,
    READ_STEP,
    LineTooLong,
    TooLarge,
    first_line,
    inflate_gzip,
    numbered_lines,
    read_at_most,
    size_text,
)

TEXT = st.binary(max_size=600).map(lambda data: data.replace(b"\r", b"\n"))
LINES = st.lists(st.sampled_from([b"", b" ", b"ab", b"{}", b"x" * 40, b"\t"]), max_size=30).map(b"\n".join)


class CountingStream(io.RawIOBase):
    """Bytes read from a stream: how many were asked for and handed over."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.handed = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.handed += len(chunk)
        return chunk


def pieces_of(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[start:end] for start, end in itertools.pairwise(points)]


@given(data=st.binary(max_size=3000), limit=st.integers(0, 3000))
def test_read_at_most_returns_a_stream_within_its_bound_and_refuses_one_past_it_having_read_one_byte_more(
    data: bytes, limit: int
) -> None:
    stream = CountingStream(data)
    if len(data) <= limit:
        assert read_at_most(stream, limit, "it", "too much") == data
    else:
        with pytest.raises(TooLarge):
            read_at_most(stream, limit, "it", "too much")
        assert stream.handed == limit + 1


def test_read_at_most_refuses_a_declared_size_over_the_bound_before_reading() -> None:
    stream = CountingStream(b"small")
    with pytest.raises(TooLarge) as refused:
        read_at_most(stream, 1024, "s3://b/manifest-files.json", "more than a manifest holds", declared=10**12)
    assert stream.handed == 0
    assert refused.value.message == "s3://b/manifest-files.json is larger than 1 KiB, more than a manifest holds."


@given(
    members=st.lists(st.binary(max_size=5000), min_size=1, max_size=4),
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
    step=st.integers(1, 4096),
)
def test_inflate_gzip_gives_back_every_member_in_pieces_of_at_most_its_step(
    members: list[bytes], cuts: list[int], step: int
) -> None:
    data = b"".join(gzip.compress(member, mtime=0) for member in members)
    pieces = list(inflate_gzip(pieces_of(data, cuts), step))
    assert b"".join(pieces) == b"".join(members)
    assert all(0 < len(piece) <= step for piece in pieces)


@given(data=st.binary(max_size=3000).map(lambda d: d * 3), cut=st.integers(0, 10**6), step=st.integers(1, 600))
def test_inflate_gzip_gives_back_all_a_truncated_stream_holds_as_an_unbounded_inflate_would(
    data: bytes, cut: int, step: int
) -> None:
    whole = gzip.compress(data, mtime=0)
    partial = whole[: cut % len(whole)]  # the peek reads the first bytes of a file
    assert b"".join(inflate_gzip([partial], step)) == zlib.decompressobj(GZIP_WBITS).decompress(partial)


def test_inflate_gzip_stops_at_its_step_however_much_the_input_inflates() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # ~64 KB
    pieces = inflate_gzip([bomb], 1024 * 1024)
    assert len(next(pieces)) == 1024 * 1024


def test_inflate_gzip_refuses_bytes_that_are_not_gzip() -> None:
    with pytest.raises(zlib.error):
        list(inflate_gzip([b"PK\x03\x04 a zip file"]))


def reference_first_line(text: bytes, limit: int) -> bytes | None:
    """First non-blank complete line within the first limit + 1 bytes; a last line without newline only when the
    whole text is within the limit."""
    *complete, last = text[: limit + 1].split(b"\n")
    for line in complete:
        if line.strip():
            return line
    return last if len(text) <= limit and last.strip() else None


@given(text=LINES, limit=st.integers(0, 700), cuts=st.lists(st.integers(0, 10**4), max_size=6))
def test_first_line_finds_the_first_non_blank_line_within_its_bound_however_the_text_arrives(
    text: bytes, limit: int, cuts: list[int]
) -> None:
    assert first_line(pieces_of(text, cuts), limit) == reference_first_line(text, limit)


def test_first_line_takes_no_more_pieces_than_its_bound_needs() -> None:
    taken: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            taken.append(1)
            yield b"{" * 1000

    assert first_line(endless(), 4000) is None
    assert len(taken) == 5


@given(text=TEXT, limit=st.integers(1, 200), buffer=st.integers(1, 64))
def test_numbered_lines_gives_every_line_within_its_bound_and_refuses_the_first_one_past_it(
    text: bytes, limit: int, buffer: int
) -> None:
    reader = io.BufferedReader(io.BytesIO(text), buffer)
    lines = text.splitlines(keepends=True)
    too_long = next((number for number, line in enumerate(lines, start=1) if len(line) > limit), None)
    if too_long is None:
        assert list(numbered_lines(reader, limit)) == list(enumerate(lines, start=1))
    else:
        got: list[tuple[int, bytes]] = []
        with pytest.raises(LineTooLong) as refused:
            got.extend(numbered_lines(reader, limit))
        assert refused.value.number == too_long
        assert got == list(enumerate(lines[: too_long - 1], start=1))


def test_a_line_longer_than_a_read_step_is_read_whole_and_one_past_the_bound_refused() -> None:
    limit = 3 * READ_STEP
    long = b"x" * (limit - 1) + b"\n"
    text = b"a\n" + long + b"b" * (READ_STEP + 7) + b"\n" + b"c" * (limit + 1)
    lines = numbered_lines(io.BufferedReader(io.BytesIO(text)), limit)
    assert [next(lines) for _ in range(3)] == [(1, b"a\n"), (2, long), (3, b"b" * (READ_STEP + 7) + b"\n")]
    with pytest.raises(LineTooLong, match="line 4 is longer than 3 MiB"):
        next(lines)


def test_sizes_read_as_people_write_them() -> None:
    assert [size_text(n) for n in (900, 64 * 1024, 2 * 1024 * 1024, 55_771_136)] == [
        "900 bytes",
        "64 KiB",
        "2 MiB",
        "53.2 MiB",
    ]
