"""Spreading a file's writes over partitions: batches are drawn at random from a bounded window of lines.

DynamoDB caps one partition at 1,000 write units a second, and neighbouring lines of a file often share a
partition key (an item collection, or input sorted by key): written in file order, every batch would hit the same
partition. Drawing each batch from the next `lines` records (at most `max_bytes` of them) spreads consecutive
batches over as many partition keys as the window holds, while memory stays bounded.

Order per key is kept: a key appears at most once in the window (a later line for it replaces the earlier one
in place: the last one wins, as in a batch), and a line read after its key left the window is written after it.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

from bot.loader.lines import WriteRequest

DEFAULT_LINES = 1000
DEFAULT_BYTES = 4 * 1024 * 1024


class SpreadWindow:
    """Distinct-key write requests waiting to be drawn into batches in random order."""

    def __init__(
        self, lines: int = DEFAULT_LINES, max_bytes: int = DEFAULT_BYTES, rng: random.Random | None = None
    ) -> None:
        self._lines = max(1, lines)
        self._max_bytes = max_bytes
        self._random = rng or random.Random()
        self._keys: list[Hashable] = []
        self._requests: dict[Hashable, WriteRequest] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def full(self) -> bool:
        """True once it holds `lines` requests or `max_bytes` of them: time to draw a batch."""
        return len(self._keys) >= self._lines or self._bytes >= self._max_bytes

    def add(self, key: Hashable, request: WriteRequest) -> None:
        """Hold a request; one for a key already held replaces it (the later line wins)."""
        held = self._requests.get(key)
        if held is None:
            self._keys.append(key)
        else:
            self._bytes -= len(held[0])
        self._requests[key] = request
        self._bytes += len(request[0])

    def draw(self, count: int, max_bytes: int) -> list[WriteRequest]:
        """Up to `count` requests of distinct keys, chosen at random, together at most `max_bytes` (at least one)."""
        batch: list[WriteRequest] = []
        size = 0
        while self._keys and len(batch) < count:
            index = int(self._random.random() * len(self._keys))
            request = self._requests[self._keys[index]]
            if batch and size + len(request[0]) > max_bytes:
                break
            self._remove(index)
            batch.append(request)
            size += len(request[0])
        return batch

    def _remove(self, index: int) -> None:
        key = self._keys[index]
        last = self._keys.pop()
        if index < len(self._keys):
            self._keys[index] = last
        self._bytes -= len(self._requests.pop(key)[0])
