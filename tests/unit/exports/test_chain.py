"""The incremental chain's coverage against an oracle that marks covered moments on a half-hour grid.

Exports start and end on whole hours, so a hole between two windows always contains a half hour the oracle can
see; the oracle knows nothing of sorting or walking, it only marks what each export covers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.exports.chain import coverage
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType

BASE = datetime(2026, 12, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
HALF = HOUR / 2


def job(number: int, status: ExportStatus, start: int, stop: int | None) -> ExportJob:
    """A full export at hour `start` (stop None), or an incremental one of hours [start, stop]."""
    incremental = stop is not None
    return ExportJob(
        export_arn=f"arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/{number:020d}",
        export_id=f"{number:020d}",
        table_key="orders",
        table_name="orders",
        table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        region="us-east-1",
        status=status,
        export_type=ExportType.INCREMENTAL if incremental else ExportType.FULL,
        export_format=ExportFormat.DYNAMODB_JSON,
        bucket="b",
        s3_prefix="p",
        requested_by="schedule",
        export_time=None if incremental else BASE + start * HOUR,
        export_from=BASE + start * HOUR if incremental else None,
        export_to=BASE + stop * HOUR if stop is not None else None,
    )


@st.composite
def histories(draw: st.DrawFn) -> list[ExportJob]:
    jobs = []
    for number in range(draw(st.integers(0, 12))):
        status = draw(st.sampled_from(list(ExportStatus)))
        start = draw(st.integers(0, 30))
        stop = draw(st.none() | st.integers(start + 1, start + 24))
        jobs.append(job(number, status, start, stop))
    return draw(st.permutations(jobs))


def covered_grid(jobs: list[ExportJob]) -> set[datetime]:
    """Every half hour some kept export covers."""
    grid: set[datetime] = set()
    for export in jobs:
        if export.status == ExportStatus.FAILED:
            continue
        start = export.export_from or export.export_time
        stop = export.export_to or export.export_time
        assert start is not None and stop is not None
        moment = start
        while moment <= stop:
            grid.add(moment)
            moment += HALF
    return grid


def kept_fulls(jobs: list[ExportJob]) -> list[datetime]:
    return sorted(
        j.export_time
        for j in jobs
        if j.status != ExportStatus.FAILED and j.export_type == ExportType.FULL and j.export_time is not None
    )


@given(histories())
def test_the_chain_ends_where_the_covered_time_from_the_latest_full_export_first_breaks(jobs: list[ExportJob]) -> None:
    found = coverage(jobs)
    fulls = kept_fulls(jobs)
    if not fulls:
        assert found.end is None, "no full export: the next run starts a chain"
        return
    grid = covered_grid(jobs)
    end = fulls[-1]
    while end + HALF in grid:
        end += HALF
    assert found.end == end


@given(histories())
def test_the_gaps_are_exactly_the_uncovered_time_between_the_first_full_export_and_the_last_covered_moment(
    jobs: list[ExportJob],
) -> None:
    fulls = kept_fulls(jobs)
    grid = {m for m in covered_grid(jobs) if fulls and m >= fulls[0]}
    uncovered: set[datetime] = set()
    if grid:
        moment = min(grid)
        while moment < max(grid):
            if moment not in grid:
                uncovered.add(moment)
            moment += HALF
    in_gaps = {m for start, stop in coverage(jobs).gaps for m in uncovered | grid if start < m < stop}
    assert in_gaps == uncovered
    assert all(start in grid and stop in grid for start, stop in coverage(jobs).gaps), "a gap lies between covers"


@given(histories())
def test_a_failed_window_reaching_past_the_chain_is_named_for_the_next_run(jobs: list[ExportJob]) -> None:
    found = coverage(jobs)
    if found.end is None:
        return
    failed = {
        (j.export_from, j.export_to)
        for j in jobs
        if j.status == ExportStatus.FAILED and j.export_type == ExportType.INCREMENTAL
        if j.export_to is not None and j.export_to > found.end
    }
    assert set(found.failed_after_end) == failed


def test_a_window_running_when_the_next_starts_then_failing_leaves_the_chain_at_its_start() -> None:
    jobs = [
        job(1, ExportStatus.COMPLETED, 0, None),
        job(2, ExportStatus.FAILED, 0, 1),
        job(3, ExportStatus.IN_PROGRESS, 1, 2),
    ]
    found = coverage(jobs)
    assert found.end == BASE and found.gaps == ((BASE, BASE + HOUR),)
    assert found.failed_after_end == ((BASE, BASE + HOUR),)
