"""The schedules and runs tables, on SQLite and on PostgreSQL (when a server is given)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.db import make_engine
from bot.schedules.models import ExportPlan, RunKind, RunState, Schedule, ScheduleSource
from bot.schedules.store import ScheduleStore, schedule_runs
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


def test_one_fire_is_claimed_once_however_many_try_at_the_same_time(store: ScheduleStore) -> None:
    store.add(a_schedule())
    with ThreadPoolExecutor(8) as pool:
        claims = list(
            pool.map(lambda i: store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, f"replica-{i}"), range(8))
        )
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].state == RunState.CLAIMED
    assert store.claim_run("orders-1a2b", T0 + timedelta(days=1), RunKind.SCHEDULED, "x") is not None, (
        "another fire is new"
    )


def test_an_abandoned_claim_is_taken_over_once_stale_and_keeps_its_plan(store: ScheduleStore) -> None:
    store.add(a_schedule())
    run = store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, "dead-replica")
    assert run is not None
    plan = ExportPlan("INCREMENTAL_EXPORT", since=T0 - timedelta(hours=24), until=T0)
    store.save_plan(run.id, plan)
    assert store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, "b") is None, "fresh claims are respected"
    with store.engine.begin() as connection:
        connection.execute(
            update(schedule_runs).where(schedule_runs.c.id == run.id).values(claimed_at=T0 - timedelta(hours=1))
        )
    taken = store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, "b", stale_after=timedelta(minutes=10))
    assert taken is not None and taken.holder == "b" and taken.plan == plan
    store.finish_run(taken.id, RunState.STARTED, note=False, export_arn="arn:x")
    with store.engine.begin() as connection:
        connection.execute(
            update(schedule_runs).where(schedule_runs.c.id == run.id).values(claimed_at=T0 - timedelta(hours=1))
        )
    assert store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, "c") is None, "a started run is never taken over"


def test_the_last_fire_ignores_manual_runs(store: ScheduleStore) -> None:
    store.add(a_schedule())
    assert store.last_fire("orders-1a2b") is None
    store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, "a")
    store.claim_run("orders-1a2b", T0 + timedelta(days=1), RunKind.CATCH_UP, "a")
    store.claim_run("orders-1a2b", T0 + timedelta(days=1, hours=5), RunKind.MANUAL, "a", requested_by="U0ALICE")
    assert store.last_fire("orders-1a2b") == T0 + timedelta(days=1)
    assert store.last_runs(["orders-1a2b"])["orders-1a2b"].kind == RunKind.MANUAL


def test_a_run_message_is_posted_by_one_poster_and_retried_when_posting_failed(store: ScheduleStore) -> None:
    store.add(a_schedule())
    run = store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, "a")
    assert run is not None
    store.finish_run(run.id, "failed", note=True, error="PITR is off", fix="Turn it on")
    assert [r.id for r in store.pending_notes()] == [run.id]
    claim = store.claim_note(run.id)
    assert claim is not None
    assert store.claim_note(run.id) is None, "a second poster does not get it"
    assert store.settle_note(run.id, claim, delivered=False)
    again = store.claim_note(run.id)
    assert again is not None, "a failed post is tried again"
    assert store.settle_note(run.id, again, delivered=True)
    assert store.pending_notes() == []
    stored = store.get_run(run.id)
    assert stored is not None and stored.error == "PITR is off" and stored.fix == "Turn it on"


def test_a_poster_whose_claim_was_taken_over_cannot_settle_the_message(store: ScheduleStore) -> None:
    store.add(a_schedule())
    run = store.claim_run("orders-1a2b", T0, RunKind.SCHEDULED, "a")
    assert run is not None
    store.finish_run(run.id, "failed", note=True, error="PITR is off")
    slow = store.claim_note(run.id)
    assert slow is not None
    with store.engine.begin() as connection:  # the slow poster held it past the reclaim time
        connection.execute(
            update(schedule_runs).where(schedule_runs.c.id == run.id).values(note_claimed_at=slow - timedelta(hours=1))
        )
    taken = store.claim_note(run.id)
    assert taken is not None, "a claim held too long is taken over"
    assert not store.settle_note(run.id, slow, delivered=False), "the slow poster's give-back changes nothing"
    assert store.claim_note(run.id) is None, "the message is still held by the new poster"
    assert store.settle_note(run.id, taken, delivered=True)
    assert store.pending_notes() == []
