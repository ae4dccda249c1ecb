"""The lease row and the leader gate, on SQLite and on PostgreSQL (when a server is given)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.background.leader import LeaderGate, Leadership
from bot.background.leases import LeaseStore
from bot.db import make_engine
from bot.wiring.schema import create_schema
from tests.support.databases import database_kinds, fresh_database

TTL = timedelta(seconds=30)


@pytest.fixture(params=database_kinds())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        create_schema(engine)
        yield engine
        engine.dispose()


class RecordingJob:
    """A gated job that records whether it runs."""

    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    def start(self) -> None:
        self.running = True
        self.starts += 1

    def stop(self, timeout: float = 10.0) -> None:
        self.running = False


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_a_held_lease_is_refused_to_another_holder_until_it_expires(engine: Engine) -> None:
    leases = LeaseStore(engine)
    first = leases.acquire("background", "a", timedelta(seconds=0.4))
    assert first is not None
    assert leases.acquire("background", "b", TTL) is None
    time.sleep(0.5)
    taken = leases.acquire("background", "b", TTL)
    assert taken is not None and taken.holder == "b"
    assert leases.renew(first, TTL) is None, "the old holder must not renew a lease taken over"


def test_renewal_moves_the_expiry_and_needs_the_last_expiry_written(engine: Engine) -> None:
    leases = LeaseStore(engine)
    lease = leases.acquire("background", "a", TTL)
    assert lease is not None
    renewed = leases.renew(lease, TTL)
    assert renewed is not None and renewed.expires_at >= lease.expires_at
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


def test_concurrent_takeovers_of_an_expired_lease_get_one_winner(engine: Engine) -> None:
    leases = LeaseStore(engine)
    assert leases.acquire("background", "dead", timedelta(seconds=0.1)) is not None
    time.sleep(0.2)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: leases.acquire("background", f"h{i}", TTL), range(8)))
    assert sum(r is not None for r in results) == 1


def test_only_one_gate_runs_its_jobs_and_the_other_takes_over_when_the_holder_dies(engine: Engine) -> None:
    jobs = [RecordingJob(), RecordingJob()]
    lease_seconds = 0.6
    gates = [
        LeaderGate(Leadership(LeaseStore(engine), holder=f"replica-{i}", lease_seconds=lease_seconds), [job])
        for i, job in enumerate(jobs)
    ]
    for gate in gates:
        gate.start()
    try:
        wait_until(lambda: any(job.running for job in jobs))
        time.sleep(lease_seconds * 2)
        assert sum(job.running for job in jobs) == 1, "exactly one replica runs the background jobs"
        leader = next(i for i, job in enumerate(jobs) if job.running)
        other = 1 - leader
        # Kill the leader: its thread stops renewing and nothing is released (like kill -9).
        gates[leader]._stop.set()
        assert gates[leader]._thread is not None
        gates[leader]._thread.join()
        died = time.monotonic()
        wait_until(lambda: jobs[other].running, timeout=3 * lease_seconds)
        assert time.monotonic() - died < 2 * lease_seconds, "takeover within two lease periods"
    finally:
        for gate in gates:
            gate.stop()


def test_a_gate_that_cannot_renew_stops_its_jobs_before_another_holder_starts(engine: Engine) -> None:
    job = RecordingJob()
    gate = LeaderGate(Leadership(LeaseStore(engine), holder="a", lease_seconds=30), [job])
    gate.tick()
    assert job.running and gate.leading
    # Someone else took the lease (e.g. this replica was paused past its lease): the next renewal fails.
    leases = LeaseStore(engine)
    current = leases.holder("background")
    assert current is not None
    assert leases.release(current)
    assert leases.acquire("background", "b", TTL) is not None
    gate.tick()
    assert not job.running and not gate.leading


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
