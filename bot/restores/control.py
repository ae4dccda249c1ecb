"""Cancel and retry, for every restore (`/ddb-restore cancel <id>`, `/ddb-restore retry <id>`), and the deletion of
a table a cancelled restore created. Operators only; every step audited, refusals included.

A request not started yet (PENDING, APPROVED) is cancelled at once. A RUNNING one is cancelled by its runner,
wherever it runs: the cancel is recorded on the request's row (bot.restores.cancel_watch) and the runner stops the
work its own way: bulk put through CancelBulkOperation (items already written stay), the loader at its next batch
(its checkpoints kept). ImportTable and point-in-time restores cannot be stopped by AWS: they end CANCELLED once AWS
finished, and the table they created may then be deleted, which is checked to be that very table first.

A retry is a new request for the same plan, approved again like any request: the loader continues after the data
files already written (its checkpoints are kept by plan, not by request), a bulk put starts a new operation (a new
ClientToken) unless an earlier one of that plan finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import Place
from bot.aws.errors import error_code, translate
from bot.background.claims import enqueue_work
from bot.background.notes import NOTE, note_key
from bot.core import Core
from bot.db import transaction
from bot.errors import BotError, NotFound, PreconditionFailed
from bot.models import Requester
from bot.restores.executors import CREATED_TABLE
from bot.restores.load import BULK_CHECKPOINT, load_key
from bot.restores.load_checkpoints import SqlLoadCheckpoints
from bot.restores.models import RETRYABLE, Estimate, LoadOptions, RestoreMode, RestoreRequest, RestoreStatus
from bot.restores.plans import PlannedRestore
from bot.restores.runner import TOPIC
from bot.restores.store import RestoreStore
from bot.restores.workflow import Requested, RestorePermissions, Restores

logger = logging.getLogger(__name__)
NOT_STARTED = (RestoreStatus.PENDING, RestoreStatus.APPROVED)


@dataclass(frozen=True)
class CancelAnswer:
    """What the operator is told: what happened or happens next (the bot's own words, plain text)."""

    request: RestoreRequest
    text: str


class RestoreControl:
    """Cancel, retry and delete-the-new-table, beside the approval workflow (which a retry goes through again)."""

    def __init__(
        self,
        core: Core,
        store: RestoreStore,
        permissions: RestorePermissions,
        restores: Restores,
        checkpoints: SqlLoadCheckpoints,
    ) -> None:
        self._core = core
        self._store = store
        self._permissions = permissions
        self._restores = restores
        self._checkpoints = checkpoints

    # ------------------------------------------------------------------------------------------ cancel

    def cancel(self, request_id: str, user_id: str) -> CancelAnswer:
        """Cancel a request: at once when it has not started, through its runner while it runs."""
        request = self._allowed(request_id, user_id, "restore.cancel", "cancel restores")
        if request.status in NOT_STARTED and self._cancel_unstarted(request, user_id):
            self._audit(user_id, "restore.cancel", request, "cancelled before it started")
            return CancelAnswer(
                self._reload(request.id),
                f"Restore {request.id} is cancelled; it had not started, so nothing was written.",
            )
        if self._store.request_cancel(request.id, user_id, self._store.now()):
            self._audit(user_id, "restore.cancel", request, "cancel asked of its runner")
            return CancelAnswer(self._reload(request.id), self._running_cancel_text(self._reload(request.id)))
        current = self._reload(request.id)
        refusal = _not_cancellable(current)
        self._audit(user_id, "restore.cancel", current, f"refused: {refusal.message}")
        raise refusal

    def _cancel_unstarted(self, request: RestoreRequest, user_id: str) -> bool:
        """PENDING or APPROVED → CANCELLED with its result note, in one transaction; False when it moved on."""
        now = self._store.now()
        with transaction(self._store.engine) as connection:
            changes: dict[str, Any] = {"finished_at": now}
            if request.status == RestoreStatus.PENDING:
                changes.update(decided_at=now, decided_by=user_id)
            won = self._store.transition(
                request.id, request.status, RestoreStatus.CANCELLED, connection=connection, **changes
            )
            if won:
                enqueue_work(connection, NOTE, note_key(TOPIC, request.id))
        return won

    def _running_cancel_text(self, request: RestoreRequest) -> str:
        options = request.plan.options
        if request.mode in {RestoreMode.IMPORT, RestoreMode.PITR}:
            kind = "ImportTable" if request.mode == RestoreMode.IMPORT else "a point-in-time restore"
            return (
                f"AWS cannot stop {kind}: it goes on until DynamoDB finishes it. Restore {request.id} will then end "
                f"CANCELLED, and its thread will offer to delete the new table {request.target_display}."
            )
        if isinstance(options, LoadOptions) and options.by_bulk and not self._bulk_finished(request):
            return (
                f"Cancelling restore {request.id}: its runner calls CancelBulkOperation and follows the operation "
                "until DynamoDB says CANCELLED. Items already written stay in the table"
                + ("; the incremental exports after it will not be applied." if len(options.exports) > 1 else ".")
            )
        return (
            f"Cancelling restore {request.id}: the loader stops at its next batch. Items already written stay in the "
            f"table; the data files fully written are kept, and `/ddb-restore retry {request.id}` continues after "
            "them."
        )

    # -------------------------------------------------------------------------------------------- retry

    def retry(self, request_id: str, requester: Requester) -> Requested:
        """A new request with the same plan, posted for approval again (the requester cannot approve it)."""
        request = self._allowed(request_id, requester.user_id, "restore.retry", "retry restores")
        refusal = self._retry_refusal(request)
        if refusal is not None:
            self._audit(requester.user_id, "restore.retry", request, f"refused: {refusal.message}")
            raise refusal
        planned = PlannedRestore(
            request.plan,
            request.sources,
            request.estimate or Estimate(None, None, ""),
            (*request.notes, self._retry_note(request)),
        )
        requested = self._restores.resubmit(planned, requester, request.id)
        self._audit(requester.user_id, "restore.retry", request, f"asked again as {requested.request.id}")
        return requested

    def _retry_refusal(self, request: RestoreRequest) -> BotError | None:
        if request.status not in RETRYABLE:
            return PreconditionFailed(
                f"Restore {request.id} is {request.status}: only a FAILED, PARTIAL or CANCELLED restore can be "
                "retried.",
                "Cancel it first if it is still running." if request.status == RestoreStatus.RUNNING else None,
            )
        if not request.plan_intact:
            return PreconditionFailed(
                f"The stored plan of {request.id} no longer matches its plan hash: it cannot be asked for again.",
                "Make a new request.",
            )
        if request.mode in {RestoreMode.IMPORT, RestoreMode.PITR} and self._table_exists(request):
            return PreconditionFailed(
                f"Table {request.target_display} exists: a retry of {request.id} would create it again, and DynamoDB "
                "never overwrites a table.",
                "Delete it first (the button in the restore's thread, or the console), or make a new request with "
                "another `to=` name.",
            )
        return None

    def _retry_note(self, request: RestoreRequest) -> str:
        """What the retry will do differently from a first run, for the approvers."""
        head = f"Retry of {request.id} ({request.status})"
        options = request.plan.options
        if not isinstance(options, LoadOptions):
            return f"{head}: the same plan, run again from the start."
        files = self._checkpoints.totals(load_key(request.plan))[0]
        if options.by_bulk and not self._bulk_finished(request):
            return (
                f"{head}: a new bulk put operation (a new ClientToken) writes the full export again; items already "
                "written are written again with the same values."
            )
        return f"{head}: {files} data file(s) already written are skipped; the rest is written."

    def _bulk_finished(self, request: RestoreRequest) -> bool:
        options = request.plan.options_as(LoadOptions)
        files = self._checkpoints.finished_files(load_key(request.plan), options.exports[0].export_id)
        return any(name.startswith(BULK_CHECKPOINT) for name in files)

    def _table_exists(self, request: RestoreRequest) -> bool:
        try:
            self._client(request).describe_table(TableName=request.plan.target)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return False
            raise translate(exc, "dynamodb:DescribeTable", f"Table `{request.target_display}`") from exc
        return True

    # ----------------------------------------------------------------------------------- delete the table

    def delete_new_table(self, request_id: str, user_id: str) -> str:
        """Delete the table a cancelled ImportTable or PITR restore created, once sure it is that table (its ARN and
        id as AWS reported them at the end, or made after the restore started when no id was reported)."""
        request = self._allowed(request_id, user_id, "restore.delete_table", "delete restored tables")
        created = request.result.get("details", {}).get(CREATED_TABLE) if request.result else None
        if request.status != RestoreStatus.CANCELLED or not isinstance(created, dict):
            refusal = PreconditionFailed(
                f"Restore {request.id} did not leave a table to delete: only a cancelled ImportTable or point-in-time "
                "restore offers that."
            )
            self._audit(user_id, "restore.delete_table", request, f"refused: {refusal.message}")
            raise refusal
        client = self._client(request)
        try:
            table: dict[str, Any] = dict(client.describe_table(TableName=request.plan.target)["Table"])
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                self._audit(user_id, "restore.delete_table", request, "already gone")
                return f"Table {request.target_display} no longer exists; nothing to delete."
            raise translate(exc, "dynamodb:DescribeTable", f"Table `{request.target_display}`") from exc
        mismatch = _not_the_created_table(table, created, request.started_at)
        if mismatch is not None:
            refusal = PreconditionFailed(
                f"Table {request.target_display} is not the one restore {request.id} created ({mismatch}); it was "
                "left alone.",
                "Delete it yourself if you are sure it should go.",
            )
            self._audit(user_id, "restore.delete_table", request, f"refused: {refusal.message}")
            raise refusal
        try:
            client.delete_table(TableName=request.plan.target)
        except Exception as exc:
            raise translate(exc, "dynamodb:DeleteTable", f"Table `{request.target_display}`") from exc
        self._audit(user_id, "restore.delete_table", request, "deleted")
        return f"Table {request.target_display}, created by the cancelled restore {request.id}, is being deleted."

    # ------------------------------------------------------------------------------------------ helpers

    def _allowed(self, request_id: str, user_id: str, action: str, what: str) -> RestoreRequest:
        try:
            self._permissions.require_operator(user_id, what)
        except BotError as error:
            self._core.store.audit(user_id, action, request_id, {}, f"refused: {error}")
            raise
        request = self._store.get(request_id)
        if request is None:
            self._core.store.audit(user_id, action, request_id, {}, "refused: unknown request")
            raise NotFound(f"There is no restore request `{request_id}`.", "`/ddb-restore` lists recent ones.")
        return request

    def _client(self, request: RestoreRequest) -> Any:
        return self._core.aws.dynamodb(Place(request.plan.alias, request.plan.region))

    def _audit(self, user_id: str, action: str, request: RestoreRequest, result: str) -> None:
        parameters = {"target": request.target_display, "mode": request.mode, "status": request.status}
        self._core.store.audit(user_id, action, request.id, parameters, result)

    def _reload(self, request_id: str) -> RestoreRequest:
        found = self._store.get(request_id)
        if found is None:
            raise NotFound(f"There is no restore request `{request_id}`.")
        return found


def _not_cancellable(request: RestoreRequest) -> PreconditionFailed:
    if request.status == RestoreStatus.RUNNING:
        return PreconditionFailed(f"Restore {request.id} is being cancelled already; its thread will say when.")
    retry = f" `/ddb-restore retry {request.id}` asks for it again." if request.status in RETRYABLE else ""
    return PreconditionFailed(
        f"Restore {request.id} already ended ({request.status}): there is nothing to cancel.{retry}"
    )


def _not_the_created_table(table: dict[str, Any], created: dict[str, Any], started: datetime | None) -> str | None:
    """Why the table found under the name is not the one the restore created (None: it is): another ARN, another
    id, or another creation time (a table deleted and made again keeps its name and ARN)."""
    if created.get("arn") and table.get("TableArn") != created["arn"]:
        return "another ARN"
    if created.get("id") and table.get("TableId") != created["id"]:
        return "another table id: it was made again since"
    made = table.get("CreationDateTime")
    if created.get("created") and isinstance(made, datetime) and made.isoformat() != created["created"]:
        return "another creation time: it was made again since"
    unrecorded = not created.get("id") and not created.get("created")
    if unrecorded and started is not None and isinstance(made, datetime) and made < started:
        return "it was made before the restore started"
    return None
