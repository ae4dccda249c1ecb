"""The claimed-work store every kind of background work uses, on SQLite and on PostgreSQL (when a server is given):
one winner per take, takeover only once the holder is silent by the database's clock, a lost claim's writes change
nothing, a clean release costs no attempt, and a row taken too often is handed out to be given up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from bot.background.claims import Claim, ClaimLost, ClaimStore, WorkState
from bot.background.leases import leases
from bot.db import make_engine
from bot.wiring.schema import create_schema
from tests.support.clocks import START, SettableDatabaseClock
from tests.support.databases import database_kinds, fresh_database

STALE = timedelta(seconds=30)


@pytest.fixture(params=database_kinds())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    """One engine per replica (their own connection pools), as separate processes would have."""
    made = [make_engine(database_url) for _ in range(3)]
    yield made
    for engine in made:
        engine.dispose()


@pytest.fixture
def clock() -> SettableDatabaseClock:
    return SettableDatabaseClock()


def replica(engine: Engine, clock: SettableDatabaseClock | None, max_attempts: int = 5) -> ClaimStore:
    return ClaimStore(engine, stale_after=STALE, max_attempts=max_attempts, clock=clock)


def taken(store: ClaimStore, holder: str, key: str = "r-1") -> Claim:
    claim = store.claim("restore", key, holder)
    assert claim is not None, f"{holder} could not take {key}"
    return claim


def test_of_many_replicas_racing_for_one_piece_of_work_exactly_one_wins(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    stores = [replica(engine, clock) for engine in engines]
    stores[0].enqueue("restore", "r-1")
    barrier = threading.Barrier(9)

    def race(n: int) -> Claim | None:
        barrier.wait()
        return stores[n % 3].claim("restore", "r-1", f"replica-{n}")

    with ThreadPoolExecutor(9) as pool:
        claims = list(pool.map(race, range(9)))
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].token == 1 and won[0].attempts == 1 and not won[0].taken_over
    item = stores[1].get("restore", "r-1")
    assert item is not None and item.state == WorkState.HELD and item.holder == won[0].holder


def test_enqueueing_twice_makes_one_piece_of_work(engines: list[Engine], clock: SettableDatabaseClock) -> None:
    first, second = replica(engines[0], clock), replica(engines[1], clock)
    first.enqueue("fire", "nightly@2026-01-14T02:00:00Z", payload={"run_kind": "scheduled"})
    second.enqueue("fire", "nightly@2026-01-14T02:00:00Z", payload={"run_kind": "catch-up"})
    assert [i.payload for i in first.items("fire")] == [{"run_kind": "scheduled"}], "the first payload is kept"
    claim = first.claim("fire", "nightly@2026-01-14T02:00:00Z", "a")
    assert claim is not None
    with first.fenced(claim) as connection:
        first.settle(claim, connection, WorkState.DONE)
    second.enqueue("fire", "nightly@2026-01-14T02:00:00Z")
    assert first.due("fire") == [], "finished work is not made ready again by a repeated enqueue"


def test_a_live_claim_is_taken_over_only_once_its_heartbeat_is_stale_by_the_database_clock(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    one, two = replica(engines[0], clock), replica(engines[1], clock)
    one.enqueue("restore", "r-1")
    first = taken(one, "one")
    clock.advance(seconds=STALE.total_seconds() - 1)
    assert two.claim("restore", "r-1", "two") is None, "not stale yet"
    assert one.heartbeat(first)
    clock.advance(seconds=STALE.total_seconds() - 1)
    assert two.claim("restore", "r-1", "two") is None, "the heartbeat, not the claim, counts"
    assert two.due("restore") == []
    clock.advance(seconds=2)
    assert two.due("restore") == ["r-1"]
    second = taken(two, "two")
    assert second.taken_over and second.token == first.token + 1 and second.attempts == 2
    assert not one.heartbeat(first), "the old holder learns it lost the claim"
    assert two.heartbeat(second)


def test_a_replica_whose_own_clock_runs_ahead_cannot_take_a_live_claim(engines: list[Engine]) -> None:
    """Only the database's clock is read (PostgreSQL's clock_timestamp()), never a replica's: a live claim stays
    live whatever time the taking replica's host believes it is."""
    one, two = replica(engines[0], None), replica(engines[1], None)
    one.enqueue("restore", "r-1")
    first = taken(one, "one")
    assert two.claim("restore", "r-1", "ahead") is None
    assert one.heartbeat(first)
    assert two.claim("restore", "r-1", "ahead") is None
    assert two.due("restore") == []


def test_a_write_fenced_by_a_lost_claim_changes_nothing(engines: list[Engine], clock: SettableDatabaseClock) -> None:
    one, two = replica(engines[0], clock), replica(engines[1], clock)
    one.enqueue("restore", "r-1")
    stale = taken(one, "one")
    clock.advance(seconds=STALE.total_seconds() + 1)
    taken(two, "two")
    with pytest.raises(ClaimLost), one.fenced(stale) as connection:
        connection.execute(insert(leases).values(name="written", holder="one", expires_at=START, acquired_at=START))
    with engines[2].connect() as connection:
        assert connection.execute(select(leases.c.name)).all() == [], "the fenced write was not committed"
    item = one.get("restore", "r-1")
    assert item is not None and item.holder == "two" and item.state == WorkState.HELD


def test_a_takeover_waits_for_the_holders_final_transaction_and_then_finds_the_work_done(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    one, two = replica(engines[0], clock), replica(engines[1], clock)
    one.enqueue("restore", "r-1")
    claim = taken(one, "one")
    results: list[Claim | None] = []
    with one.fenced(claim) as connection:
        clock.advance(seconds=STALE.total_seconds() + 1)  # stale by now: only the open transaction protects it
        taker = threading.Thread(target=lambda: results.append(two.claim("restore", "r-1", "two")))
        taker.start()
        taker.join(0.5)
        assert taker.is_alive(), "the takeover waits for the row (PostgreSQL's row lock, SQLite's write lock)"
        one.settle(claim, connection, WorkState.DONE)
    taker.join(30)
    assert results == [None], "once the holder committed, the work was done: nothing to take over"
    item = one.get("restore", "r-1")
    assert item is not None and item.state == WorkState.DONE and item.holder == "one"


def test_a_clean_release_counts_no_attempt_and_the_work_is_taken_again_at_once(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    one, two = replica(engines[0], clock, max_attempts=1), replica(engines[1], clock, max_attempts=1)
    one.enqueue("restore", "r-1")
    for holder in ("one", "one", "one"):
        claim = taken(one, holder)
        assert claim.attempts == 1 and not claim.exhausted
        assert one.release(claim)
    again = taken(two, "two")
    assert again.attempts == 1 and not again.exhausted and not again.taken_over
    assert not one.release(claim), "a released claim cannot be released twice"


def test_failed_work_waits_before_it_is_taken_again_and_the_attempt_counts(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    store = replica(engines[0], clock)
    store.enqueue("note", "export:arn")
    claim = store.claim("note", "export:arn", "one")
    assert claim is not None
    assert store.fail(claim, "Slack said no", timedelta(minutes=1))
    assert store.claim("note", "export:arn", "one") is None, "not before its pause"
    clock.advance(minutes=1)
    again = store.claim("note", "export:arn", "one")
    assert again is not None and again.attempts == 2 and again.last_error == "Slack said no"


def test_work_taken_more_often_than_allowed_is_handed_out_exhausted_then_given_up(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    store = replica(engines[0], clock, max_attempts=3)
    store.enqueue("fire", "nightly@2026-01-14T02:00:00Z")
    for attempt in range(1, 4):
        claim = store.claim("fire", "nightly@2026-01-14T02:00:00Z", f"crashing-{attempt}")
        assert claim is not None and claim.attempts == attempt and not claim.exhausted
        clock.advance(seconds=STALE.total_seconds() + 1)  # the holder died: its claim goes stale
    last = store.claim("fire", "nightly@2026-01-14T02:00:00Z", "reporter")
    assert last is not None and last.exhausted, "the fourth take is for reporting it given up"
    with store.fenced(last) as connection:
        store.settle(last, connection, WorkState.GIVEN_UP, "the bot stopped 3 times")
    item = store.get("fire", "nightly@2026-01-14T02:00:00Z")
    assert item is not None and item.state == WorkState.GIVEN_UP and item.last_error == "the bot stopped 3 times"
    assert store.due("fire") == []


def test_work_whose_give_up_cannot_be_reported_is_given_up_after_a_few_more_takes(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    store = replica(engines[0], clock, max_attempts=1)
    store.enqueue("note", "run:7")
    takes = 0
    while store.claim("note", "run:7", "one") is not None:
        takes += 1
        clock.advance(seconds=STALE.total_seconds() + 1)
    assert takes == 4, "one take to run it and three to report it given up"
    item = store.get("note", "run:7")
    assert item is not None and item.state == WorkState.GIVEN_UP


def test_new_work_under_a_settled_key_arms_it_again_and_a_holder_of_the_old_work_loses_its_claim(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    store = replica(engines[0], clock)
    store.enqueue("note", "run:7")
    claim = store.claim("note", "run:7", "one")
    assert claim is not None
    store.enqueue("note", "run:7", again=True)  # the run has something new to say while the old note is posted
    with pytest.raises(ClaimLost), store.fenced(claim):
        pass
    fresh = store.claim("note", "run:7", "two")
    assert fresh is not None and fresh.attempts == 1
    with store.fenced(fresh) as connection:
        store.settle(fresh, connection, WorkState.DONE)
    store.enqueue("note", "run:7", again=True)
    assert store.due("note") == ["run:7"]


def test_the_fencing_token_stops_an_old_take_by_the_same_holder(
    engines: list[Engine], clock: SettableDatabaseClock
) -> None:
    """A replica whose old worker thread still runs after the replica itself took the work again (its claim had gone
    stale): the holder's name is the same, only the token tells the old take from the new one."""
    store = replica(engines[0], clock)
    store.enqueue("restore", "r-1")
    old = taken(store, "one")
    clock.advance(seconds=STALE.total_seconds() + 1)
    new = taken(store, "one")
    assert new.holder == old.holder and new.token == old.token + 1
    assert not store.heartbeat(old)
    with pytest.raises(ClaimLost), store.fenced(old):
        pass
    with store.fenced(new) as connection:
        store.settle(new, connection, WorkState.DONE)
