"""The bulk loader against moto's server (S3, DynamoDB) and a BatchWriteItem stand-in that throttles and rejects."""

from __future__ import annotations

import base64
import gzip
import hashlib
import math
import random
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.credentials
import orjson
import pytest
from botocore.awsrequest import AWSRequest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.db import make_engine, metadata
from bot.exports.files import ChecksumMismatch, DataFile, UnsupportedExportFormat, read_manifest
from bot.limits import MAX_DYNAMODB_ANSWER
from bot.loader.batch_writer import BatchWriter, BatchWriteRefused, RetryPolicy, WritesStalled, WriteStats
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.http import HttpTransport, SigV4Signer
from bot.loader.lines import ExportLineReader, WriteRequest
from bot.loader.replay import (
    ExportDiffersFromRecord,
    ExportDoesNotMatchTable,
    ExportSource,
    LoadCancelled,
    LoadProgress,
    LoadReport,
    load_exports,
)
from bot.metrics import REGISTRY
from bot.models import ExportLocation
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from tests.support.aws_world import start_moto
from tests.support.ddb_sink import DynamoDbSink, SinkError, item_size
from tests.support.export_fixtures import (
    Change,
    decoded,
    key_of,
    sample_items,
    write_full_export,
    write_incremental_export,
    write_moto_style_export,
)
from tests.support.hostile import peak_memory
from tests.support.restore_flow import wait_until

KEYS = ("pk", "sk")
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
Item = dict[str, Any]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server, endpoint = start_moto()
    yield endpoint
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def s3(moto_url: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def dynamodb(moto_url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"exports-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def checkpoints(tmp_path: Path) -> SqlLoadCheckpoints:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    metadata.create_all(engine)
    return SqlLoadCheckpoints(engine)


@pytest.fixture
def sink() -> Iterator[DynamoDbSink]:
    with DynamoDbSink({"target": KEYS}) as running:
        yield running


def make_table(dynamodb: Any) -> str:
    name = f"target-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def scan(dynamodb: Any, table: str) -> dict[tuple[str, ...], Item]:
    items: dict[tuple[str, ...], Item] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[key_of(item)] = item
    return items


def comparable(item: Item) -> Item:
    """Sets are unordered in DynamoDB: compare them sorted."""
    out: Item = {}
    for name, value in item.items():
        ((kind, inner),) = value.items()
        if kind in ("SS", "NS", "BS"):
            inner = sorted(inner)
        elif kind == "M":
            inner = comparable(inner)
        elif kind == "L":
            inner = [next(iter(comparable({"_": v}).values())) for v in inner]
        out[name] = {kind: inner}
    return out


def run(
    s3: Any,
    dynamodb: Any,
    sources: list[ExportLocation] | list[ExportSource],
    table: str,
    checkpoints: SqlLoadCheckpoints,
    load_key: str = "r-1",
    progress: Callable[[LoadProgress], None] = lambda _: None,
    **options: Any,
) -> LoadReport:
    return load_exports(
        s3=s3,
        endpoint=endpoint_of(dynamodb),
        sources=sources,
        table_name=table,
        key_names=KEYS,
        checkpoints=checkpoints,
        load_key=load_key,
        progress=progress,
        **options,
    )


def endpoint_of(client: Any) -> DynamoDbEndpoint:
    """What the bot gives the loader: the client's endpoint and settings, the session's credentials."""
    return DynamoDbEndpoint.of(client, boto3.Session().get_credentials())


def apply(state: dict[tuple[str, ...], Item], changes: list[tuple[Item, Item | None]]) -> None:
    for keys, new_image in changes:
        if new_image is None:
            state.pop(key_of(keys), None)
        else:
            state[key_of(keys)] = new_image


def keys(item: Item) -> Item:
    return {name: item[name] for name in KEYS}


# ----------------------------------------------------------------------------------------------- (a) every type


def test_a_full_export_of_every_type_is_restored_attribute_for_attribute(
    s3: Any, dynamodb: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    items = list(sample_items(120, seed=11))  # moto spends ~7 ms serializing each such item in a scan
    raw: Item = {"pk": {"S": "bytes"}, "sk": {"N": "0"}, "all": {"B": base64.b64encode(bytes(range(256))).decode()}}
    raw["set"] = {"BS": [base64.b64encode(b"\x00\xff").decode(), base64.b64encode(b'\n\r"\\').decode()]}
    raw["big"] = {"N": "12345678901234567890123456789.123456789"}
    items.append(raw)
    location = write_full_export(s3, bucket, "exports/a", items, files=3, empty_files=1)
    table = make_table(dynamodb)

    report = run(s3, dynamodb, [location], table, checkpoints)

    restored = scan(dynamodb, table)
    assert report.items_written == len(items) == len(restored)
    assert report.files == 4 and report.deletes_applied == 0 and report.retries == 0
    for item in items:
        assert comparable(restored[key_of(item)]) == comparable(decoded(item))
    stored = dynamodb.get_item(TableName=table, Key=keys(raw))["Item"]
    assert stored["all"]["B"] == bytes(range(256))  # the bytes, not their base64 text encoded again
    assert sorted(stored["set"]["BS"]) == sorted([b"\x00\xff", b'\n\r"\\'])
    assert stored["big"]["N"] == "12345678901234567890123456789.123456789"


# ----------------------------------------------------------------------------------------------- (b) incrementals


def test_a_full_export_then_two_incrementals_give_exactly_the_final_table(
    s3: Any, dynamodb: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    base = list(sample_items(80, seed=21))
    state = {key_of(item): item for item in base}
    fresh = list(sample_items(30, seed=22, start=1000))
    first_changes: list[tuple[Item, Item | None]] = [
        *((keys(item), {**item, "name": {"S": "updated once"}}) for item in base[:20]),
        *((keys(item), None) for item in base[20:30]),
        *((keys(item), item) for item in fresh[:15]),
    ]
    second_changes: list[tuple[Item, Item | None]] = [
        *((keys(item), {**item, "name": {"S": "updated twice"}}) for item in base[5:10]),
        *((keys(item), None) for item in base[:5]),
        *((keys(item), {**item, "v": {"N": "2"}}) for item in fresh[:5]),
        *((keys(item), None) for item in fresh[5:8]),
        *((keys(item), {**item, "back": {"BOOL": True}}) for item in base[20:23]),
        *((keys(item), item) for item in fresh[15:]),
    ]
    full = write_full_export(s3, bucket, "exp", base, files=3, empty_files=1, export_time=T0)
    first = write_incremental_export(
        s3, bucket, "exp", first_changes, T0, T0 + timedelta(hours=1), files=3, keys_include_prefix=False
    )
    # another table's export shares the data folder: its files must not be read
    write_incremental_export(
        s3, bucket, "exp", [(keys(i), None) for i in base], T0, T0 + timedelta(hours=1), table_name="other"
    )
    second = write_incremental_export(
        s3, bucket, "exp", second_changes, T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    )
    apply(state, first_changes)
    apply(state, second_changes)
    table = make_table(dynamodb)

    report = run(s3, dynamodb, [second, full, first], table, checkpoints)  # given out of order on purpose

    restored = scan(dynamodb, table)
    assert set(restored) == set(state)
    for key, item in state.items():
        assert comparable(restored[key]) == comparable(decoded(item))
    assert report.items_written == 80 + 35 + 28 and report.deletes_applied == 10 + 8
    assert report.files == 4 + 4 + 3


# ----------------------------------------------------------------------------------------------- (c) throttling


def test_throttled_and_unprocessed_writes_are_retried_until_none_is_lost(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    items = list(sample_items(1500, seed=31))
    deletes = [(keys(item), None) for item in items[:100]]
    full = write_full_export(s3, bucket, "c", items, files=4, export_time=T0)
    incremental = write_incremental_export(s3, bucket, "c", deletes, T0, T0 + timedelta(hours=1))
    before = {(name, kind): _metric(name, kind) for name, kind in LOADER_METRICS}
    # Faults by number, not by chance, so their count is certain whatever order the four file threads reach the
    # sink in: 1,500 puts in 4 files and 100 deletes make at least 1,500 / 25 + 100 / 25 = 64 calls, so each of
    # these 8 call numbers comes; every 10th item is handed back 1, 2 or 3 times: 50 × (1 + 2 + 3) = 300.
    throttled = {2, 3, 5, 8, 13, 21, 34, 55}
    handed_back = {key_of(item): 1 + n % 3 for n, item in enumerate(items[::10])}
    with DynamoDbSink({"target": KEYS}, throttle_calls=throttled, unprocessed_keys=handed_back) as sink:
        report = run(
            s3, sink.client(), [full, incremental], "target", checkpoints, backoff_base_s=0.01, progress_interval_s=0.01
        )

        moved = {(name, kind): _metric(name, kind) - before[name, kind] for name, kind in LOADER_METRICS}
        assert moved == {
            ("ddbbot_loader_items_total", "put"): 1500,
            ("ddbbot_loader_items_total", "delete"): 100,
            ("ddbbot_loader_retries_total", None): report.retries,
            ("ddbbot_loader_throttles_total", None): report.throttles,
        }
        assert _metric("ddbbot_loader_items_per_second", None) == 0  # no load is running any more
        assert set(sink.items()) == {key_of(item) for item in items[100:]}
        assert all(sink.items()[key_of(item)] == item for item in items[100:])
        assert sink.throttled == 8 and sink.unprocessed_returned == 300 and sink.rejected == 0
        assert report.items_written == 1500 and report.deletes_applied == 100
        assert report.retries == sink.throttled + sink.calls_with_unprocessed
        assert report.throttles == report.retries


LOADER_METRICS = [
    ("ddbbot_loader_items_total", "put"),
    ("ddbbot_loader_items_total", "delete"),
    ("ddbbot_loader_retries_total", None),
    ("ddbbot_loader_throttles_total", None),
]


def _metric(name: str, kind: str | None) -> float:
    return REGISTRY.get_sample_value(name, {"kind": kind} if kind else {}) or 0.0


def test_a_table_with_little_capacity_gets_every_item_paced_by_what_it_reports_consumed(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    items = list(sample_items(1200, seed=33))
    # 3 write units each; and items whose wire JSON is twice their size (1 unit, though 2 KB are sent)
    big = [{**item, "pad": {"S": "x" * 2500}} for item in items[:120]]
    wordy = [{**item, "ones": {"L": [{"N": "1"}] * 150}} for item in items[120:240]]
    # One item of 390 units: a batch of 25 holding it needs at least 390 + 24 = 414 units, more than the table's
    # bucket ever holds (1 s of 400), so the table pushes back however slowly a busy machine sends (without it, only
    # a loader faster than 400 units/s met the limit)
    huge = {**items[240], "pad": {"S": "x" * (389 * 1024)}}
    rest = [huge, *items[241:]]
    location = write_full_export(s3, bucket, "paced", big + wordy + rest, files=4, export_time=T0)
    with DynamoDbSink({"target": KEYS}, capacity=400.0, partition_capacity=1000.0) as sink:
        report = run(s3, sink.client(), [location], "target", checkpoints, backoff_base_s=0.01)

        assert sink.items() == {key_of(item): item for item in big + wordy + rest} and sink.rejected == 0
        assert sink.unprocessed_returned + sink.throttled > 0, "the table pushed back"
        assert report.items_written == 1200
        assert math.ceil(item_size(huge) / 1024) == 390
        assert report.units_consumed == sink.consumed_units == 120 * 3 + 390 + 1079  # as the table counts them


def test_the_retry_backoff_is_full_jitter_capped_and_cancellable(s3: Any, bucket: str, checkpoints: Any) -> None:
    location = write_full_export(s3, bucket, "c2", sample_items(50, seed=32), files=1, empty_files=0)
    cancel = threading.Event()
    throttles = 16
    # Capped at 0.2 s (base 0.05 s), the 15 waits before the 16th call take at most 0.05 + 0.1 + 13 × 0.2 = 2.75 s;
    # uncapped, the last three alone would be drawn from up to 205, 410 and 819 s: under 15 s all three together
    # with odds of about (15/205) × (15/410) × (15/819) ≈ 5e-5. 15 s leaves a busy machine 12 s for 16 local calls.
    cancelled_after: list[float] = []

    def cancel_once_throttled(sink: DynamoDbSink) -> None:
        try:
            wait_until(lambda: sink.throttled >= 1, "the first throttled call", timeout=60)
            first = time.monotonic()
            wait_until(lambda: sink.throttled >= throttles, f"{throttles} throttled calls", timeout=60)
            cancelled_after.append(time.monotonic() - first)
        finally:
            cancel.set()  # on time or not, the load is cancelled; the assertions below say which

    with DynamoDbSink({"target": KEYS}, throttle_fraction=1.0) as sink:
        canceller = threading.Thread(target=cancel_once_throttled, args=(sink,), daemon=True)
        canceller.start()
        with pytest.raises(LoadCancelled) as caught:
            run(s3, sink.client(), [location], "target", checkpoints, cancel=cancel, backoff_cap_s=0.2)
        canceller.join()
    assert cancelled_after and cancelled_after[0] < 15, f"{throttles} throttles took {cancelled_after or 'over 60'} s"
    assert caught.value.report.items_written == 0 and caught.value.report.throttles >= throttles
    assert checkpoints.finished_files("r-1", location.export_id) == {}


# ----------------------------------------------------------------------------------------------- (d) md5


def test_a_data_file_that_fails_its_md5_is_refused_by_name_and_nothing_of_it_is_written(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    location = write_full_export(s3, bucket, "d", sample_items(90, seed=41), files=3)
    tampered = next(f for f in read_manifest(s3, location).files if f.item_count)
    intruder = {"pk": {"S": "intruder"}, "sk": {"N": "1"}}
    s3.put_object(Bucket=bucket, Key=tampered.key, Body=gzip.compress(b'{"Item":%b}\n' % _json(intruder)))

    with pytest.raises(ChecksumMismatch) as caught:
        run(s3, sink.client(), [location], "target", checkpoints, concurrency=1)

    assert tampered.key in str(caught.value) and caught.value.key == tampered.key
    assert ("intruder", "1") not in sink.items()
    assert tampered.key not in checkpoints.finished_files("r-1", location.export_id)


# ----------------------------------------------------------------------------------------------- (e) resume


def test_a_cancelled_load_resumes_with_the_files_it_had_not_finished(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    items = list(sample_items(600, seed=51))
    location = write_full_export(s3, bucket, "e", items, files=5, empty_files=1)
    cancel = threading.Event()
    # 120 items a file, 5 calls each: every call after the first file's is throttled, so however late the cancel
    # lands on a busy machine, the load is still part-way (were all files written first, it would not be cancelled)
    sink.throttle_calls = frozenset(range(6, 100_000))
    seen: list[LoadProgress] = []

    def stop_after_first_file(update: LoadProgress) -> None:
        seen.append(update)
        if update.files_done >= 1:
            cancel.set()

    with pytest.raises(LoadCancelled) as caught:
        run(
            s3,
            sink.client(),
            [location],
            "target",
            checkpoints,
            progress=stop_after_first_file,
            cancel=cancel,
            concurrency=1,
            progress_interval_s=0,
            retry_seconds=30,  # a loader that ignored the cancel gives up on the throttling in 30 s, not 300
        )
    finished = checkpoints.finished_files("r-1", location.export_id)
    files_done, items_done, _ = checkpoints.totals("r-1")
    assert 1 <= len(finished) < 6 and files_done == len(finished)
    assert caught.value.report.items_written >= items_done and seen[-1].files_total == 6
    sink.throttle_calls = frozenset()
    received_before = sink.items_received

    report = run(s3, sink.client(), [location], "target", checkpoints)

    assert report.files_skipped_resumed == len(finished)
    assert sink.items_received - received_before == 600 - items_done  # the finished files were not sent again
    assert set(sink.items()) == {key_of(item) for item in items}


def test_a_load_stopped_by_an_error_resumes_after_the_files_it_finished(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    items = list(sample_items(500, seed=52))
    location = write_full_export(s3, bucket, "e2", items, files=5, empty_files=0)
    sink.fail_after_calls = 9  # 100 items a file, 4 calls each: dies in the third file

    with pytest.raises(BatchWriteRefused, match="may not write to table target"):
        run(s3, sink.client(), [location], "target", checkpoints, load_key="r-2", concurrency=1)
    assert len(checkpoints.finished_files("r-2", location.export_id)) == 2
    sink.fail_after_calls = None
    calls_before = sink.calls

    report = run(s3, sink.client(), [location], "target", checkpoints, load_key="r-2", concurrency=1)

    assert report.files_skipped_resumed == 2 and report.items_written == 300
    assert sink.calls - calls_before == 3 * 4
    assert set(sink.items()) == {key_of(item) for item in items}


# ----------------------------------------------------------------------------------------------- (f) moto export


def test_an_export_made_by_moto_is_found_without_manifests_and_loaded(
    s3: Any, dynamodb: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    source = make_table(dynamodb)
    items = list(sample_items(40, seed=61))
    for item in items:
        dynamodb.put_item(TableName=source, Item=decoded(item))
    arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]
    dynamodb.update_continuous_backups(
        TableName=source, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    prefix = f"exports/{uuid.uuid4().hex[:8]}"
    export = dynamodb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, S3Prefix=prefix, ExportFormat="DYNAMODB_JSON"
    )["ExportDescription"]
    deadline = time.monotonic() + 60
    while dynamodb.describe_export(ExportArn=export["ExportArn"])["ExportDescription"]["ExportStatus"] != "COMPLETED":
        assert time.monotonic() < deadline, "moto's export did not complete"
        time.sleep(0.05)
    location = ExportLocation(bucket, prefix, export["ExportArn"].rsplit("/", 1)[-1])
    target = make_table(dynamodb)

    report = run(s3, dynamodb, [location], target, checkpoints)

    assert report.items_written == 40 and report.files == 1
    assert {k: comparable(v) for k, v in scan(dynamodb, target).items()} == {
        k: comparable(v) for k, v in scan(dynamodb, source).items()
    }


# ----------------------------------------------------------------------------------------------- (g) dedupe


def test_requests_for_one_key_in_one_batch_are_merged_last_writer_wins(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    items = list(sample_items(40, seed=71))
    a, b, c = items[0], items[1], items[2]
    changes: list[tuple[Item, Item | None]] = [
        (keys(a), a),
        (keys(a), None),
        (keys(a), {**a, "v": {"N": "3"}}),  # same batch: the sink refuses duplicates, so they must merge
        (keys(b), None),
        (keys(b), b),
        (keys(c), c),
        *((keys(item), item) for item in items[3:]),
        (keys(c), None),  # 40 lines later, still inside the spread window: it replaces the put (last one wins)
    ]
    location = write_incremental_export(s3, bucket, "g", changes, T0, T0 + timedelta(hours=1), files=1)

    report = run(s3, sink.client(), [location], "target", checkpoints)

    assert sink.rejected == 0
    assert sink.items()[key_of(a)] == {**a, "v": {"N": "3"}} and sink.items()[key_of(b)] == b
    assert key_of(c) not in sink.items() and len(sink.items()) == 39
    assert report.items_written + report.deletes_applied == len(changes) - 4


def test_keys_that_differ_only_in_their_38th_digit_are_two_items_and_none_is_dropped(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    low, high = "-1705226330.1234567890123456789012345671", "-1705226330.1234567890123456789012345672"
    items = [{"pk": {"S": "t"}, "sk": {"N": low}, "v": {"S": "low"}}, {"pk": {"S": "t"}, "sk": {"N": high}}]
    location = write_full_export(s3, bucket, "digits", items, files=1, empty_files=0)
    with DynamoDbSink({"target": KEYS}, key_types={"target": ("S", "N")}) as strict:
        report = run(s3, strict.client(), [location], "target", checkpoints)

        assert report.items_written == 2 and set(strict.items()) == {("t", low), ("t", high)}


def test_one_binary_key_spelled_two_ways_in_one_batch_is_merged_last_writer_wins(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    first, second = ({"id": {"B": text}, "v": {"N": str(n)}} for n, text in enumerate(("QQ==", "QR==")))
    changes: list[tuple[Item, Item | None]] = [({"id": first["id"]}, first), ({"id": second["id"]}, second)]
    location = write_incremental_export(s3, bucket, "bytes", changes, T0, T0 + timedelta(hours=1), files=1)
    with DynamoDbSink({"by-id": ("id",)}, key_types={"by-id": ("B",)}) as strict:
        report = load_exports(
            s3=s3,
            endpoint=endpoint_of(strict.client()),
            sources=[location],
            table_name="by-id",
            key_names=["id"],
            checkpoints=checkpoints,
            load_key="r-b",
            progress=lambda _: None,
        )

        assert strict.rejected == 0 and report.items_written == 1  # the sink refuses both in one batch
        assert list(strict.items().values()) == [second]


def test_two_spellings_of_one_number_are_one_key() -> None:
    reader = ExportLineReader(KEYS)
    _, fast = reader.read(b'{"Item":{"pk":{"S":"a"},"sk":{"N":"1.50"},"x":{"S":"y"}}}\n')
    _, slow = reader.read(b'{"Item":{"x":{"S":"y"},"sk":{"N":"1.5"},"pk":{"S":"a"}}}\n')
    _, delete = reader.read_change(b'{"Metadata":{},"Keys":{"pk":{"S":"a"},"sk":{"N":"15E-1"}}}\n')
    _, escaped = reader.read(b'{"Item":{"pk":{"S":"\\u0061"},"sk":{"N":"1.5"}}}\n')
    assert fast == slow == delete == escaped


# ----------------------------------------------------------------------------------------------- refusals


def test_an_ion_export_is_refused_with_a_pointer_to_import_table(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    location = write_full_export(s3, bucket, "ion", sample_items(3), export_format="ION")
    with pytest.raises(UnsupportedExportFormat, match="ION format") as caught:
        run(s3, sink.client(), [location], "target", checkpoints)
    assert "to=" in str(caught.value) and sink.calls == 0


def test_an_export_from_a_table_with_another_key_is_refused_before_writing(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    location = write_full_export(s3, bucket, "key", sample_items(3), files=1, empty_files=0)
    sink.add_table("by-id", ["id"])
    with pytest.raises(ExportDoesNotMatchTable, match="lacks the key attribute 'id' of table by-id"):
        load_exports(
            s3=s3,
            endpoint=endpoint_of(sink.client()),
            sources=[location],
            table_name="by-id",
            key_names=["id"],
            checkpoints=checkpoints,
            load_key="r",
            progress=lambda _: None,
        )
    assert sink.calls == 0


def test_a_missing_table_stops_the_load_with_its_name(
    s3: Any, dynamodb: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    location = write_full_export(s3, bucket, "missing", sample_items(3), files=1)
    with pytest.raises(BatchWriteRefused, match="Table no-such-table was not found"):
        run(s3, dynamodb, [location], "no-such-table", checkpoints)


# ----------------------------------------------------------------------------------------------- signing


def test_requests_are_signed_exactly_as_botocore_signs_them() -> None:
    for token in (None, "session-token"):
        credentials = botocore.credentials.Credentials("AKIDEXAMPLE", "secret/key", token)
        endpoint = "https://dynamodb.eu-north-1.amazonaws.com"
        body = b'{"RequestItems":{"t":[]}}'
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.BatchWriteItem"}
        request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
        botocore.auth.SigV4Auth(credentials, "dynamodb", "eu-north-1").add_auth(request)
        moment = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

        ours = SigV4Signer(credentials, "eu-north-1", endpoint + ":443").headers(body, headers["X-Amz-Target"], moment)

        assert ours["authorization"] == request.headers["Authorization"]
        assert ours.get("x-amz-security-token") == request.headers.get("X-Amz-Security-Token")


def test_progress_is_reported_at_most_every_interval(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    location = write_full_export(s3, bucket, "p", sample_items(100, seed=81), files=2)
    updates: list[LoadProgress] = []

    report = run(s3, sink.client(), [location], "target", checkpoints, progress=updates.append, progress_interval_s=60)

    assert updates == [] and report.items_written == 100


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


# ----------------------------------------------------------------------------------------------- HTTP and store


class _Answers(BaseHTTPRequestHandler):
    """Answers as servers may: chunked, without length then closing, or closing a kept-alive connection."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/chunked":
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
        elif self.path == "/interim-forever":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n" * 50)
        elif self.path == "/headers-forever":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n" + b"x-filler: 1\r\n" * 500 + b"\r\n")
        elif self.path == "/until-close":
            self.wfile.write(b"HTTP/1.0 503 Service Unavailable\r\n\r\nlater")
            self.close_connection = True
        elif self.path == "/declares-a-gigabyte":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n{")
            self.close_connection = True
        elif self.path == "/a-gigabyte-chunk":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3B9ACA00\r\n{")
            self.close_connection = True
        elif self.path == "/endless-until-close":
            self.wfile.write(b"HTTP/1.0 200 OK\r\n\r\n")
            block = b"x" * (1024 * 1024)
            try:
                for _ in range(MAX_DYNAMODB_ANSWER // len(block) + 2):
                    self.wfile.write(block)
            except OSError:
                pass  # the reader stopped reading
            self.close_connection = True
        else:  # "/drop": a normal answer, then the server forgets the kept-alive connection
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("path", ["/declares-a-gigabyte", "/a-gigabyte-chunk", "/endless-until-close"])
def test_the_http_transport_refuses_an_answer_larger_than_dynamodb_gives_before_holding_it(path: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    transport = HttpTransport(DynamoDbEndpoint(url, "us-east-1", botocore.credentials.Credentials("a", "b")))
    try:
        with peak_memory() as peak, pytest.raises(ConnectionError, match="an answer larger than 48 MiB"):
            transport.post(path, {"host": "x"}, b"{}")
        assert peak.bytes < 1.2 * MAX_DYNAMODB_ANSWER, f"{peak.mb:.0f} MB allocated for a refused answer"
    finally:
        transport.close()
        server.shutdown()


def test_the_http_transport_reads_every_answer_shape_and_replaces_dropped_connections() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    transport = HttpTransport(DynamoDbEndpoint(url, "us-east-1", botocore.credentials.Credentials("a", "b")))
    try:
        assert transport.post("/chunked", {"host": "x"}, b"{}") == (200, b"hello world")
        assert transport.post("/until-close", {"host": "x"}, b"{}") == (503, b"later")
        for _ in range(3):  # each reuses a connection the server has closed: replaced without an error
            assert transport.post("/drop", {"host": "x"}, b"{}") == (200, b"{}")
        with pytest.raises(ConnectionError, match="more than 10 interim answers"):
            transport.post("/interim-forever", {"host": "x"}, b"{}")
        with pytest.raises(ConnectionError, match="more than 100 header lines"):
            transport.post("/headers-forever", {"host": "x"}, b"{}")
    finally:
        transport.close()
        server.shutdown()
        server.server_close()


def test_checkpoints_are_idempotent_and_per_load(checkpoints: SqlLoadCheckpoints) -> None:
    checkpoints.mark_finished("r-a", "e-1", "k1", 10, 1)
    checkpoints.mark_finished("r-a", "e-1", "k1", 12, 0)  # a file replayed after a crash
    checkpoints.mark_finished("r-a", "e-2", "k2", 5, 5)
    checkpoints.mark_finished("r-b", "e-1", "k3", 1, 0)

    assert checkpoints.finished_files("r-a", "e-1") == {"k1": (12, 0)}
    assert checkpoints.totals("r-a") == (2, 17, 5)
    checkpoints.forget("r-a")
    assert checkpoints.finished_files("r-a", "e-1") == {} and checkpoints.totals("r-b") == (1, 1, 0)


# ----------------------------------------------------------------------------------------------- the strict sink


def _batch(*items: Item, deletes: tuple[Item, ...] = ()) -> bytes:
    requests = [{"PutRequest": {"Item": item}} for item in items] + [{"DeleteRequest": {"Key": k}} for k in deletes]
    return orjson.dumps({"RequestItems": {"target": requests}})


def _sink_refuses(sink: DynamoDbSink, body: bytes) -> str:
    with pytest.raises(SinkError) as caught:
        sink.handle("DynamoDB_20120810.BatchWriteItem", body)
    assert caught.value.code == "ValidationException"
    return caught.value.message


def test_the_sink_compares_number_keys_by_value_with_38_digits() -> None:
    sink = DynamoDbSink({"target": KEYS}, key_types={"target": ("S", "N")})
    low, high = "-1705226330.1234567890123456789012345671", "-1705226330.1234567890123456789012345672"
    sink.handle("DynamoDB_20120810.BatchWriteItem", _batch({"pk": {"S": "a"}, "sk": {"N": low}}))
    sink.handle("DynamoDB_20120810.BatchWriteItem", _batch({"pk": {"S": "a"}, "sk": {"N": high}}))
    assert set(sink.items()) == {("a", low), ("a", high)}  # 38 digits each: two items, as in DynamoDB

    sink.handle("DynamoDB_20120810.BatchWriteItem", _batch({"pk": {"S": "a"}, "sk": {"N": "1.50"}, "v": {"N": "1"}}))
    sink.handle("DynamoDB_20120810.BatchWriteItem", _batch({"pk": {"S": "a"}, "sk": {"N": "15E-1"}, "v": {"N": "2"}}))
    assert [item["v"] for key, item in sink.items().items() if key[1] in ("1.50", "15E-1")] == [{"N": "2"}]

    same = ({"pk": {"S": "b"}, "sk": {"N": "100"}}, {"pk": {"S": "b"}, "sk": {"N": "1E+2"}})
    assert "duplicates" in _sink_refuses(sink, _batch(*same))
    assert "duplicates" in _sink_refuses(sink, _batch(same[0], deletes=(same[1],)))  # a put and a delete


def test_the_sink_compares_binary_keys_by_their_bytes() -> None:
    sink = DynamoDbSink({"by-bytes": ("id",)})
    spelled = ({"id": {"B": "QQ=="}}, {"id": {"B": "QR=="}})  # the same byte, b"A"
    body = orjson.dumps({"RequestItems": {"by-bytes": [{"PutRequest": {"Item": item}} for item in spelled]}})
    assert "duplicates" in _sink_refuses(sink, body)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1." + "0" * 37 + "1", "more than 38 significant digits"),
        ("1E126", "Number overflow"),
        ("1E-131", "Number overflow"),
        ("1_0", "cannot be converted to a numeric value"),
    ],
)
def test_the_sink_refuses_numbers_dynamodb_refuses_in_keys_and_values(value: str, reason: str) -> None:
    sink = DynamoDbSink({"target": KEYS})
    assert reason in _sink_refuses(sink, _batch({"pk": {"S": "a"}, "sk": {"N": value}}))
    assert reason in _sink_refuses(sink, _batch({"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"NS": ["1", value]}}))


def test_the_sink_refuses_items_over_400_kb_by_dynamodbs_size_rules() -> None:
    sink = DynamoDbSink({"target": KEYS})
    key: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}}  # 2 + 1 + 2 + 2 bytes
    fits = {**key, "blob": {"B": base64.b64encode(b"x" * (400 * 1024 - 7 - 4)).decode()}}  # "blob": 4 bytes
    sink.handle("DynamoDB_20120810.BatchWriteItem", _batch(fits))
    too_big = {**key, "blob": {"B": base64.b64encode(b"x" * (400 * 1024 - 7 - 4 + 1)).decode()}}
    assert "maximum allowed size" in _sink_refuses(sink, _batch(too_big))


def test_the_sink_refuses_a_key_of_another_type_than_the_schemas() -> None:
    sink = DynamoDbSink({"target": KEYS}, key_types={"target": ("S", "N")})
    assert "Type mismatch for key sk expected: N actual: S" in _sink_refuses(
        sink, _batch({"pk": {"S": "a"}, "sk": {"S": "1"}})
    )


# ----------------------------------------------------------------------------------------------- bounded retries

FAST_RETRY = {"retry_seconds": 0.3, "backoff_base_s": 0.01, "backoff_cap_s": 0.05}


def test_persistent_server_errors_stop_the_load_naming_the_cause_and_a_rerun_resumes_after_the_finished_files(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    items = list(sample_items(300, seed=91))
    location = write_full_export(s3, bucket, "r500", items, files=3, empty_files=0)
    sink.fail_mode, sink.fail_from_call = "500", 8  # 100 items a file, 4 calls each: the third file never lands

    with pytest.raises(WritesStalled) as caught:
        run(s3, sink.client(), [location], "target", checkpoints, load_key="r-5", concurrency=1, **FAST_RETRY)

    message = str(caught.value)
    assert "DynamoDB answered HTTP 500 InternalServerError" in message and f"s3://{bucket}/" in message
    assert "Nothing written is lost" in message and "run the restore again" in message
    assert len(checkpoints.finished_files("r-5", location.export_id)) == 2 and len(sink.items()) == 200
    sink.fail_mode = None

    report = run(s3, sink.client(), [location], "target", checkpoints, load_key="r-5", concurrency=1)

    assert report.files_skipped_resumed == 2 and report.items_written == 100
    assert set(sink.items()) == {key_of(item) for item in items}


def test_connections_closed_unanswered_stop_the_load_after_the_deadline(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    location = write_full_export(s3, bucket, "rclose", sample_items(30, seed=92), files=1, empty_files=0)
    sink.fail_mode = "close"

    with pytest.raises(WritesStalled, match=r"the connection to 127\.0\.0\.1:\d+ was closed before DynamoDB answered"):
        run(s3, sink.client(), [location], "target", checkpoints, **FAST_RETRY)
    assert sink.calls >= 2 and checkpoints.finished_files("r-1", location.export_id) == {}


def test_an_endpoint_that_refuses_connections_stops_the_load_after_the_deadline(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints
) -> None:
    location = write_full_export(s3, bucket, "rrefused", sample_items(30, seed=93), files=1, empty_files=0)
    with socket.socket() as held:  # bound but not listening: connections are refused, and no other process
        held.bind(("127.0.0.1", 0))  # can take the port while the test runs (a busy machine opens many)
        port = held.getsockname()[1]
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")

        with pytest.raises(WritesStalled, match=f"127.0.0.1:{port} refused the connection"):
            run(s3, client, [location], "target", checkpoints, **FAST_RETRY)


class _Clock:
    """A clock that moves `step` seconds each time it is read: retries are counted, not timed."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _writer(sink: DynamoDbSink, policy: RetryPolicy, stats: WriteStats) -> BatchWriter:
    return BatchWriter(endpoint_of(sink.client()), "target", stats=stats, halt=threading.Event(), retry=policy)


def _requests(count: int) -> list[WriteRequest]:
    return [ExportLineReader(KEYS).read(orjson.dumps({"Item": item}) + b"\n")[0] for item in sample_items(count)]


def test_a_batch_gives_up_once_nothing_landed_for_the_deadline(sink: DynamoDbSink) -> None:
    sink.fail_mode = "500"
    stats = WriteStats()
    writer = _writer(sink, RetryPolicy(60, 0.0001, 0.001, clock=_Clock(10)), stats)

    with pytest.raises(WritesStalled, match="for 60 s because DynamoDB answered HTTP 500"):
        writer.write(_requests(5), "s3://b/k")

    assert sink.calls == 6 and stats.retries == 5  # attempts at 10, 20, … 60 s: the sixth gives up


class _NestedThenDone(BaseHTTPRequestHandler):
    """Answers its server's `answers` (status, body) in turn, then `{}` (every write landed)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        answers: list[tuple[int, bytes]] = self.server.answers  # type: ignore[attr-defined]
        status, body = answers.pop(0) if answers else (200, b"{}")
        self.wfile.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_nested_deeper_than_a_parser_goes_is_unreadable_and_the_batch_is_sent_again(status: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NestedThenDone)
    server.answers = [(status, b"[" * 100_000 + b"]" * 100_000)]  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    endpoint = DynamoDbEndpoint(
        f"http://127.0.0.1:{server.server_address[1]}", "us-east-1", botocore.credentials.Credentials("a", "b")
    )
    stats = WriteStats()
    writer = BatchWriter(
        endpoint, "target", stats=stats, halt=threading.Event(), retry=RetryPolicy(60, 0.0001, 0.001, clock=_Clock(1))
    )
    try:
        writer.write(_requests(3), "s3://b/k")
    finally:
        server.shutdown()
        server.server_close()
    assert (stats.retries, stats.items_written, server.answers) == (1, 3, [])  # type: ignore[attr-defined]


def test_throttling_that_keeps_making_progress_never_gives_up() -> None:
    requests = _requests(200)
    # The n-th request of each batch of 25 is handed back n // 3 times: each attempt lands a few more, and the
    # last lands on the 9th attempt, so every batch takes 9 calls, 9 "seconds" against a 5-second deadline.
    handed_back = {key_of(item): n % 25 // 3 for n, item in enumerate(sample_items(200))}  # as _requests reads
    stats = WriteStats()
    with DynamoDbSink({"target": KEYS}, unprocessed_keys=handed_back) as sink:
        writer = _writer(sink, RetryPolicy(5, 0.0001, 0.001, clock=_Clock(1)), stats)  # each attempt "takes" 1 s

        for start in range(0, 200, 25):
            writer.write(requests[start : start + 25], "s3://b/k")

        assert len(sink.items()) == 200 and stats.items_written == 200
        assert sink.calls == 9 * 8  # many more seconds than the deadline passed, with progress all along


# ----------------------------------------------------------------------------------------------- unverified files


def test_files_streamed_without_an_md5_are_counted_as_unverified(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    checked = write_full_export(s3, bucket, "md5", sample_items(20, seed=95), files=2, empty_files=1)
    unchecked = write_moto_style_export(s3, bucket, "no-manifest", sample_items(20, seed=96, start=500))

    assert run(s3, sink.client(), [checked], "target", checkpoints, load_key="r-u1").unverified_files == 0
    report = run(s3, sink.client(), [unchecked], "target", checkpoints, load_key="r-u2")

    assert report.unverified_files == 1 and report.items_written == 20
    assert run(s3, sink.client(), [unchecked], "target", checkpoints, load_key="r-u2").unverified_files == 0


# ----------------------------------------------------------------------------------------------- model-based

_PKS = ("a", "b")
_SK_VALUES = ("1", "2", "-0.5", "-1705226330.1234567890123456789012345671", "-1705226330.1234567890123456789012345672")
_SPELLINGS = {  # other texts DynamoDB reads as the same number
    "1": ("1", "1.0", "10E-1", "0001"),
    "2": ("2", "2E0", "+2"),
    "-0.5": ("-0.5", "-5E-1", "-.50"),
}
Operation = tuple[str, str, str, str, int]  # ("put" | "delete", pk, sk value, sk spelling, version)


@st.composite
def _operations(draw: st.DrawFn) -> list[Operation]:
    ops = []
    for version in range(draw(st.integers(1, 40))):
        pk, sk = draw(st.sampled_from(_PKS)), draw(st.sampled_from(_SK_VALUES))
        spelling = draw(st.sampled_from(_SPELLINGS.get(sk, (sk,))))
        ops.append((draw(st.sampled_from(("put", "put", "delete"))), pk, sk, spelling, version))
    return ops


def _item(pk: str, spelling: str, version: int) -> Item:
    return {"pk": {"S": pk}, "sk": {"N": spelling}, "v": {"N": str(version)}, "tag": {"SS": [f"v{version}"]}}


def _apply_to_model(model: dict[tuple[str, Decimal], Item], ops: list[Operation]) -> None:
    for kind, pk, sk, spelling, version in ops:
        if kind == "put":
            model[(pk, Decimal(sk))] = _item(pk, spelling, version)
        else:
            model.pop((pk, Decimal(sk)), None)


_HISTORIES = _operations().flatmap(
    lambda ops: st.tuples(
        st.just(ops),
        st.lists(st.integers(0, len(ops)), min_size=1, max_size=3).map(sorted),
        st.randoms(),
        st.integers(1, 2),
    )
)
_DIGITS_38 = [("put", "a", sk, sk, n) for n, sk in enumerate(_SK_VALUES[3:])]  # two keys in one file and batch


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])  # s3: a stateless client
@given(_HISTORIES)
@example(([*_DIGITS_38, ("put", "b", "1", "1.0", 2)], [2], random.Random(0), 1))
@example(([*_DIGITS_38, ("delete", "a", _SK_VALUES[3], _SK_VALUES[3], 2)], [0], random.Random(0), 1))
def test_a_random_history_replayed_from_a_full_export_and_incrementals_equals_the_model(
    s3: Any, history: tuple[list[Operation], list[int], random.Random, int]
) -> None:
    """Puts, updates and deletes over a few keys (numbers in several spellings, two differing in the 38th digit),
    cut into a full export and incrementals laid out as DynamoDB writes them, loaded into the strict sink."""
    ops, cuts, shuffle, files = history
    bucket = f"model-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    model: dict[tuple[str, Decimal], Item] = {}
    _apply_to_model(model, ops[: cuts[0]])
    sources = [write_full_export(s3, bucket, "m", list(model.values()), files=files, export_time=T0)]
    for n, (start, end) in enumerate(zip(cuts, [*cuts[1:], len(ops)], strict=True)):
        before = dict(model)
        _apply_to_model(model, ops[start:end])
        changed = dict.fromkeys((pk, Decimal(sk)) for _, pk, sk, _, _ in ops[start:end])
        changes: list[Change] = []
        for key in changed:  # one record per changed item, with its final state
            final, old = model.get(key), before.get(key)
            keys_of = final or old or _item(key[0], str(key[1]), 0)
            changes.append(({"pk": keys_of["pk"], "sk": keys_of["sk"]}, final, old))
        window = (T0 + timedelta(hours=n), T0 + timedelta(hours=n + 1))
        sources.append(write_incremental_export(s3, bucket, "m", changes, *window, files=files))

    with DynamoDbSink({"target": KEYS}, key_types={"target": ("S", "N")}) as sink, tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/model.sqlite3")
        metadata.create_all(engine)
        shuffle.shuffle(sources)  # the loader orders exports by time itself
        run(s3, sink.client(), sources, "target", SqlLoadCheckpoints(engine))
        engine.dispose()

        assert sink.rejected == 0
        assert {(i["pk"]["S"], Decimal(i["sk"]["N"])): i for i in sink.items().values()} == model


# ------------------------------------------------------------------------------------------- the bot's record


def _forge_first_file(s3: Any, bucket: str, location: ExportLocation, item: Item) -> str:
    """Rewrite the manifest's first data file and recompute every checksum, as someone who can write to the bucket
    could after the export completed; returns the rewritten key."""
    files_key = location.folder + "manifest-files.json"
    entries = [orjson.loads(line) for line in s3.get_object(Bucket=bucket, Key=files_key)["Body"].read().splitlines()]
    forged = gzip.compress(orjson.dumps({"Item": item}) + b"\n")
    s3.put_object(Bucket=bucket, Key=entries[0]["dataFileS3Key"], Body=forged)
    entries[0]["md5Checksum"] = base64.b64encode(hashlib.md5(forged).digest()).decode()  # noqa: S324
    entries[0]["itemCount"] = 1
    body = b"".join(orjson.dumps(e) + b"\n" for e in entries)
    s3.put_object(Bucket=bucket, Key=files_key, Body=body)
    s3.put_object(Bucket=bucket, Key=files_key[:-5] + ".md5", Body=base64.b64encode(hashlib.md5(body).digest()))  # noqa: S324
    return str(entries[0]["dataFileS3Key"])


def test_a_recorded_export_is_loaded_by_the_bots_record_so_a_file_rewritten_with_its_checksums_is_refused(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    items = list(sample_items(40, seed=8))
    location = write_full_export(s3, bucket, "rec", items, files=2, empty_files=0, export_time=T0)
    recorded = tuple(read_manifest(s3, location).files)  # what the bot keeps when the export completes
    forged_item = {**items[0], "pk": {"S": "forged"}, "name": {"S": "forged"}}  # a key no other file holds
    forged_key = _forge_first_file(s3, bucket, location, forged_item)

    with pytest.raises(ChecksumMismatch) as refused:
        run(s3, sink.client(), [ExportSource(location, s3, recorded)], "target", checkpoints, load_key="r-rec")

    assert refused.value.key == forged_key
    assert all(item.get("name") != {"S": "forged"} for item in sink.items().values())
    assert forged_key not in checkpoints.finished_files("r-rec", location.export_id)
    # without the record, the manifest (rewritten consistently) is all there is, and the forged item is written
    run(s3, sink.client(), [location], "target", checkpoints, load_key="r-manifest")
    assert sink.items()[key_of(forged_item)]["name"] == {"S": "forged"}


def test_a_recorded_export_whose_manifest_lists_other_files_is_refused_before_anything_is_written(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    location = write_full_export(s3, bucket, "rec2", sample_items(20, seed=9), files=2, empty_files=0)
    recorded = tuple(read_manifest(s3, location).files)
    extra = DataFile(location.folder + "data/planted.json.gz", None, 1)

    with pytest.raises(ExportDiffersFromRecord):
        run(s3, sink.client(), [ExportSource(location, s3, (*recorded, extra))], "target", checkpoints)

    assert sink.items() == {}


def test_a_data_file_with_fewer_records_than_promised_is_named_in_the_report(
    s3: Any, bucket: str, checkpoints: SqlLoadCheckpoints, sink: DynamoDbSink
) -> None:
    items = list(sample_items(30, seed=10))
    location = write_full_export(s3, bucket, "short", items, files=2, empty_files=0)
    files = read_manifest(s3, location).files
    promised = (DataFile(files[0].key, files[0].md5, (files[0].item_count or 0) + 3), *files[1:])

    report = run(s3, sink.client(), [ExportSource(location, s3, promised)], "target", checkpoints)

    assert report.changes_applied == 30 and len(sink.items()) == 30
    (short,) = report.short_files
    assert files[0].key in short and f"{files[0].item_count:,} records, {promised[0].item_count:,} promised" in short
