"""What an incremental schedule's exports cover: where the chain ends, and the windows nothing covers.

A full export covers one moment (its export time); an incremental export covers its window. The chain is what
the latest full export and the incrementals joined to it without a hole cover. Exports still running count (so
a fire does not export the same window twice); failed ones do not, so when a window's export fails after the
next window has started, the chain ends where the failed window began and the next run exports again from
there: the chain heals instead of keeping a permanent gap. Overlapping windows are harmless, because replaying
incrementals in order leaves each item as its newest image says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.models import ExportJob, ExportStatus, ExportType

Window = tuple[datetime, datetime]
CHAIN_LOOKBACK = 50  # the schedule's newest exports read to find the chain (a day of 30-minute windows and more)


@dataclass(frozen=True)
class Coverage:
    """The chain's end (None: no full export starts one), the holes in the history, and the failed windows
    after the end that the next run must export again."""

    end: datetime | None
    gaps: tuple[Window, ...] = ()
    failed_after_end: tuple[Window, ...] = ()


def coverage(jobs: Iterable[ExportJob]) -> Coverage:
    """The coverage of a schedule's exports (any order)."""
    jobs = list(jobs)
    kept = [job for job in jobs if job.status != ExportStatus.FAILED]
    fulls = sorted(moment for job in kept if job.export_type == ExportType.FULL if (moment := _moment(job)))
    if not fulls:
        return Coverage(end=None)
    windows = sorted(w for job in kept if job.export_type == ExportType.INCREMENTAL if (w := _window(job)))
    gaps: list[Window] = []
    end = fulls[0]
    for start, stop in sorted([(moment, moment) for moment in fulls[1:]] + windows):
        if stop <= end:
            continue
        if start > end:
            gaps.append((end, start))
        end = stop
    chain_end = _contiguous_end(windows, fulls[-1])
    failed = sorted(
        window
        for job in jobs
        if job.status == ExportStatus.FAILED and job.export_type == ExportType.INCREMENTAL
        if (window := _window(job)) is not None and window[1] > chain_end
    )
    return Coverage(end=chain_end, gaps=tuple(gaps), failed_after_end=tuple(failed))


def _contiguous_end(windows: list[Window], full_time: datetime) -> datetime:
    """How far the windows (sorted) reach from the latest full export without a hole."""
    end = full_time
    for start, stop in windows:
        if start > end:
            break
        end = max(end, stop)
    return end


def _window(job: ExportJob) -> Window | None:
    if job.export_from is None or job.export_to is None:
        return None
    return (job.export_from, job.export_to)


def _moment(job: ExportJob) -> datetime | None:
    return job.export_time or job.started_at or job.created_at
