"""Which exports restore a table as of a time: the full export whose chain gets closest, the incrementals joined to
it without a hole, and what stops it short (a hole, or an incremental that ends after the time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.catalog.chains import Chain, chain_as_of
from bot.catalog.models import CatalogEntry, EntrySource
from bot.models import ExportFormat, ExportStatus, ExportType

T0 = datetime(2025, 8, 1, tzinfo=UTC)
H = timedelta(hours=1)


def full(name: str, at: datetime, status: ExportStatus = ExportStatus.COMPLETED) -> CatalogEntry:
    return entry(name, ExportType.FULL, export_time=at, status=status)


def incremental(
    name: str, start: datetime, end: datetime, status: ExportStatus = ExportStatus.COMPLETED
) -> CatalogEntry:
    return entry(name, ExportType.INCREMENTAL, from_time=start, to_time=end, status=status)


def entry(name: str, kind: ExportType, **values: object) -> CatalogEntry:
    return CatalogEntry(
        export_id=name,
        table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        table_name="orders",
        region="us-east-1",
        export_type=kind,
        export_format=ExportFormat.DYNAMODB_JSON,
        bucket="acme-ddb-backups",
        prefix="p",
        source=EntrySource.BUCKET,
        **values,  # type: ignore[arg-type]
    )


def ids(chain: Chain) -> list[str]:
    return [e.export_id for e in chain.incrementals]


def test_the_full_export_and_the_incrementals_up_to_the_time_restore_it_exactly() -> None:
    exports = [
        full("F", T0),
        incremental("a", T0, T0 + H),
        incremental("b", T0 + H, T0 + 2 * H),
        incremental("c", T0 + 2 * H, T0 + 3 * H),
    ]
    chain = chain_as_of(exports, T0 + 2 * H)
    assert chain.full is not None and chain.full.export_id == "F"
    assert ids(chain) == ["a", "b"]
    assert (chain.reaches, chain.gap, chain.overshoots) == (T0 + 2 * H, None, None)


def test_a_hole_between_incrementals_is_named_and_the_chain_stops_before_it() -> None:
    exports = [full("F", T0), incremental("a", T0, T0 + H), incremental("c", T0 + 2 * H, T0 + 3 * H)]
    chain = chain_as_of(exports, T0 + 3 * H)
    assert ids(chain) == ["a"]
    assert chain.reaches == T0 + H and chain.gap == (T0 + H, T0 + 2 * H)


def test_a_failed_incremental_leaves_a_hole() -> None:
    exports = [full("F", T0), incremental("a", T0, T0 + H, ExportStatus.FAILED), incremental("b", T0 + H, T0 + 2 * H)]
    chain = chain_as_of(exports, T0 + 2 * H)
    assert chain.reaches == T0 and chain.gap == (T0, T0 + H) and ids(chain) == []


def test_an_incremental_ending_after_the_time_is_named_and_the_chain_stops_at_its_start() -> None:
    exports = [full("F", T0), incremental("a", T0, T0 + H), incremental("b", T0 + H, T0 + 2 * H)]
    chain = chain_as_of(exports, T0 + 90 * timedelta(minutes=1))
    assert ids(chain) == ["a"] and chain.reaches == T0 + H and chain.gap is None
    assert chain.overshoots is not None and chain.overshoots.export_id == "b"


def test_nothing_after_the_last_export_is_a_hole_up_to_the_time() -> None:
    chain = chain_as_of([full("F", T0), incremental("a", T0, T0 + H)], T0 + 5 * H)
    assert chain.reaches == T0 + H and chain.gap == (T0 + H, T0 + 5 * H)


def test_the_newest_full_export_before_the_time_is_chosen_when_it_reaches_as_far() -> None:
    exports = [full("old", T0), incremental("a", T0, T0 + H), full("new", T0 + H)]
    chain = chain_as_of(exports, T0 + H)
    assert chain.full is not None and chain.full.export_id == "new" and ids(chain) == []


def test_a_newer_full_export_joins_an_incremental_whose_window_began_before_it() -> None:
    exports = [
        full("old", T0),
        incremental("a", T0, T0 + H),
        incremental("b", T0 + H, T0 + 3 * H),
        full("new", T0 + 2 * H),
    ]
    chain = chain_as_of(exports, T0 + 3 * H)
    assert chain.full is not None and chain.full.export_id == "new"  # replaying b over it leaves each item's newest
    assert ids(chain) == ["b"] and chain.reaches == T0 + 3 * H


def test_without_a_full_export_before_the_time_the_earliest_full_is_named() -> None:
    chain = chain_as_of([full("F", T0 + H), incremental("a", T0, T0 + H)], T0 + 30 * timedelta(minutes=1))
    assert chain.full is None and chain.earliest_full == T0 + H
    assert chain_as_of([], T0).earliest_full is None
