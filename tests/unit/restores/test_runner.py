"""Restores as claimed work: each approved request runs once, RUNNING ones resume after a restart, shutdown pauses
them, and a runner whose claim is lost stops and reports nothing."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.background.claims import ClaimStore
from bot.background.notes import NOTE
from bot.background.work import WorkRunner
from bot.core import Core
from bot.errors import PreconditionFailed
from bot.restores.executors import Cancelled, ExecutorContext
from bot.restores.models import RestoreRequest, RestoreStatus
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.outcome import ItemsDone, ItemsPromised
from bot.restores.runner import RunnerTiming
from bot.restores.store import RESTORE, RestoreStore, restore_requests
from bot.timefmt import utcnow
from tests.support.clocks import SettableDatabaseClock, SettableMonotonic
from tests.support.databases import database_kinds, fresh_database
from tests.support.restore_fakes import (
    Clock,
    RecordingNotifier,
    approve,
    make_core,
    pending_request,
    plan,
    restore_runner,
)

STALE = timedelta(seconds=30)
STALE_SHORTEST = timedelta(seconds=6)
FAST = RunnerTiming(poll_seconds=0.01, progress_seconds=0.0)


@dataclass
class ScriptedExecutor:
    """An executor that does what the test says: finish, fail, or wait for the shutdown."""

    behaviour: str = "finish"
    runs: list[str] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)
    writes: int = 0

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        self.runs.append(request.id)
        self.entered.set()
        context.report(RestoreProgress(items=1))
        if self.behaviour == "fail":
            raise PreconditionFailed("DynamoDB said no.")
        if self.behaviour == "crash":
            raise RuntimeError("boom")
        if self.behaviour == "short":  # the run ended, with fewer items than promised
            return RestoreOutcome(promised=ItemsPromised(3, "the manifest"), done=ItemsDone(2, "imported"))
        if self.behaviour == "wait":
            while not context.cancel.is_set():  # writes, as a loader does, until its cancel is set
                self.writes += 1
                context.wait(0.01)
            raise Cancelled
        return RestoreOutcome(item_count=3)

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        return "picked up again"


class Setup:
    """One database (with its clock, which the test moves) and runners on it, each with its own monotonic clock."""

    def __init__(self, tmp_path: Path, behaviour: str = "finish") -> None:
        self.core = make_core(tmp_path)
        self.database_clock = SettableDatabaseClock()
        self.store = RestoreStore(self.core.store.engine, self.database_clock)
        self.claims = ClaimStore(self.core.store.engine, stale_after=STALE, max_attempts=5, clock=self.database_clock)
        self.notifier = RecordingNotifier()
        self.executor = ScriptedExecutor(behaviour)
        self.monotonic = SettableMonotonic()
        self.runner = self.make_runner("runner-1", monotonic=self.monotonic)

    def make_runner(
        self,
        runner_id: str,
        executor: ScriptedExecutor | None = None,
        notifier: RecordingNotifier | None = None,
        monotonic: SettableMonotonic | None = None,
    ) -> WorkRunner:
        return restore_runner(
            self.core,
            self.store,
            self.claims,
            notifier or self.notifier,
            {"import": executor or self.executor},
            FAST,
            holder=runner_id,
            monotonic=monotonic or SettableMonotonic(),
        )

    def approved(self, request_id: str = "r-0000000001") -> str:
        pending_request(self.store, request_id=request_id)
        approve(self.store, request_id)
        return request_id

    def holder(self, request_id: str = "r-0000000001") -> str | None:
        item = self.claims.get(RESTORE, request_id)
        return item.holder if item is not None else None

    def status(self, request_id: str = "r-0000000001") -> str:
        found = self.store.get(request_id)
        assert found is not None
        return found.status


def execute(runner: WorkRunner, request_id: str = "r-0000000001") -> str | None:
    """Claim and run one request in this thread, then post what it owes; its status, None when it was not taken."""
    outcome = runner.execute(RESTORE, request_id)
    runner.run_pending([NOTE])
    if outcome is None:
        return None
    found = RestoreStore(runner.keeper.store.engine).get(request_id)
    return found.status if found is not None else None


def test_an_approved_request_runs_once_and_reports(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.approved()
    assert execute(setup.runner) == RestoreStatus.SUCCEEDED
    assert execute(setup.runner) is None
    assert setup.executor.runs == ["r-0000000001"]
    assert [c[0] for c in setup.notifier.calls] == ["started", "progress", "finished"]
    stored = setup.store.get("r-0000000001")
    assert stored is not None and stored.result["item_count"] == 3 and stored.finished_at is not None
    actions = [e["action"] for e in setup.core.store.audit_entries()]
    assert actions.count("restore.start") == 1 and actions.count("restore.finish") == 1


def test_a_pending_request_is_never_run(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    pending_request(setup.store)
    assert setup.runner.run_cycle() == 0
    assert execute(setup.runner) is None
    assert setup.executor.runs == []


def test_a_failure_is_recorded_and_told(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "fail")
    setup.approved()
    assert execute(setup.runner) == RestoreStatus.FAILED
    stored = setup.store.get("r-0000000001")
    assert stored is not None and stored.failure_message == "DynamoDB said no."
    assert setup.notifier.named("failed")[0][2] == "DynamoDB said no."


def test_a_run_that_ends_short_of_its_promise_is_partial_and_told_with_the_numbers(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "short")
    setup.approved()
    assert execute(setup.runner) == RestoreStatus.PARTIAL
    stored = setup.store.get("r-0000000001")
    assert stored is not None and stored.status == RestoreStatus.PARTIAL and stored.failure_message is None
    check = stored.outcome_check
    assert check is not None and (check.expected, check.done) == (3, 2) and check.partial
    (told,) = setup.notifier.named("finished")
    assert told[2].check == check
    (finish,) = setup.core.store.audit_entries(action="restore.finish")
    assert finish["result"] == "partial: 2 of 3 items; 1 of the 3 items promised (the manifest) are missing: 2 imported"


def test_an_unexpected_error_fails_with_a_reference(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "crash")
    setup.approved()
    assert execute(setup.runner) == RestoreStatus.FAILED
    assert "reference" in setup.notifier.named("failed")[0][2]


def test_a_plan_edited_after_approval_is_not_run(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.approved()
    with setup.core.store.engine.begin() as connection:
        connection.execute(update(restore_requests).values(plan=plan(target="prod-orders").as_dict()))
    assert execute(setup.runner) == RestoreStatus.FAILED
    assert setup.executor.runs == []


def test_a_running_request_is_resumed_and_says_so(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.approved()
    setup.store.transition("r-0000000001", RestoreStatus.APPROVED, RestoreStatus.RUNNING)  # the bot died running it
    assert execute(setup.runner) == RestoreStatus.SUCCEEDED
    assert setup.notifier.named("started")[0][2] == "picked up again"
    assert [e["result"] for e in setup.core.store.audit_entries(action="restore.resume")] == ["picked up again"]


def test_shutdown_pauses_the_run_and_hands_it_back(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "wait")
    setup.approved()
    setup.runner.start()
    assert setup.executor.entered.wait(60)
    setup.runner.stop(30)
    stored = setup.store.get("r-0000000001")
    assert stored is not None and stored.status == RestoreStatus.RUNNING and setup.holder() is None
    item = setup.claims.get(RESTORE, "r-0000000001")
    assert item is not None and item.attempts == 0, "a clean stop costs no attempt"

    setup.executor.behaviour = "finish"
    second = setup.make_runner("runner-2")
    second.start()
    try:
        wait_until(lambda: setup.status() == RestoreStatus.SUCCEEDED, "the second runner to finish it")
    finally:
        second.stop(30)
    assert setup.executor.runs == ["r-0000000001", "r-0000000001"]


def test_two_runners_never_run_the_same_request(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "wait")
    setup.approved()
    finisher, told = ScriptedExecutor("finish"), RecordingNotifier()
    other = setup.make_runner("runner-2", finisher, told)
    assert setup.runner.run_cycle() == 1
    assert setup.executor.entered.wait(60)

    setup.database_clock.advance(seconds=STALE.total_seconds() - 1)
    assert other.run_cycle() == 0, "a claim heartbeated within the stale threshold is not taken"
    setup.runner.keeper.renew()
    setup.database_clock.advance(seconds=STALE.total_seconds() - 1)
    assert other.run_cycle() == 0, "the heartbeat, not the claim, is what counts"

    # The first runner's heartbeats stop landing: it fences itself after half the stale threshold...
    setup.monotonic.advance(setup.runner.keeper.hold_for)
    setup.runner.keeper.enforce()
    wait_until(lambda: not setup.runner.running(), "the first runner to stop")
    writes_when_stopped = setup.executor.writes
    # ...so by the time its claim is stale and taken over, it no longer writes.
    setup.database_clock.advance(seconds=2)
    assert other.run_cycle() >= 1 and setup.holder() == "runner-2", "taken over (its result note may start too)"
    wait_until(lambda: setup.status() == RestoreStatus.SUCCEEDED, "the second runner to finish")
    other.stop(30)
    setup.runner.stop(30)
    other.run_pending([NOTE])  # the result it owes, posted

    assert setup.executor.writes == writes_when_stopped, "no write by the first runner after the takeover"
    assert setup.executor.runs == ["r-0000000001"] and finisher.runs == ["r-0000000001"]
    assert [c[0] for c in setup.notifier.calls if c[0] in {"finished", "failed"}] == []
    assert [c[0] for c in told.calls if c[0] in {"finished", "failed"}] == ["finished"]


def test_a_runner_told_its_claim_was_taken_stops_and_reports_nothing(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "wait")
    setup.approved()
    finisher, told = ScriptedExecutor("finish"), RecordingNotifier()
    other = setup.make_runner("runner-2", finisher, told)
    assert setup.runner.run_cycle() == 1
    assert setup.executor.entered.wait(60)
    setup.database_clock.advance(seconds=STALE.total_seconds() + 1)  # runner-1 was paused: no heartbeat landed
    assert other.run_cycle() >= 1 and setup.holder() == "runner-2", "taken over (its result note may start too)"
    wait_until(lambda: setup.status() == RestoreStatus.SUCCEEDED, "the second runner to finish")
    assert setup.runner.running() == {"r-0000000001"}, "still running: it has not heartbeated since"

    setup.runner.keeper.renew()
    wait_until(lambda: not setup.runner.running(), "the first runner to stop once it learns")
    other.stop(30)
    setup.runner.stop(30)
    other.run_pending([NOTE])
    stored = setup.store.get("r-0000000001")
    assert stored is not None and stored.status == RestoreStatus.SUCCEEDED and setup.holder() == "runner-2"
    assert [c[0] for c in setup.notifier.calls if c[0] in {"finished", "failed"}] == []
    assert [c[0] for c in told.calls if c[0] in {"finished", "failed"}] == ["finished"]
    assert [e["action"] for e in setup.core.store.audit_entries(action="restore.finish")] == ["restore.finish"]


@pytest.mark.parametrize("kind", database_kinds())
def test_a_replica_whose_clock_runs_ahead_never_takes_a_live_claim(tmp_path: Path, kind: str) -> None:
    with fresh_database(kind, tmp_path) as url:
        core = make_core(tmp_path, url=url)
        store = RestoreStore(core.store.engine)  # the real database clock: clock_timestamp() on PostgreSQL
        claims = ClaimStore(core.store.engine, stale_after=STALE, max_attempts=5)
        try:
            pending_request(store)
            approve(store)
            executor, notifier = ScriptedExecutor("wait"), RecordingNotifier()
            first = restore_runner(core, store, claims, notifier, {"import": executor}, FAST, holder="runner-1")
            ahead = Core(core.aws, core.store, core.prices, clock=Clock(utcnow() + timedelta(hours=1)))
            behind = Core(core.aws, core.store, core.prices, clock=Clock(utcnow() - timedelta(hours=1)))
            assert first.run_cycle() == 1 and executor.entered.wait(60)
            for skewed, name in ((ahead, "runner-ahead"), (behind, "runner-behind")):
                second = restore_runner(skewed, store, claims, notifier, {"import": executor}, FAST, holder=name)
                assert second.run_cycle() == 0, f"{name} took a live claim"
                first.keeper.renew()
                assert second.run_cycle() == 0, f"{name} took a claim just heartbeated"
            first.stop(30)
            assert executor.runs == ["r-0000000001"]
        finally:
            core.store.engine.dispose()


def test_heartbeats_go_on_while_the_cycle_is_busy(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    store = RestoreStore(core.store.engine)  # real time: this test is about how often heartbeats happen
    # The bot's shortest stale period (bot/wiring/work.py: 10 polls, at least 6 s). A shorter one (1.2 s: fenced
    # after 0.6 s without a heartbeat) was lost on a busy machine with no cycle blocking it.
    claims = ClaimStore(core.store.engine, stale_after=STALE_SHORTEST, max_attempts=5)
    pending_request(store)
    approve(store)
    executor, sweeping, release = ScriptedExecutor("wait"), threading.Event(), threading.Event()
    cycles = 0

    def sweep() -> None:  # the second cycle's sweep hangs (a slow Slack call, say) until the test is done
        nonlocal cycles
        cycles += 1
        if cycles > 1:
            sweeping.set()
            release.wait(30)

    runner = restore_runner(
        core, store, claims, RecordingNotifier(), {"import": executor}, FAST, holder="runner-1", on_cycle=[sweep]
    )
    runner.start()
    try:
        assert executor.entered.wait(30) and sweeping.wait(30)
        blocked_at = _heartbeat_at(claims)
        wait_until(lambda: _heartbeat_at(claims) >= blocked_at + STALE_SHORTEST, "heartbeats for a stale period", 60)
        other = restore_runner(core, store, claims, RecordingNotifier(), {"import": executor}, FAST, holder="runner-2")
        assert other.run_cycle() == 0, "the busy runner's claim stayed live"
    finally:
        release.set()
        runner.stop(30)
    assert executor.runs == ["r-0000000001"]


def test_the_cycle_runs_the_sweep_first(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.approved()
    seen: list[tuple[str, str | None]] = []

    def sweep() -> None:
        request = setup.store.get("r-0000000001")
        assert request is not None
        seen.append((request.status, setup.holder()))

    runner = restore_runner(
        setup.core,
        setup.store,
        setup.claims,
        setup.notifier,
        {"import": setup.executor},
        FAST,
        holder="runner-s",
        on_cycle=[sweep],
    )
    assert runner.run_cycle() >= 1 and setup.holder() == "runner-s"
    wait_until(lambda: setup.status() == RestoreStatus.SUCCEEDED, "the restore to finish")
    assert seen == [(RestoreStatus.APPROVED, None)], "the sweep saw the request before anything claimed it"


def _heartbeat_at(claims: ClaimStore) -> Any:
    found = claims.get(RESTORE, "r-0000000001")
    assert found is not None and found.heartbeat_at is not None
    return found.heartbeat_at


def wait_until(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_cancelled_is_what_the_context_raises_when_stopping(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    stop = threading.Event()
    stop.set()
    context = ExecutorContext(setup.core, setup.store, None, stop, 0.01, 0.0, lambda _p: None)  # type: ignore[arg-type]
    with pytest.raises(Cancelled):
        context.wait()
