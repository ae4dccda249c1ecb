"""Hostile inputs and a way to show what they cost: gzip bombs, moto in a process of its own (so what it holds is not
counted as ours), and the peak of memory allocated during a call.

The readers under test must refuse such input before holding it; these tests measure that they do, with
tracemalloc (every Python allocation of this process, all threads: the bot's HTTP server and listeners included).
"""

from __future__ import annotations

import functools
import struct
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

MB = 1000 * 1000
GIB = 1024 * 1024 * 1024
MEMBER = 16 * 1024 * 1024  # inflated bytes per repeated block of a bomb

_MOTO_CHILD = (
    "import sys\n"
    "from bot.demo.world import start_moto\n"
    "server, endpoint = start_moto()\n"
    "print(endpoint.rsplit(':', 1)[1], flush=True)\n"
    "sys.stdin.read()\n"  # until the test closes our stdin
    "server.stop()\n"
)


@functools.cache
def gzip_bomb(size: int, fill: bytes = b"{", head: bytes = b"") -> bytes:
    """One gzip member inflating to `head` then `fill` repeated up to `size` bytes (no newline after the head), at
    deflate's ~1,000:1. Built in a fraction of a second: each 16 MiB block is compressed once, after a full flush
    (which resets the compressor), so its bytes can be repeated; the trailer's CRC and size are the whole data's."""
    whole, rest = divmod(max(size - len(head), 0), MEMBER)
    block = fill * (MEMBER // len(fill))
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate: the gzip framing is written here
    parts = [packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)]
    repeated = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    parts += [repeated] * whole
    parts += [packer.compress(block[:rest]) + packer.flush()]
    crc = zlib.crc32(head)
    for _ in range(whole):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(block[:rest], crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, mtime 0, best compression
    return header + b"".join(parts) + struct.pack("<II", crc, size & 0xFFFFFFFF)


@dataclass
class Peak:
    """The most bytes allocated at once during the block, above what was allocated when it began."""

    bytes: int = 0

    @property
    def mb(self) -> float:
        return self.bytes / MB


@contextmanager
def peak_memory() -> Iterator[Peak]:
    """Trace every allocation of the process (all threads) during the block; the peak is filled in at its end."""
    peak = Peak()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        yield peak
        _, most = tracemalloc.get_traced_memory()
        peak.bytes = most - before
    finally:
        tracemalloc.stop()


@contextmanager
def moto_apart() -> Iterator[str]:
    """moto's server in a child process (its endpoint URL): the objects it serves are not allocated in ours."""
    child = subprocess.Popen(
        [sys.executable, "-c", _MOTO_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
