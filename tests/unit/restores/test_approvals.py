"""The approval workflow against a real SQLite store and hand-written fakes of Slack and the approver list."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.authz import Authorizer
from bot.errors import NotAllowed, NotFound, PreconditionFailed
from bot.restores.models import RestoreStatus
from bot.restores.store import RestoreStore, restore_requests
from bot.restores.workflow import ApprovalPolicy, Restores
from tests.support.databases import database_kinds, fresh_database
from tests.support.restore_fakes import Clock, RecordingNotifier, make_core, pending_request, plan

ALICE, BOB, CAROL, DAVE, MALLORY = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0MALLORY"


class NoGroups:
    """A Slack with no user groups."""

    def members(self, group_id: str) -> set[str]:
        return set()


def permissions(approvers: set[str], operators: tuple[str, ...] = ()) -> Authorizer:
    """The real authorizer over fixed lists (no operators listed: everyone is one)."""
    return Authorizer(operators, sorted(approvers), NoGroups())


class World:
    def __init__(self, tmp_path: Path, required: int = 1, url: str | None = None) -> None:
        self.clock = Clock()
        self.core = make_core(tmp_path, self.clock, url)
        self.store = RestoreStore(self.core.store.engine, lambda _connection: self.clock())  # the database's clock
        self.notifier = RecordingNotifier()
        self.started: list[str] = []
        self.restores = Restores(
            self.core,
            self.store,
            permissions({ALICE, BOB, CAROL, DAVE}),
            self.notifier,
            ApprovalPolicy((ALICE, BOB, CAROL, DAVE), required, timedelta(minutes=60), "C0APPROVALS"),
            on_approved=lambda request: self.started.append(request.id),
        )

    def request(self, **kwargs: Any) -> str:
        return pending_request(self.store, **kwargs).button_value

    def status(self, request_id: str = "r-0000000001") -> str:
        found = self.store.get(request_id)
        assert found is not None
        return found.status

    def audit(self, action: str) -> list[str]:
        return [e["result"] for e in self.core.store.audit_entries(action=action)]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_requester_cannot_approve_own_restore_even_as_an_approver(world: World) -> None:
    value = world.request(requested_by=ALICE)
    with pytest.raises(NotAllowed, match="cannot approve"):
        world.restores.approve(value, ALICE)
    assert world.status() == RestoreStatus.PENDING
    assert world.started == []
    assert world.audit("restore.approve")[0].startswith("refused")


def test_non_approver_is_refused(world: World) -> None:
    value = world.request()
    with pytest.raises(NotAllowed, match="Only approvers"):
        world.restores.approve(value, MALLORY)
    with pytest.raises(NotAllowed, match="Only approvers"):
        world.restores.reject(value, MALLORY)
    assert world.status() == RestoreStatus.PENDING


def test_one_approval_approves_and_starts_the_run_once(world: World) -> None:
    value = world.request()
    decision = world.restores.approve(value, BOB)
    assert decision.outcome == "approved"
    assert world.status() == RestoreStatus.APPROVED
    assert world.started == ["r-0000000001"]
    assert [c[2] for c in world.notifier.named("decided")] == [RestoreStatus.APPROVED]
    stored = world.store.get("r-0000000001")
    assert stored is not None and stored.decided_by == BOB and stored.decided_at == world.clock.now


def test_a_second_approve_of_a_decided_request_does_nothing(world: World) -> None:
    value = world.request()
    world.restores.approve(value, BOB)
    with pytest.raises(PreconditionFailed, match="already decided"):
        world.restores.approve(value, CAROL)
    with pytest.raises(PreconditionFailed, match="already decided"):
        world.restores.reject(value, CAROL)
    assert world.started == ["r-0000000001"]
    assert world.status() == RestoreStatus.APPROVED


def test_approval_bound_to_the_plan_hash(world: World) -> None:
    value = world.request()
    request_id = value.split(":")[0]
    with pytest.raises(PreconditionFailed, match="does not match"):
        world.restores.approve(f"{request_id}:{'0' * 64}", BOB)
    with pytest.raises(PreconditionFailed, match="does not match"):
        world.restores.approve(request_id, BOB)
    assert world.status() == RestoreStatus.PENDING


def test_a_plan_changed_in_the_database_cannot_be_approved(world: World) -> None:
    value = world.request()
    changed = plan(target="someone-elses-table").as_dict()
    with world.core.store.engine.begin() as connection:
        connection.execute(update(restore_requests).values(plan=changed))
    with pytest.raises(PreconditionFailed, match="does not match"):
        world.restores.approve(value, BOB)
    assert world.status() == RestoreStatus.PENDING


def test_unknown_request_is_refused(world: World) -> None:
    with pytest.raises(NotFound):
        world.restores.approve("r-nothere:abc", BOB)


def test_expired_request_cannot_be_approved_and_is_marked_expired(world: World) -> None:
    value = world.request()
    world.clock.advance(minutes=61)
    with pytest.raises(PreconditionFailed, match="expired"):
        world.restores.approve(value, BOB)
    assert world.status() == RestoreStatus.EXPIRED
    assert [c[2] for c in world.notifier.named("decided")] == [RestoreStatus.EXPIRED]
    with pytest.raises(PreconditionFailed, match="expired"):
        world.restores.approve(value, BOB)
    assert world.started == []


def test_sweeper_expires_only_requests_past_their_time(world: World) -> None:
    world.request(request_id="r-old", created=world.clock.now - timedelta(minutes=90))
    world.request(request_id="r-new")
    assert world.restores.expire_due() == 1
    assert world.status("r-old") == RestoreStatus.EXPIRED
    assert world.status("r-new") == RestoreStatus.PENDING
    assert world.restores.expire_due() == 0
    assert world.audit("restore.expire") == ["expired"]


def test_reject_restores_nothing(world: World) -> None:
    value = world.request()
    decision = world.restores.reject(value, CAROL)
    assert decision.outcome == "rejected"
    assert world.status() == RestoreStatus.REJECTED
    assert world.started == []
    with pytest.raises(PreconditionFailed, match="already decided"):
        world.restores.approve(value, BOB)


def test_required_approvals_counts_distinct_approvers(tmp_path: Path) -> None:
    world = World(tmp_path, required=2)
    value = world.request(required=2)
    first = world.restores.approve(value, BOB)
    assert first.outcome == "recorded" and first.remaining == 1
    assert world.notifier.named("approval_recorded")[0][2] == [BOB]
    with pytest.raises(PreconditionFailed, match="already approved"):
        world.restores.approve(value, BOB)
    assert world.status() == RestoreStatus.PENDING
    second = world.restores.approve(value, CAROL)
    assert second.outcome == "approved"
    stored = world.store.get("r-0000000001")
    assert stored is not None and stored.decided_by == f"{BOB},{CAROL}"
    assert world.started == ["r-0000000001"]


@pytest.mark.parametrize("kind", database_kinds())
def test_simultaneous_approvals_start_the_restore_exactly_once(tmp_path: Path, kind: str) -> None:
    with fresh_database(kind, tmp_path) as url:
        world = World(tmp_path, required=2, url=url)
        try:
            _three_approvers_click_at_once(world)
        finally:
            world.core.store.engine.dispose()


def _three_approvers_click_at_once(world: World) -> None:
    value = world.request(required=2)
    barrier = threading.Barrier(3)
    outcomes: dict[str, str] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def click(user: str) -> None:
        try:
            barrier.wait(10)
            try:
                outcome = world.restores.approve(value, user).outcome
            except PreconditionFailed as refused:
                outcome = "refused" if "already decided" in str(refused) else f"refused otherwise: {refused}"
            with lock:
                outcomes[user] = outcome
        except BaseException as error:  # reported below: a thread's exception would otherwise vanish
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=click, args=(user,)) for user in (BOB, CAROL, DAVE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads), "a click never finished"
    assert errors == [], errors
    assert sorted(outcomes) == [BOB, CAROL, DAVE], "every click got an answer"
    assert list(outcomes.values()).count("approved") == 1, outcomes
    assert set(outcomes.values()) <= {"approved", "recorded", "refused"}, outcomes
    assert world.started == ["r-0000000001"]
    assert world.status() == RestoreStatus.APPROVED
    assert world.audit("restore.approve").count("approved") == 1
    assert len(world.store.approvals("r-0000000001")) >= 2


def test_request_is_refused_when_nobody_may_approve(tmp_path: Path) -> None:
    from bot.models import Requester
    from bot.restores.plans import RestoreSpec

    world = World(tmp_path)
    world.restores.policy = ApprovalPolicy((), 1, timedelta(minutes=60), "C0APPROVALS")
    with pytest.raises(PreconditionFailed, match="the bot has no approvers"):
        world.restores.request(RestoreSpec("import", ("x",), "t-new"), Requester(ALICE, "C0OPS"))
    assert world.store.recent() == []
    assert world.audit("restore.request")[0].startswith("refused")


def test_a_request_whose_approval_message_cannot_be_posted_is_cancelled(tmp_path: Path) -> None:
    from bot.models import Requester
    from bot.restores.models import Estimate, SourceSummary
    from bot.restores.plans import PlannedRestore, RestoreSpec

    world = World(tmp_path)
    world.notifier.refuse_posting = True
    planned = PlannedRestore(plan(), (SourceSummary("x"),), Estimate("$0.01", 60.0, "test"))
    world.restores = Restores(
        world.core,
        world.store,
        permissions({BOB}),
        world.notifier,
        ApprovalPolicy((BOB,), 1, timedelta(minutes=60), "C0APPROVALS"),
        planner=lambda core, spec: planned,
    )
    with pytest.raises(PreconditionFailed, match="could not post"):
        world.restores.request(RestoreSpec("import", ("x",), "orders-restored"), Requester(ALICE, "C0OPS"))
    (stored,) = world.store.recent()
    assert stored.status == RestoreStatus.FAILED


def test_a_valid_request_is_stored_pending_with_its_plan_hash_and_posted(tmp_path: Path) -> None:
    from bot.models import Requester
    from bot.restores.models import Estimate, SourceSummary
    from bot.restores.plans import PlannedRestore, RestoreSpec

    world = World(tmp_path)
    planned = PlannedRestore(plan(), (SourceSummary("x"),), Estimate("$0.01", 60.0, "test"))
    world.restores = Restores(
        world.core,
        world.store,
        permissions({BOB}),
        world.notifier,
        ApprovalPolicy((BOB,), 1, timedelta(minutes=30), "C0APPROVALS"),
        planner=lambda core, spec: planned,
    )
    requested = world.restores.request(RestoreSpec("import", ("x",), "orders-restored"), Requester(ALICE, "C0OPS"))
    stored = world.store.get(requested.request.id)
    assert stored is not None and stored.status == RestoreStatus.PENDING
    assert stored.plan_hash == plan().digest() and stored.plan == plan()
    assert stored.expires_at == world.clock.now + timedelta(minutes=30)
    assert (stored.approval_channel, stored.approval_ts) == ("C0APPROVALS", "1.000100")
    assert world.notifier.named("approval_requested")
    (entry,) = world.core.store.audit_entries(action="restore.request")
    assert entry["parameters"]["plan_hash"] == stored.plan_hash and entry["result"] == "pending approval"


def test_only_operators_may_request_a_restore_and_the_refusal_is_audited(tmp_path: Path) -> None:
    from bot.models import Requester
    from bot.restores.models import Estimate, SourceSummary
    from bot.restores.plans import PlannedRestore, RestoreSpec

    world = World(tmp_path)
    planned_for: list[str] = []

    def planner(core: Any, spec: RestoreSpec) -> PlannedRestore:
        planned_for.append(spec.target)
        return PlannedRestore(plan(), (SourceSummary("x"),), Estimate("$0.01", 60.0, "test"))

    world.restores = Restores(
        world.core,
        world.store,
        permissions({BOB}, operators=(ALICE,)),
        world.notifier,
        ApprovalPolicy((BOB,), 1, timedelta(minutes=30), "C0APPROVALS"),
        planner=planner,
    )
    with pytest.raises(NotAllowed, match="Only operators may request restores"):
        world.restores.request(RestoreSpec("import", ("x",), "orders-restored"), Requester(MALLORY, "C0OPS"))
    assert world.store.recent() == [] and planned_for == [] and world.notifier.calls == []
    refused = world.core.store.audit_entries(action="restore.request")
    assert refused[0]["actor"] == MALLORY and refused[0]["result"].startswith("refused: Only operators")
    assert world.restores.request(RestoreSpec("import", ("x",), "orders-restored"), Requester(ALICE, "C0OPS"))


@pytest.mark.parametrize("kind", database_kinds())
def test_replicas_with_skewed_clocks_agree_with_the_database_on_expiry(tmp_path: Path, kind: str) -> None:
    from bot.core import Core
    from bot.timefmt import utcnow

    with fresh_database(kind, tmp_path) as url:
        base = make_core(tmp_path, url=url)
        store = RestoreStore(base.store.engine)  # the real database clock (clock_timestamp() on PostgreSQL)
        try:
            now = store.now()
            expired = pending_request(store, request_id="r-expired", created=now - timedelta(hours=2))
            live = pending_request(store, request_id="r-live", created=now)

            def replica(skew: timedelta) -> Restores:
                core = Core(base.aws, base.store, base.prices, clock=Clock(utcnow() + skew))
                policy = ApprovalPolicy((BOB,), 1, timedelta(minutes=60), "C0APPROVALS")
                return Restores(core, store, permissions({BOB}), RecordingNotifier(), policy)

            with pytest.raises(PreconditionFailed, match="expired"):
                replica(-timedelta(hours=3)).approve(expired.button_value, BOB)
            assert replica(timedelta(hours=3)).expire_due() == 0, "a replica ahead expires nothing still live"
            assert {r.id: r.status for r in store.recent()} == {
                "r-expired": RestoreStatus.EXPIRED,
                "r-live": RestoreStatus.PENDING,
            }
            assert replica(timedelta(hours=3)).approve(live.button_value, BOB).outcome == "approved"
        finally:
            base.store.engine.dispose()
