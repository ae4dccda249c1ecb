"""Hostile inputs and a way to show what they cost: gzip bombs, moto in a process of its own (so what it holds is not
counted as ours), and the peak of memory allocated during a call.

The readers under test must refuse such input before holding it; these tests measure that they do, with
tracemalloc (every Python allocation of this process, all threads: the bot's HTTP server and listeners included).
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

MB = 1000 * 1000
MEMBER = 16 * 1024 * 1024  # inflated bytes per gzip member: the bomb is one member repeated (gzip allows several)

_MOTO_CHILD = (
    "import sys\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"  # until the test closes our stdin
    "server.stop()\n"
)


def gzip_bomb(size: int, fill: bytes = b"{", head: bytes = b"") -> bytes:
    """gzip data inflating to `head` then `fill` repeated up to `size` bytes, no newline after the head: a ~1,000:1
    ratio, built from one compressed 16 MiB member repeated so that making it costs little."""
    whole, rest = divmod(max(size - len(head), 0), MEMBER)
    block = fill * (MEMBER // len(fill))
    return _member(head) + _member(block) * whole + _member(block[:rest])


def _member(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


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
