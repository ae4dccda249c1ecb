"""A uniform random sample of an export's items, drawn in the one pass that verifies the export (reservoir
sampling, Algorithm R): memory holds `size` lines whatever the export's size."""

from __future__ import annotations

import random
from typing import Any

import msgspec


class Reservoir:
    """Keeps `size` lines, each line seen so far equally likely to be among them."""

    def __init__(self, size: int, rng: random.Random | None = None) -> None:
        self.size = size
        self.seen = 0
        self._lines: list[bytes] = []
        self._rng = rng or random.Random()

    def offer(self, line: bytes) -> None:
        """Consider one line."""
        self.seen += 1
        if len(self._lines) < self.size:
            self._lines.append(line)
            return
        slot = self._rng.randrange(self.seen)
        if slot < self.size:
            self._lines[slot] = line

    def items(self) -> list[dict[str, Any]]:
        """The sampled items, in DynamoDB JSON (a full export's `Item`)."""
        return [dict(msgspec.json.decode(line)["Item"]) for line in self._lines]
