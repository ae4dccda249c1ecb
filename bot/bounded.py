"""Reading untrusted bytes with a bound (bot/limits.py says which and why): a stream read in steps, gzip inflated in
steps, lines cut at their bound. Input over its bound is refused before the excess is held, so a hostile object
costs its bound, never its declared or inflated size.

Hand-written because the standard readers have no such bound: `read()` and `readline()` take whatever arrives,
`zlib.decompress` and `gzip.decompress` inflate everything at once, and http.client's `read(n)` allocates `n`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from bot.errors import BotError
from bot.limits import INFLATE_STEP, KIB, MIB

READ_STEP = 1 * MIB
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream
NEWLINE = ord("\n")


class Readable(Protocol):
    """A binary stream: a file, an S3 body, a WSGI input."""

    def read(self, size: int = -1, /) -> bytes: ...


class LineReadable(Protocol):
    """A binary stream read line by line (io.BufferedReader, gzip.GzipFile)."""

    def readline(self, size: int = -1, /) -> bytes: ...


class TooLarge(BotError):
    """Input larger than the most its source can legitimately be; nothing past the bound was read."""

    def __init__(self, what: str, limit: int, why: str, fix: str | None = None) -> None:
        super().__init__(f"{what} is larger than {size_text(limit)}, {why}.", fix)
        self.limit = limit


class LineTooLong(ValueError):
    """A line longer than its bound; `number` is its line number (1 for the first)."""

    def __init__(self, number: int, limit: int) -> None:
        super().__init__(f"line {number} is longer than {size_text(limit)}")
        self.number = number
        self.limit = limit


def size_text(size: int) -> str:
    """A bound for people: `2 MiB`, `64 KiB`, `900 bytes`."""
    if size >= MIB:
        return f"{size / MIB:.3g} MiB"
    if size >= KIB:
        return f"{size / KIB:.3g} KiB"
    return f"{size} bytes"


def read_at_most(
    stream: Readable, limit: int, what: str, why: str, *, declared: int | None = None, fix: str | None = None
) -> bytes:
    """All of `stream`, refused with TooLarge as soon as it passes `limit` bytes (or declares more, when its source
    says its size up front: S3's Content-Length), read a step at a time so at most `limit` + 1 bytes are held."""
    if declared is not None and declared > limit:
        raise TooLarge(what, limit, why, fix)
    parts: list[bytes] = []
    held = 0
    while chunk := stream.read(min(READ_STEP, limit + 1 - held)):
        held += len(chunk)
        if held > limit:
            raise TooLarge(what, limit, why, fix)
        parts.append(chunk)
    return b"".join(parts)


def inflate_gzip(chunks: Iterable[bytes], step: int = INFLATE_STEP) -> Iterator[bytes]:
    """The inflated bytes of gzip data given in chunks, at most `step` bytes per piece (a file of several gzip
    members, as gzip allows, continues with the next); raises zlib.error for bytes that are not gzip. A partial
    stream yields what it holds."""
    inflater = zlib.decompressobj(GZIP_WBITS)
    for chunk in chunks:
        data = chunk
        while True:
            piece = inflater.decompress(data, step)
            if piece:
                yield piece
            if inflater.eof:
                data = inflater.unused_data
                if not data:
                    break
                inflater = zlib.decompressobj(GZIP_WBITS)
            else:
                data = inflater.unconsumed_tail
                if not data and len(piece) < step:  # a full piece may leave output inside zlib: ask again
                    break


def first_line(pieces: Iterable[bytes], limit: int) -> bytes | None:
    """The first non-blank line (without its newline) in the first `limit` bytes of text given in pieces; None when
    those bytes hold none (no more of the text is taken)."""
    pending = b""
    for piece in pieces:
        pending += piece[: limit + 1 - len(pending)]
        while (end := pending.find(b"\n")) >= 0:
            line, pending = pending[:end], pending[end + 1 :]
            limit -= end + 1
            if line.strip():
                return line
        if len(pending) > limit:
            return None
    return pending if pending.strip() else None


def numbered_lines(reader: LineReadable, limit: int) -> Iterator[tuple[int, bytes]]:
    """(number, line) for each line of `reader`, newline included, the first numbered 1; raises LineTooLong as soon
    as a line passes `limit` bytes, having held at most `limit` + 1 of it (a line longer than a read step goes into
    one growing buffer, where `readline(limit)` would hold its pieces and their join, twice the bound)."""
    readline = reader.readline
    first = min(READ_STEP, limit + 1)
    number = 0
    while line := readline(first):
        number += 1
        if len(line) == first and line[-1] != NEWLINE:
            line = _rest_of_line(readline, line, limit, number)
        yield number, line


def _rest_of_line(readline: Callable[[int], bytes], start: bytes, limit: int, number: int) -> bytes:
    held = bytearray(start)
    while len(held) <= limit and held[-1] != NEWLINE:
        more = readline(min(READ_STEP, limit + 1 - len(held)))
        if not more:
            break
        held += more
    if len(held) > limit:
        raise LineTooLong(number, limit)
    return bytes(held)
