"""Schedules worth a second look before they are added: full exports more often than hourly (each one is billed
for the whole table), or a second export schedule of a table that already has one. The person is shown the
monthly cost and asked to confirm instead of the schedule being added silently.

A pure function of the new schedule, its fires and the schedules already stored; `add_schedule` asks it, and a
`confirm=true` (or the Confirm button) skips the question. Config-file schedules are never asked about.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.schedules.models import Schedule, ScheduleType, ScheduleView
from bot.timefmt import duration

FULL_EXPORTS_AT_MOST_EVERY = timedelta(hours=1)
EXPORT_TYPES = {ScheduleType.FULL, ScheduleType.INCREMENTAL}


@dataclass(frozen=True)
class CostlySchedule:
    """A schedule not added yet: why it is asked about, and what it would be (its next runs and monthly cost)."""

    view: ScheduleView
    reasons: tuple[str, ...]


def costly_reasons(
    export_type: ScheduleType, table_key: str, fires: Sequence[datetime], existing: Iterable[Schedule]
) -> tuple[str, ...]:
    """Why the new schedule should be confirmed (empty: add it): `fires` are its next fires (a few days of them),
    `existing` every stored schedule."""
    reasons = []
    gaps = [later - earlier for earlier, later in itertools.pairwise(fires)]
    if export_type == ScheduleType.FULL and gaps and min(gaps) < FULL_EXPORTS_AT_MOST_EVERY:
        reasons.append(
            f"it runs a full export every {duration(min(gaps).total_seconds())}, and each full export is billed for "
            "the whole table (an incremental schedule exports only the changes)"
        )
    if export_type in EXPORT_TYPES:
        for other in existing:
            if other.table_key == table_key and other.export_type in EXPORT_TYPES:
                reasons.append(
                    f"`{table_key}` already has schedule `{other.id}` ({other.export_type} exports, "
                    f'cron "{other.cron}" {other.timezone}): both would run'
                )
    return tuple(reasons)
