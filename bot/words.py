"""Counting words for every text the bot writes, messages and errors alike: `1 item`, `2 items`, `43,281 items`;
and the nearest word to a typo, for every "Did you mean" (options, tables, time zones, subcommands).

The kernel's half of the message vocabulary (handlers/kit/text.py adds Slack's dates and mentions on top), so a use
case's error and a builder's line count the same way. Kept here rather than taken from a library: `inflect` would
bring a dictionary for the handful of nouns the bot counts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

UNKNOWN = "—"


def count(number: float | None) -> str:
    """A number as people read it: `43,281`, `2,592,000`, `1.5` (never `2.592e+06`; an em dash when unknown)."""
    if number is None:
        return UNKNOWN
    if float(number).is_integer():
        return f"{int(number):,}"
    return f"{number:,.4g}" if abs(number) < 1000 else f"{number:,.1f}"


def plural(number: float | None, noun: str, many: str | None = None) -> str:
    """`1 item`, `2 items`, `43,281 items`, `2 policies`; `many` spells an irregular plural."""
    word = noun if number == 1 else many or _plural(noun)
    return f"{count(number)} {word}"


def _plural(noun: str) -> str:
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", noun):
        return noun + "es"
    return noun + "s"


def nearest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to a mistyped `word` (difflib's ratio, ignoring case: `Orders` finds `orders`), or
    None when nothing is close or `word` is itself one of them."""
    lowered = {c.lower(): c for c in candidates if c != word}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[found[0]] if found else None
