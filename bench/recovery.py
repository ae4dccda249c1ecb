"""Benchmark 8: recovery. (a) A revert of 100,000 changed items through the bot's RepairExecutor (the approved
actions in SQLite, each batch read with BatchGetItem and written with conditional PutItem, outcomes checkpointed)
into the conditional sink (tests/support/ddb_sink_conditions.py) in its own process, 1 % of the items changed again
after the window: items/s, CPU per item in the bot's process, conflicts found, and the sink's proof that no key was
written twice. (b) The older-than-PITR path: one core scanning a full export in moto's S3 (its own process) for one
key, MB/s of gzip and of export data.

`python -m bench.recovery --items 20000 --scan-items 200000` runs smaller sizes by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench.common import ROOT, figure, row, start_moto_process, stop, table, wait_for_http, write_section
from bot.aws.accounts import AwsAccounts, Place
from bot.aws.pricing import PriceBook
from bot.core import Core
from bot.db import make_engine
from bot.exports.files import read_manifest
from bot.recovery.actions import Outcome, RepairAction, actions_digest
from bot.recovery.executor import RepairExecutor
from bot.recovery.keys import ItemKey, KeyAttribute, KeySchema
from bot.recovery.models import Kind, Preparation, Source, State
from bot.recovery.records import ExportRecords
from bot.recovery.store import RecoveryStore
from bot.restores.executors import ExecutorContext
from bot.restores.models import RestoreMode, RestorePlan, RestoreRequest, RestoreStatus
from bot.restores.repairs import RepairOptions
from bot.restores.store import RestoreStore
from bot.store import Store
from bot.wiring.schema import create_schema
from tests.support.ddb_sink_conditions import preloaded
from tests.support.export_fixtures import sample_items, write_full_export

TITLE = "8. Recovery: revert and older-than-PITR scan"
ITEMS, LATER_EVERY = 100_000, 100
SCAN_ITEMS, SCAN_FILES = 1_000_000, 16
SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "S"))
TESTING: dict[str, Any] = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


def start_sink(items: int) -> tuple[subprocess.Popen[bytes], str]:
    """The conditional sink in its own process, holding `items` items as the bad change left them."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.ddb_sink_conditions", "--table", "orders:pk,sk",
         "--preload", str(items), "--later-every", str(LATER_EVERY)],
        stdout=subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().decode().strip()
    wait_for_http(f"{url}/_stats", process)
    return process, url


def revert(items: int) -> dict[str, Any]:
    """Prepare `items` actions in SQLite, then run the executor against the sink; its figures."""
    process, url = start_sink(items)
    try:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
            create_schema(engine)
            store = RecoveryStore(engine)
            prepared = time.monotonic()
            request = _prepared_request(store, items)
            prepared = time.monotonic() - prepared
            context = _context(engine, url)
            cpu, started = time.process_time(), time.monotonic()
            outcome = RepairExecutor(store, concurrency=4).run(context, request)
            seconds, cpu = time.monotonic() - started, time.process_time() - cpu
            engine.dispose()
        with urllib.request.urlopen(f"{url}/_stats") as answer:
            stats = json.loads(answer.read())
    finally:
        stop(process)
    return {
        "items": items,
        "seconds": seconds,
        "cpu_ms_per_item": cpu * 1000 / items,
        "written": outcome.items_written,
        "conflicts": outcome.details["conflicts"],
        "most_writes_of_a_key": stats["most_writes_of_a_key"],
        "keys_written": stats["keys_written"],
        "prepared_seconds": prepared,
    }


def _prepared_request(store: RecoveryStore, items: int) -> RestoreRequest:
    preparation = Preparation(
        id="v-bench00000", kind=Kind.REVERT, state=State.REQUESTED, source=Source.PITR, requested_by="U0BENCH",
        channel_id=None, table="orders", table_name="orders", table_arn="arn:aws:dynamodb:::table/orders",
        account_alias=None, region="us-east-1", schema=SCHEMA,
    )  # fmt: skip
    store.create(preparation)
    actions = [
        RepairAction(
            n, {"pk": item["pk"], "sk": item["sk"]}, f"pk={item['pk']['S']}", item, {**item, "v": {"S": "good"}}
        )
        for n, item in enumerate(preloaded(items, 0))  # each as the window left it (v=bad), put back as v=good
    ]
    store.set_actions(preparation.id, [(action, Outcome.WRITE) for action in actions])
    options = RepairOptions(
        preparation.id, SCHEMA.as_dict(), (), actions_digest(actions), items, items, 0,
        since=datetime.now(UTC) - timedelta(hours=2), until=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    plan = RestorePlan(RestoreMode.REVERT, (), "orders", None, "us-east-1", options)
    now = datetime.now(UTC)
    return RestoreRequest("r-bench00000", RestoreStatus.RUNNING, plan, plan.digest(), "U0BENCH", 1, now, now)


def _context(engine: Any, url: str) -> ExecutorContext:
    os.environ["AWS_ENDPOINT_URL"] = url  # the bot's clients reach DynamoDB through the sink, as AWS_ENDPOINT_URL does
    session = boto3.Session(**TESTING)
    core = Core(AwsAccounts(session, {}), Store(engine), PriceBook(lambda: session.client("pricing")))
    return ExecutorContext(
        core, RestoreStore(engine), Place(None, "us-east-1"), threading.Event(), 1.0, 30.0, lambda _progress: None
    )


def scan(items: int) -> dict[str, Any]:
    """One core reads a full export of `items` items for one key (four items share a partition)."""
    process, endpoint = start_moto_process()
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, **TESTING)
        s3.create_bucket(Bucket="bench-scan")
        location = write_full_export(s3, "bench-scan", "scan", sample_items(items, seed=7), files=SCAN_FILES)
        manifest = read_manifest(s3, location)
        raw = sum(_uncompressed(s3, location.bucket, f.key) for f in manifest.files)
        key = ItemKey(KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N")), {"S": f"user#{items // 8:08d}"})
        records = ExportRecords(s3, key.schema, key)
        cpu, started = time.process_time(), time.monotonic()
        found = list(records.items(manifest))
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    finally:
        stop(process)
    return {"items": items, "found": len(found), "gzip_mb": records.compressed_bytes / 2**20, "raw_mb": raw / 2**20,
            "seconds": seconds, "cpu": cpu}  # fmt: skip


def _uncompressed(s3: Any, bucket: str, key: str) -> int:
    """A gzip file's uncompressed size, from its trailer (ISIZE: the last 4 bytes)."""
    tail = s3.get_object(Bucket=bucket, Key=key, Range="bytes=-4")["Body"].read()
    return int.from_bytes(tail, "little") if len(tail) == 4 else 0


def run(items: int = ITEMS, scan_items: int = SCAN_ITEMS) -> str:
    """Both measurements; the results as a Markdown section."""
    reverted = revert(items)
    print(reverted, flush=True)
    scanned = scan(scan_items)
    print(scanned, flush=True)
    conflicts_expected = len(range(0, items, LATER_EVERY))
    revert_rows = [row(
        reverted["items"], reverted["seconds"], figure(reverted["items"] / reverted["seconds"], 0),
        figure(reverted["cpu_ms_per_item"], 2), reverted["written"],
        f"{figure(reverted['conflicts'])} (of {conflicts_expected:,} changed later)",
        reverted["most_writes_of_a_key"],
    )]  # fmt: skip
    scan_rows = [row(
        scanned["items"], scanned["gzip_mb"], scanned["raw_mb"], scanned["seconds"],
        scanned["gzip_mb"] / scanned["cpu"], scanned["raw_mb"] / scanned["cpu"],
        f"{scanned['found']} (of 4)",
    )]  # fmt: skip
    return (
        "(a) `RepairExecutor.run` (4 threads) reverting changed items in the conditional sink (its own process): "
        "each batch of 100 read with one BatchGetItem, every item written with a conditional PutItem and its outcome "
        "checkpointed in SQLite; 1 % of the items were changed again after the window and must be left alone.\n\n"
        + table(
            ["items", "seconds", "items/s", "CPU ms/item (bot)", "written", "conflicts found", "most writes of a key"],
            revert_rows,
        )
        + "\n\nitems/s is bound by the sink (a pure-Python server answering one request per item, on these 2 cores); "
        "the bot's own CPU per item is the figure that carries over to DynamoDB, where each conditional write is one "
        "request and the rate is the table's (or `rate=`'s).\n\n"
        + f"Preparing the actions in SQLite (not measured above): {reverted['prepared_seconds']:.0f} s.\n\n"
        "(b) `/ddb-item` older than PITR: `ExportRecords.items` scanning a full export in moto's S3 (its own process) "
        f"for one partition key ({SCAN_FILES} files; items ~300 bytes, every DynamoDB type), on one core. MB/s per "
        "core is per second of the scanning process's CPU; `seconds` is wall time, bound here by moto serving S3 "
        "(the scan's time estimate, bot/recovery/costs.py, uses the slower wall figure).\n\n"
        + table(
            ["items", "gzip MB", "data MB", "seconds", "gzip MB/s per core", "data MB/s per core", "items found"],
            scan_rows,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--scan-items", type=int, default=SCAN_ITEMS)
    args = parser.parse_args()
    section = run(args.items, args.scan_items)
    write_section(TITLE, section)
    print(section)


if __name__ == "__main__":
    main()
