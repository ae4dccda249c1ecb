"""The schedules and runs tables, on SQLite and on PostgreSQL (when a server is given)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.background.claims import Claim, ClaimStore, WorkState
from bot.background.notes import NOTE
from bot.db import make_engine
from bot.schedules.fires import FIRE, Fire
from bot.schedules.models import ExportPlan, RunKind, RunState, Schedule, ScheduleRun, ScheduleSource
from bot.schedules.store import ScheduleStore
from bot.wiring.schema import create_schema
from tests.support.databases import database_kinds, fresh_database

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(params=database_kinds())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScheduleStore]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        yield ScheduleStore(engine)
        engine.dispose()


def a_schedule(schedule_id: str = "orders-1a2b", source: str = ScheduleSource.SLACK, **changes: object) -> Schedule:
    schedule = Schedule(
        id=schedule_id,
        table="orders",
        table_key="orders",
        cron="0 2 * * *",
        timezone="Europe/Paris",
        export_type="incremental",
        options={"bucket": "acme-ddb-backups", "prefix": "nightly"},
        channel="C0BACKUPS",
        source=source,
        paused=False,
        created_by="U0ALICE",
        created_at=T0,
        active_since=T0,
    )
    return replace(schedule, **changes)  # type: ignore[arg-type]


def test_a_schedule_reads_back_as_it_was_stored(store: ScheduleStore) -> None:
    schedule = a_schedule()
    assert store.add(schedule)
    assert store.get(schedule.id) == schedule
    assert not store.add(schedule), "the id is taken"
    assert [s.id for s in store.all()] == [schedule.id]


def test_pausing_is_compare_and_set_and_resuming_restarts_the_catch_up_baseline(store: ScheduleStore) -> None:
    store.add(a_schedule())
    later = T0 + timedelta(days=3)
    assert store.set_paused("orders-1a2b", True, later)
    assert not store.set_paused("orders-1a2b", True, later), "already paused"
    paused = store.get("orders-1a2b")
    assert paused is not None and paused.paused and paused.active_since == T0 and paused.version == 2
    assert store.set_paused("orders-1a2b", False, later)
    resumed = store.get("orders-1a2b")
    assert resumed is not None and not resumed.paused and resumed.active_since == later and resumed.version == 3


def test_config_schedules_are_updated_in_place_and_keep_their_paused_flag(store: ScheduleStore) -> None:
    declared = a_schedule("nightly", ScheduleSource.CONFIG)
    assert store.put_config(declared) == "added"
    assert store.put_config(declared) == "same"
    store.set_paused("nightly", True, T0)
    assert store.put_config(replace(declared, cron="0 3 * * *")) == "changed"
    stored = store.get("nightly")
    assert stored is not None and stored.cron == "0 3 * * *" and stored.paused and stored.version == 3


def test_a_config_schedule_cannot_take_the_id_of_one_added_from_slack(store: ScheduleStore) -> None:
    store.add(a_schedule("nightly"))
    with pytest.raises(ValueError, match="Slack"):
        store.put_config(a_schedule("nightly", ScheduleSource.CONFIG))


def opened(store: ScheduleStore, fire_time: datetime, kind: str = RunKind.SCHEDULED, **extra: str) -> ScheduleRun:
    """The fire's run as its claim holder opens it."""
    with store.engine.begin() as connection:
        return store.open_run(connection, "orders-1a2b", fire_time, kind, "a", **extra)


def test_one_fire_is_one_piece_of_work_and_one_run_however_many_try_at_the_same_time(store: ScheduleStore) -> None:
    store.add(a_schedule())
    fire = Fire("orders-1a2b", T0, RunKind.SCHEDULED)

    def take(i: int) -> Claim | None:
        claims = ClaimStore(store.engine, stale_after=timedelta(minutes=10), max_attempts=5)
        claims.enqueue(FIRE, fire.key, payload=fire.payload())
        return claims.claim(FIRE, fire.key, f"replica-{i}")

    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(take, range(8)))
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and Fire.of(won[0].payload) == fire
    first, again = opened(store, T0), opened(store, T0)
    assert first == again and first.state == RunState.CLAIMED, "opening the run twice gives the same run"
    assert opened(store, T0 + timedelta(days=1)).id != first.id, "another fire is a new run"


def test_a_run_left_by_a_dead_holder_is_found_with_its_plan_and_a_finished_run_stays_finished(
    store: ScheduleStore,
) -> None:
    store.add(a_schedule())
    run = opened(store, T0)
    plan = ExportPlan("INCREMENTAL_EXPORT", since=T0 - timedelta(hours=24), until=T0)
    store.save_plan(run.id, plan)
    taken = opened(store, T0)  # the replica that takes the fire over
    assert taken.id == run.id and taken.plan == plan and taken.state == RunState.CLAIMED
    store.finish_run(taken.id, RunState.STARTED, note=False, export_arn="arn:x")
    assert opened(store, T0).state == RunState.STARTED, "a started run is never opened again as new"


def test_the_last_fire_counts_only_finished_runs_of_the_cron(store: ScheduleStore) -> None:
    store.add(a_schedule())
    assert store.last_fire("orders-1a2b") is None
    for moment, kind in ((T0, RunKind.SCHEDULED), (T0 + timedelta(days=1), RunKind.CATCH_UP)):
        store.finish_run(opened(store, moment, kind).id, RunState.STARTED, note=False)
    manual = opened(store, T0 + timedelta(days=1, hours=5), RunKind.MANUAL, requested_by="U0ALICE")
    store.finish_run(manual.id, RunState.STARTED, note=False)
    assert store.last_fire("orders-1a2b") == T0 + timedelta(days=1)
    assert store.last_runs(["orders-1a2b"])["orders-1a2b"].kind == RunKind.MANUAL
    opened(store, T0 + timedelta(days=2))  # claimed, then its holder died: not handled yet
    assert store.last_fire("orders-1a2b") == T0 + timedelta(days=1), "a fire still claimed is not counted"


def test_a_run_that_has_something_to_say_owes_a_note_in_the_same_transaction(store: ScheduleStore) -> None:
    store.add(a_schedule())
    claims = ClaimStore(store.engine, stale_after=timedelta(minutes=10), max_attempts=5)
    run = opened(store, T0)
    store.finish_run(run.id, "failed", note=True, error="PITR is off", fix="Turn it on")
    assert [r.id for r in store.unposted_notes()] == [run.id]
    assert claims.due(NOTE) == [f"run:{run.id}"]
    note = claims.claim(NOTE, f"run:{run.id}", "poster")
    assert note is not None
    with claims.fenced(note) as connection:
        store.note_posted(connection, str(run.id))
        claims.settle(note, connection, WorkState.DONE)
    assert store.unposted_notes() == [] and claims.due(NOTE) == []
    stored = store.get_run(run.id)
    assert stored is not None and stored.error == "PITR is off" and stored.fix == "Turn it on"


def test_a_late_run_owes_its_message_again_once(store: ScheduleStore) -> None:
    store.add(a_schedule())
    claims = ClaimStore(store.engine, stale_after=timedelta(minutes=10), max_attempts=5)
    run = opened(store, T0)
    store.finish_run(run.id, RunState.STARTED, note=True, export_arn="arn:x")
    note = claims.claim(NOTE, f"run:{run.id}", "poster")
    assert note is not None
    with claims.fenced(note) as connection:
        store.note_posted(connection, str(run.id))
        claims.settle(note, connection, WorkState.DONE)
    assert store.mark_late(run.id)
    assert not store.mark_late(run.id), "once"
    assert claims.due(NOTE) == [f"run:{run.id}"], "the posted note is owed again, for the lateness"
    assert [r.id for r in store.unposted_notes()] == [run.id]
