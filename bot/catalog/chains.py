"""Which exports restore a table as of a time: a full export at or before it, then the incrementals joined to it
without a hole, up to the time. The contiguity rule is bot/exports/chain.py's `reach`, the one a schedule and a
restore already use; this module only chooses the full export and names what stops the chain short.

Of the full exports at or before the time, the one whose chain gets closest to it wins; among equals the newest
(fewest incrementals to replay). An incremental whose window ends after the time cannot be applied (it would bring
the table past it), so the chain stops at the last window end before the time, and that incremental is named.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.catalog.models import CatalogEntry, Chain
from bot.exports.chain import Window, reach
from bot.models import ExportType


def chain_as_of(entries: Iterable[CatalogEntry], at: datetime) -> Chain:
    """The best chain of usable exports (completed, timed) for the table as of `at`."""
    usable = [entry for entry in entries if entry.usable]
    fulls = sorted((e for e in usable if e.export_type == ExportType.FULL), key=_as_of, reverse=True)
    incrementals = [e for e in usable if e.export_type == ExportType.INCREMENTAL]
    before = [full for full in fulls if _as_of(full) <= at]
    if not before:
        return Chain(full=None, earliest_full=_as_of(fulls[-1]) if fulls else None)
    applicable = [e for e in incrementals if _as_of(e) <= at]
    best = max((_from_full(full, applicable) for full in before), key=lambda c: _reached(c))  # first max: newest
    overshoot = [e for e in incrementals if _start(e) <= _reached(best) < at < _as_of(e)]
    return Chain(
        full=best.full,
        incrementals=best.incrementals,
        reaches=best.reaches,
        gap=best.gap if best.gap is not None else _uncovered(_reached(best), at, incrementals, overshoot),
        overshoots=min(overshoot, key=_as_of) if overshoot else None,
    )


def _from_full(full: CatalogEntry, incrementals: list[CatalogEntry]) -> Chain:
    """The chain that starts at one full export: `reach` over the windows that end after it."""
    start = _as_of(full)
    later = [e for e in incrementals if _as_of(e) > start]
    reached = reach(start, [(_start(e), _as_of(e)) for e in later])
    end = reached.contiguous_end
    used = tuple(sorted((e for e in later if _as_of(e) <= end), key=lambda e: (_start(e), _as_of(e))))
    return Chain(full=full, incrementals=used, reaches=end, gap=reached.gaps[0] if reached.gaps else None)


def _uncovered(
    reached: datetime, at: datetime, incrementals: list[CatalogEntry], overshoot: list[CatalogEntry]
) -> Window | None:
    """The chain ends before `at` and no incremental goes on from its end: the hole runs to the next window's
    start (one that ends past `at`), or to `at`."""
    if reached >= at or overshoot:
        return None
    return (reached, min((_start(e) for e in incrementals if reached < _start(e) < at), default=at))


def _reached(chain: Chain) -> datetime:
    assert chain.reaches is not None
    return chain.reaches


def _as_of(entry: CatalogEntry) -> datetime:
    assert entry.as_of is not None  # only usable entries get here
    return entry.as_of


def _start(entry: CatalogEntry) -> datetime:
    window = entry.window
    assert window is not None
    return window[0]
