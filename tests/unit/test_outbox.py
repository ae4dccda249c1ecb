"""The outbox of export results: a finished export owes its result in the same transaction that finishes it, one
poster at a time holds the note, a stale poster is taken over and its late "posted" changes nothing, all by the
database's clock; on SQLite and on PostgreSQL (when a server is given)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.background.claims import ClaimLost, ClaimStore, WorkState
from bot.background.notes import NOTE
from bot.db import make_engine
from bot.models import ExportJob, ExportStatus
from bot.store import Store
from bot.wiring.schema import create_schema
from tests.support.clocks import SettableDatabaseClock
from tests.support.databases import database_kinds, fresh_database

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01796000000000-0a1b2c3d"
NOTE_KEY = f"export:{ARN}"
STALE = timedelta(minutes=10)
JOB = ExportJob(
    export_arn=ARN,
    export_id="01796000000000-0a1b2c3d",
    table_key="orders",
    table_name="orders",
    table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders",
    region="us-east-1",
    status=ExportStatus.IN_PROGRESS,
    export_type="FULL_EXPORT",  # type: ignore[arg-type]
    export_format="DYNAMODB_JSON",  # type: ignore[arg-type]
    bucket="acme",
    s3_prefix="p",
    requested_by="U0ALICE",
)


@pytest.fixture(params=database_kinds())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        yield Store(engine)
        engine.dispose()


def test_a_running_export_owes_nothing_and_finishing_it_owes_its_result_once(store: Store) -> None:
    claims = ClaimStore(store.engine, stale_after=STALE, max_attempts=5)
    store.record_export(JOB)
    assert store.unposted_results() == [] and claims.due(NOTE) == []
    assert store.finish_export(ARN, status=ExportStatus.COMPLETED)
    assert not store.finish_export(ARN, status=ExportStatus.COMPLETED), "finished once"
    assert [j.export_arn for j in store.unposted_results()] == [ARN]
    assert claims.due(NOTE) == [NOTE_KEY]
    note = claims.claim(NOTE, NOTE_KEY, "poster")
    assert note is not None
    assert claims.claim(NOTE, NOTE_KEY, "another") is None, "held by one poster"
    with claims.fenced(note) as connection:
        store.result_posted(connection, ARN)
        claims.settle(note, connection, WorkState.DONE)
    assert store.unposted_results() == [] and claims.due(NOTE) == []


def test_an_export_recorded_already_finished_owes_its_result_at_once(store: Store) -> None:
    claims = ClaimStore(store.engine, stale_after=STALE, max_attempts=5)
    store.record_export(replace(JOB, status=ExportStatus.COMPLETED))
    assert claims.due(NOTE) == [NOTE_KEY]


def test_a_stale_poster_is_taken_over_and_its_late_posted_mark_changes_nothing(store: Store) -> None:
    clock = SettableDatabaseClock()
    claims = ClaimStore(store.engine, stale_after=STALE, max_attempts=5, clock=clock)
    store.record_export(JOB)
    store.finish_export(ARN, status=ExportStatus.FAILED)
    slow = claims.claim(NOTE, NOTE_KEY, "slow")
    assert slow is not None
    clock.advance(seconds=STALE.total_seconds() - 30)
    assert claims.claim(NOTE, NOTE_KEY, "taker") is None, "a claim just short of stale is not taken"
    clock.advance(seconds=31)
    taker = claims.claim(NOTE, NOTE_KEY, "taker")
    assert taker is not None and taker.taken_over
    with pytest.raises(ClaimLost), claims.fenced(slow) as connection:
        store.result_posted(connection, ARN)
    assert [j.export_arn for j in store.unposted_results()] == [ARN], "still owed: the taker posts it"
    with claims.fenced(taker) as connection:
        store.result_posted(connection, ARN)
        claims.settle(taker, connection, WorkState.DONE)
    assert store.unposted_results() == []
