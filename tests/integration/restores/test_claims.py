"""Two runners, one `into=` restore: the loader of a runner that lost its claim stops writing, and the restore
completes exactly once. The loader writes to moto's DynamoDB through one counting front per runner, so every
landed write is attributed to the runner that sent it; the database clock and the runners' monotonic clocks are
the tests' own, so "stale" and "not renewed in time" happen when the test says.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from bot.aws.accounts import AwsAccounts, Place
from bot.aws.pricing import PriceBook
from bot.background.claims import ClaimStore
from bot.background.fence import Fence
from bot.background.notes import NOTE
from bot.background.work import WorkRunner
from bot.core import Core
from bot.db import make_engine
from bot.restores.executors import Cancelled, ExecutorContext
from bot.restores.load import LoadExecutor, load_key
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.restores.models import LoadOptions, LoadSource, RestoreMode, RestorePlan, RestoreStatus
from bot.restores.runner import RunnerTiming
from bot.restores.store import RESTORE, RestoreStore
from bot.store import Store
from bot.wiring.schema import create_schema
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.clocks import SettableDatabaseClock, SettableMonotonic
from tests.support.export_fixtures import decoded, key_of, sample_items, write_full_export
from tests.support.restore_fakes import RecordingNotifier, approve, pending_request, restore_runner
from tests.support.restore_flow import wait_until

BUCKET = "acme-ddb-backups"
STALE = timedelta(seconds=30)
TIMING = RunnerTiming(poll_seconds=0.05, progress_seconds=0.05)
PLACE = Place(None, "us-east-1")
ITEMS = list(sample_items(2400, seed=11))


class CountingFront:
    """Decides for an AwsFaultProxy: counts the items of every BatchWriteItem let through to moto (slowly, so a
    load lasts), and can throttle them all. With `hold_after`, writes wait once that many items went through, until
    `release` is set: the test then acts while the load is certainly part-way, however slow the machine."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.throttle = False
        self.items = self.throttled = self.held = 0
        self.hold_after: int | None = None
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, operation: str, body: bytes) -> Fault | None:
        if operation != "BatchWriteItem":
            return None
        if self.hold_after is not None and self.items >= self.hold_after and not self.release.is_set():
            with self._lock:
                self.held += 1
            self.release.wait(60)
        with self._lock:
            if self.throttle:
                self.throttled += 1
                return Fault(400, "ThrottlingException", "slow down")
            self.items += sum(len(v) for v in json.loads(body)["RequestItems"].values())
        time.sleep(self.delay)
        return None


class Partition:
    """Makes one engine's statements fail as if the database stopped answering that replica."""

    def __init__(self, engine: Engine) -> None:
        self.cut = False
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, *_args: Any) -> None:
        if self.cut:
            raise OperationalError("(partitioned by the test)", None, ConnectionError("no route to the database"))


@dataclass
class Replica:
    """One runner with its own engine, AWS clients (through its own front) and notifier."""

    runner: WorkRunner
    front: CountingFront
    notifier: RecordingNotifier
    monotonic: SettableMonotonic
    partition: Partition


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    return url


@pytest.fixture
def fronts() -> Iterator[list[AwsFaultProxy]]:
    made: list[AwsFaultProxy] = []
    yield made
    for front in made:
        front.close()


@pytest.fixture
def replicas(
    world: str, database: str, fronts: list[AwsFaultProxy], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Replica, Replica, SettableDatabaseClock]]:
    clock = SettableDatabaseClock()
    made = [_replica(f"runner-{n}", database, clock, world, fronts, monkeypatch) for n in (1, 2)]
    yield made[0], made[1], clock
    for replica in made:
        replica.partition.cut = False
        replica.front.release.set()
        replica.runner.stop(30)


def _replica(
    name: str,
    url: str,
    clock: SettableDatabaseClock,
    world: str,
    fronts: list[AwsFaultProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> Replica:
    front = CountingFront(delay=0.02)
    fronts.append(AwsFaultProxy(world, front))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fronts[-1].url)
    engine = make_engine(url)
    core = Core(aws=AwsAccounts(boto3.Session(region_name="us-east-1"), {}), store=Store(engine), prices=_no_prices())
    core.aws.dynamodb(PLACE)  # made now, so this replica's DynamoDB client talks to its own front
    claims_engine = make_engine(url)
    monotonic = SettableMonotonic()
    notifier = RecordingNotifier()
    executors = {RestoreMode.LOAD: LoadExecutor(SqlLoadCheckpoints(engine), 4)}
    store = RestoreStore(claims_engine, clock)
    claims = ClaimStore(claims_engine, stale_after=STALE, max_attempts=5, clock=clock)
    runner = restore_runner(core, store, claims, notifier, executors, TIMING, holder=name, monotonic=monotonic)
    return Replica(runner, front, notifier, monotonic, Partition(claims_engine))


def _no_prices() -> PriceBook:
    def refuse() -> Any:
        raise RuntimeError("no pricing here")

    return PriceBook(refuse)


def _approved_load(s3: Any, ddb: Any, url: str) -> str:
    location = write_full_export(s3, BUCKET, "claims", ITEMS, files=8, empty_files=0)
    ddb.create_table(
        TableName="staging",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    source = LoadSource(
        url=location.url,
        export_id=location.export_id,
        export_type="FULL_EXPORT",
        export_format="DYNAMODB_JSON",
        bucket=BUCKET,
        prefix="claims",
        owner=None,
        read_alias=None,
        read_region="us-east-1",
    )
    plan = RestorePlan(
        RestoreMode.LOAD, (location.url,), "staging", None, "us-east-1", LoadOptions(("pk", "sk"), (source,))
    )
    engine = make_engine(url)
    try:
        store = RestoreStore(engine)
        request = pending_request(store, the_plan=plan)
        approve(store, request.id)
    finally:
        engine.dispose()
    return request.id


def _status(url: str, request_id: str) -> str:
    engine = make_engine(url)
    try:
        found = RestoreStore(engine).get(request_id)
        assert found is not None
        return found.status
    finally:
        engine.dispose()


def _staged(ddb: Any) -> dict[tuple[str, ...], Any]:
    return {key_of(i): i for page in ddb.get_paginator("scan").paginate(TableName="staging") for i in page["Items"]}


def _endings(notifier: RecordingNotifier) -> list[str]:
    return [name for name, _id, _detail in notifier.calls if name in {"finished", "failed"}]


def test_a_runner_cut_off_from_the_database_stops_writing_before_its_claim_can_be_taken_over(
    replicas: tuple[Replica, Replica, SettableDatabaseClock], database: str, s3: Any, ddb: Any
) -> None:
    first, second, clock = replicas
    request_id = _approved_load(s3, ddb, database)
    first.front.hold_after = 300  # of 2,400 items: the fence comes while the load is certainly part-way
    assert first.runner.run_cycle() == 1
    wait_until(lambda: first.front.held > 0, "the first runner writing, then held")

    first.partition.cut = True  # its heartbeats stop landing; its loader still reaches DynamoDB
    first.runner.keeper.renew()
    first.monotonic.advance(first.runner.keeper.hold_for)  # half the stale threshold without a heartbeat
    first.runner.keeper.enforce()
    first.front.release.set()  # the writes that were waiting land; the loader stops at its next batch
    wait_until(lambda: not first.runner.running(), "the first runner to stop its loader", timeout=60)
    stopped_at = first.front.items
    assert 0 < stopped_at < len(ITEMS), "the first runner stopped part-way, at its fence"

    clock.advance(seconds=STALE.total_seconds() + 1)  # now, and only now, the claim is stale
    assert second.runner.run_cycle() == 1, "the second runner takes the restore over"
    wait_until(lambda: _status(database, request_id) == RestoreStatus.SUCCEEDED, "the restore to finish", 60)
    second.runner.run_pending([NOTE])  # its result, owed when it finished

    assert first.front.items == stopped_at, "no write from the first runner after the takeover"
    assert second.front.items > 0
    assert _staged(ddb) == {key_of(i): decoded(i) for i in ITEMS}
    assert _endings(first.notifier) == [], "the fenced runner reports nothing"
    assert _endings(second.notifier) == ["finished"], "the restore is reported once, by its new holder"


def test_a_runner_whose_claim_was_taken_over_stops_its_loader_and_reports_nothing(
    replicas: tuple[Replica, Replica, SettableDatabaseClock], database: str, s3: Any, ddb: Any
) -> None:
    first, second, clock = replicas
    request_id = _approved_load(s3, ddb, database)
    first.front.hold_after = 300  # of 2,400 items: throttling starts while the load is certainly part-way
    assert first.runner.run_cycle() == 1
    wait_until(lambda: first.front.held > 0, "the first runner writing, then held")
    first.front.throttle = True
    first.front.release.set()
    wait_until(lambda: first.front.throttled > 0, "the first runner retrying throttled writes")

    clock.advance(seconds=STALE.total_seconds() + 1)  # the first runner was paused past the stale threshold
    assert second.runner.run_cycle() == 1, "the second runner takes the restore over while the first still runs"
    taken_at = first.front.items
    assert first.runner.running() == {request_id}

    first.runner.keeper.renew()  # its next heartbeat finds the claim gone
    wait_until(lambda: not first.runner.running(), "the first runner to stop its loader", timeout=60)
    first.front.throttle = False
    wait_until(lambda: _status(database, request_id) == RestoreStatus.SUCCEEDED, "the restore to finish", 60)
    second.runner.run_pending([NOTE])

    assert first.front.items == taken_at, "no write from the first runner after the takeover"
    assert taken_at < len(ITEMS)
    assert _staged(ddb) == {key_of(i): decoded(i) for i in ITEMS}
    assert _endings(first.notifier) == [], "the fenced runner reports nothing"
    assert _endings(second.notifier) == ["finished"], "the restore is reported once, by its new holder"


@pytest.mark.parametrize("marked_by_new_holder", [1, 8], ids=["some files marked", "every file marked"])
def test_a_runner_that_lost_its_claim_unawares_marks_no_file_written_and_keeps_the_new_holders_marks(
    marked_by_new_holder: int, database: str, world: str, s3: Any, ddb: Any
) -> None:
    """The first runner was paused past the stale threshold: its claim is taken over, but its fence has not
    noticed yet, so its loader still writes. A file it then marked finished could outlive the new holder's load
    (which forgets its marks when it ends), and the next restore of the same exports would skip that file and
    count its items as written; a load it then ended would forget the new holder's marks."""
    request_id = _approved_load(s3, ddb, database)
    engine = make_engine(database)
    clock = SettableDatabaseClock()
    claims, store = ClaimStore(engine, stale_after=STALE, max_attempts=5, clock=clock), RestoreStore(engine, clock)
    first = claims.claim(RESTORE, request_id, "runner-1")
    clock.advance(seconds=STALE.total_seconds() + 1)
    assert first is not None and claims.claim(RESTORE, request_id, "runner-2") is not None
    request, checkpoints = store.get(request_id), SqlLoadCheckpoints(engine)
    assert request is not None
    key, export_id = load_key(request.plan), request.plan.options_as(LoadOptions).exports[0].export_id
    files = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="claims/")["Contents"] if "/data/" in o["Key"]]
    for file_key in sorted(files)[:marked_by_new_holder]:
        checkpoints.mark_finished(key, export_id, file_key, len(ITEMS) // 8, 0)
    fence = Fence(first, claims, deadline=float("inf"))
    core = Core(aws=AwsAccounts(boto3.Session(region_name="us-east-1"), {}), store=Store(engine), prices=_no_prices())
    context = ExecutorContext(core, store, PLACE, fence.halt, 0.01, 0.0, lambda _progress: None, fence)

    with pytest.raises(Cancelled):
        LoadExecutor(checkpoints, concurrency=1).run(context, request)

    assert fence.lost is not None and fence.halt.is_set(), "its first record found the claim gone and stopped it"
    kept = (marked_by_new_holder, marked_by_new_holder * len(ITEMS) // 8, 0)
    assert checkpoints.totals(key) == kept, "the new holder's marks, and only those"
    written_after = 0 if marked_by_new_holder == len(files) else len(ITEMS) // 8
    assert len(_staged(ddb)) == written_after, "it stopped at the first file it could not mark"
    engine.dispose()
