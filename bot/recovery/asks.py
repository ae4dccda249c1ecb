"""What the recovery commands ask for, parsed (the handlers build these), and what they are told at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.recovery.models import Preparation
from bot.restores.rate import RateRequest


@dataclass(frozen=True)
class KeyAsk:
    """`/ddb-item` or `/ddb-recover`: a table, a key as written (`[(attribute, text), …]`) and a time."""

    table: str
    key: tuple[tuple[str, str], ...]
    at: datetime


@dataclass(frozen=True)
class WindowAsk:
    """`/ddb-revert`: a table, the window [since, until), an optional filter and write rate."""

    table: str
    since: datetime
    until: datetime
    where: str | None = None
    rate: RateRequest | None = None


@dataclass(frozen=True)
class Started:
    """A preparation under way, and what people are told about it now (plain sentences; builders escape them)."""

    preparation: Preparation
    lines: tuple[str, ...]
