"""Incremental exports: each item written in [ExportFromTime, ExportToTime) once, with its state before the window and
at its end, checked against a model of the writes computed here, independently of the stand-in."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo.aws.clock import SettableClock, micros
from tests.support.aws_standins import BUCKET, START, export_lines, finished_export, item, make_table, write_item
from tests.support.aws_world import s3_keys

Image = dict[str, Any]


def incremental(ddb: Any, arn: str, start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    spec = {"ExportFromTime": start, "ExportToTime": end, **extra.pop("spec", {})}
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=BUCKET, ExportType="INCREMENTAL_EXPORT", IncrementalExportSpecification=spec, **extra
    )["ExportDescription"]
    return finished_export(ddb, started["ExportArn"])


def canonical(records: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in records)


def apply(state: dict[str, Image], kind: str, key: str, value: str) -> None:
    """The model of one write: what DynamoDB holds for the key afterwards."""
    if kind == "put":
        state[key] = item(key, v=value)
    elif kind == "update":
        state[key] = {**state.get(key, item(key)), "v": {"S": value}}
    else:
        state.pop(key, None)


def expected_records(
    writes: list[tuple[datetime, str, str, str]], start: datetime, end: datetime, view: str
) -> list[dict[str, Any]]:
    before: dict[str, Image] = {}
    after: dict[str, Image] = {}
    last: dict[str, datetime] = {}
    for at, kind, key, value in writes:
        if at < start:
            apply(before, kind, key, value)
        if at < end:
            apply(after, kind, key, value)
        if start <= at < end:
            last[key] = at
    records = []
    for key, at in last.items():
        record: dict[str, Any] = {"Metadata": {"WriteTimestampMicros": {"N": str(micros(at))}}, "Keys": item(key)}
        if view == "NEW_AND_OLD_IMAGES" and key in before:
            record["OldImage"] = before[key]
        if key in after:
            record["NewImage"] = after[key]
        records.append(record)
    return records


WRITE = st.tuples(
    st.integers(0, 20), st.sampled_from(["put", "update", "delete"]), st.sampled_from("abc"), st.sampled_from("123")
)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    writes=st.lists(WRITE, min_size=1, max_size=10),
    window=st.tuples(st.integers(0, 200), st.integers(15, 120)),
    full_at=st.integers(0, 200),
    view=st.sampled_from(["NEW_AND_OLD_IMAGES", "NEW_IMAGE"]),
)
def test_exports_equal_a_model_of_the_writes(
    ddb: Any,
    s3: Any,
    clock: SettableClock,
    writes: list[tuple[int, str, str, str]],
    window: tuple[int, int],
    full_at: int,
    view: str,
) -> None:
    table = f"t{uuid.uuid4().hex[:12]}"
    clock.set(START)
    arn = make_table(ddb, table)
    timed = []
    for gap, kind, key, value in writes:
        at = clock.advance(minutes=gap)
        write_item(ddb, table, kind, key, value)
        timed.append((at, kind, key, value))
    start = START + timedelta(minutes=window[0])
    end = start + timedelta(minutes=window[1])
    clock.set(max(clock(), end) + timedelta(minutes=1))
    full_time = min(START + timedelta(minutes=full_at), clock())

    records = export_lines(s3, BUCKET, incremental(ddb, arn, start, end, spec={"ExportViewType": view}))
    full = export_lines(s3, BUCKET, finished_export(ddb, _full(ddb, arn, full_time)))

    assert canonical(records) == canonical(expected_records(timed, start, end, view))
    state: dict[str, Image] = {}
    for at, kind, key, value in timed:
        if at <= full_time:
            apply(state, kind, key, value)
    assert canonical([line["Item"] for line in full]) == canonical(list(state.values()))


def _full(ddb: Any, arn: str, at: datetime) -> str:
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, S3Prefix="full", ExportTime=at)
    return str(started["ExportDescription"]["ExportArn"])


def test_the_window_includes_its_start_and_excludes_its_end(ddb: Any, s3: Any, clock: SettableClock) -> None:
    arn = make_table(ddb)
    clock.advance(minutes=10)
    ddb.put_item(TableName="orders", Item=item("at-start"))
    clock.advance(minutes=20)
    ddb.put_item(TableName="orders", Item=item("at-end"))
    clock.advance(minutes=1)

    done = incremental(ddb, arn, START + timedelta(minutes=10), START + timedelta(minutes=30))

    assert [r["Keys"] for r in export_lines(s3, BUCKET, done)] == [item("at-start")]


def test_the_new_image_view_has_no_old_images(ddb: Any, s3: Any, clock: SettableClock) -> None:
    arn = make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("updated", v="1"))
    ddb.put_item(TableName="orders", Item=item("deleted", v="1"))
    clock.advance(minutes=1)
    ddb.put_item(TableName="orders", Item=item("updated", v="2"))
    ddb.delete_item(TableName="orders", Key=item("deleted"))
    clock.advance(minutes=20)

    done = incremental(ddb, arn, START + timedelta(minutes=1), clock(), spec={"ExportViewType": "NEW_IMAGE"})

    records = {r["Keys"]["pk"]["S"]: r for r in export_lines(s3, BUCKET, done)}
    assert records["updated"]["NewImage"] == item("updated", v="2") and "OldImage" not in records["updated"]
    assert set(records["deleted"]) == {"Metadata", "Keys"}
    assert done["IncrementalExportSpecification"]["ExportViewType"] == "NEW_IMAGE"


def test_an_item_created_and_deleted_inside_the_window_is_exported_with_its_keys_only(
    ddb: Any, s3: Any, clock: SettableClock
) -> None:
    arn = make_table(ddb)
    clock.advance(minutes=1)
    ddb.put_item(TableName="orders", Item=item("brief"))
    clock.advance(minutes=1)
    ddb.delete_item(TableName="orders", Key=item("brief"))
    clock.advance(minutes=20)

    done = incremental(ddb, arn, START, START + timedelta(minutes=20))

    assert [set(r) for r in export_lines(s3, BUCKET, done)] == [{"Metadata", "Keys"}]


def test_incremental_exports_share_one_data_folder_and_say_what_they_are(
    ddb: Any, s3: Any, clock: SettableClock
) -> None:
    arn = make_table(ddb)
    ddb.put_item(TableName="orders", Item=item("a"))
    clock.advance(hours=1)

    first = incremental(ddb, arn, START, START + timedelta(minutes=30), S3Prefix="inc")
    second = incremental(ddb, arn, START + timedelta(minutes=30), START + timedelta(minutes=60), S3Prefix="inc")

    data = s3_keys(s3, BUCKET, "inc/AWSDynamoDB/data/")
    assert len(data) == 2
    for done in (first, second):
        export_id = done["ExportArn"].rsplit("/", 1)[-1]
        own = [k.rsplit("/", 1)[-1] for k in s3_keys(s3, BUCKET, f"inc/AWSDynamoDB/{export_id}/")]
        assert sorted(own) == sorted(
            ["_started", "manifest-files.json", "manifest-files.md5", "manifest-summary.json", "manifest-summary.md5"]
        )
        assert done["BilledSizeBytes"] >= 10_000_000 and done["ExportType"] == "INCREMENTAL_EXPORT"
        assert done["IncrementalExportSpecification"]["ExportViewType"] == "NEW_AND_OLD_IMAGES"
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key=first["ExportManifest"])["Body"].read())
    assert (summary["version"], summary["exportType"], summary["outputView"]) == (
        "2023-08-01", "INCREMENTAL_EXPORT", "NEW_AND_OLD_IMAGES",
    )  # fmt: skip
    assert (summary["exportFromTime"], summary["exportToTime"]) == (
        "2026-01-14T10:00:00.000Z",
        "2026-01-14T10:30:00.000Z",
    )
    assert "exportTime" not in summary and summary["itemCount"] == 1 == first["ItemCount"]
    assert second["ItemCount"] == 0


@pytest.mark.parametrize(
    ("minutes", "start_offset", "code"),
    [
        (14, 0, "ValidationException"),
        (24 * 60 + 1, 0, "ValidationException"),
        (30, -1, "InvalidExportTimeException"),
        (30, 26 * 60 - 10, "InvalidExportTimeException"),
    ],
)
def test_a_window_of_the_wrong_length_or_outside_pitr_is_refused(
    ddb: Any, clock: SettableClock, minutes: int, start_offset: int, code: str
) -> None:
    arn = make_table(ddb)
    clock.advance(hours=26)  # the window may not start before PITR was enabled (10:00) nor end after now
    start = START + timedelta(minutes=start_offset)

    with pytest.raises(ClientError) as refused:
        incremental(ddb, arn, start, start + timedelta(minutes=minutes))

    assert refused.value.response["Error"]["Code"] == code
