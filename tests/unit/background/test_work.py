"""The work runner settles every take of claimed work one way: done, released (a clean stop, no attempt counted),
deferred (waiting, no attempt counted), failed (counted, taken again after a pause that doubles) or given up after
the attempts allowed; a note whose poster fails every time is given up and logged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from bot.background.claims import Claim, ClaimStore, WorkState
from bot.background.fence import ClaimKeeper, Fence
from bot.background.notes import NOTE, Delivery, NoteStamp, NoteWork
from bot.background.targets import TargetStore
from bot.background.work import WorkKind, WorkRunner, WorkTiming
from bot.db import make_engine
from bot.metrics import REGISTRY
from bot.wiring.schema import create_schema
from tests.support.clocks import SettableDatabaseClock

STALE = timedelta(seconds=30)
TIMING = WorkTiming(interval=0.05, first_retry=timedelta(seconds=10))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'work.sqlite3'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@dataclass
class ScriptedWork:
    """A kind that does what the test says: finish, fail, wait for the stop, or defer."""

    behaviour: str = "finish"
    runs: list[int] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)

    def run(self, item: Claim, fence: Fence) -> None:
        self.runs.append(item.attempts)
        self.entered.set()
        if self.behaviour == "fail":
            raise RuntimeError("boom")
        if self.behaviour == "wait":
            fence.halt.wait(10)
            return
        if self.behaviour == "defer":
            fence.defer(timedelta(minutes=1))
            return
        with fence.finishing():
            pass

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        self.given_up.append(reason)
        with fence.finishing(WorkState.GIVEN_UP, reason):
            pass


def runner(engine: Engine, clock: SettableDatabaseClock, work: object, kind: str = "job") -> WorkRunner:
    claims = ClaimStore(engine, stale_after=STALE, max_attempts=3, clock=clock)
    return WorkRunner(ClaimKeeper(claims, "replica-1"), [WorkKind(kind, work)], TIMING)  # type: ignore[arg-type]


def test_failed_work_is_taken_again_after_a_doubling_pause_and_given_up_with_its_last_error(engine: Engine) -> None:
    clock, work = SettableDatabaseClock(), ScriptedWork("fail")
    replica = runner(engine, clock, work)
    replica.keeper.store.enqueue("job", "k")
    before = REGISTRY.get_sample_value("ddbbot_work_given_up_total", {"kind": "job"}) or 0.0
    for pause in (10, 20, 40):
        assert replica.execute("job", "k") == "failed"
        clock.advance(seconds=pause - 1)
        assert replica.run_pending() == 0, f"not again before {pause} s"
        clock.advance(seconds=1)
    assert replica.execute("job", "k") == "given_up"
    assert work.runs == [1, 2, 3] and len(work.given_up) == 1
    assert "failed 3 times" in work.given_up[0] and "RuntimeError" in work.given_up[0]
    item = replica.keeper.store.get("job", "k")
    assert item is not None and item.state == WorkState.GIVEN_UP
    assert REGISTRY.get_sample_value("ddbbot_work_given_up_total", {"kind": "job"}) == before + 1


def test_a_clean_stop_gives_the_work_back_without_counting_it(engine: Engine) -> None:
    clock, work = SettableDatabaseClock(), ScriptedWork("wait")
    replica = runner(engine, clock, work)
    replica.keeper.store.enqueue("job", "k")
    replica.start()
    try:
        assert work.entered.wait(5)
    finally:
        replica.stop(5)
    item = replica.keeper.store.get("job", "k")
    assert item is not None and item.state == WorkState.READY and item.attempts == 0 and item.holder is None


def test_deferred_work_waits_without_counting_an_attempt(engine: Engine) -> None:
    clock, work = SettableDatabaseClock(), ScriptedWork("defer")
    replica = runner(engine, clock, work)
    replica.keeper.store.enqueue("job", "k")
    for _ in range(5):  # more than the attempts allowed: waiting is not failing
        assert replica.execute("job", "k") == "deferred"
        assert replica.run_pending() == 0, "not before its wait"
        clock.advance(minutes=1)
    assert work.runs == [1, 1, 1, 1, 1] and work.given_up == []


def test_work_that_returns_without_recording_anything_is_done(engine: Engine) -> None:
    clock = SettableDatabaseClock()

    class Nothing(ScriptedWork):
        def run(self, item: Claim, fence: Fence) -> None:
            self.runs.append(item.attempts)

    work = Nothing()
    replica = runner(engine, clock, work)
    replica.keeper.store.enqueue("job", "k")
    assert replica.execute("job", "k") == "done"
    assert replica.run_pending() == 0 and work.runs == [1]


class FailingPoster:
    """A poster whose message cannot even be addressed every time (a bug, not Slack saying "later")."""

    def targets(self, subject: str) -> list[str]:
        raise RuntimeError("the message could not be built")

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        raise AssertionError("never delivered")

    def posted(self, subject: str, connection: Connection) -> None:
        raise AssertionError("never posted")


def test_a_note_that_breaks_its_poster_every_time_is_given_up_and_logged(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SettableDatabaseClock()
    targets = TargetStore(engine, max_attempts=3, retry_after=TIMING.retry_after, clock=clock)
    replica = runner(engine, clock, NoteWork({"run": FailingPoster()}, targets, timedelta(seconds=1)), kind=NOTE)
    replica.keeper.store.enqueue(NOTE, "run:7")
    outcomes = []
    for _ in range(4):
        outcomes.append(replica.execute(NOTE, "run:7"))
        clock.advance(minutes=5)
    assert outcomes == ["failed", "failed", "failed", "given_up"]
    given_up = [r for r in caplog.records if r.getMessage() == "note.given_up" and r.levelno == logging.ERROR]
    assert [r.__dict__["note"] for r in given_up] == ["run:7"]
