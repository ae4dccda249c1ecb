"""At most DDBBOT_MAX_DRILLS drills are queued or running at once, even when requests race; a drill is queued with
its claimed work once, and its result recorded under the claim owes its note (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Engine, select, update

from bot.background.claims import ClaimStore
from bot.background.notes import NOTE, ScheduledNotes
from bot.db import make_engine
from bot.drills.models import Drill, DrillResult, DrillSpec, DrillStatus, new_drill_id
from bot.drills.runner import DrillNotifier, DrillResults
from bot.drills.store import DRILL, DrillStore, drills
from bot.models import ExportType
from bot.schema_migrations import migrate
from bot.verification.models import ExportTarget
from tests.support.databases import database_kinds, fresh_database


@pytest.fixture(params=database_kinds())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        migrate(engine)
        yield engine
        engine.dispose()


def a_drill(table_key: str = "orders") -> Drill:
    target = ExportTarget("01768385930622-efd1a093", None, "b", "p", None, ExportType.FULL, None, "us-east-1", "x")
    spec = DrillSpec(table_key, None, "us-east-1", target, "orders-drill-202612021530", {}, 3)
    return Drill(new_drill_id(), spec, "U0ALICE", "C0OPS")


def finish(engine: Engine, drill_id: str, result: DrillResult) -> bool:
    """Claim the drill's work and record its result under the claim, as the work runner does."""
    claims = ClaimStore(engine, stale_after=timedelta(minutes=5), max_attempts=5)
    claim = claims.claim(DRILL, drill_id, "runner-a")
    assert claim is not None
    with claims.fenced(claim) as connection:
        DrillStore(engine).start(drill_id, connection)
        return DrillStore(engine).finish(drill_id, result, connection)


def test_racing_requests_never_queue_more_than_the_maximum(engine: Engine) -> None:
    store = DrillStore(engine)
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda _: store.create(a_drill(), max_active=2), range(8)))
    assert sum(d is not None for d in created) == 2
    first = next(d for d in created if d is not None)
    assert finish(engine, first.id, DrillResult())
    assert store.create(a_drill(), max_active=2) is not None  # a finished drill no longer counts


def test_a_drill_is_queued_with_its_work_once_however_often_its_id_is_queued(engine: Engine) -> None:
    store = DrillStore(engine)
    claims = ClaimStore(engine, stale_after=timedelta(minutes=5), max_attempts=5)
    drill = a_drill()
    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(lambda _: store.create(drill, max_active=5), range(4)))
    assert {d.id for d in created if d is not None} == {drill.id}, "the same drill every time"
    assert len(store.active()) == 1 and claims.due(DRILL) == [drill.id]
    assert finish(engine, drill.id, DrillResult(failure="x"))
    done = store.get(drill.id)
    assert done is not None and done.status == DrillStatus.FAILED and done.attempts == 1
    assert claims.due(NOTE) == [f"drill:{drill.id}"], "its result is owed"


def test_a_pitr_drill_is_stored_with_its_moment_its_range_and_no_export(engine: Engine) -> None:
    moment = datetime(2026, 12, 1, 3, 4, 5, 678000, tzinfo=UTC)
    spec = replace(a_drill().spec, export=None, pitr_at=moment, random_seconds=604800.0)
    queued = DrillStore(engine).create(Drill(new_drill_id(), spec, "U0ALICE", "C0OPS"), max_active=2)
    assert queued is not None
    assert queued.spec == spec and queued.spec.from_pitr and queued.spec.pitr_at == moment
    assert finish(engine, queued.id, DrillResult(items_imported=3, compared_with=None))
    done = DrillStore(engine).get(queued.id)
    assert done is not None and done.status == DrillStatus.PASSED and done.result.items_imported == 3


def test_a_drill_stored_before_pitr_drills_reads_as_an_export_drill(engine: Engine) -> None:
    queued = DrillStore(engine).create(a_drill(), max_active=2)
    assert queued is not None
    with engine.begin() as connection:  # the spec as stored before `pitr_at` and `random_seconds` existed
        spec = dict(connection.execute(select(drills.c.spec).where(drills.c.id == queued.id)).scalar_one())
        del spec["pitr_at"], spec["random_seconds"]
        connection.execute(update(drills).where(drills.c.id == queued.id).values(spec=spec))
    read = DrillStore(engine).get(queued.id)
    assert read is not None and read.spec == a_drill().spec and not read.spec.from_pitr


def test_each_tables_newest_drill_is_found_in_one_query_as_its_history_shows_it(engine: Engine) -> None:
    moments = iter(datetime(2026, 12, 1, hour, tzinfo=UTC) for hour in (1, 2, 3, 3, 4))
    store = DrillStore(engine, clock=lambda _connection: next(moments))
    orders = [store.create(a_drill("orders"), max_active=10) for _ in range(2)]
    tied = [store.create(a_drill("prod:customers"), max_active=10) for _ in range(2)]  # created at the same moment
    newest = store.newest_by_table()
    assert set(newest) == {"orders", "prod:customers"}
    assert newest["orders"] == orders[1] == store.history("orders", limit=1)[0]
    assert newest["prod:customers"] == store.history("prod:customers", limit=1)[0]
    assert newest["prod:customers"].id == min(d.id for d in tied if d is not None), "a tie goes to the lower id"
    later = store.create(a_drill("orders"), max_active=10)
    assert store.newest_by_table()["orders"] == later, "a newer drill of one table replaces its older one"


def test_a_scheduled_drills_result_is_about_scheduled_work_and_a_requested_ones_is_not(engine: Engine) -> None:
    """On-call is told when a scheduled drill's result reaches no channel (the notes' ScheduledNotes)."""
    store = DrillStore(engine)
    spec = a_drill().spec
    by_schedule = store.create(Drill(new_drill_id(), spec, "schedule:nightly-drill", "C0OPS"), max_active=2)
    by_person = store.create(Drill(new_drill_id(), replace(spec, table_key="other"), "U0ALICE", "C0OPS"), max_active=2)
    assert by_schedule is not None and by_person is not None
    results = DrillResults(store, notifier=cast(DrillNotifier, None), notify_channel=None)  # never posts here
    assert isinstance(results, ScheduledNotes)
    assert results.scheduled(by_schedule.id) and not results.scheduled(by_person.id)
    assert not results.scheduled("no-such-drill")
