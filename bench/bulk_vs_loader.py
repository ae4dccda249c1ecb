"""Benchmark 7: the same 1,000,000-item full export restored into an existing table both ways, at the same ceiling:
DynamoDB's bulk put (the bot starts, follows and reads the report of a StartBulkPutItems operation) and the bot's
loader (it reads and writes every item itself). What is compared is the bot's own cost: CPU seconds and peak memory
of the process doing the restore, and the wall time.

Processes, so that nothing but the bot's work is counted as the bot's: moto's S3 server; the BatchWriteItem sink
(`tests.support.ddb_sink`, fresh for each run, checking every key); the stand-ins' front (bot/demo/aws) in its own
process, its bulk put's unconditional puts sent to that sink in batches of 25 (bench/bulk_standin.py) at the
operation's MaxWriteRequestUnits; and each restore in a child process of its own: the bulk run is the bot's
`BulkPhase` (as the `into=` executor runs it, with a claim-free context), the loader run the bot's `load_exports`
with the same ceiling. CPU = the child's user+sys during the run, peak RSS = its ru_maxrss. The stand-in's CPU is
measured apart (/proc) and shown, never added to the bot's.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3

from bench.common import ROOT, figure, row, start_moto_process, stop, table, write_section
from bench.loader_throughput import (
    BUCKET,
    CONCURRENCY,
    KEYS,
    TABLE,
    Export,
    Sink,
    _child_env,
    _cpu_s,
    _first_line,
    _peak_rss_mb,
    _process_cpu_s,
    _s3,
    generate_exports,
    load_child,
)
from bot.aws.accounts import AwsAccounts, Place
from bot.aws.pricing import PriceBook
from bot.core import Core, ExportDefaults
from bot.db import make_engine, metadata
from bot.models import ExportFormat, ExportLocation, ExportStatus, ExportType
from bot.restores.bulk import BulkPhase
from bot.restores.bulk_options import BulkPut, Engine, Tier
from bot.restores.executors import ExecutorContext
from bot.restores.models import LoadOptions, RestoreMode, RestorePlan, RestoreRequest, RestoreStatus
from bot.restores.sources import ResolvedExport, import_checksum, import_data_prefix
from bot.restores.store import RestoreStore
from bot.store import Store
from bot.timefmt import utcnow

TITLE = "8. Bulk put against the loader"
ITEMS = int(os.environ.get("BENCH_BULK_ITEMS", "1000000"))  # smaller only to try the benchmark out
CEILING = 10_000  # write units a second, both ways: items here are ~300 bytes, one write unit each
RUN_TIMEOUT_S = 1800.0  # bulk put's run is as slow as the stand-in on a loaded machine
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Run:
    """One restore's figures, the bot's and the processes' beside it."""

    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    rss_before_mb: float
    written: int
    distinct: int
    keys_match: bool
    standin_cpu_s: float
    sink_cpu_s: float
    load_average: float  # the machine's 1-minute load average as the run ended (it is shared)

    def cells(self) -> list[str]:
        return row(
            self.name,
            self.wall_s,
            figure(ITEMS / self.wall_s, 0),
            self.cpu_s,
            f"{figure(self.peak_rss_mb, 0)} ({figure(self.rss_before_mb, 0)} before)",
            self.distinct,
            "yes" if self.keys_match else "NO",
            self.standin_cpu_s,
            self.sink_cpu_s,
            self.load_average,
        )


# ----------------------------------------------------------------------------------------------- child processes


def bulk_child(spec: dict[str, Any]) -> dict[str, Any]:
    """`--bulk`: the bot's BulkPhase over the export, in this process (AWS_ENDPOINT_URL is the front). The plan's
    bulk put is what the planner makes of this export (its data folder, and the checksum of its manifests and data
    listing that the run checks before it starts)."""
    engine = make_engine(f"sqlite:///{spec['workdir']}/bulk-{os.getpid()}.sqlite3")
    metadata.create_all(engine)
    location = ExportLocation(**spec["location"])
    session = boto3.Session()
    core = Core(AwsAccounts(session, {}), Store(engine), PriceBook(lambda: None), defaults=ExportDefaults(BUCKET))  # type: ignore[arg-type,return-value]
    resolved = ResolvedExport(
        location.url, location.export_id, ExportType.FULL, ExportFormat.DYNAMODB_JSON, ExportStatus.COMPLETED,
        BUCKET, location.prefix or "", item_count=ITEMS,
    )  # fmt: skip
    source = resolved.load_source()
    data_prefix = import_data_prefix(core, resolved)
    bulk = BulkPut(
        export_id=location.export_id,
        bucket=BUCKET,
        bucket_owner=None,
        key_prefix=data_prefix,
        input_format="DYNAMODB_JSON",
        compression="GZIP",
        max_write_units=CEILING,
        tier=Tier.STANDARD,
        report_bucket=BUCKET,
        report_prefix="bench/bulk-put-reports/",
        input_checksum=import_checksum(core, resolved, data_prefix),
        objects=spec["objects"],
        input_bytes=spec["bytes"],
    )
    options = LoadOptions(KEYS, (source,), None, engine=Engine.BULK, engine_reason="benchmark", bulk=bulk)
    plan = RestorePlan(RestoreMode.LOAD, (location.url,), TABLE, None, "us-east-1", options)
    now = utcnow()
    request = RestoreRequest(
        f"r-bench{os.getpid() % 100000:05d}", RestoreStatus.RUNNING, plan, plan.digest(), "U0BENCH", 1, now, now
    )
    context = ExecutorContext(
        core, RestoreStore(engine), Place(None, "us-east-1"), threading.Event(), POLL_SECONDS, 3600.0, lambda _: None
    )
    rss_before = _peak_rss_mb()
    cpu, wall = _cpu_s(), time.perf_counter()
    result = BulkPhase().run(context, request)
    cpu, wall = _cpu_s() - cpu, time.perf_counter() - wall
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss_before,
        "status": result.status,
        "written": result.written,
    }


def loader_child(spec: dict[str, Any]) -> dict[str, Any]:
    """`--loader`: bench 2's child (the bot's `load_exports`) with the ceiling."""
    figures = load_child(spec)
    return {**figures, "written": figures["items"]}


# ----------------------------------------------------------------------------------------------- runs


class StandIn:
    """bench/bulk_standin.py: the front before moto, bulk put writing to the sink, in its own process."""

    def __init__(self, moto: str, sink: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.bulk_standin", moto, sink],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=_child_env(),
        )
        self.url = _first_line(self.process, 60.0)

    def close(self) -> None:
        stop(self.process)


def measure(name: str, mode: str, export: Export, moto: str, workdir: str, objects: int, size: int) -> Run:
    """One restore in a child process against a fresh sink (and, for bulk put, a fresh stand-in)."""
    sink = Sink()
    standin = StandIn(moto, sink.url) if mode == "bulk" else None
    try:
        spec = {
            "s3": moto,
            "sink": sink.url,
            "location": export.location.__dict__,
            "concurrency": CONCURRENCY,
            "workdir": workdir,
            "ceiling": float(CEILING),
            "objects": objects,
            "bytes": size,
        }
        env = _child_env()
        if standin is not None:
            env["AWS_ENDPOINT_URL"] = standin.url
            _create_target(standin.url)
        before = (_process_cpu_s(standin.process.pid) if standin else float("nan"), _process_cpu_s(sink.process.pid))
        done = subprocess.run(
            [sys.executable, "-m", "bench.bulk_vs_loader", f"--{mode}", json.dumps(spec)],
            capture_output=True,
            cwd=ROOT,
            env=env,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the {name} run failed:\n{done.stderr.decode()[-3000:]}")
        result = json.loads(done.stdout.decode().strip().splitlines()[-1])
        standin_cpu = _process_cpu_s(standin.process.pid) - before[0] if standin else float("nan")
        sink_cpu = _process_cpu_s(sink.process.pid) - before[1]
        stats = sink.stats()
    finally:
        if standin is not None:
            standin.close()
        sink.close()
    return Run(
        name=name,
        wall_s=result["wall_s"],
        cpu_s=result["cpu_s"],
        peak_rss_mb=result["peak_rss_mb"],
        rss_before_mb=result["rss_before_mb"],
        written=stats["items_written"],
        distinct=stats["distinct_keys"],
        keys_match=stats["key_checksum"] == export.checksum and stats["distinct_keys"] == export.items,
        standin_cpu_s=standin_cpu,
        sink_cpu_s=sink_cpu,
        load_average=os.getloadavg()[0],
    )


def _create_target(front: str) -> None:
    """The target table in moto (through the front): what DescribeTable and StartBulkPutItems look at; its items
    go to the sink."""
    ddb = boto3.client(
        "dynamodb", endpoint_url=front, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="b"
    )
    attributes: Any = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}]
    keys: Any = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    with contextlib.suppress(ddb.exceptions.ResourceInUseException):
        ddb.create_table(
            TableName=TABLE, KeySchema=keys, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
        )


def run() -> str:
    """Generate the export once, restore it both ways, and say what each cost the bot."""
    moto, moto_endpoint = start_moto_process()
    workdir = tempfile.mkdtemp(prefix="bench-bulk-")
    try:
        _s3(moto_endpoint).create_bucket(Bucket=BUCKET)
        (export,), generated = generate_exports(moto_endpoint, [ITEMS], workdir)
        listing = _s3(moto_endpoint).list_objects_v2(Bucket=BUCKET, Prefix=export.location.folder + "data/")
        objects = listing.get("Contents", [])
        size = sum(int(o["Size"]) for o in objects)
        figures = (export, moto_endpoint, workdir, len(objects), size)
        runs = [
            measure("bulk put (the bot follows the operation)", "bulk", *figures),
            measure("loader (the bot writes every item)", "loader", *figures),
        ]
    finally:
        stop(moto)
    return report(runs, export, generated)


def report(runs: list[Run], export: Export, generated: float) -> str:
    bulk, loader = runs
    headers = [
        "run",
        "wall s",
        "items/s",
        "bot CPU s",
        "bot peak RSS MB",
        "sink distinct keys",
        "every key, once",
        "stand-in CPU s (not the bot's)",
        "sink CPU s",
        "load average",
    ]
    return "\n".join(
        [
            f"Input: one full DYNAMODB_JSON export of {export.items:,} items (bench 2's generator: 16 gzip data files "
            f"plus an empty partition, {export.compressed_bytes / 2**20:.0f} MiB gzip'd), in moto's S3 in its own "
            f"process; generated in {generated:.0f} s, outside every figure. Ceiling: {CEILING:,} write units a second "
            "both ways (bulk put's MaxWriteRequestUnits; the loader's `rate=`).",
            "",
            table(headers, [r.cells() for r in runs]),
            "",
            f"The bot's CPU for the restore: bulk put {bulk.cpu_s:.1f} s against the loader's {loader.cpu_s:.1f} s "
            f"({loader.cpu_s / max(bulk.cpu_s, 0.01):,.0f}×); peak RSS {bulk.peak_rss_mb:.0f} MB against "
            f"{loader.peak_rss_mb:.0f} MB. With bulk put the items are read, parsed and written by DynamoDB (here: the "
            "stand-in's process, whose CPU is shown apart and is not the bot's); the bot only starts the operation, "
            f"describes it every {POLL_SECONDS:.0f} s and reads its report.",
            "",
            wall_time(bulk, loader),
        ]
    )


def wall_time(bulk: Run, loader: Run) -> str:
    """What the wall times say, and what they cannot: bulk put's pace here is the stand-in's, never AWS's."""
    floor = ITEMS / CEILING
    reached = {r.name: ITEMS / r.wall_s / CEILING for r in (bulk, loader)}
    standin_cores = bulk.standin_cpu_s / bulk.wall_s
    text = (
        f"Wall time at the same ceiling ({floor:.0f} s at least for {ITEMS:,} one-unit items): bulk put "
        f"{bulk.wall_s:.0f} s ({reached[bulk.name]:.0%} of the ceiling), the loader {loader.wall_s:.0f} s "
        f"({reached[loader.name]:.0%})."
    )
    if reached[bulk.name] < 0.9:
        text += (
            f" Bulk put fell short of the ceiling because the stand-in could not keep up: one Python thread parsing "
            f"and sending every item, it used {bulk.standin_cpu_s:.0f} s of CPU in {bulk.wall_s:.0f} s "
            f"({standin_cores:.2f} of a core, on a machine whose load average was {bulk.load_average:.1f} on 2 "
            "cores). That is the stand-in's pace, not DynamoDB's, which scales past one machine and which this "
            "benchmark cannot measure; held to the ceiling, either way takes the same time."
        )
    return text


def main() -> None:
    """Child entry points: `--bulk <spec>` and `--loader <spec>`; otherwise run the benchmark and write the results."""
    if len(sys.argv) == 3 and sys.argv[1] in {"--bulk", "--loader"}:
        child = bulk_child if sys.argv[1] == "--bulk" else loader_child
        print(json.dumps(child(json.loads(sys.argv[2]))))
        return
    section = run()
    write_section(TITLE, section)
    print(section)


if __name__ == "__main__":
    main()
