"""When S3's lifecycle deletes each export, and what that breaks.

S3 expires an object `Days` after its creation, rounded up to the next midnight UTC; an export's files are written
when it ends, so its time (a full export's moment, an incremental's window end) stands for their creation. A chain's
base is the full export `bot.catalog.chains` would restore an incremental from: when the rules delete it first, the
incremental is kept but can no longer be restored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from math import ceil

from bot.catalog.chains import chain_as_of
from bot.catalog.models import CatalogEntry
from bot.models import ExportType
from bot.retention.buckets import BucketKeeping
from bot.retention.models import Fate, RetentionAsk
from bot.timefmt import iso
from bot.words import plural


def fates(entries: Iterable[CatalogEntry], keepings: Iterable[BucketKeeping], deleted: set[str]) -> list[Fate]:
    """Each usable export with the moment the rules delete its files (None: never)."""
    readable = [keeping for keeping in keepings if keeping.problem is None]
    return [
        Fate(entry, None if entry.export_id in deleted else expiry(entry, readable), entry.export_id in deleted)
        for entry in entries
        if entry.usable
    ]


def expiry(entry: CatalogEntry, keepings: list[BucketKeeping]) -> datetime | None:
    """The earliest deletion among the rules of the keepings that reach the export's folder."""
    folder = entry.location.folder
    moments = []
    for keeping in keepings:
        if keeping.bucket != entry.bucket or not folder.startswith(keeping.prefix):
            continue
        if keeping.expiration_days is not None and entry.as_of is not None:
            moments.append(_next_midnight(entry.as_of + timedelta(days=keeping.expiration_days)))
        if keeping.expiration_date is not None:
            moments.append(datetime.combine(keeping.expiration_date, time(), UTC))
    return min(moments, default=None)


def warnings(
    found: list[Fate], ask: RetentionAsk, keepings: Iterable[BucketKeeping], now: datetime, interval: timedelta | None
) -> list[str]:
    """What the rules break: chains whose base goes first, fewer fulls than asked (now, and once full exports made
    every `interval` meet the rules), less time than asked."""
    keepings = list(keepings)
    said = _chain_warnings(found, ask.keep_days)
    fulls = [fate for fate in found if fate.entry.export_type == ExportType.FULL and _kept(fate, now)]
    if ask.fulls is not None and len(fulls) < ask.fulls:
        said.append(
            f"Only {plural(len(fulls), 'full export')} of the table {_are(len(fulls))} kept now, fewer than the "
            f"{ask.fulls} asked."
        )
    if ask.fulls is not None and interval is not None:
        said += _steady_fulls(ask.fulls, interval, keepings)
    for keeping in keepings:
        days = keeping.expiration_days
        if ask.keep_days is not None and days is not None and days < ask.keep_days:
            said.append(
                f"The rules of s3://{keeping.bucket}/{keeping.prefix} delete exports after {plural(days, 'day')}, "
                f"sooner than the {plural(ask.keep_days, 'day')} asked."
            )
    return said


def _steady_fulls(fulls: int, interval: timedelta, keepings: list[BucketKeeping]) -> list[str]:
    """A full export every `interval` under a rule of D days: at most ceil(D / interval) of them exist at once."""
    said = []
    every = ceil(interval / timedelta(days=1))
    for keeping in keepings:
        if keeping.expiration_days is None:
            continue
        most = ceil(keeping.expiration_days / every)
        if most < fulls:
            said.append(
                f"With a full export every {plural(every, 'day')} and the rules of s3://{keeping.bucket}/"
                f"{keeping.prefix} deleting files after {plural(keeping.expiration_days, 'day')}, at most "
                f"{plural(most, 'full export')} {_are(most)} kept, fewer than the {fulls} asked."
            )
    return said


def _chain_warnings(found: list[Fate], keep_days: int | None) -> list[str]:
    """One warning per base full export deleted while an incremental that builds on it is still kept: until the
    incremental's own deletion, or (with `keep_days` asked) until the end of the time it is asked to be kept."""
    entries = [fate.entry for fate in found if not fate.deleted]
    by_id = {fate.entry.export_id: fate for fate in found}
    orphaned: dict[str, list[Fate]] = {}
    for fate in found:
        if fate.entry.export_type != ExportType.INCREMENTAL or fate.deleted or fate.entry.as_of is None:
            continue
        base = chain_as_of(entries, fate.entry.as_of).full
        base_fate = by_id.get(base.export_id) if base else None
        if base_fate is None or base_fate.expires_at is None:
            continue
        kept_until = fate.expires_at
        if keep_days is not None:
            asked = fate.entry.as_of + timedelta(days=keep_days)
            kept_until = asked if kept_until is None else min(kept_until, asked)
        if kept_until is None or base_fate.expires_at < kept_until:
            orphaned.setdefault(base_fate.entry.export_id, []).append(fate)
    said = []
    for base_id, kept in orphaned.items():
        gone = by_id[base_id]
        said.append(
            f"The rules delete the full export {base_id} (of {iso(gone.entry.as_of)}) on {iso(gone.expires_at)}, "
            f"while {plural(len(kept), 'incremental export')} that {_build(len(kept))} on it "
            f"{_are(len(kept))} to be kept longer: from then on {_they(len(kept))} cannot be restored."
        )
    return said


def _kept(fate: Fate, now: datetime) -> bool:
    return not fate.deleted and (fate.expires_at is None or fate.expires_at > now)


def _next_midnight(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, time(), UTC)


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


def _build(count: int) -> str:
    return "builds" if count == 1 else "build"


def _they(count: int) -> str:
    return "it" if count == 1 else "they"
