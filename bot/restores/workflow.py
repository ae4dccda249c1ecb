"""Restore requests and their approval: check → PENDING → APPROVED/REJECTED/EXPIRED, each step one atomic CAS.

No restore runs on one person's word: only operators may ask for one, the requester can never approve their own
request, only approvers decide, DDBBOT_REQUIRED_APPROVALS distinct approvers are needed, and every approval is
bound to the plan hash. A request's times (created, expires, decided) are the database's clock, so replicas whose
own clocks disagree still agree on whether a request has expired.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from bot.core import Core
from bot.db import transaction
from bot.errors import BotError, NotAllowed, NotFound, PreconditionFailed
from bot.metrics import RESTORES
from bot.models import BOT_ACTOR, Requester
from bot.restores.models import RestoreRequest, RestoreStatus, parse_button_value
from bot.restores.notify import MessageRef, RestoreNotifier
from bot.restores.plans import PlannedRestore, RestoreSpec, plan_restore
from bot.restores.store import RestoreStore, enqueue_restore
from bot.timefmt import iso

logger = logging.getLogger(__name__)


class RestorePermissions(Protocol):
    """Who may ask for restores and who may decide them (bot.authz.Authorizer implements it)."""

    def require_operator(self, user_id: str, action: str) -> None:
        """Raise NotAllowed, saying whom to ask, unless the user is an operator (DDBBOT_OPERATORS; empty: everyone)."""
        ...

    def is_approver(self, user_id: str) -> bool:
        """True when the user is listed in DDBBOT_APPROVERS, directly or through a user group."""
        ...


@dataclass(frozen=True)
class ApprovalPolicy:
    """How many approvers, for how long, and where requests are posted."""

    approvers: tuple[str, ...]
    required_approvals: int = 1
    ttl: timedelta = timedelta(minutes=60)
    channel: str | None = None


@dataclass(frozen=True)
class Requested:
    """A request now waiting for approval."""

    request: RestoreRequest
    planned: PlannedRestore
    channel: str


@dataclass(frozen=True)
class Decision:
    """What a click did: `approved` (the restore will run), `recorded` (more approvals needed) or `rejected`."""

    outcome: str
    request: RestoreRequest
    remaining: int = 0


class Restores:
    """The restore workflow; every entry point audits what it did, refusals included."""

    def __init__(
        self,
        core: Core,
        store: RestoreStore,
        permissions: RestorePermissions,
        notifier: RestoreNotifier,
        policy: ApprovalPolicy,
        on_approved: Callable[[RestoreRequest], None] = lambda _request: None,
        planner: Callable[[Core, RestoreSpec], PlannedRestore] = plan_restore,
    ) -> None:
        self.core = core
        self.store = store
        self._permissions = permissions
        self._notifier = notifier
        self.policy = policy
        self._on_approved = on_approved
        self._plan = planner

    # ------------------------------------------------------------------------------------------ request

    def request(self, spec: RestoreSpec, requester: Requester) -> Requested:
        """Check the requester and the request, store it as PENDING and post it for approval; a failed check
        raises (audited), nothing stored. Every way of asking (the command, the Restore… form) comes here."""
        audit: dict[str, Any] = {
            "mode": spec.mode,
            "sources": list(spec.sources),
            "target": spec.target,
            "channel": requester.channel_id,
        }
        try:
            self._permissions.require_operator(requester.user_id, "request restores")
            channel = self._approval_channel(requester)
            planned = self._plan(self.core, spec)
        except BotError as error:
            self.core.store.audit(requester.user_id, "restore.request", spec.target, audit, f"refused: {error}")
            raise
        request = self._new_request(planned, requester, channel)
        self.store.create(request)
        audit = {**audit, "plan": request.plan.as_dict(), "plan_hash": request.plan_hash}
        self.core.store.audit(requester.user_id, "restore.request", request.id, audit, "pending approval")
        RESTORES.labels(request.mode, "requested").inc()
        ref = self._post_for_approval(request, channel)
        self.store.set_message(request.id, ref.channel, ref.ts)
        stored = replace(request, approval_channel=ref.channel, approval_ts=ref.ts)
        return Requested(stored, planned, ref.channel)

    def _approval_channel(self, requester: Requester) -> str:
        """Where the request is posted; refuses when nobody could approve it or there is nowhere to ask."""
        if not self.policy.approvers:
            raise PreconditionFailed(
                "No one may approve restores: DDBBOT_APPROVERS is empty, and restores never run on one "
                "person's word. Nothing was asked.",
                "Ask an admin to set DDBBOT_APPROVERS (user ids or user-group ids).",
            )
        channel = self.policy.channel or requester.channel_id
        if not channel:
            raise PreconditionFailed(
                "There is no channel to ask for approval in: DDBBOT_APPROVAL_CHANNEL is not set.",
                "Ask an admin to set DDBBOT_APPROVAL_CHANNEL.",
            )
        return channel

    def _new_request(self, planned: PlannedRestore, requester: Requester, channel: str) -> RestoreRequest:
        now = self.store.now()
        return RestoreRequest(
            id=new_request_id(),
            status=RestoreStatus.PENDING,
            plan=planned.plan,
            plan_hash=planned.plan.digest(),
            requested_by=requester.user_id,
            required_approvals=self.policy.required_approvals,
            created_at=now,
            expires_at=now + self.policy.ttl,
            sources=planned.sources,
            estimate=planned.estimate,
            notes=planned.notes,
            channel_id=requester.channel_id,
            response_url=requester.response_url,
            approval_channel=channel,
        )

    def _post_for_approval(self, request: RestoreRequest, channel: str) -> MessageRef:
        """Post the approval message; when it cannot be posted the request fails at once (nobody could approve it)."""
        try:
            return self._notifier.approval_requested(request)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, BotError) else type(exc).__name__
            failure = f"approval message not posted: {reason}"
            self.store.transition(request.id, RestoreStatus.PENDING, RestoreStatus.FAILED, failure_message=failure)
            self.core.store.audit(BOT_ACTOR, "restore.fail", request.id, {}, failure)
            raise PreconditionFailed(
                f"I could not post the approval request to <#{channel}>: {reason}. The request was cancelled.",
                "Invite the bot to that channel (or fix DDBBOT_APPROVAL_CHANNEL), then ask again.",
            ) from exc

    # --------------------------------------------------------------------------------------- decisions

    def approve(self, button_value: str, user_id: str) -> Decision:
        """An approver's yes; raises NotAllowed/PreconditionFailed with the reason when the click is refused."""
        request = self._clicked(button_value, user_id, "restore.approve")
        refusal = self._approval_refusal(request, user_id)
        if refusal is not None:
            raise self._refuse(request, user_id, "restore.approve", refusal)
        approvals = self.store.approvals(request.id)
        if len(approvals) < request.required_approvals:
            remaining = request.required_approvals - len(approvals)
            self.core.store.audit(
                user_id, "restore.approve", request.id, {"plan_hash": request.plan_hash}, f"recorded; {remaining} more"
            )
            self._notifier.approval_recorded(request, approvals)
            return Decision("recorded", request, remaining)
        deciders = ",".join(a.approver for a in approvals)
        now = self.store.now()
        with transaction(self.store.engine) as connection:  # approved and queued as work together, or neither
            won = self.store.transition(
                request.id,
                RestoreStatus.PENDING,
                RestoreStatus.APPROVED,
                decided_at=now,
                decided_by=deciders,
                not_expired_at=now,
                connection=connection,
            )
            if won:
                enqueue_restore(connection, request.id)
        if not won:
            raise self._refuse(request, user_id, "restore.approve", self._already_decided(request.id))
        decided = self._reload(request.id)
        self.core.store.audit(
            user_id, "restore.approve", request.id, {"plan_hash": request.plan_hash, "approvers": deciders}, "approved"
        )
        self._notifier.decided(decided, approvals)
        self._on_approved(decided)
        RESTORES.labels(decided.mode, "approved").inc()
        return Decision("approved", decided)

    def _approval_refusal(self, request: RestoreRequest, user_id: str) -> BotError | None:
        """Why this user's approval does not count (None: it was recorded, exactly once)."""
        if user_id == request.requested_by:
            return NotAllowed("You asked for this restore, so you cannot approve it: another approver must.")
        if not self._permissions.is_approver(user_id):
            return NotAllowed("Only approvers (DDBBOT_APPROVERS) may approve restores; you are not one of them.")
        if not self.store.add_approval(request.id, user_id, self.store.now()):
            remaining = max(0, request.required_approvals - self.store.approval_count(request.id))
            return PreconditionFailed(f"You already approved this request; it needs {remaining} more approver(s).")
        return None

    def reject(self, button_value: str, user_id: str) -> Decision:
        """An approver's no: PENDING → REJECTED; nothing is restored."""
        request = self._clicked(button_value, user_id, "restore.reject")
        if not self._permissions.is_approver(user_id):
            raise self._refuse(
                request,
                user_id,
                "restore.reject",
                NotAllowed("Only approvers (DDBBOT_APPROVERS) may reject restores; you are not one of them."),
            )
        now = self.store.now()
        if not self.store.transition(
            request.id, RestoreStatus.PENDING, RestoreStatus.REJECTED, decided_at=now, decided_by=user_id
        ):
            raise self._refuse(request, user_id, "restore.reject", self._already_decided(request.id))
        decided = self._reload(request.id)
        self.core.store.audit(user_id, "restore.reject", request.id, {"plan_hash": request.plan_hash}, "rejected")
        RESTORES.labels(request.mode, "rejected").inc()
        self._notifier.decided(decided, self.store.approvals(request.id))
        return Decision("rejected", decided)

    def expire_due(self) -> int:
        """PENDING requests past their expiry → EXPIRED, buttons removed; safe to run on every replica."""
        expired = 0
        for request in self.store.due_for_expiry(self.store.now()):
            expired += self._expire(request)
        return expired

    # ---------------------------------------------------------------------------------------- helpers

    def _clicked(self, button_value: str, user_id: str, action: str) -> RestoreRequest:
        """The request a button names, checked against its plan hash, still PENDING and not expired."""
        request_id, plan_hash = parse_button_value(button_value)
        request = self.store.get(request_id)
        if request is None:
            self.core.store.audit(user_id, action, request_id or "?", {}, "refused: unknown request")
            raise NotFound(f"There is no restore request `{request_id}`.")
        if plan_hash != request.plan_hash or not request.plan_intact:
            raise self._refuse(
                request,
                user_id,
                action,
                PreconditionFailed(
                    "This button does not match the request's plan (it was changed or the message is stale). "
                    "Nothing was decided.",
                    "Ask the requester to make a new request.",
                ),
            )
        if request.status != RestoreStatus.PENDING:
            raise self._refuse(request, user_id, action, self._already_decided(request.id))
        if self.store.now() >= request.expires_at:
            self._expire(request)
            raise self._refuse(
                request,
                user_id,
                action,
                PreconditionFailed(
                    f"This request expired at {iso(request.expires_at)}; it can no longer be decided.",
                    "Ask the requester to make a new request.",
                ),
            )
        return request

    def _expire(self, request: RestoreRequest) -> bool:
        now = self.store.now()
        if not self.store.transition(
            request.id, RestoreStatus.PENDING, RestoreStatus.EXPIRED, decided_at=now, decided_by=BOT_ACTOR
        ):
            return False
        parameters = {"expires_at": iso(request.expires_at)}
        self.core.store.audit(BOT_ACTOR, "restore.expire", request.id, parameters, "expired")
        RESTORES.labels(request.mode, "expired").inc()
        self._notifier.decided(self._reload(request.id), self.store.approvals(request.id))
        return True

    def _already_decided(self, request_id: str) -> BotError:
        current = self._reload(request_id)
        who = ""
        if current.decided_by and current.decided_by != BOT_ACTOR:
            who = " by " + ", ".join(f"<@{u}>" for u in current.decided_by.split(","))
        when = f" at {iso(current.decided_at)}" if current.decided_at else ""
        state = {RestoreStatus.EXPIRED: "expired"}.get(current.status, f"already decided ({current.status}{who}{when})")
        return PreconditionFailed(f"This request is {state}; nothing more happens from this click.")

    def _refuse(self, request: RestoreRequest, user_id: str, action: str, error: BotError) -> BotError:
        self.core.store.audit(user_id, action, request.id, {"plan_hash": request.plan_hash}, f"refused: {error}")
        return error

    def _reload(self, request_id: str) -> RestoreRequest:
        found = self.store.get(request_id)
        if found is None:
            raise NotFound(f"There is no restore request `{request_id}`.")
        return found


def new_request_id() -> str:
    """A short, unguessable request id users can quote: `r-` and 10 hex digits."""
    return f"r-{secrets.token_hex(5)}"
