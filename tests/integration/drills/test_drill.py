"""`/ddb-drill` through the running bot with moto: a drill of a good export imports it into a tagged throwaway
table, proves it, reports to the asker and the notification channel, and deletes the table; a drill of an export
rewritten after it completed fails before importing anything; the bot deletes no table but its own drill tables.

Items here hold no JSON escapes: moto's ImportTable keeps them literally (see issue 13's known moto limits); the
comparison of escaped strings and every type is covered by tests/unit/drills/test_compare.py.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.drills.models import Drill, DrillSpec, DrillStatus, new_drill_id
from bot.drills.store import DRILL, DrillStore
from bot.drills.tables import DRILL_TAG, DrillTableRefused, delete_drill_table, drill_table_name
from bot.exports.reference import ReferenceStore
from bot.models import ExportJob
from bot.restores.sources import from_job
from bot.verification.service import export_target
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import NOTIFY, SIGNING_SECRET, BotFactory
from tests.integration.verification.test_verify import b64md5, manifest_entries, rewrite_manifest
from tests.support.aws_world import exports_held
from tests.support.crashes import abandon
from tests.support.export_fixtures import write_full_export
from tests.support.restore_flow import wait_until
from tests.support.slack_requests import SignedSlackClient

OPS = "C0OPS"
OPERATOR = "U0ALICE"
BUCKET = "acme-ddb-backups"
ITEMS = 60


def plain_items(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Items of the orders table's key (pk S, sk S) with every attribute type, and no text JSON must escape."""
    for i in range(count):
        yield {
            "pk": {"S": f"order#{seed}-{i:04d}"},
            "sk": {"S": "v1"},
            "total": {"N": f"{i * 10 + seed}.25"},
            "paid": {"BOOL": i % 2 == 0},
            "note": {"NULL": True},
            "city": {"S": "Zoë 日本"},
            "blob": {"B": base64.b64encode(bytes([i % 256, seed % 256, 7])).decode()},
            "tags": {"SS": ["a", f"t{i}"]},
            "scores": {"NS": ["1", str(i + 2)]},
            "blobs": {"BS": [base64.b64encode(b"x").decode(), base64.b64encode(bytes([i % 256])).decode()]},
            "lines": {"L": [{"M": {"sku": {"S": f"sku-{i}"}, "qty": {"N": "1"}}}, {"N": "3"}]},
        }


def lay_out(s3: Any, job: ExportJob) -> None:
    """The files of an export of `orders` as DynamoDB writes them (manifests, checksums), where the bot expects them."""
    write_full_export(
        s3,
        job.bucket,
        job.s3_prefix,
        plain_items(ITEMS),
        export_id=job.export_id,
        table_name="orders",
        files=2,
        empty_files=0,  # moto's ImportTable fails on an empty partition file (py_partiql_parser); AWS does not
    )


LayOut = Callable[[Any, ExportJob], None]


def completed_export(
    bot: BotRuntime,
    signed: SignedSlackClient,
    slack: SlackStandIn,
    s3: Any,
    files: LayOut = lay_out,
    text: str = "orders",
) -> ExportJob:
    """`/ddb-export orders` (or `text`), its files laid out by `files` (as DynamoDB would write them) before it
    completes."""
    with exports_held() as release:
        response = signed.command("/ddb-export", text, response_url=slack.response_url(OPS))
        assert response.status == 200, response.body
        job = wait_until(lambda: next(iter(bot.services.core.store.recent_exports("orders")), None), "export started")
        files(s3, job)
        release.set()
    references = ReferenceStore(bot.services.engine)
    wait_until(lambda: references.get(job.export_arn), "the export's reference recorded")
    return job


def drill(signed: SignedSlackClient, slack: SlackStandIn, text: str) -> PostedMessage:
    response = signed.command("/ddb-drill", text, user_id=OPERATOR, response_url=slack.response_url(OPS))
    assert response.status == 200, response.body
    return slack.wait_for(lambda m: m.channel == OPS and "Drill" in m.text and "queued" in m.text)


def result_in(slack: SlackStandIn, channel: str) -> PostedMessage:
    return slack.wait_for(lambda m: m.channel == channel and "Restore drill of" in m.text, timeout=60)


def drill_tables(ddb: Any) -> list[str]:
    return [name for name in ddb.list_tables()["TableNames"] if "-drill-" in name]


def test_a_drill_of_a_good_export_passes_reports_twice_and_deletes_its_table(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    completed_export(drill_bot, signed, slack, s3)
    plan = drill(signed, slack, "orders rto=1h")
    assert "orders-drill-" in str(plan.blocks) and f"{DRILL_TAG}=" in str(plan.blocks)

    result = result_in(slack, OPS)
    assert "passed" in result.text, str(result.blocks)[:3000]
    shown = str(result.blocks)
    assert f"Items: {ITEMS} imported of {ITEMS}" in shown
    assert f"Sample compared: {ITEMS:,} items, 0 different" in shown and "(target 1h 00m)" in shown
    assert "Drill table deleted." in shown
    assert "passed" in result_in(slack, NOTIFY).text
    assert drill_tables(ddb) == []
    (stored,) = DrillStore(drill_bot.services.engine).history("orders")
    assert stored.status == DrillStatus.PASSED and stored.result.sample_compared == ITEMS

    signed.command("/ddb-status", "orders", response_url=slack.response_url("status"))
    status = slack.wait_for(lambda m: m.channel == "status" and "restore drill" in str(m.blocks))
    shown_status = str(status.blocks)
    assert f"Last restore drill `{stored.id}` *passed*" in shown_status and f"{ITEMS:,} items" in shown_status
    signed.command("/ddb-pitr", "orders", response_url=slack.response_url("pitr"))
    pitr = slack.wait_for(lambda m: m.channel == "pitr" and "PITR is" in m.text)
    assert f"Last restore drill `{stored.id}` *passed*" in str(pitr.blocks)


def test_a_drill_of_an_export_rewritten_after_it_completed_fails_and_leaves_no_table(
    drill_bot: BotRuntime, signed: SignedSlackClient, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    job = completed_export(drill_bot, signed, slack, s3)
    entries = manifest_entries(s3, job.location)
    entry = max(entries, key=lambda e: e["itemCount"])
    forged = b"".join(orjson.dumps({"Item": item}) + b"\n" for item in plain_items(entry["itemCount"], seed=9))
    body = gzip.compress(forged)
    s3.put_object(Bucket=BUCKET, Key=entry["dataFileS3Key"], Body=body)
    entry["md5Checksum"] = b64md5(body)
    rewrite_manifest(s3, job.location, entries)

    drill(signed, slack, "orders")
    result = result_in(slack, OPS)
    assert "failed" in result.text
    shown = str(result.blocks)
    assert "the export failed verification" in shown and entry["dataFileS3Key"].rsplit("/", 1)[-1] in shown
    assert "Nothing was imported" in shown and "No drill table was left behind" in shown
    assert drill_tables(ddb) == []


def test_the_bot_refuses_to_delete_any_table_but_its_own_tagged_drill_table(ddb: Any) -> None:
    untagged = "orders-drill-202601010000"
    ddb.create_table(
        TableName=untagged,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(DrillTableRefused, match="not a drill table name"):
        delete_drill_table(ddb, "orders", "d-12345678")
    with pytest.raises(DrillTableRefused, match="does not carry the tag"):
        delete_drill_table(ddb, untagged, "d-12345678")
    arn = ddb.describe_table(TableName=untagged)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": DRILL_TAG, "Value": "d-other000"}])
    with pytest.raises(DrillTableRefused, match="does not carry the tag"):
        delete_drill_table(ddb, untagged, "d-12345678")  # another drill's table
    assert {"orders", untagged} <= set(ddb.list_tables()["TableNames"])

    delete_drill_table(ddb, untagged, "d-other000")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        ddb.describe_table(TableName=untagged)


def test_a_drill_left_running_by_a_stopped_replica_is_resumed_by_the_next_and_reported(
    start_bot: BotFactory, slack: SlackStandIn, s3: Any, ddb: Any
) -> None:
    first = start_bot(operators=[OPERATOR])
    signed = SignedSlackClient(f"{first.url}/slack/events", SIGNING_SECRET)
    completed_export(first, signed, slack, s3)
    first.stop()
    store = DrillStore(first.services.engine)
    queued = store.create(drill_of_orders(first), max_active=2)
    assert queued is not None
    died = abandon(first.services.engine, DRILL, queued.id)  # its heartbeat stopped an hour ago
    with first.services.engine.begin() as connection:  # it had started the drill
        store.start(queued.id, connection)
    assert died.holder == "replica-that-died"

    start_bot(operators=[OPERATOR])
    result = result_in(slack, OPS)
    assert "passed" in result.text and queued.id in str(result.blocks)
    done = store.get(queued.id)
    assert done is not None and done.status == DrillStatus.PASSED and done.attempts == 2
    assert drill_tables(ddb) == []


def drill_of_orders(bot: BotRuntime) -> Drill:
    """The drill `/ddb-drill orders` would queue, built by the same use case's parts."""
    job = bot.services.core.store.recent_exports("orders")[0]
    spec = DrillSpec(
        table_key="orders",
        account_alias=None,
        region="us-east-1",
        export=export_target(bot.services.core, from_job(job), job.export_id),
        drill_table=drill_table_name("orders", datetime.now(UTC)),
        table_snapshot=dict(job.table_snapshot),
        expected_items=job.item_count,
    )
    return Drill(new_drill_id(), spec, OPERATOR, OPS)
