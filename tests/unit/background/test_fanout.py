"""One result per target wherever work fans out, on SQLite and on PostgreSQL (when a server is given): each target
recorded as it comes, a failed one tried again alone after its own doubling pause and given up alone, an exception
in one target that target's failure, a wait that counts nothing, a call in doubt remembered, a holder that lost its
claim recording nothing, and a holder that dies after some targets leaving the rest, and only the rest, to whoever
takes the work over."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.background.claims import ClaimLost, ClaimStore
from bot.background.fanout import run_targets
from bot.background.fence import ClaimKeeper, Fence
from bot.background.targets import Done, Dropped, Failed, Outcome, Seed, Target, TargetState, TargetStore, Waiting
from bot.background.work import WorkTiming
from bot.metrics import REGISTRY
from tests.support.clocks import SettableDatabaseClock
from tests.support.crashes import Crash, CrashAt
from tests.support.databases import database_kinds, schema_engine

STALE = timedelta(seconds=30)
TIMING = WorkTiming(interval=0.05, first_retry=timedelta(seconds=10))
KIND, KEY = "job", "j-1"


@pytest.fixture(params=database_kinds())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with schema_engine(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def clock() -> SettableDatabaseClock:
    return SettableDatabaseClock()


def targets_of(engine: Engine, clock: SettableDatabaseClock, max_attempts: int = 3) -> TargetStore:
    return TargetStore(engine, max_attempts=max_attempts, retry_after=TIMING.retry_after, clock=clock)


def keeper(engine: Engine, clock: SettableDatabaseClock, holder: str, crash: CrashAt | None = None) -> ClaimKeeper:
    claims = ClaimStore(engine, stale_after=STALE, max_attempts=5, clock=clock)
    return ClaimKeeper(claims, holder, steps=crash or (lambda _kind, _step: None))


def taken(replica: ClaimKeeper) -> Fence:
    replica.store.enqueue(KIND, KEY)
    fence = replica.take(KIND, KEY)
    assert fence is not None
    return fence


def plan(store: TargetStore, fence: Fence, *seeds: Seed, edition: str = "") -> bool:
    with fence.fenced() as connection:
        return store.plan(connection, KIND, KEY, list(seeds), edition)


@dataclass
class Script:
    """What each target answers, attempt after attempt (the last answer repeats); the calls made, in order."""

    answers: dict[str, list[Outcome | Exception]]
    calls: list[str] = field(default_factory=list)

    def __call__(self, target: Target) -> Outcome:
        self.calls.append(target.name)
        answers = self.answers[target.name]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def states(store: TargetStore) -> dict[str, TargetState]:
    return {t.name: t.state for t in store.of(KIND, KEY)}


def test_each_target_is_recorded_on_its_own_and_a_failed_one_is_tried_again_alone_then_given_up(
    engine: Engine, clock: SettableDatabaseClock, caplog: pytest.LogCaptureFixture
) -> None:
    store, fence = targets_of(engine, clock), taken(keeper(engine, clock, "r-1"))
    plan(store, fence, Seed("a"), Seed("b"), Seed("c"))
    script = Script({"a": [Done({"arn": "x"})], "b": [Failed("denied")], "c": [Done()]})
    given_up = {"kind": KIND, "outcome": "given_up"}
    before = REGISTRY.get_sample_value("ddbbot_work_targets_total", given_up) or 0.0

    first = run_targets(fence, store, KIND, KEY, script)
    assert script.calls == ["a", "b", "c"]
    assert states(store) == {"a": TargetState.DONE, "b": TargetState.FAILED, "c": TargetState.DONE}
    assert not first.complete and first.news() and first.next_due() == clock.now + timedelta(seconds=10)
    assert run_targets(fence, store, KIND, KEY, script).changed == (), "not before its pause"
    for pause in (10, 20):
        clock.advance(seconds=pause)
        run_targets(fence, store, KIND, KEY, script)
    assert script.calls == ["a", "b", "c", "b", "b"], "the failed target alone, after pauses of 10 s and 20 s"
    (b,) = [t for t in store.of(KIND, KEY) if t.name == "b"]
    assert (b.state, b.attempts, b.reason) == (TargetState.GIVEN_UP, 3, "denied")
    assert store.of(KIND, KEY)[0].detail == {"arn": "x"}
    assert REGISTRY.get_sample_value("ddbbot_work_targets_total", given_up) == before + 1
    assert any(r.getMessage() == "work.target_given_up" and r.__dict__["target"] == "b" for r in caplog.records)
    clock.advance(hours=1)
    assert run_targets(fence, store, KIND, KEY, script).complete and len(script.calls) == 5, "settled: never again"


def test_an_exception_in_one_target_is_its_failure_and_the_others_go_on(
    engine: Engine, clock: SettableDatabaseClock
) -> None:
    store, fence = targets_of(engine, clock), taken(keeper(engine, clock, "r-1"))
    plan(store, fence, Seed("a"), Seed("b"))
    done = run_targets(fence, store, KIND, KEY, Script({"a": [RuntimeError("bug")], "b": [Done()]}))
    assert states(store) == {"a": TargetState.FAILED, "b": TargetState.DONE}
    (a,) = done.in_state(TargetState.FAILED)
    assert a.reason is not None and "something went wrong on the bot's side (reference" in a.reason
    assert "bug" not in a.reason, "raw exception text never reaches a person"


def test_a_wait_counts_no_attempt_and_a_target_found_not_to_be_one_is_dropped(
    engine: Engine, clock: SettableDatabaseClock
) -> None:
    store, fence = targets_of(engine, clock, max_attempts=1), taken(keeper(engine, clock, "r-1"))
    plan(store, fence, Seed("a"), Seed("b", failed="could not be read"))
    script = Script({"a": [Waiting("no room", timedelta(seconds=5))] * 3 + [Done()], "b": [Dropped("untagged")]})
    for _ in range(4):
        run_targets(fence, store, KIND, KEY, script)
        clock.advance(seconds=10)
    (a, b) = store.of(KIND, KEY)
    assert (a.state, a.attempts) == (TargetState.DONE, 0), "three waits, no attempt counted, then done"
    assert (b.state, b.reason) == (TargetState.DROPPED, "untagged")


def test_a_call_in_doubt_is_remembered_until_its_outcome_is_known(engine: Engine, clock: SettableDatabaseClock) -> None:
    """`stamp_tries` marks the call begun: a holder that dies in it leaves the target in doubt (look before doing it
    again); a definite refusal clears the doubt, an unanswered call keeps it."""
    store, fence = targets_of(engine, clock), taken(keeper(engine, clock, "r-1"))
    plan(store, fence, Seed("a"), Seed("b"))

    def dies(target: Target) -> Outcome:
        raise Crash("killed mid-call")

    with pytest.raises(Crash):
        run_targets(fence, store, KIND, KEY, dies, stamp_tries=True)
    a, b = store.of(KIND, KEY)
    assert a.in_doubt and not b.in_doubt
    answers = Script({"a": [Failed("refused")], "b": [Failed("no answer", in_doubt=True)]})
    run_targets(fence, store, KIND, KEY, answers, stamp_tries=True)
    a, b = store.of(KIND, KEY)
    assert not a.in_doubt and b.in_doubt


def test_a_holder_whose_claim_was_taken_over_records_nothing(engine: Engine, clock: SettableDatabaseClock) -> None:
    store = targets_of(engine, clock)
    old = taken(keeper(engine, clock, "old"))
    plan(store, old, Seed("a"))
    clock.advance(seconds=STALE.total_seconds() + 1)
    assert keeper(engine, clock, "new").take(KIND, KEY) is not None
    with pytest.raises(ClaimLost):
        run_targets(old, store, KIND, KEY, Script({"a": [Done()]}))
    assert states(store) == {"a": TargetState.PENDING}


def test_targets_are_laid_out_once_per_edition(engine: Engine, clock: SettableDatabaseClock) -> None:
    store, fence = targets_of(engine, clock), taken(keeper(engine, clock, "r-1"))
    assert plan(store, fence, Seed("a"), Seed("b"), edition="e1")
    run_targets(fence, store, KIND, KEY, Script({"a": [Done()], "b": [Failed("x")]}))
    assert not plan(store, fence, Seed("a"), Seed("b"), Seed("c"), edition="e1"), "a taker carries on"
    assert states(store) == {"a": TargetState.DONE, "b": TargetState.FAILED}
    assert plan(store, fence, Seed("b"), Seed("c"), edition="e2"), "new news: laid out anew"
    assert states(store) == {"b": TargetState.PENDING, "c": TargetState.PENDING}


def test_a_holder_that_dies_after_some_targets_leaves_only_the_rest_to_the_replica_taking_over(
    engine: Engine, clock: SettableDatabaseClock
) -> None:
    store = targets_of(engine, clock)
    dying = taken(keeper(engine, clock, "dying", CrashAt(KIND, "target_recorded")))
    plan(store, dying, Seed("a"), Seed("b"), Seed("c"))
    first = Script({"a": [Done()], "b": [Done()], "c": [Done()]})
    with pytest.raises(Crash):
        run_targets(dying, store, KIND, KEY, first)
    assert first.calls == ["a"]

    clock.advance(seconds=STALE.total_seconds() + 1)
    taker = keeper(engine, clock, "taker", CrashAt(KIND, "target_recorded")).take(KIND, KEY)
    assert taker is not None and taker.claim.taken_over
    rest = Script({"a": [AssertionError("done already")], "b": [Done()], "c": [Done()]})
    with pytest.raises(Crash):
        run_targets(taker, store, KIND, KEY, rest)  # this one dies after b
    clock.advance(seconds=STALE.total_seconds() + 1)
    last = keeper(engine, clock, "last").take(KIND, KEY)
    assert last is not None
    final = Script({"a": [AssertionError("done")], "b": [AssertionError("done")], "c": [Done()]})
    assert run_targets(last, store, KIND, KEY, final).complete
    assert (rest.calls, final.calls) == (["b"], ["c"]), "each replica did only what was left"


def test_given_up_targets_log_their_reason_as_a_field(
    engine: Engine, clock: SettableDatabaseClock, caplog: pytest.LogCaptureFixture
) -> None:
    store, fence = targets_of(engine, clock, max_attempts=1), taken(keeper(engine, clock, "r-1"))
    plan(store, fence, Seed("a"))
    with caplog.at_level(logging.ERROR):
        run_targets(fence, store, KIND, KEY, Script({"a": [Failed("gone", final=True)]}))
    (record,) = [r for r in caplog.records if r.getMessage() == "work.target_given_up"]
    assert (record.__dict__["reason"], record.__dict__["attempts"]) == ("gone", 1)
