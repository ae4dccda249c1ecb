"""Deleting an export early: an operator asks, a second person approves, the claimed work deletes its files.

The same rules as a restore (bot/restores/workflow.py): only operators ask, the requester never approves, only
approvers decide, a decision is bound to the digest of what will be deleted, and a request not decided in time
expires. Deletion cannot be undone, so a full export a kept incremental chain builds on is refused outright.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.background.claims import enqueue_work
from bot.background.notes import Delivery, NoteStamp
from bot.catalog.chains import chain_as_of
from bot.catalog.models import CatalogEntry
from bot.catalog.service import table_listing
from bot.db import transaction
from bot.errors import BotError, NotAllowed, NotFound, PreconditionFailed
from bot.models import BOT_ACTOR, ExportType, Requester, export_id_of
from bot.restores.notify import MessageRef
from bot.restores.workflow import ApprovalPolicy, RestorePermissions
from bot.retention.files import export_objects
from bot.retention.models import DeletionRequest, DeletionState
from bot.retention.service import Retention
from bot.retention.store import DELETION, DeletionStore
from bot.timefmt import iso
from bot.words import plural

logger = logging.getLogger(__name__)


class DeletionNotifier(Protocol):
    """How the workflow talks to people (handlers/retention/notifier.py implements it with Slack)."""

    def approval_requested(self, request: DeletionRequest) -> MessageRef:
        """Post the request with Approve and Reject; raise BotError when it cannot be posted."""
        ...

    def decided(self, request: DeletionRequest) -> None:
        """The request was approved, rejected or expired: edit the message, tell the requester."""
        ...

    def finished(self, request: DeletionRequest, stamp: NoteStamp) -> Delivery:
        """The deletion ended (DELETED, PARTIAL or FAILED): say what was deleted and what was kept, to one of its
        destinations (bot.background.notes: the approval thread, the approval message's edit, the requester)."""
        ...


@dataclass(frozen=True)
class DeletionDecision:
    """What a click did: `approved` (the files will be deleted) or `rejected`."""

    outcome: str
    request: DeletionRequest


class Deletions:
    """The early-deletion workflow; every entry point audits what it did, refusals included."""

    def __init__(
        self,
        retention: Retention,
        store: DeletionStore,
        permissions: RestorePermissions,
        notifier: DeletionNotifier,
        policy: ApprovalPolicy,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.retention = retention
        self.store = store
        self._permissions = permissions
        self._notifier = notifier
        self.policy = policy
        self._wake = wake
        self._audit = retention.catalogue.core.store.audit

    def request(self, table_text: str, export_word: str, requester: Requester) -> DeletionRequest:
        """Check the requester and the export, store a PENDING request and post it for approval."""
        parameters = {"table": table_text, "export": export_word, "channel": requester.channel_id}
        try:
            self._permissions.require_operator(requester.user_id, "ask for an export to be deleted early")
            channel = self._approval_channel(requester)
            request = self._new_request(table_text, export_word, requester, channel)
        except BotError as error:
            self._audit(requester.user_id, "retention.delete_request", export_word, parameters, f"refused: {error}")
            raise
        self.store.create(request)
        self._audit(requester.user_id, "retention.delete_request", request.id, parameters, "pending approval")
        try:
            ref = self._notifier.approval_requested(request)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, BotError) else type(exc).__name__
            self.store.transition(request.id, DeletionState.PENDING, DeletionState.FAILED, outcome=reason)
            raise PreconditionFailed(
                f"I could not post the approval request: {reason}. The request was cancelled; nothing was deleted.",
                "Invite the bot to the approval channel, then ask again.",
            ) from exc
        self.store.transition(
            request.id, DeletionState.PENDING, DeletionState.PENDING, approval_channel=ref.channel, approval_ts=ref.ts
        )
        return self._reload(request.id)

    def approve(self, button_value: str, user_id: str) -> DeletionDecision:
        """An approver's yes (never the requester's): PENDING → APPROVED, and the deletion queued with it."""
        request = self._clicked(button_value, user_id, "retention.delete_approve")
        refusal = None
        if user_id == request.requested_by:
            refusal = NotAllowed("You asked for this deletion, so you cannot approve it: another approver must.")
        elif not self._permissions.is_approver(user_id):
            refusal = NotAllowed(
                "Only approvers may approve deletions; you are not one of them.", ask=self.policy.approvers
            )
        if refusal is not None:
            raise self._refuse(request, user_id, "retention.delete_approve", refusal)
        now = self.store.now()
        with transaction(self.store.engine) as connection:
            won = self.store.transition(
                request.id,
                DeletionState.PENDING,
                DeletionState.APPROVED,
                connection=connection,
                not_expired_at=now,
                decided_by=user_id,
                decided_at=now,
            )
            if won:
                enqueue_work(connection, DELETION, request.id)
        if not won:
            raise self._refuse(request, user_id, "retention.delete_approve", self._already_decided(request.id))
        decided = self._reload(request.id)
        self._audit(user_id, "retention.delete_approve", request.id, {"digest": request.digest}, "approved")
        logger.info("retention.deletion_approved", extra={"deletion": request.id, "export_id": request.export_id})
        self._notifier.decided(decided)
        self._wake()
        return DeletionDecision("approved", decided)

    def reject(self, button_value: str, user_id: str) -> DeletionDecision:
        """An approver's no: nothing is deleted."""
        request = self._clicked(button_value, user_id, "retention.delete_reject")
        if not self._permissions.is_approver(user_id):
            refusal = NotAllowed("Only approvers may reject deletions; you are not one of them.")
            raise self._refuse(request, user_id, "retention.delete_reject", refusal)
        now = self.store.now()
        if not self.store.transition(
            request.id, DeletionState.PENDING, DeletionState.REJECTED, decided_by=user_id, decided_at=now
        ):
            raise self._refuse(request, user_id, "retention.delete_reject", self._already_decided(request.id))
        decided = self._reload(request.id)
        self._audit(user_id, "retention.delete_reject", request.id, {"digest": request.digest}, "rejected")
        self._notifier.decided(decided)
        return DeletionDecision("rejected", decided)

    def expire_due(self) -> int:
        """PENDING requests past their time → EXPIRED, buttons removed; safe on every replica."""
        expired = 0
        for deletion_id in self.store.pending_past(self.store.now()):
            if self.store.transition(deletion_id, DeletionState.PENDING, DeletionState.EXPIRED, decided_by=BOT_ACTOR):
                expired += 1
                self._notifier.decided(self._reload(deletion_id))
        return expired

    # ---------------------------------------------------------------------------------------------- helpers

    def _new_request(self, table_text: str, export_word: str, requester: Requester, channel: str) -> DeletionRequest:
        listing = table_listing(self.retention.catalogue, table_text)
        wanted = export_id_of(export_word)
        entry = next((e for e in listing.entries if e.export_id == wanted), None)
        if entry is None:
            raise NotFound(
                f"The catalogue of `{listing.table}` has no export `{wanted}`.",
                f"List its exports with /ddb-catalog {listing.table}.",
            )
        if not entry.usable:
            raise PreconditionFailed(f"The export {wanted} did not complete; there is nothing of it to keep or delete.")
        _refuse_a_chain_base(entry, list(listing.entries))
        core = self.retention.catalogue.core
        _ref, place = core.table(table_text)
        objects = export_objects(core.aws.s3(place), entry.location)
        now = self.store.now()
        size = sum(size for _key, size in objects)
        digest_text = f"{entry.bucket}|{entry.location.folder}|{entry.export_id}|{len(objects)}|{size}"
        return DeletionRequest(
            id=f"x-{secrets.token_hex(5)}",
            state=DeletionState.PENDING,
            table_key=listing.table,
            export_id=entry.export_id,
            export_arn=entry.export_arn,
            export_type=str(entry.export_type),
            export_time=entry.as_of,
            bucket=entry.bucket,
            folder=entry.location.folder,
            bucket_owner=entry.bucket_owner,
            object_count=len(objects),
            size_bytes=size,
            digest=hashlib.sha256(digest_text.encode()).hexdigest(),
            requested_by=requester.user_id,
            created_at=now,
            expires_at=now + self.policy.ttl,
            channel_id=requester.channel_id,
            approval_channel=channel,
        )

    def _approval_channel(self, requester: Requester) -> str:
        if not self.policy.approvers:
            raise PreconditionFailed(
                "No one may approve deletions: the bot has no approvers, and an export is never deleted on one "
                "person's word. Nothing was asked.",
                "Ask whoever runs the bot to name the people (or user groups) who may approve.",
            )
        if self.policy.required_approvals > 1:  # one approval is all a deletion records: never a lower bar
            raise PreconditionFailed(
                f"This bot asks {self.policy.required_approvals} approvers to agree to a restore, and an early "
                "deletion records only one approval, so the bot does not offer it rather than hold an irreversible "
                "deletion to a lower bar. Nothing was asked.",
                "Delete the export's files with your own tooling under your change process, or ask whoever runs the "
                "bot to require a single approval.",
            )
        channel = self.policy.channel or requester.channel_id
        if not channel:
            raise PreconditionFailed("There is no channel to ask for approval in.", "Ask from a channel the bot is in.")
        return channel

    def _clicked(self, button_value: str, user_id: str, action: str) -> DeletionRequest:
        deletion_id, _, digest = button_value.partition(":")
        request = self.store.get(deletion_id.strip())
        if request is None:
            self._audit(user_id, action, deletion_id or "?", {}, "refused: unknown request")
            raise NotFound(f"There is no deletion request `{deletion_id[:40]}`.")
        if digest.strip() != request.digest:
            raise self._refuse(
                request,
                user_id,
                action,
                PreconditionFailed(
                    "This button does not match the request (the message is stale). Nothing was decided."
                ),
            )
        if request.state != DeletionState.PENDING:
            raise self._refuse(request, user_id, action, self._already_decided(request.id))
        if self.store.now() >= request.expires_at:
            self.expire_due()
            raise self._refuse(
                request,
                user_id,
                action,
                PreconditionFailed(
                    f"This request expired at {iso(request.expires_at)}; nothing was deleted.",
                    "Ask the requester to make a new request.",
                ),
            )
        return request

    def _already_decided(self, deletion_id: str) -> BotError:
        current = self._reload(deletion_id)
        return PreconditionFailed(
            f"This request is already {current.state.lower()}; nothing more happens from this click."
        )

    def _refuse(self, request: DeletionRequest, user_id: str, action: str, error: BotError) -> BotError:
        self._audit(user_id, action, request.id, {"digest": request.digest}, f"refused: {error}")
        return error

    def _reload(self, deletion_id: str) -> DeletionRequest:
        found = self.store.get(deletion_id)
        if found is None:
            raise NotFound(f"There is no deletion request `{deletion_id}`.")
        return found


def _refuse_a_chain_base(entry: CatalogEntry, entries: list[CatalogEntry]) -> None:
    """A full export that kept incrementals are restored from cannot be deleted: they would restore nothing."""
    if entry.export_type != ExportType.FULL:
        return
    built_on = [
        other
        for other in entries
        if other.usable
        and other.export_type == ExportType.INCREMENTAL
        and other.as_of is not None
        and (base := chain_as_of(entries, other.as_of).full) is not None
        and base.export_id == entry.export_id
    ]
    if built_on:
        built_on.sort(key=lambda e: e.window or (e.as_of, e.as_of))
        first, last = built_on[0], built_on[-1]
        raise PreconditionFailed(
            f"The full export {entry.export_id} is the base of a chain of "
            f"{plural(len(built_on), 'incremental export')} ({first.export_id} → {last.export_id}, up to "
            f"{iso(last.as_of)}): deleting it would leave them unable to restore anything. Nothing was asked.",
            "Delete the incremental exports of the chain first, or keep the full export.",
        )
