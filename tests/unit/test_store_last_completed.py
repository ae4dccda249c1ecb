"""Store.last_completed, on SQLite and on PostgreSQL (when a server is given): the newest COMPLETED export of each
table asked about, in the region asked, found in batches of queries rather than one query per table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import make_engine
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType
from bot.store import LAST_COMPLETED_BATCH, Store
from bot.wiring.schema import create_schema
from tests.support.databases import database_kinds, fresh_database

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(params=database_kinds())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        yield Store(engine)
        engine.dispose()


def record(store: Store, table: str, hours: int, status: ExportStatus, region: str = "us-east-1") -> str:
    export_id = f"{int((T0 + timedelta(hours=hours)).timestamp() * 1000):014d}-{abs(hash((table, region))) % 16**8:08x}"
    arn = f"arn:aws:dynamodb:{region}:123456789012:table/{table}/export/{export_id}"
    job = ExportJob(
        export_arn=arn,
        export_id=export_id,
        table_key=table,
        table_name=table,
        table_arn=arn.split("/export/")[0],
        region=region,
        status=status,
        export_type=ExportType.FULL,
        export_format=ExportFormat.DYNAMODB_JSON,
        bucket="acme-ddb-backups",
        s3_prefix="p",
        requested_by="U0ALICE",
        created_at=T0 + timedelta(hours=hours),
    )
    store.record_export(job)
    return arn


def test_the_newest_completed_export_of_each_table_in_the_region_asked(store: Store) -> None:
    record(store, "orders", 1, ExportStatus.COMPLETED)
    newest = record(store, "orders", 5, ExportStatus.COMPLETED)
    record(store, "orders", 9, ExportStatus.FAILED)
    record(store, "orders", 12, ExportStatus.COMPLETED, region="eu-west-1")
    record(store, "customers", 3, ExportStatus.IN_PROGRESS)
    lone = record(store, "ledger", 2, ExportStatus.COMPLETED)

    found = store.last_completed(["orders", "customers", "ledger", "unknown"], region="us-east-1")

    assert {key: job.export_arn for key, job in found.items()} == {"orders": newest, "ledger": lone}
    assert store.last_completed(["orders"], region="eu-west-1")["orders"].region == "eu-west-1"
    assert store.last_completed(["orders"])["orders"].region == "eu-west-1", "any region: the newest of all"


def test_more_tables_than_one_query_takes_are_all_answered(store: Store) -> None:
    tables = [f"t{index:04d}" for index in range(LAST_COMPLETED_BATCH + 3)]
    for index, table in enumerate(tables):
        record(store, table, index % 7, ExportStatus.COMPLETED)

    found = store.last_completed(tables)

    assert sorted(found) == tables
    assert all(job.table_key == key for key, job in found.items())
