"""Two `python -m bot` processes sharing one database (SQLite file, or PostgreSQL when a server is given).

One of them holds the lease and runs the scheduler and the tracker: every fire makes one export. When it is killed
(SIGKILL, no goodbye), the other takes over within two lease periods, and reports the export that was in flight.
Times are read from the lease rows, by the database's clock (the one the replicas use), not the test's.

Each replica reaches DynamoDB through its own front, which lets the test stop a replica's exports reaching AWS (its
fires then wait at the front): the leader's before the kill, since a SIGKILL between AWS starting an export and the
replica recording it leaves an export the store never hears of (README, Status) and with a fire every second a kill
at an arbitrary moment lands there by chance; the new leader's before AWS and the store are compared, since its
fires would otherwise go on adding exports between the two readings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.background.leases import LeaseStore
from bot.db import database_now, make_engine
from bot.demo.slack_standin import SlackStandIn
from bot.models import ExportStatus
from bot.schedules.models import RunState
from bot.schedules.runs import client_token
from bot.schedules.store import ScheduleStore
from bot.store import Store
from bot.wiring.schema import create_schema
from tests.integration.conftest import NOTIFY, SIGNING_SECRET
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.aws_world import exports_held
from tests.support.client_tokens import TokenLedger, client_tokens_honoured
from tests.support.databases import database_kinds, fresh_database
from tests.support.schedules import wait_until

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 6.0  # renewed every 2 s, given up after 4 s without a renewal: room for a busy machine
SCHEDULE = "every-second"


@pytest.fixture(params=database_kinds())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


class ExportGate:
    """Decides for a replica's DynamoDB front: everything goes to moto until `close()`; from then on each
    ExportTableToPointInTime is held (the replica waits, AWS never sees it) until `release`, then refused."""

    def __init__(self) -> None:
        self.forwarded = 0
        self.release = threading.Event()
        self._closed = False
        self._lock = threading.Lock()

    def __call__(self, operation: str, body: bytes) -> Fault | None:
        if operation != "ExportTableToPointInTime":
            return None
        with self._lock:
            if not self._closed:
                self.forwarded += 1
                return None
        self.release.wait(60)
        return Fault(503, "ServiceUnavailable", "held by the test until the replica was gone")

    def close(self) -> int:
        """No export reaches AWS from now on; how many did."""
        with self._lock:
            self._closed = True
            return self.forwarded


def start_replica(
    name: str, database_url: str, slack: SlackStandIn, tmp_path: Path, dynamodb_url: str
) -> subprocess.Popen[bytes]:
    """`python -m bot` as an operator would run it, pointed at the stand-ins (DynamoDB at `dynamodb_url`)."""
    config = tmp_path / "replicas.toml"
    config.write_text(
        f'[[schedules]]\nid = "{SCHEDULE}"\ntable = "orders"\ncron = "* * * * * *"\nprefix = "replicas"\n'
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": "0",
        "DDBBOT_METRICS_PORT": "0",  # two replicas on one host: each its own metrics port
        "DDBBOT_DATABASE_URL": database_url,
        "DDBBOT_EXPORT_BUCKET": "acme-ddb-backups",
        "DDBBOT_NOTIFY_CHANNEL": NOTIFY,
        "DDBBOT_POLL_SECONDS": "0.2",
        "DDBBOT_LEASE_SECONDS": str(LEASE_SECONDS),
        "DDBBOT_CONFIG_FILE": str(config),
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
    }
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)


def holder_pid(leases: LeaseStore) -> int | None:
    """The pid of the replica holding an unexpired lease, by the database's clock."""
    lease = leases.holder("background")
    with leases.engine.connect() as connection:
        now = database_now(connection)
    if lease is None or lease.expires_at <= now:
        return None
    return int(lease.holder.split(":")[-2])


def export_folders(ddb: Any, table_arn: str) -> list[str]:
    """The S3 folder of every export AWS holds for the table (ListExports, every page; DescribeExport each)."""
    arns, token = [], None
    while True:
        page = ddb.list_exports(TableArn=table_arn, MaxResults=25, **({"NextToken": token} if token else {}))
        arns += [summary["ExportArn"] for summary in page.get("ExportSummaries", [])]
        token = page.get("NextToken")
        if not token:
            return sorted(ddb.describe_export(ExportArn=arn)["ExportDescription"]["S3Prefix"] for arn in arns)


def exports_made(ledger: TokenLedger) -> int:
    """The distinct exports AWS made. Not the calls that reached it: a fire asked again after a takeover on a busy
    machine (the new leader took a claim whose holder paused past the stale period after AWS started its export)
    reaches AWS twice and is one export, as its ClientToken says."""
    with ledger.lock:
        return ledger.started["export"]


@pytest.fixture
def client_tokens(world: str) -> Iterator[TokenLedger]:
    """ClientToken as AWS honours it (moto does not): a fire asked again after a takeover on a busy machine (its
    holder paused past the stale period after AWS started its export) is answered with the same export."""
    with client_tokens_honoured() as ledger:
        yield ledger


def test_two_replicas_make_one_export_per_fire_and_the_other_takes_over_when_the_leader_is_killed(
    world: str, slack: SlackStandIn, tmp_path: Path, database_url: str, ddb: Any, client_tokens: TokenLedger
) -> None:
    engine = make_engine(database_url)
    create_schema(engine)  # as a deploy would before starting replicas side by side
    gates = [ExportGate(), ExportGate()]
    fronts = [AwsFaultProxy(world, gate) for gate in gates]
    replicas = [start_replica(n, database_url, slack, tmp_path, f.url) for n, f in zip("ab", fronts, strict=True)]
    try:
        leases, runs, exports = LeaseStore(engine), ScheduleStore(engine), Store(engine)

        def started_by(pid: int) -> list[Any]:
            return [r for r in runs.runs(SCHEDULE) if r.state == RunState.STARTED and f":{pid}:" in r.holder]

        first_pid = wait_until(lambda: holder_pid(leases), "a replica to take the lease", timeout=60)
        leader = next(p for p in replicas if p.pid == first_pid)
        follower = next(p for p in replicas if p is not leader)
        leader_gate, follower_gate = gates[replicas.index(leader)], gates[replicas.index(follower)]
        wait_until(lambda: len(started_by(leader.pid)) >= 2, "two fires run by the leader", timeout=60)
        assert started_by(follower.pid) == [], "the follower runs nothing while the leader lives"

        with exports_held() as release:
            seen = {job.export_arn for job in exports.schedule_exports(SCHEDULE, 1000)}
            in_flight = wait_until(
                lambda: next((j for j in exports.schedule_exports(SCHEDULE, 5) if j.export_arn not in seen), None),
                "an export in flight",
                timeout=60,
            )
            assert in_flight.status == ExportStatus.IN_PROGRESS
            leader_gate.close()  # the leader's next fires wait at its front, before AWS
            made = exports_made(client_tokens)
            wait_until(
                lambda: len(exports.schedule_exports(SCHEDULE, 1000)) >= made,
                f"the {made} exports AWS started for the leader recorded, one per fire",
                timeout=60,
            )
            leader.send_signal(signal.SIGKILL)
            leader.wait(30)
            leader_gate.release.set()
            last = leases.holder("background")  # the dead leader's last renewal: nothing changes it now
            assert last is not None and f":{leader.pid}:" in last.holder
            wait_until(lambda: holder_pid(leases) == follower.pid, "the follower to take over", timeout=60)
            taken = leases.holder("background")
            assert taken is not None
            wait_until(lambda: len(started_by(follower.pid)) >= 2, "two fires run by the new leader", timeout=60)
            follower_gate.close()  # from here on no export reaches AWS: the comparisons below hold still
            made = exports_made(client_tokens)
            wait_until(
                lambda: len(exports.schedule_exports(SCHEDULE, 1000)) >= made,
                f"the {made} exports AWS started recorded, one per fire",
                timeout=60,
            )
            release.set()

        def all_reported() -> bool:
            jobs = exports.schedule_exports(SCHEDULE, 1000)
            posted = " ".join(m.text for m in slack.messages(NOTIFY))
            return all(j.status == ExportStatus.COMPLETED for j in jobs) and all(j.export_id in posted for j in jobs)

        wait_until(all_reported, "every export completed and reported", timeout=60)
        lease = timedelta(seconds=LEASE_SECONDS)
        assert taken.acquired_at >= last.expires_at, "the follower took the lease only once it had expired"
        renewed = last.expires_at - lease
        assert taken.acquired_at - renewed < 2 * lease, (
            f"took over {taken.acquired_at - renewed} after the last renewal"
        )
        reported = exports.get_export(in_flight.export_arn)
        assert reported is not None and reported.status == ExportStatus.COMPLETED, (
            "the export in flight at the kill is finished"
        )

        jobs = exports.schedule_exports(SCHEDULE, 1000)
        fires = {client_token(SCHEDULE, r.fire_time) for r in runs.runs(SCHEDULE, 1000)}
        tokens = [j.client_token for j in jobs]
        assert len(tokens) == len(set(tokens)), "one export per fire"
        assert set(tokens) <= fires, "every export belongs to a claimed fire"
        assert all(r.export_arn for r in runs.runs(SCHEDULE, 1000) if r.state == RunState.STARTED)
        table_arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
        assert export_folders(ddb, table_arn) == sorted(j.s3_prefix for j in jobs), "AWS saw one export per fire"
        results = [m for m in slack.messages(NOTIFY) if "COMPLETED" in m.text]
        assert len(results) == len(jobs), "each result posted once, by one replica"
    finally:
        for gate in gates:
            gate.release.set()  # a fire held at its front ends (refused), so its replica can stop
        for process in replicas:
            if process.poll() is None:
                process.terminate()
        for process in replicas:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        for front in fronts:
            front.close()
        engine.dispose()
        for name in ("a", "b"):  # shown by pytest when the test fails
            print(f"----- replica {name} -----\n" + (tmp_path / f"{name}.log").read_text()[-4000:])
