"""Benchmark 3: one tracker cycle over many unfinished jobs: AWS calls and CPU per cycle, as the count grows."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from bench.common import figure, row, share, table, write_section
from bot.aws.accounts import AwsAccounts, Place
from bot.aws.pricing import PriceBook
from bot.core import Core
from bot.db import make_engine
from bot.exports.tracker import ExportTracker
from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType
from bot.restores.executors import DESCRIBE_EVERY_POLLS
from bot.restores.import_board import ImportStatusBoard
from bot.store import Store
from bot.wiring.schema import create_schema

COUNTS = (50, 100, 250, 500)


class DescribeStandIn:
    """Answers ListExports, DescribeExport (and DescribeImport) with IN_PROGRESS at once, counting calls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.exports_by_table: dict[str, list[str]] = {}
        self.completed: set[str] = set()
        self.imports: list[str] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                standin.calls[operation] += 1
                if operation == "ListExports":
                    arns = standin.exports_by_table.get(body["TableArn"], [])
                    start = int(body.get("NextToken") or 0)
                    page = arns[start : start + int(body.get("MaxResults", 25))]
                    answer: dict[str, Any] = {
                        "ExportSummaries": [{"ExportArn": a, "ExportStatus": standin.status(a)} for a in page]
                    }
                    if start + len(page) < len(arns):
                        answer["NextToken"] = str(start + len(page))
                elif operation == "DescribeExport":
                    status = standin.status(body["ExportArn"])
                    answer = {
                        "ExportDescription": {
                            "ExportArn": body["ExportArn"],
                            "ExportStatus": status,
                            "ItemCount": 1,
                            "BilledSizeBytes": 100,
                        }
                    }
                elif operation == "ListImports":
                    start = int(body.get("NextToken") or "0", 16)
                    page = standin.imports[start : start + int(body.get("PageSize", 25))]
                    answer = {"ImportSummaryList": [{"ImportArn": a, "ImportStatus": "IN_PROGRESS"} for a in page]}
                    if start + len(page) < len(standin.imports):
                        answer["NextToken"] = f"{start + len(page):0112x}"  # AWS's tokens: 112+ hex characters
                elif operation == "DescribeImport":
                    answer = {"ImportTableDescription": {"ImportArn": body["ImportArn"], "ImportStatus": "IN_PROGRESS"}}
                else:
                    answer = {}
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def status(self, export_arn: str) -> str:
        return "COMPLETED" if export_arn in self.completed else "IN_PROGRESS"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def job(index: int) -> ExportJob:
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/t{index % 20}/export/0176838593{index:04d}-0000abcd"
    return ExportJob(
        export_arn=arn,
        export_id=arn.rsplit("/", 1)[-1],
        table_key=f"t{index % 20}",
        table_name=f"t{index % 20}",
        table_arn=arn.split("/export/")[0],
        region="us-east-1",
        status=ExportStatus.IN_PROGRESS,
        export_type=ExportType.FULL,
        export_format=ExportFormat.DYNAMODB_JSON,
        bucket="b",
        s3_prefix=f"p/{index}",
        requested_by="U0BENCH",
        created_at=datetime.now(UTC),
    )


def measure(count: int, standin: DescribeStandIn, finishing: float) -> tuple[int, int, float, float]:
    """Calls, Describe calls, CPU seconds and wall seconds of one cycle over `count` unfinished exports."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        create_schema(engine)
        store = Store(engine)
        standin.exports_by_table.clear()
        for index in range(count):
            stored, _ = store.record_export(job(index))
            standin.exports_by_table.setdefault(stored.table_arn, []).append(stored.export_arn)
        session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
        core = Core(aws=AwsAccounts(session, {}), store=store, prices=PriceBook(lambda: None))  # type: ignore[arg-type,return-value]
        tracker = ExportTracker(core, interval=3600)  # results owed are left unposted: only the AWS side is measured
        standin.completed = set()
        tracker.run_cycle()  # warm-up: client creation
        standin.calls.clear()
        arns = [a for arns in standin.exports_by_table.values() for a in arns]
        standin.completed = set(arns[: int(len(arns) * finishing)])
        cpu, wall = time.thread_time(), time.perf_counter()
        report = tracker.run_cycle()
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        engine.dispose()
    assert report.checked == count
    return sum(standin.calls.values()), standin.calls["DescribeExport"], cpu, wall


def measure_imports(count: int, standin: DescribeStandIn) -> tuple[int, float]:
    """AWS calls and CPU seconds of one poll over `count` running ImportTable restores: each follower asks the
    shared board, as ImportExecutor does between its DescribeImport calls."""
    standin.imports = [
        f"arn:aws:dynamodb:us-east-1:123456789012:table/r{i}/import/0176838593{i:04d}-0000abcd" for i in range(count)
    ]
    ddb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
    ddb.list_imports(PageSize=1)  # warm-up: client and connection
    board, place = ImportStatusBoard(max_age=30), Place(None, "us-east-1")
    standin.calls.clear()
    cpu = time.thread_time()
    statuses = []
    for index, arn in enumerate(standin.imports):
        statuses.append(board.status(ddb, place, arn))
        if index % DESCRIBE_EVERY_POLLS == 0:  # each follower still describes every 10th poll, for progress
            ddb.describe_import(ImportArn=arn)
    cpu = time.thread_time() - cpu
    assert statuses.count("IN_PROGRESS") == count
    return sum(standin.calls.values()), cpu


def run() -> str:
    """Run the benchmark and return its Markdown section."""
    standin = DescribeStandIn()
    os.environ["AWS_ENDPOINT_URL"] = standin.url
    rows = []
    for finishing in (0.0, 0.1):
        for count in COUNTS:
            calls, describes, cpu, wall = measure(count, standin, finishing)
            rows.append(
                row(
                    count,
                    share(finishing, 0),
                    calls,
                    figure(describes / count, 2),
                    figure(cpu, 3),
                    figure(cpu / count * 1000, 2),
                    figure(wall, 2),
                )
            )
    import_rows = []
    for count in COUNTS:
        calls, cpu = measure_imports(count, standin)
        import_rows.append(row(count, calls, figure(calls / count, 2), figure(cpu, 3)))
    worst = max([float(r[4]) for r in rows] + [float(r[3]) for r in import_rows])
    per_job = max(float(r[3]) for r in rows)
    verdict = "met" if worst < 1.0 and per_job <= 1.0 else "MISSED"
    return (
        "One `ExportTracker.run_cycle()` over N unfinished exports stored in SQLite, against a local DynamoDB "
        "stand-in that answers ListExports and DescribeExport at once (20 tables). The tracker lists each table's "
        "exports (25 per page) and describes only those that finished or were not listed; finished ones are "
        "stored and handed to the notifier once. CPU is the cycle thread's own (`time.thread_time`).\n\n"
        + table(
            [
                "unfinished jobs",
                "finishing this cycle",
                "AWS calls",
                "Describe per job",
                "CPU s / cycle",
                "CPU ms / job",
                "wall s / cycle",
            ],
            rows,
        )
        + "\n\nRestores that run in AWS (ImportTable) are followed by the restore runner, one thread each; between "
        "DescribeImport calls each asks a shared board that lists the account's imports (25 a page) at most once "
        "per poll, and describes only when its import changed, or every 10th poll for its progress figures. One "
        "poll over N running imports:\n\n"
        + table(["running imports", "AWS calls / poll", "calls per import", "CPU s / poll"], import_rows)
        + f"\n\nGoal: at most one Describe per unfinished job per cycle, cycle under 1 s of CPU at 500: **{verdict}**."
    )


if __name__ == "__main__":
    section = run()
    write_section("3. Tracking many jobs", section)
    print(section)
