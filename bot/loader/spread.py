"""Spreading a file's writes over partitions: each batch takes every n-th line of a bounded window of lines.

DynamoDB caps one partition at 1,000 write units a second, and neighbouring lines of a file often share a
partition key (an item collection, or input sorted by key): written in file order, every batch would hit the same
partition. The loader holds up to `lines` records (at most `max_bytes` of them) and then writes them as batches
that each take every n-th record of the window (batch j: records j, j+n, j+2n, ...), so consecutive batches, and
the requests inside each, spread over as many partition keys as the window holds, while memory stays bounded.
Striding is plain slicing; drawing at random was measured three times slower in the loader's hot loop.

Order per key is kept: a key appears at most once in a window (a later line for it replaces the earlier one in
place: the last one wins, as in a batch), and a window is written completely before the next one starts.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator

from bot.loader.lines import WriteRequest

DEFAULT_LINES = 20_000
DEFAULT_BYTES = 8 * 1024 * 1024


class SpreadWindow:
    """Distinct-key write requests waiting to be written as interleaved batches."""

    def __init__(self, lines: int = DEFAULT_LINES, max_bytes: int = DEFAULT_BYTES) -> None:
        self._lines = max(1, lines)
        self._max_bytes = max_bytes
        self._requests: dict[Hashable, WriteRequest] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._requests)

    @property
    def full(self) -> bool:
        """True once it holds `lines` requests or `max_bytes` of them: time to write it."""
        return len(self._requests) >= self._lines or self._bytes >= self._max_bytes

    def add(self, key: Hashable, request: WriteRequest) -> None:
        """Hold a request; one for a key already held replaces it in place (the later line wins)."""
        held = self._requests.get(key)
        if held is not None:
            self._bytes -= len(held[0])
        self._requests[key] = request
        self._bytes += len(request[0])

    def batches(self, count: int, max_bytes: int) -> Iterator[list[WriteRequest]]:
        """Empty the window as batches of at most `count` requests and `max_bytes`, each every n-th request."""
        held = list(self._requests.values())
        self._requests.clear()
        self._bytes = 0
        stride = max(1, math.ceil(len(held) / count))
        for start in range(min(stride, len(held))):
            yield from _within(held[start::stride], max_bytes)


def _within(batch: list[WriteRequest], max_bytes: int) -> Iterator[list[WriteRequest]]:
    """The batch, split where it would pass `max_bytes` (large items); at least one request per piece."""
    if sum(len(request) for request, _ in batch) <= max_bytes:
        yield batch
        return
    piece: list[WriteRequest] = []
    size = 0
    for request in batch:
        if piece and size + len(request[0]) > max_bytes:
            yield piece
            piece, size = [], 0
        piece.append(request)
        size += len(request[0])
    if piece:
        yield piece
