"""Restore requests in the database: each transition is one compare-and-set that exactly one caller wins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.background.claims import ClaimLost, ClaimStore
from bot.restores.models import RestoreStatus
from bot.restores.store import RESTORE, RestoreStore
from tests.support.clocks import SettableDatabaseClock
from tests.support.databases import database_kinds, fresh_database
from tests.support.restore_fakes import START, approve, make_core, pending_request, plan


@pytest.fixture(params=database_kinds())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RestoreStore]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_core(tmp_path, url=url).store.engine
        yield RestoreStore(engine)
        engine.dispose()


def test_a_request_round_trips_with_its_plan(store: RestoreStore) -> None:
    created = pending_request(
        store, the_plan=plan(table={"nested": [1, 2], "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
    )
    loaded = store.get(created.id)
    assert loaded == created
    assert loaded is not None and loaded.plan_intact


def test_only_one_of_many_concurrent_transitions_wins(store: RestoreStore) -> None:
    pending_request(store)
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def decide(new: str) -> None:
        barrier.wait()
        wins.append(store.transition("r-0000000001", RestoreStatus.PENDING, new, decided_by=new))

    threads = [
        threading.Thread(target=decide, args=(RestoreStatus.APPROVED if i % 2 else RestoreStatus.REJECTED,))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert wins.count(True) == 1
    assert store.get("r-0000000001").status in {RestoreStatus.APPROVED, RestoreStatus.REJECTED}  # type: ignore[union-attr]


def test_approval_after_expiry_does_not_change_the_request(store: RestoreStore) -> None:
    pending_request(store, created=START, ttl=timedelta(minutes=1))
    assert not store.transition(
        "r-0000000001", RestoreStatus.PENDING, RestoreStatus.APPROVED, not_expired_at=START + timedelta(minutes=2)
    )
    assert store.transition(
        "r-0000000001", RestoreStatus.PENDING, RestoreStatus.APPROVED, not_expired_at=START + timedelta(seconds=30)
    )


def test_an_approver_counts_once(store: RestoreStore) -> None:
    pending_request(store)
    assert store.add_approval("r-0000000001", "U0BOB", START)
    assert not store.add_approval("r-0000000001", "U0BOB", START)
    assert store.add_approval("r-0000000001", "U0CAROL", START)
    assert store.approval_count("r-0000000001") == 2
    assert [a.approver for a in store.approvals("r-0000000001")] == ["U0BOB", "U0CAROL"]


def test_due_for_expiry_lists_pending_requests_past_their_time(store: RestoreStore) -> None:
    pending_request(store, request_id="r-a", created=START - timedelta(hours=2))
    pending_request(store, request_id="r-b", created=START)
    store.transition("r-a", RestoreStatus.PENDING, RestoreStatus.EXPIRED)
    pending_request(store, request_id="r-c", created=START - timedelta(hours=2))
    assert [r.id for r in store.due_for_expiry(START + timedelta(minutes=1))] == ["r-c"]


@pytest.mark.parametrize("kind", database_kinds())
def test_an_approved_request_is_queued_as_work_and_a_runner_whose_claim_was_taken_records_nothing(
    tmp_path: Path, kind: str
) -> None:
    clock = SettableDatabaseClock()
    stale = timedelta(minutes=3)
    with fresh_database(kind, tmp_path) as url:
        engine = make_core(tmp_path, url=url).store.engine
        store, claims = RestoreStore(engine, clock), ClaimStore(engine, stale_after=stale, max_attempts=5, clock=clock)
        try:
            pending_request(store)
            assert claims.due(RESTORE) == [], "not approved yet: no work"
            approve(store)
            assert [r.id for r in store.runnable()] == ["r-0000000001"]
            assert claims.due(RESTORE) == ["r-0000000001"], "approved and queued in one transaction"
            one = claims.claim(RESTORE, "r-0000000001", "one")
            clock.advance(minutes=3, seconds=1)  # one stopped heartbeating
            two = claims.claim(RESTORE, "r-0000000001", "two")
            assert one is not None and two is not None
            with pytest.raises(ClaimLost), claims.fenced(one) as connection:
                store.set_aws_ref("r-0000000001", "arn:x", connection=connection)
            with pytest.raises(ClaimLost), claims.fenced(one) as connection:
                store.transition("r-0000000001", RestoreStatus.APPROVED, RestoreStatus.RUNNING, connection=connection)
            found = store.get("r-0000000001")
            assert found is not None and found.aws_ref is None and found.status == RestoreStatus.APPROVED
            with claims.fenced(two) as connection:
                assert store.transition(
                    "r-0000000001", RestoreStatus.APPROVED, RestoreStatus.RUNNING, connection=connection
                )
            assert store.get("r-0000000001").status == RestoreStatus.RUNNING  # type: ignore[union-attr]
        finally:
            engine.dispose()


def test_unknown_transition_fields_are_refused(store: RestoreStore) -> None:
    pending_request(store)
    with pytest.raises(ValueError, match="not a transition field"):
        store.transition("r-0000000001", RestoreStatus.PENDING, RestoreStatus.APPROVED, plan_hash="x")
