"""Benchmark 4: `/ddb-coverage all` over 5,000 tables in 5 accounts, against a DynamoDB control-plane stand-in.

The stand-in (its own process, so it does not share the survey's interpreter) answers STS AssumeRole and
DynamoDB's ListTables, DescribeTable, DescribeContinuousBackups and ListExports with a fixed latency per call
(30 ms by default) and a per-account request limit per second that answers ThrottlingException beyond it, as the
control plane does (2,500 requests a second per account and region). The account of a request is read from its
SigV4 access key (an assumed role's key names its account). The survey is the bot's own `CoverageSurvey`, with
the bot's AWS client configuration (standard retry mode: throttled calls are retried with backoff).
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
from sqlalchemy import Engine, insert

from bench.common import figure, free_port, row, table
from bot.aws.accounts import AwsAccounts
from bot.aws.pricing import PriceBook
from bot.config import Account
from bot.core import Core
from bot.coverage.survey import CoverageSurvey
from bot.db import make_engine
from bot.drills.models import DrillSpec, DrillStatus, new_drill_id
from bot.drills.service import Drills, last_drills
from bot.drills.store import DrillStore, drills
from bot.models import ExportType
from bot.store import Store
from bot.verification.models import ExportTarget
from bot.wiring.schema import create_schema

ACCOUNTS = ("000000000000", "111111111111", "222222222222", "333333333333", "444444444444")
TABLES_PER_ACCOUNT = 1000
LATENCY_S = 0.030
NAMES = [f"table-{index:05d}" for index in range(TABLES_PER_ACCOUNT)]  # made once: the stand-in shares the 2 cores


def serve(port: int, latency: float, limit_per_second: int) -> None:
    """The stand-in's process: answer until killed (GET /counts: the calls answered, by operation)."""
    buckets: dict[str, list[float]] = {}
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def allowed(account: str) -> bool:
        now = time.monotonic()
        with lock:
            tokens, stamp = buckets.get(account, [float(limit_per_second), now])
            tokens = min(float(limit_per_second), tokens + (now - stamp) * limit_per_second)
            if tokens < 1:
                buckets[account] = [tokens, now]
                return False
            buckets[account] = [tokens - 1, now]
            return True

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # http.server writes an answer's headers and body apart: with Nagle's algorithm the body waits for the
        # client's delayed ACK (40 ms on Linux), a stall no AWS endpoint adds to a call
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(latency)
            key = self.headers.get("Authorization", "").partition("Credential=")[2].split("/", 1)[0]
            account = key[4:16] if key.startswith("ASIA") else ACCOUNTS[0]
            target = self.headers.get("X-Amz-Target", "")
            if not target:
                return self._assume_role(body)
            if not allowed(account):
                with lock:
                    counts["throttled"] += 1
                return self._json(
                    400,
                    {"__type": "ThrottlingException", "message": "Rate of requests exceeds the allowed throughput."},
                )
            operation = target.rsplit(".", 1)[-1]
            with lock:
                counts[operation] += 1
            request = json.loads(body or b"{}")
            return self._json(200, answer(operation, request, account))

        def do_GET(self) -> None:
            with lock:
                self._json(200, dict(counts))

        def _assume_role(self, body: bytes) -> None:
            role = parse_qs(body.decode())["RoleArn"][0]
            account = role.split(":")[4]
            expires = "2100-01-01T00:00:00Z"
            xml = (
                '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
                f"<Credentials><AccessKeyId>ASIA{account}XX</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
                f"<SessionToken>t</SessionToken><Expiration>{expires}</Expiration></Credentials>"
                f"<AssumedRoleUser><AssumedRoleId>AROA:bench</AssumedRoleId><Arn>{role}</Arn></AssumedRoleUser>"
                "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
            ).encode()
            self._send(200, xml, "text/xml")

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode(), "application/x-amz-json-1.0")

        def _send(self, status: int, payload: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def answer(operation: str, request: dict[str, Any], account: str) -> dict[str, Any]:
    """The control plane's answers for a synthetic estate: every third table without PITR, every fifth exported."""
    names = NAMES
    if operation == "ListTables":
        start = request.get("ExclusiveStartTableName")
        first = names.index(start) + 1 if start else 0
        page = names[first : first + min(int(request.get("Limit", 100)), 100)]
        more = first + len(page) < len(names)
        return {"TableNames": page, **({"LastEvaluatedTableName": page[-1]} if more else {})}
    if operation == "ListExports" and "TableArn" not in request:
        return account_exports(request, account)
    name = request.get("TableName") or request.get("TableArn", "").rsplit("/", 1)[-1]
    index = int(name.rsplit("-", 1)[-1])
    arn = f"arn:aws:dynamodb:us-east-1:{account}:table/{name}"
    if operation == "DescribeTable":
        return {
            "Table": {
                "TableName": name,
                "TableArn": arn,
                "TableStatus": "ACTIVE",
                "TableSizeBytes": 1024,
                "ItemCount": 10,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "DeletionProtectionEnabled": index % 2 == 0,
            }
        }
    if operation == "DescribeContinuousBackups":
        status = "DISABLED" if index % 3 == 0 else "ENABLED"
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": status,
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": status},
            }
        }
    if operation == "ListExports":
        return {"ExportSummaries": [_export(arn, index)] if index % 5 == 0 else []}
    return {}


def _export(table_arn: str, index: int) -> dict[str, str]:
    export = f"{table_arn}/export/01764633600000-{index:08x}"
    return {"ExportArn": export, "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"}


def account_exports(request: dict[str, Any], account: str) -> dict[str, Any]:
    """ListExports without TableArn: every export of the account and region, 25 at most a page (MaxResults 1..25),
    in reverse order of ExportArn, as DynamoDB documents it."""
    arns = [(f"arn:aws:dynamodb:us-east-1:{account}:table/table-{i:05d}", i) for i in range(TABLES_PER_ACCOUNT)]
    exports = sorted((_export(arn, i) for arn, i in arns if i % 5 == 0), key=lambda e: e["ExportArn"], reverse=True)
    first = int(request.get("NextToken") or 0)
    size = min(int(request.get("MaxResults", 25)), 25)
    more = first + size < len(exports)
    return {"ExportSummaries": exports[first : first + size], **({"NextToken": str(first + size)} if more else {})}


def seed_drills(engine: Engine) -> None:
    """Two finished drills of every tenth table of each account (the survey shows each table's newest), as the bot
    wires it: the drill store on the survey's own database."""
    target = ExportTarget("01764633600000-00000000", None, "b", "p", None, ExportType.FULL, None, "us-east-1", "x")
    rows = []
    for n, _ in enumerate(ACCOUNTS):
        for index in range(0, TABLES_PER_ACCOUNT, 10):
            key = f"acct{n}:table-{index:05d}" if n else f"table-{index:05d}"
            spec = json.loads(json.dumps(asdict(DrillSpec(key, None, "us-east-1", target, "drill", {}, 10))))
            newest = DrillStatus.FAILED if index % 20 else DrillStatus.PASSED
            for days, status in ((40, DrillStatus.PASSED), (2, newest)):
                finished = datetime.now(UTC) - timedelta(days=days)
                rows.append(
                    {"id": new_drill_id(), "table_key": key, "spec": spec, "status": status, "requested_by": "U0BENCH"}
                    | {"attempts": 1, "created_at": finished, "finished_at": finished, "result": {}}
                )
    with engine.begin() as connection:
        connection.execute(insert(drills), rows)


def survey_once(endpoint: str, database: Path) -> tuple[CoverageSurvey, float, float, float]:
    """Survey twice (the second within the cache period): the first's wall and CPU seconds, the second's wall."""
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "AKIDBENCH", "AWS_SECRET_ACCESS_KEY": "s"})
    session = boto3.Session(region_name="us-east-1")
    accounts = {
        f"acct{n}": Account(f"acct{n}", f"arn:aws:iam::{a}:role/ddb-backup-bot") for n, a in enumerate(ACCOUNTS[1:], 1)
    }
    engine = make_engine(f"sqlite:///{database}")
    create_schema(engine)
    seed_drills(engine)
    core = Core(aws=AwsAccounts(session, accounts), store=Store(engine), prices=PriceBook(lambda: None))  # type: ignore[arg-type,return-value]
    survey = CoverageSurvey(core, list, last_drills=functools.partial(last_drills, Drills(core, DrillStore(engine))))
    started, cpu = time.monotonic(), time.process_time()
    report = survey.report()
    first, cpu = time.monotonic() - started, time.process_time() - cpu
    assert len(report.tables) == len(ACCOUNTS) * TABLES_PER_ACCOUNT, len(report.tables)
    assert not report.unreadable, report.unreadable
    failed = sum(t.drill_issue == "last restore drill failed" for t in report.tables)
    assert failed == len(ACCOUNTS) * TABLES_PER_ACCOUNT // 20, failed  # each table's newest drill, as seeded
    started = time.monotonic()
    survey.report()
    return survey, first, cpu, time.monotonic() - started


def measure(limit_per_second: int) -> tuple[float, float, float, dict[str, int]]:
    """One first survey's wall and CPU seconds (the surveying process's own: the stand-in is another), the cached
    survey's wall seconds, and the calls the stand-in answered."""
    port = free_port()
    process = multiprocessing.Process(target=serve, args=(port, LATENCY_S, limit_per_second), daemon=True)
    process.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{endpoint}/counts", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as tmp:
            _, first, cpu, second = survey_once(endpoint, Path(tmp) / "bench.sqlite3")
        with urllib.request.urlopen(f"{endpoint}/counts", timeout=5) as response:
            counts: dict[str, int] = json.loads(response.read())
        return first, cpu, second, counts
    finally:
        process.kill()


def run() -> str:
    """Run the benchmark and return its Markdown section."""
    rows = []
    tables = len(ACCOUNTS) * TABLES_PER_ACCOUNT
    for limit in (2500, 500):
        first, cpu, second, counts = measure(limit)
        calls = sum(v for k, v in counts.items() if k != "throttled")
        rows.append(
            row(
                f"{limit:,}/s",
                first,
                cpu,
                f"{figure(second * 1000)} ms",
                figure(calls / tables, 2),
                counts.get("throttled", 0),
            )
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "met" if float(rows[0][1]) < 30 and all(float(r[3].split()[0]) < 1000 for r in rows) else "MISSED"
    return (
        f"`CoverageSurvey.report()` over {tables:,} tables in {len(ACCOUNTS)} accounts (the bot's own and 4 assumed "
        f"roles), {LATENCY_S * 1000:.0f} ms per control-plane call, at two per-account request limits; a second "
        f"survey within the cache period; {datetime.now(UTC):%Y-%m-%d}.\n\n"
        + table(
            ["limit per account", "first survey s", "its CPU s", "second (cached)", "calls / table", "throttled calls"],
            rows,
        )
        + f"\n\nPeak RSS of the surveying process: {rss_mb:.0f} MB. "
        f"Goal (first survey < 30 s, cached < 1 s): {verdict}."
    )


def once() -> None:
    """`python -m bench.coverage_survey --once`: one first survey at 2,500/s, one line (for before/after runs)."""
    first, cpu, _, counts = measure(2500)
    calls = sum(v for k, v in counts.items() if k != "throttled")
    tables = len(ACCOUNTS) * TABLES_PER_ACCOUNT
    throttled = counts.get("throttled", 0)
    print(f"wall_s={first:.2f} cpu_s={cpu:.2f} calls_per_table={calls / tables:.3f} throttled={throttled}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--once"]:
        once()
    else:
        print(run())
