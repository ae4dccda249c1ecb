"""Planning's checks of the exports: the chain rule against an oracle that marks covered half hours, the commands that
fill a hole, and the bot's record against an export rewritten since."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.exports.files import DataFile, ExportManifest
from bot.exports.reference import ExportReference
from bot.models import ExportFormat, ExportLocation, ExportStatus, ExportType
from bot.restores.export_checks import (
    RECORD_BASIS,
    BrokenChain,
    ExportChangedSinceRecorded,
    checked_against_record,
    require_contiguous_chain,
)
from bot.restores.sources import ResolvedExport

BASE = datetime(2026, 12, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def export(number: int, start: int, stop: int | None = None, table: str = "orders") -> ResolvedExport:
    """A full export at hour `start` (stop None) or an incremental one of hours [start, stop]."""
    incremental = stop is not None
    return ResolvedExport(
        plan_source=f"e{number}",
        export_id=f"e{number}",
        export_type=ExportType.INCREMENTAL if incremental else ExportType.FULL,
        export_format=ExportFormat.DYNAMODB_JSON,
        status=ExportStatus.COMPLETED,
        bucket="b",
        s3_prefix="p",
        moment=BASE + (stop if stop is not None else start) * HOUR,
        table_name=table,
        window=(BASE + start * HOUR, BASE + stop * HOUR) if stop is not None else None,
    )


@st.composite
def chains(draw: st.DrawFn) -> tuple[int | None, list[tuple[int, int]]]:
    full = draw(st.none() | st.integers(0, 10))
    windows = []
    for _ in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, 30))
        windows.append((start, start + draw(st.integers(1, 8))))
    return full, windows


def oracle_refuses(full: int | None, windows: list[tuple[int, int]]) -> bool:
    """Refused when an incremental ends before the full export, or a half hour from the start to the end of the last
    window is covered by no window."""
    if full is not None and any(stop < full for _, stop in windows):
        return True
    start = full if full is not None else min(s for s, _ in windows)
    end = max(stop for _, stop in windows)
    halves = [start + 0.5 + n for n in range(max(0, end - start))]
    return any(not any(s <= h <= e for s, e in windows) for h in halves)


@given(chains())
def test_a_chain_is_refused_exactly_when_it_leaves_a_hole(chain: tuple[int | None, list[tuple[int, int]]]) -> None:
    full, windows = chain
    exports = [export(n, s, e) for n, (s, e) in enumerate(windows)]
    if full is not None:
        exports.insert(0, export(99, full))
    if oracle_refuses(full, windows):
        with pytest.raises(BrokenChain):
            require_contiguous_chain(exports)
    else:
        require_contiguous_chain(exports)


def test_the_refusal_names_the_missing_window_and_the_export_commands_that_fill_it() -> None:
    exports = [export(0, 10), export(1, 10, 11), export(2, 12, 13), export(3, 40, 41)]
    with pytest.raises(BrokenChain) as refused:
        require_contiguous_chain(exports)
    assert (
        "nothing covers 2026-12-01T11:00:00Z to 2026-12-01T12:00:00Z, 2026-12-01T13:00:00Z to 2026-12-02T16:00:00Z"
        in (refused.value.message)
    )
    fix = refused.value.fix or ""
    assert "`/ddb-export orders since=2026-12-01T11:00:00Z until=2026-12-01T12:00:00Z`" in fix
    # a hole over 24 hours takes several exports, each at most 24 hours long
    assert "`/ddb-export orders since=2026-12-01T13:00:00Z until=2026-12-02T13:00:00Z`" in fix
    assert "`/ddb-export orders since=2026-12-02T13:00:00Z until=2026-12-02T16:00:00Z`" in fix


def test_a_hole_shorter_than_fifteen_minutes_is_filled_by_an_export_of_fifteen() -> None:
    first = replace(export(1, 10, 11), window=(BASE + 10 * HOUR, BASE + 11 * HOUR))
    second = replace(export(2, 11, 12), window=(BASE + 11 * HOUR + timedelta(minutes=5), BASE + 12 * HOUR))
    with pytest.raises(BrokenChain) as refused:
        require_contiguous_chain([export(0, 10), first, second])
    assert "since=2026-12-01T11:00:00Z until=2026-12-01T11:15:00Z" in (refused.value.fix or "")


def test_an_incremental_that_ends_before_the_full_export_is_refused() -> None:
    with pytest.raises(BrokenChain, match="ends before full export `e0`"):
        require_contiguous_chain([export(0, 10), export(1, 5, 6), export(2, 9, 12)])


# ------------------------------------------------------------------------------------------- the bot's record


def with_manifest(source: ResolvedExport, checksum: str, item_count: int | None) -> ResolvedExport:
    location = ExportLocation("b", "p", source.export_id)
    manifest = ExportManifest(location, {}, ExportType.FULL, ExportFormat.DYNAMODB_JSON, None, None, None, item_count)
    return replace(source, manifest=replace(manifest, checksum=checksum), item_count=item_count, count_basis="m")


def reference(checksum: str, item_count: int | None) -> ExportReference:
    return ExportReference("arn", checksum, item_count, (DataFile("k", "x", item_count),), BASE)


def test_an_export_whose_manifests_differ_from_the_bots_record_is_refused_naming_what_changed() -> None:
    source = with_manifest(export(0, 10), "manifest-summary.json=A manifest-files.json=NEW", 5)
    with pytest.raises(ExportChangedSinceRecorded) as refused:
        checked_against_record(source, reference("manifest-summary.json=A manifest-files.json=OLD", 5))
    assert "manifest-files.json no longer match the bot's record of 2026-12-01T00:00:00Z" in refused.value.message
    assert "/ddb-verify e0" in (refused.value.fix or "")


def test_an_unchanged_export_promises_the_item_count_of_the_record_and_one_without_a_record_its_own() -> None:
    source = with_manifest(export(0, 10), "same", 5)
    checked = checked_against_record(source, reference("same", 7))
    assert (checked.item_count, checked.count_basis) == (7, RECORD_BASIS)
    assert checked_against_record(source, None) == source
    assert checked_against_record(source, reference("same", None)).item_count == 5
