"""What a chain of exports covers: where it ends, and the windows nothing covers. One rule for both users of it:
a schedule (where its next incremental starts) and a restore (whether the exports it applies leave a hole).

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
class Reach:
    """How far spans applied one after the other reach from a start, and the holes left between them."""

    end: datetime
    gaps: tuple[Window, ...] = ()

    @property
    def contiguous_end(self) -> datetime:
        """Where the spans stop covering without a hole: the start of the first hole, else the end."""
        return self.gaps[0][0] if self.gaps else self.end


def reach(start: datetime, spans: Iterable[Window]) -> Reach:
    """Walk the spans (a full export is the span (t, t)) in order of their start from `start`: a span that starts
    after everything before it ended leaves a hole; spans that end before the point reached add nothing."""
    gaps: list[Window] = []
    end = start
    for begin, stop in sorted(spans):
        if stop <= end:
            continue
        if begin > end:
            gaps.append((end, begin))
        end = stop
    return Reach(end, tuple(gaps))


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
    history = reach(fulls[0], [(moment, moment) for moment in fulls[1:]] + windows)
    chain_end = reach(fulls[-1], windows).contiguous_end
    failed = sorted(
        window
        for job in jobs
        if job.status == ExportStatus.FAILED and job.export_type == ExportType.INCREMENTAL
        if (window := _window(job)) is not None and window[1] > chain_end
    )
    return Coverage(end=chain_end, gaps=history.gaps, failed_after_end=tuple(failed))


def _window(job: ExportJob) -> Window | None:
    if job.export_from is None or job.export_to is None:
        return None
    return (job.export_from, job.export_to)


def _moment(job: ExportJob) -> datetime | None:
    return job.export_time or job.started_at or job.created_at
