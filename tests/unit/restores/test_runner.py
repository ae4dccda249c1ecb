"""The runner: runs each approved request once, resumes RUNNING ones after a restart, pauses on shutdown."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.errors import PreconditionFailed
from bot.restores.executors import Cancelled, ExecutorContext
from bot.restores.models import RestoreRequest, RestoreStatus
from bot.restores.notify import RestoreOutcome, RestoreProgress
from bot.restores.runner import RestoreRunner, RunnerTiming
from bot.restores.store import RestoreStore, restore_requests
from tests.support.restore_fakes import RecordingNotifier, make_core, pending_request, plan

FAST = RunnerTiming(interval=0.05, poll_seconds=0.01, progress_seconds=0.0, stale_after=timedelta(seconds=30))


@dataclass
class ScriptedExecutor:
    """An executor that does what the test says: finish, fail, or wait for the shutdown."""

    behaviour: str = "finish"
    runs: list[str] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)

    def run(self, context: ExecutorContext, request: RestoreRequest) -> RestoreOutcome:
        self.runs.append(request.id)
        self.entered.set()
        context.report(RestoreProgress(items=1))
        if self.behaviour == "fail":
            raise PreconditionFailed("DynamoDB said no.")
        if self.behaviour == "crash":
            raise RuntimeError("boom")
        if self.behaviour == "wait":
            while True:
                context.wait(0.01)
        return RestoreOutcome(item_count=3)

    def resume_note(self, context: ExecutorContext, request: RestoreRequest) -> str:
        return "picked up again"


class Setup:
    def __init__(self, tmp_path: Path, behaviour: str = "finish") -> None:
        self.core = make_core(tmp_path)
        self.store = RestoreStore(self.core.store.engine)
        self.notifier = RecordingNotifier()
        self.executor = ScriptedExecutor(behaviour)
        self.runner = self.make_runner("runner-1")

    def make_runner(self, runner_id: str) -> RestoreRunner:
        return RestoreRunner(self.core, self.store, self.notifier, {"import": self.executor}, FAST, runner_id=runner_id)

    def approved(self, request_id: str = "r-0000000001") -> str:
        pending_request(self.store, request_id=request_id)
        assert self.store.transition(request_id, RestoreStatus.PENDING, RestoreStatus.APPROVED)
        return request_id

    def status(self, request_id: str = "r-0000000001") -> str:
        found = self.store.get(request_id)
        assert found is not None
        return found.status


def test_an_approved_request_runs_once_and_reports(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.approved()
    assert setup.runner.execute("r-0000000001") == RestoreStatus.SUCCEEDED
    assert setup.runner.execute("r-0000000001") is None
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
    assert setup.runner.execute("r-0000000001") is None
    assert setup.executor.runs == []


def test_a_failure_is_recorded_and_told(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "fail")
    setup.approved()
    assert setup.runner.execute("r-0000000001") == RestoreStatus.FAILED
    stored = setup.store.get("r-0000000001")
    assert stored is not None and stored.failure_message == "DynamoDB said no."
    assert setup.notifier.named("failed")[0][2] == "DynamoDB said no."


def test_an_unexpected_error_fails_with_a_reference(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "crash")
    setup.approved()
    assert setup.runner.execute("r-0000000001") == RestoreStatus.FAILED
    assert "reference" in setup.notifier.named("failed")[0][2]


def test_a_plan_edited_after_approval_is_not_run(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.approved()
    with setup.core.store.engine.begin() as connection:
        connection.execute(update(restore_requests).values(plan=plan(target="prod-orders").as_dict()))
    assert setup.runner.execute("r-0000000001") == RestoreStatus.FAILED
    assert setup.executor.runs == []


def test_a_running_request_is_resumed_and_says_so(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.approved()
    setup.store.transition("r-0000000001", RestoreStatus.APPROVED, RestoreStatus.RUNNING)
    assert setup.runner.execute("r-0000000001") == RestoreStatus.SUCCEEDED
    assert setup.notifier.named("started")[0][2] == "picked up again"
    assert [e["result"] for e in setup.core.store.audit_entries(action="restore.resume")] == ["picked up again"]


def test_shutdown_pauses_the_run_and_hands_it_back(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "wait")
    setup.approved()
    setup.runner.start()
    assert setup.executor.entered.wait(5)
    setup.runner.stop(5)
    stored = setup.store.get("r-0000000001")
    assert stored is not None and stored.status == RestoreStatus.RUNNING and stored.runner is None

    setup.executor.behaviour = "finish"
    second = setup.make_runner("runner-2")
    second.start()
    try:
        deadline = time.monotonic() + 5
        while setup.status() != RestoreStatus.SUCCEEDED and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        second.stop(5)
    assert setup.status() == RestoreStatus.SUCCEEDED
    assert setup.executor.runs == ["r-0000000001", "r-0000000001"]


def test_two_runners_never_run_the_same_request(tmp_path: Path) -> None:
    setup = Setup(tmp_path, "wait")
    setup.approved()
    other = setup.make_runner("runner-2")
    assert setup.runner.run_cycle() == 1
    assert setup.executor.entered.wait(5)
    assert other.run_cycle() == 0
    setup.runner.stop(5)
    assert setup.executor.runs == ["r-0000000001"]


def test_the_cycle_runs_the_sweep_first(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    swept: list[int] = []
    runner = RestoreRunner(
        setup.core, setup.store, setup.notifier, {"import": setup.executor}, FAST, on_cycle=lambda: swept.append(1)
    )
    runner.run_cycle()
    assert swept == [1]


def test_cancelled_is_what_the_context_raises_when_stopping(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    stop = threading.Event()
    stop.set()
    context = ExecutorContext(setup.core, setup.store, None, stop, 0.01, 0.0, lambda _p: None)  # type: ignore[arg-type]
    with pytest.raises(Cancelled):
        context.wait()
