"""The lease row and the leader gate, on SQLite and on PostgreSQL (when a server is given).

Time is the tests' own: the lease store reads a settable database clock and each Leadership a settable monotonic
one, so "expired", "ran out" and "within two lease periods" happen exactly when a test moves the clocks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from bot.background.leader import LeaderGate, Leadership
from bot.background.leases import LeaseStore
from bot.db import make_engine
from bot.wiring.schema import create_schema
from tests.support.clocks import SettableDatabaseClock, SettableMonotonic
from tests.support.databases import database_kinds, fresh_database

TTL = timedelta(seconds=30)
LEASE_SECONDS = 30.0


@pytest.fixture(params=database_kinds())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> SettableDatabaseClock:
    return SettableDatabaseClock()


class RecordingJob:
    """A gated job that records whether it runs, and its starts and stops in a log shared by several jobs."""

    def __init__(self, name: str = "job", log: list[str] | None = None) -> None:
        self.name = name
        self.log = log if log is not None else []
        self.running = False
        self.starts = 0

    def start(self) -> None:
        self.running = True
        self.starts += 1
        self.log.append(f"{self.name} started")

    def stop(self, timeout: float = 10.0) -> None:
        if self.running:
            self.log.append(f"{self.name} stopped")
        self.running = False


class Replica:
    """A gate on its own monotonic clock; the lease store shares the database clock with the other replicas."""

    def __init__(self, engine: Engine, clock: SettableDatabaseClock, name: str, log: list[str]) -> None:
        self.monotonic = SettableMonotonic()
        self.job = RecordingJob(name, log)
        leadership = Leadership(
            LeaseStore(engine, clock), holder=name, lease_seconds=LEASE_SECONDS, clock=self.monotonic
        )
        self.gate = LeaderGate(leadership, [self.job])

    def pass_time(self, seconds: float) -> None:
        self.monotonic.advance(seconds)


class Partition:
    """Makes one engine's statements fail, as if the database stopped answering that replica."""

    def __init__(self, engine: Engine) -> None:
        self.cut = False
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, *_args: Any) -> None:
        if self.cut:
            raise OperationalError("(partitioned by the test)", None, ConnectionError("no route to the database"))


def test_a_held_lease_is_refused_to_another_holder_until_it_expires(
    engine: Engine, clock: SettableDatabaseClock
) -> None:
    leases = LeaseStore(engine, clock)
    first = leases.acquire("background", "a", timedelta(seconds=10))
    assert first is not None
    assert leases.acquire("background", "b", TTL) is None
    clock.advance(seconds=9.999)
    assert leases.acquire("background", "b", TTL) is None, "not expired yet by the database's clock"
    clock.advance(seconds=0.002)
    taken = leases.acquire("background", "b", TTL)
    assert taken is not None and taken.holder == "b"
    assert leases.renew(first, TTL) is None, "the old holder must not renew a lease taken over"


def test_renewal_moves_the_expiry_and_needs_the_last_expiry_written(
    engine: Engine, clock: SettableDatabaseClock
) -> None:
    leases = LeaseStore(engine, clock)
    lease = leases.acquire("background", "a", TTL)
    assert lease is not None
    clock.advance(seconds=5)
    renewed = leases.renew(lease, TTL)
    assert renewed is not None and renewed.expires_at == lease.expires_at + timedelta(seconds=5)
    assert leases.renew(lease, TTL) is None, "a stale copy of the lease (old expires_at) is a lost compare-and-set"
    assert leases.renew(renewed, TTL) is not None


def test_acquiring_again_as_the_same_holder_keeps_the_lease(engine: Engine) -> None:
    leases = LeaseStore(engine)
    first = leases.acquire("background", "a", TTL)
    again = leases.acquire("background", "a", TTL)
    assert first is not None and again is not None
    assert again.acquired_at == first.acquired_at


def test_release_lets_another_holder_take_over_at_once(engine: Engine) -> None:
    leases = LeaseStore(engine)
    lease = leases.acquire("background", "a", TTL)
    assert lease is not None
    assert leases.release(lease)
    assert leases.acquire("background", "b", TTL) is not None


def test_concurrent_acquirers_get_one_lease(engine: Engine) -> None:
    leases = LeaseStore(engine)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: leases.acquire("background", f"h{i}", TTL), range(8)))
    assert sum(r is not None for r in results) == 1


def test_concurrent_takeovers_of_an_expired_lease_get_one_winner(engine: Engine, clock: SettableDatabaseClock) -> None:
    leases = LeaseStore(engine, clock)
    assert leases.acquire("background", "dead", TTL) is not None
    clock.advance(seconds=TTL.total_seconds() + 1)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: leases.acquire("background", f"h{i}", TTL), range(8)))
    assert sum(r is not None for r in results) == 1


def test_only_one_gate_runs_its_jobs_and_the_other_takes_over_within_two_lease_periods(
    engine: Engine, clock: SettableDatabaseClock
) -> None:
    log: list[str] = []
    replicas = [Replica(engine, clock, f"replica-{i}", log) for i in range(2)]
    for replica in replicas:
        replica.gate.tick()
    assert sum(r.job.running for r in replicas) == 1, "exactly one replica runs the background jobs"
    leader = next(r for r in replicas if r.job.running)
    other = next(r for r in replicas if r is not leader)
    for _ in range(6):  # both try every lease/3, as their loops do: the holder renews, the other is refused
        step = LEASE_SECONDS / 3
        clock.advance(seconds=step)
        for replica in replicas:
            replica.pass_time(step)
            replica.gate.tick()
    assert leader.job.running and not other.job.running and leader.gate.leading

    # The leader dies (kill -9): nothing is released. The other keeps trying every lease/3.
    waited = 0.0
    while not other.job.running:
        step = LEASE_SECONDS / 3
        clock.advance(seconds=step)
        other.pass_time(step)
        leader.pass_time(step)
        waited += step
        other.gate.tick()
        assert waited < 3 * LEASE_SECONDS, "never took over"
    assert waited < 2 * LEASE_SECONDS, f"took over after {waited:.0f}s, lease {LEASE_SECONDS:.0f}s"
    assert not leader.gate.leading, "by its own clock the dead leader's lease had run out before the takeover"


def test_a_gate_that_cannot_renew_stops_its_jobs_before_another_holder_starts(
    database_url: str, engine: Engine, clock: SettableDatabaseClock
) -> None:
    log: list[str] = []
    own_engine = make_engine(database_url)
    partition = Partition(own_engine)
    try:
        monotonic = SettableMonotonic()
        job = RecordingJob("a", log)
        leadership = Leadership(LeaseStore(own_engine, clock), holder="a", lease_seconds=LEASE_SECONDS, clock=monotonic)
        cut_off = LeaderGate(leadership, [job])
        other = Replica(engine, clock, "b", log)
        cut_off.tick()
        other.gate.tick()
        assert log == ["a started"]

        partition.cut = True  # a keeps running but its renewals no longer reach the database
        step = LEASE_SECONDS / 3
        while not other.job.running:
            clock.advance(seconds=step)
            monotonic.advance(step)
            other.pass_time(step)
            other.gate.tick()  # b looks first: a must have given up already, not just be quicker
            cut_off.tick()
            assert monotonic() < 10_000, "b never took over"
        assert log == ["a started", "a stopped", "b started"], "a stopped its jobs before b started"
        assert not cut_off.leading and other.gate.leading
    finally:
        partition.cut = False
        own_engine.dispose()


def test_stopping_a_gate_releases_the_lease_for_the_next_replica(engine: Engine) -> None:
    first_job, second_job = RecordingJob(), RecordingJob()
    first = LeaderGate(Leadership(LeaseStore(engine), holder="a", lease_seconds=30), [first_job])
    second = LeaderGate(Leadership(LeaseStore(engine), holder="b", lease_seconds=30), [second_job])
    first.tick()
    second.tick()
    assert first_job.running and not second_job.running
    first.stop()
    assert not first_job.running
    second.tick()
    assert second_job.running
    second.stop()


def test_ticks_from_several_threads_never_start_jobs_twice(engine: Engine) -> None:
    job = RecordingJob()
    gate = LeaderGate(Leadership(LeaseStore(engine), holder="a", lease_seconds=30), [job])
    threads = [threading.Thread(target=gate.tick) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert job.starts == 1
    gate.stop()
