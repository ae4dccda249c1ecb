"""Connections reset in the middle of an S3 download and in the middle of a BatchWriteItem answer: no item is
lost or written twice. A reset S3 read either is read again or stops the load naming the file, and the load run
again resumes after the files it finished; a reset write is sent again."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import orjson
import pytest
from botocore.config import Config

from bot.db import make_engine, metadata
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.replay import load_exports
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from tests.support.aws_world import start_moto
from tests.support.ddb_sink import DynamoDbSink, key_checksum
from tests.support.export_fixtures import key_of, sample_items, write_full_export
from tests.support.tcp_proxy import TcpProxy

KEYS = ("pk", "sk")


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


def proxy_to(url: str) -> TcpProxy:
    parsed = urlparse(url)
    return TcpProxy((parsed.hostname or "127.0.0.1", parsed.port or 80))


def s3_client(url: str) -> Any:
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", config=Config(retries={"max_attempts": 1}))


def load(s3: Any, sink_client: Any, location: Any, checkpoints: SqlLoadCheckpoints) -> Any:
    return load_exports(
        s3=s3,
        endpoint=DynamoDbEndpoint.of(sink_client, boto3.Session().get_credentials()),
        sources=[location],
        table_name="target",
        key_names=KEYS,
        checkpoints=checkpoints,
        load_key="r-faults",
        progress=lambda _: None,
        backoff_base_s=0.01,
    )


def test_s3_downloads_reset_midway_lose_no_item_and_write_none_twice(moto_url: str, tmp_path: Path) -> None:
    direct = s3_client(moto_url)
    bucket = f"exports-{uuid.uuid4().hex[:12]}"
    direct.create_bucket(Bucket=bucket)
    items = list(sample_items(6000, seed=61))
    location = write_full_export(direct, bucket, "reset", items, files=4, empty_files=0)
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    metadata.create_all(engine)
    checkpoints = SqlLoadCheckpoints(engine)
    proxy = proxy_to(moto_url)
    proxy.reset_answers_after(64 * 1024, times=3)  # data files are ~100 KB gzipped; manifests are small
    through_proxy = s3_client(f"http://127.0.0.1:{proxy.port}")
    with DynamoDbSink({"target": KEYS}) as sink:
        report = None
        for _ in range(4):  # a reset read may stop the load (naming the file); running it again resumes
            try:
                report = load(through_proxy, sink.client(), location, checkpoints)
                break
            except Exception:
                logging.getLogger(__name__).info("load stopped; running it again", exc_info=True)
        assert report is not None, "the load finished within four runs"
        assert proxy.resets == 3, "the downloads were really reset"
        stored = sink.items()
        assert set(stored) == {key_of(item) for item in items}, "no item lost"
        assert all(stored[key_of(item)] == item for item in items), "every item as exported"
        assert report.items_written <= len(items), "the last run wrote only what was left"
    proxy.close()
    engine.dispose()


def test_batch_write_answers_reset_midway_are_sent_again_and_no_item_is_lost(moto_url: str, tmp_path: Path) -> None:
    direct = s3_client(moto_url)
    bucket = f"exports-{uuid.uuid4().hex[:12]}"
    direct.create_bucket(Bucket=bucket)
    items = list(sample_items(2000, seed=62))
    location = write_full_export(direct, bucket, "write-reset", items, files=2, empty_files=0)
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    metadata.create_all(engine)
    with DynamoDbSink({"target": KEYS}) as sink:
        proxy = proxy_to(sink.endpoint_url)
        proxy.reset_answers_after(0, times=4)  # the next four answers are cut after their first bytes
        sink_client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{proxy.port}", region_name="us-east-1")
        report = load(direct, sink_client, location, SqlLoadCheckpoints(engine))
        assert proxy.resets == 4
        stored = sink.items()
        assert set(stored) == {key_of(item) for item in items}
        assert all(stored[key_of(item)] == item for item in items)
        assert report.items_written == len(items)
        assert sink.calls >= len(items) // 25 + 4, "the writes whose answers were lost were sent again"
        proxy.close()
    engine.dispose()


def test_the_sink_counts_distinct_keys_the_same_way_when_it_leaves_items_unprocessed() -> None:
    items = list(sample_items(200, seed=63))
    expected = key_checksum(key_of(item) for item in items)
    for unprocessed in (0.0, 0.3):  # 0: the fast path; otherwise every batch is parsed
        with DynamoDbSink({"target": KEYS}, unprocessed_fraction=unprocessed, distinct_keys=True, seed=1) as sink:
            client = sink.client()
            pending = [{"PutRequest": {"Item": item}} for item in items]
            while pending:
                batch, pending = pending[:25], pending[25:]
                left = client.batch_write_item(RequestItems={"target": batch})["UnprocessedItems"].get("target", [])
                pending = left + pending
            counters = sink.counters()
            assert counters["key_checksum"] == expected and counters["distinct_keys"] == len(items), unprocessed


def test_the_sinks_faults_by_number_come_exactly_as_asked_whichever_way_it_reads_a_batch() -> None:
    items = list(sample_items(100, seed=64))
    handed_back = {key_of(item): 2 for item in items[::10]}
    # distinct keys without hand-backs: the fast path (compact JSON, as the loader sends); else every batch is parsed
    for distinct, hand_backs in ((True, {}), (True, handed_back), (False, handed_back)):
        with DynamoDbSink(
            {"target": KEYS}, throttle_calls={2, 5}, unprocessed_keys=hand_backs, distinct_keys=distinct
        ) as sink:
            pending = [{"PutRequest": {"Item": item}} for item in items]
            refusals = []
            while pending:
                batch, pending = pending[:25], pending[25:]
                status, answer = _batch_write(sink, batch)
                if status != 200:
                    refusals.append(answer["__type"].rsplit("#", 1)[-1])
                    pending = batch + pending
                    continue
                pending = answer["UnprocessedItems"].get("target", []) + pending
            assert refusals == ["ProvisionedThroughputExceededException", "ThrottlingException"], (distinct, refusals)
            assert sink.throttled == 2, (distinct, hand_backs)
            assert sink.unprocessed_returned == 2 * len(hand_backs), (distinct, hand_backs)
            assert sink.counters()["distinct_keys"] == sink.items_written == len(items), "each written once"


def _batch_write(sink: DynamoDbSink, batch: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """One BatchWriteItem in compact JSON, unsigned (the sink checks no signature): its status and answer."""
    request = urllib.request.Request(
        sink.endpoint_url,
        data=orjson.dumps({"RequestItems": {"target": batch}}),
        headers={"X-Amz-Target": "DynamoDB_20120810.BatchWriteItem", "Content-Type": "application/x-amz-json-1.0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())
