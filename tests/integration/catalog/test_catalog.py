"""`/ddb-catalog` through the signed endpoint: exports DynamoDB has forgotten (older than its 90 days of ListExports)
are found in the export bucket by their manifest-summary.json, listed and kept; `at=` names the full export and
the incrementals that restore the table then, or the gap that prevents it; what cannot be read is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.catalog.store import export_catalog
from bot.demo.slack_standin import SlackStandIn
from bot.models import ExportLocation
from bot.timefmt import iso
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.export_fixtures import sample_items, write_full_export, write_incremental_export
from tests.support.slack_requests import SignedSlackClient

BUCKET, PREFIX = "acme-ddb-backups", "dynamodb-exports/orders"
T0 = (datetime.now(UTC) - timedelta(days=120)).replace(minute=0, second=0, microsecond=0)
H = timedelta(hours=1)


@pytest.fixture
def catalog_bot(start_bot: BotFactory) -> BotRuntime:
    return start_bot()


@pytest.fixture
def signed(catalog_bot: BotRuntime) -> SignedSlackClient:
    return SignedSlackClient(f"{catalog_bot.url}/slack/events", SIGNING_SECRET)


def catalog(signed: SignedSlackClient, slack: SlackStandIn, text: str) -> str:
    seen = {m.ts for m in slack.messages()}
    response = signed.command("/ddb-catalog", text, response_url=slack.response_url(OPS))
    assert response.status == 200, response.body
    message = slack.wait_for(
        lambda m: m.ts not in seen and m.via == "response_url" and not m.text.startswith(":hourglass"), timeout=20
    )
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def full_export(s3: Any, at: datetime, folder: str) -> ExportLocation:
    items = sample_items(5, seed=1)
    return write_full_export(s3, BUCKET, f"{PREFIX}/{folder}", items, export_time=at, table_name="orders", files=1)


def incremental(s3: Any, start: datetime, end: datetime) -> ExportLocation:
    changes = [({"pk": {"S": "order#1"}, "sk": {"S": "v1"}}, {"pk": {"S": "order#1"}, "sk": {"S": "v1"}})]
    folder = f"{PREFIX}/inc-{start:%Y%m%dT%H%M}"
    return write_incremental_export(s3, BUCKET, folder, changes, start, end, table_name="orders", files=1)


def test_an_export_older_than_90_days_is_found_in_the_bucket_listed_and_kept(
    s3: Any, ddb: Any, catalog_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    old = full_export(s3, T0, "old")
    arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []  # DynamoDB knows nothing of it

    text = catalog(signed, slack, "orders")

    assert f"`{old.export_id}` full as of {iso(T0)}" in text
    assert "5 items" in text and "found in the bucket" in text and "not verified, not drilled" in text
    assert "1 new exports found" in text
    with catalog_bot.services.engine.connect() as connection:
        kept = connection.execute(select(export_catalog.c.export_id, export_catalog.c.table_arn)).all()
    assert kept == [(old.export_id, arn)]
    again = catalog(signed, slack, "orders")
    assert f"`{old.export_id}`" in again and "0 new exports found" in again  # read once, listed every time


def test_at_names_the_full_export_and_the_incrementals_that_restore_the_table_then(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    older = full_export(s3, T0 - 24 * H, "older")
    base = full_export(s3, T0, "base")
    first, second, third = (
        incremental(s3, T0, T0 + H),
        incremental(s3, T0 + H, T0 + 2 * H),
        incremental(s3, T0 + 2 * H, T0 + 3 * H),
    )

    text = catalog(signed, slack, f"orders at={iso(T0 + 2 * H)}")

    assert (
        f"`orders` can be restored as of {iso(T0 + 2 * H)}: full export `{base.export_id}` and 2 incrementals" in text
    )
    assert text.index(first.export_id) < text.index(second.export_id)
    assert third.export_id not in text and older.export_id not in text
    assert f"/ddb-restore orders at={iso(T0 + 2 * H)} into=&lt;existing table&gt;" in text


def test_at_names_the_gap_that_prevents_the_restore(s3: Any, signed: SignedSlackClient, slack: SlackStandIn) -> None:
    base = full_export(s3, T0, "base")
    first = incremental(s3, T0, T0 + H)
    incremental(s3, T0 + 2 * H, T0 + 3 * H)

    text = catalog(signed, slack, f"orders at={iso(T0 + 3 * H)}")

    assert (
        f"`orders` cannot be restored as of {iso(T0 + 3 * H)}: no export covers {iso(T0 + H)} → {iso(T0 + 2 * H)}"
        in text
    )
    assert f"The nearest point the exports reach at or before it is {iso(T0 + H)}" in text
    assert base.export_id in text and first.export_id in text


def test_without_a_full_export_before_the_time_the_earliest_one_is_named(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    full_export(s3, T0, "base")
    text = catalog(signed, slack, f"orders at={iso(T0 - H)}")
    assert f"No full export of `orders` at or before {iso(T0 - H)} is catalogued" in text
    assert f"The earliest full export is from {iso(T0)}" in text


def test_a_summary_that_is_not_json_or_too_large_is_named_and_the_others_still_listed(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    good = full_export(s3, T0, "good")
    broken = f"{PREFIX}/broken/AWSDynamoDB/01700000000000-deadbeef/manifest-summary.json"
    s3.put_object(Bucket=BUCKET, Key=broken, Body=b"{not json <!channel>")
    huge = f"{PREFIX}/huge/AWSDynamoDB/01700000000001-deadbeef/manifest-summary.json"
    s3.put_object(Bucket=BUCKET, Key=huge, Body=b" " * (1024 * 1024 + 1))

    text = catalog(signed, slack, "orders")

    assert f"`{good.export_id}` full as of" in text
    assert f"s3://{BUCKET}/{broken}` could not be read: The manifest-summary.json" in text and "is not JSON" in text
    assert f"s3://{BUCKET}/{huge}` could not be read" in text
    assert "<!channel>" not in text


def test_another_tables_exports_in_the_same_bucket_are_not_listed(
    s3: Any, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    mine = full_export(s3, T0, "mine")
    theirs = write_full_export(s3, BUCKET, "dynamodb-exports/customers/x", sample_items(2), table_name="customers")
    text = catalog(signed, slack, "orders")
    assert mine.export_id in text and theirs.export_id not in text


def test_a_location_s3_refuses_is_named_and_the_others_are_still_listed(
    s3: Any, start_bot: BotFactory, slack: SlackStandIn, tmp_path: Any
) -> None:
    config = tmp_path / "catalog.toml"
    config.write_text('[[schedules]]\ntable = "orders"\ncron = "0 2 * * *"\nbucket = "acme-gone-backups"\n')
    runtime = start_bot(config_file=config)
    listed = full_export(s3, T0, "listed")

    text = catalog(SignedSlackClient(f"{runtime.url}/slack/events", SIGNING_SECRET), slack, "orders")

    assert f"`{listed.export_id}` full as of" in text
    assert "s3://acme-gone-backups/dynamodb-exports/" in text and "NoSuchBucket" in text


def test_a_look_that_died_before_recording_every_summary_is_finished_by_the_next(
    s3: Any, catalog_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn
) -> None:
    exports = [full_export(s3, T0 + n * H, f"e{n}") for n in range(3)]
    catalog(signed, slack, "orders")
    with catalog_bot.services.engine.begin() as connection:  # as if the look had died after its first insert
        connection.execute(export_catalog.delete().where(export_catalog.c.export_id != exports[0].export_id))

    text = catalog(signed, slack, "orders")

    assert "2 new exports found" in text and all(e.export_id in text for e in exports)
    with catalog_bot.services.engine.connect() as connection:
        ids = sorted(connection.execute(select(export_catalog.c.export_id)).scalars())
    assert ids == sorted(e.export_id for e in exports)
