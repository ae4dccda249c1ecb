"""Export objects larger than DynamoDB writes (manifests, a data file's line), read from moto's S3 in a process of its
own: refused with a message naming the object, and what reading them cost measured with tracemalloc."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.db import make_engine, metadata
from bot.exports.files import FILES_NAME, SUMMARY_NAME, ExportManifestInvalid, read_manifest
from bot.limits import MAX_EXPORT_LINE, MAX_MANIFEST_FILES
from bot.loader.endpoint import DynamoDbEndpoint
from bot.loader.lines import ExportLineReader
from bot.loader.replay import ExportFileCorrupt, load_exports
from bot.models import ExportLocation
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.verification.verify import verify_export
from tests.support.ddb_sink import DynamoDbSink
from tests.support.export_fixtures import sample_items, write_full_export
from tests.support.hostile import GIB, MB, gzip_bomb, moto_apart, peak_memory

KEYS = ("pk", "sk")
T0 = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
FIRST_LINE = b'{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}\n'


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_apart() as endpoint:
        yield endpoint


@pytest.fixture
def s3(moto: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    client.create_bucket(Bucket="exports")
    return client


def export_with_a_bomb(s3: Any, size: int) -> ExportLocation:
    """A full export whose one data file (no MD5 in its manifest) holds a good line, then one line of `size` bytes."""
    location = write_full_export(
        s3, "exports", f"p-{uuid.uuid4().hex[:8]}", sample_items(2), files=1, empty_files=0, md5_missing=1
    )
    (data_file,) = read_manifest(s3, location).files
    s3.put_object(Bucket="exports", Key=data_file.key, Body=gzip_bomb(size + len(FIRST_LINE), head=FIRST_LINE))
    return location


@pytest.mark.parametrize("size", [100 * MB, GIB], ids=["100 MB line", "1 GiB line"])
def test_the_loader_refuses_a_line_longer_than_dynamodb_writes_without_holding_it(
    s3: Any, tmp_path: Path, size: int
) -> None:
    location = export_with_a_bomb(s3, size)
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    metadata.create_all(engine)
    with DynamoDbSink({"target": KEYS}) as sink, peak_memory() as peak, pytest.raises(ExportFileCorrupt) as refused:
        load_exports(
            s3=s3,
            endpoint=DynamoDbEndpoint.of(sink.client(), boto3.Session().get_credentials()),
            sources=[location],
            table_name="target",
            key_names=KEYS,
            checkpoints=SqlLoadCheckpoints(engine),
            load_key="load-r-1",
            progress=lambda _: None,
        )
    assert peak.bytes < 1.5 * MAX_EXPORT_LINE, f"{peak.mb:.0f} MB allocated to refuse a {size / MB:.0f} MB line"
    assert "Line 2 of s3://exports/" in refused.value.message
    assert "is longer than 53.2 MiB, more than DynamoDB writes for an item of 400 KB" in refused.value.message
    assert not sink.items("target")


def test_verification_refuses_a_line_longer_than_dynamodb_writes_without_holding_it(s3: Any) -> None:
    location = export_with_a_bomb(s3, GIB)
    with peak_memory() as peak:
        outcome = verify_export(s3, location, None, ExportLineReader(KEYS), halt=threading.Event())
    assert peak.bytes < 2.5 * MAX_EXPORT_LINE, f"{peak.mb:.0f} MB allocated to refuse a 1 GiB line"
    assert [failure for failure in outcome.failures if "longer than 53.2 MiB" in str(failure)], outcome.failures


@pytest.mark.parametrize("name", [SUMMARY_NAME, FILES_NAME, "manifest-files.md5"])
def test_a_manifest_larger_than_an_export_writes_is_refused_unread(s3: Any, name: str) -> None:
    location = write_full_export(s3, "exports", f"p-{uuid.uuid4().hex[:8]}", sample_items(2), files=1)
    read_manifest(s3, location)  # the client's first read builds its parsers: not counted below
    s3.put_object(Bucket="exports", Key=location.folder + name, Body=b" " * (MAX_MANIFEST_FILES + 1))
    with peak_memory() as peak, pytest.raises(ExportManifestInvalid) as refused:
        read_manifest(s3, location)
    assert peak.mb < 5, f"{peak.mb:.0f} MB allocated to refuse a 64 MiB {name}"
    assert f"{location.folder}{name} is larger than" in refused.value.message
