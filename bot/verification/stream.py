"""One data file of an export checked as it streams past: its MD5, that it is whole gzip, and that every line is one
record of the export's type, with memory bounded by the chunk size whatever the file's size.

Lines are validated by the loader's own reader (bot/loader/lines.py), so what verification accepts is exactly what
a restore would write. Decompression is capped per step (`MAX_INFLATE`), so a small file that inflates hugely
cannot exhaust memory either.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.bounded import size_text
from bot.limits import INFLATE_STEP, MAX_EXPORT_LINE
from bot.loader.lines import ExportLineReader, LineRefused
from bot.models import ExportType

MAX_INFLATE = INFLATE_STEP
MAX_LINE = MAX_EXPORT_LINE  # the loader's bound (bot/limits.py): anything longer is not an export line


class Halted(Exception):
    """The work was asked to stop (shutdown, or the claim on the verification was lost)."""


@dataclass
class FileCheck:
    """What streaming one file found: its MD5 (base64), sizes, lines, and the first thing wrong with its content."""

    md5: str = ""
    compressed_bytes: int = 0
    lines: int = 0
    problem: str | None = None  # the first problem with the content (gzip or a line), None when it is sound


def check_stream(
    chunks: Iterable[bytes],
    reader: ExportLineReader,
    export_type: ExportType,
    on_chunk: Callable[[int], None] = lambda _size: None,
    on_line: Callable[[bytes], None] | None = None,
) -> FileCheck:
    """Stream a gzip data file: MD5 of every byte, gzip integrity, and each line read as the loader reads it.

    `on_chunk(size)` is called after each chunk; it may raise Halted to stop. `on_line` is given every valid line
    (a drill samples from them). Checking lines stops at the first bad one (the rest of the file is still hashed, so
    its MD5 is reported too).
    """
    result = FileCheck()
    digest = hashlib.md5(usedforsecurity=False)
    lines = _LineChecker(reader, export_type, on_line)
    inflater: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for chunk in chunks:
        digest.update(chunk)
        result.compressed_bytes += len(chunk)
        if inflater is not None and lines.problem is None:
            inflater = _inflate(inflater, chunk, lines)
        on_chunk(len(chunk))
    if result.compressed_bytes == 0:
        lines.fail("it is empty (0 bytes), not a gzip file")
    elif lines.problem is None and inflater is not None:
        if not inflater.eof:
            lines.fail("it is not a whole gzip file: it ends before the gzip stream does (truncated?)")
        else:
            lines.finish()
    result.md5 = base64.b64encode(digest.digest()).decode()
    result.lines = lines.count
    result.problem = lines.problem
    return result


def _inflate(inflater: zlib._Decompress, data: bytes, lines: _LineChecker) -> zlib._Decompress | None:
    """Feed compressed bytes through; a file of several gzip members (allowed by gzip) continues with the next.
    None once the content is known to be wrong (the rest is only hashed)."""
    try:
        while data and lines.problem is None:
            lines.feed(inflater.decompress(data, MAX_INFLATE))
            if not inflater.eof:
                data = inflater.unconsumed_tail
            elif data := inflater.unused_data:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    except zlib.error as error:
        lines.fail(f"it is not valid gzip ({error})")
    return None if lines.problem is not None else inflater


class _LineChecker:
    """Splits inflated text into lines and reads each one; remembers the first problem."""

    def __init__(
        self, reader: ExportLineReader, export_type: ExportType, on_line: Callable[[bytes], None] | None
    ) -> None:
        self._read = reader.read_change if export_type == ExportType.INCREMENTAL else reader.read
        self._on_line = on_line
        self._pending = b""
        self.count = 0
        self.problem: str | None = None

    def fail(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem

    def feed(self, text: bytes) -> None:
        if not text or self.problem is not None:
            return
        data = self._pending + text
        start = 0
        while self.problem is None:
            end = data.find(b"\n", start)
            if end < 0:
                break
            self._line(data[start : end + 1])
            start = end + 1
        self._pending = data[start:]
        if len(self._pending) > MAX_LINE:
            self.fail(f"line {self.count + 1} is longer than {size_text(MAX_LINE)}")

    def finish(self) -> None:
        if self._pending.strip() and self.problem is None:
            self._line(self._pending)
        self._pending = b""

    def _line(self, line: bytes) -> None:
        number = self.count + 1
        try:
            self._read(line)
        except KeyError as missing:
            self.fail(f"line {number} has no key attribute {missing}")
            return
        except LineRefused as refused:
            self.fail(f"line {number} is not a record of this export: {refused}")
            return
        except ValueError as refused:  # a key value DynamoDB would refuse (KeyValueRefused)
            self.fail(f"line {number} has a key DynamoDB would refuse: {refused}")
            return
        self.count = number
        if self._on_line is not None:
            self._on_line(line)
