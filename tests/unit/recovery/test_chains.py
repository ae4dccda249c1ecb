"""Windows merged, exports replayed and the chain of the bot's exports chosen for a state older than PITR."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.errors import UsageError
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType
from bot.recovery.exporting import windows
from bot.recovery.keys import KeyAttribute, KeySchema
from bot.recovery.known import chain_before
from bot.recovery.records import Change, merge_changes, replay_items

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
T0 = datetime(2026, 1, 14, tzinfo=UTC)
ARN = "arn:aws:dynamodb:us-east-1:1:table/orders"


def item(pk: str, v: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "v": {"S": v}}


def test_consecutive_windows_merge_to_each_key_s_earliest_old_and_latest_new_image() -> None:
    first = [
        Change({"pk": {"S": "a"}}, item("a", "0"), item("a", "1")),
        Change({"pk": {"S": "b"}}, None, item("b", "1")),
    ]
    second = [
        Change({"pk": {"S": "a"}}, item("a", "1"), None),
        Change({"pk": {"S": "c"}}, item("c", "0"), item("c", "2")),
    ]
    merged = merge_changes([first, second], SCHEMA)
    assert [(c.keys["pk"]["S"], c.old, c.new) for c in merged] == [
        ("a", item("a", "0"), None),
        ("b", None, item("b", "1")),
        ("c", item("c", "0"), item("c", "2")),
    ]


def test_a_full_export_replayed_with_incrementals_is_the_state_at_the_last_window_s_end() -> None:
    base = [item("a", "0"), item("b", "0")]
    window = [Change({"pk": {"S": "a"}}, item("a", "0"), None), Change({"pk": {"S": "c"}}, None, item("c", "1"))]
    assert replay_items(base, [window], SCHEMA) == [item("b", "0"), item("c", "1")]


@pytest.mark.parametrize(("hours", "count"), [(0.25, 1), (24, 1), (24.5, 2), (48, 2), (49, 3)])
def test_a_window_is_split_into_as_few_equal_exports_as_dynamodb_allows(hours: float, count: int) -> None:
    parts = windows(T0, T0 + timedelta(hours=hours))
    assert len(parts) == count
    assert parts[0][0] == T0 and parts[-1][1] == T0 + timedelta(hours=hours)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    assert all(timedelta(minutes=15) <= end - start <= timedelta(hours=24) for start, end in parts)


def test_a_window_under_15_minutes_is_refused_saying_why() -> None:
    with pytest.raises(UsageError, match="at least 15 minutes"):
        windows(T0, T0 + timedelta(minutes=14))


def job(kind: ExportType, *, at: datetime | None = None, window: tuple[datetime, datetime] | None = None,
        status: ExportStatus = ExportStatus.COMPLETED, table_arn: str = ARN) -> ExportJob:  # fmt: skip
    moment = at or (window[1] if window else T0)
    return ExportJob(
        export_arn=f"{ARN}/export/{moment.timestamp():.0f}-{kind.value[:4]}",
        export_id="x", table_key="orders", table_name="orders", table_arn=table_arn, region="us-east-1",
        status=status, export_type=kind, export_format=ExportFormat.DYNAMODB_JSON, bucket="b", s3_prefix="p",
        requested_by="U1", export_time=at, export_from=window[0] if window else None,
        export_to=window[1] if window else None,
    )  # fmt: skip


def test_the_chain_is_the_newest_full_export_before_the_time_and_the_windows_that_continue_it() -> None:
    old_full = job(ExportType.FULL, at=T0)
    full = job(ExportType.FULL, at=T0 + timedelta(hours=1))
    joined = job(ExportType.INCREMENTAL, window=(T0 + timedelta(hours=1), T0 + timedelta(hours=2)))
    overlapping = job(ExportType.INCREMENTAL, window=(T0 + timedelta(hours=1, minutes=30), T0 + timedelta(hours=3)))
    past_the_time = job(ExportType.INCREMENTAL, window=(T0 + timedelta(hours=3), T0 + timedelta(hours=5)))
    failed = job(ExportType.INCREMENTAL, window=(T0 + timedelta(hours=3), T0 + timedelta(hours=4)),
                 status=ExportStatus.FAILED)  # fmt: skip
    other_table = job(ExportType.FULL, at=T0 + timedelta(hours=3), table_arn=ARN + "-2")
    jobs = [old_full, full, joined, overlapping, past_the_time, failed, other_table]
    chain = chain_before(jobs, ARN, T0 + timedelta(hours=4))
    assert chain is not None
    assert chain.exports == (full, joined, overlapping)  # joined without a hole, as far as possible before the time
    assert chain.as_of == T0 + timedelta(hours=3)


def test_no_chain_without_a_full_export_at_or_before_the_time() -> None:
    later = job(ExportType.FULL, at=T0 + timedelta(hours=1))
    assert chain_before([later], ARN, T0) is None
