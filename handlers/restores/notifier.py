"""RestoreNotifier with Slack's Web API: the approval message, edits to it, its thread, and the requester's DM."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import PreconditionFailed
from bot.restores.models import Approval, RestoreRequest
from bot.restores.notify import MessageRef, RestoreOutcome, RestoreProgress
from handlers.kit.blocks import Message, escape
from handlers.restores import blocks as rb
from handlers.restores.bulk_blocks import cancelled_note

logger = logging.getLogger(__name__)


class SlackRestoreNotifier:
    """Posts with chat.postMessage and edits with chat.update (response_url does not live long enough)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._progress_ts: dict[str, str] = {}
        self._lock = threading.Lock()

    def approval_requested(self, request: RestoreRequest) -> MessageRef:
        """Post the request; a refusal (not in channel, no such channel) becomes a user-facing error."""
        message = rb.approval_request(request)
        try:
            response = self._client.chat_postMessage(
                channel=request.approval_channel or "", text=message["text"], blocks=message["blocks"]
            )
        except SlackApiError as exc:
            details = "; ".join(str(e) for e in exc.response.get("errors") or [])
            logger.error(
                "restore.approval_message_refused",
                extra={"restore_id": request.id, "slack_error": details or str(exc)},
            )
            raise PreconditionFailed(f"Slack answered `{exc.response.get('error', 'error')}`") from exc
        return MessageRef(str(response["channel"]), str(response["ts"]))

    def approval_recorded(self, request: RestoreRequest, approvals: list[Approval]) -> None:
        """Show who approved so far; the buttons stay."""
        self._edit(request, rb.approval_request(request, approvals))

    def decided(self, request: RestoreRequest, approvals: list[Approval]) -> None:
        """Remove the buttons, say who decided and when, note it in the thread, tell the requester."""
        self._edit(request, rb.approval_settled(request, approvals))
        note = rb.decided_note(request)
        self._thread(request, note)
        self._tell_requester(request, note["text"])

    def started(self, request: RestoreRequest, resumed: str | None) -> None:
        """A thread reply when the restore starts or resumes."""
        self._thread(request, rb.started_note(request, resumed))
        if resumed:
            self._edit(request, rb.approval_settled(request, [], note=resumed))

    def progress(self, request: RestoreRequest, progress: RestoreProgress) -> None:
        """One progress reply in the thread, edited in place, so a long restore does not flood it."""
        message = rb.progress_note(request, progress)
        with self._lock:
            ts = self._progress_ts.get(request.id)
        if ts is not None and request.approval_channel:
            try:
                self._client.chat_update(
                    channel=request.approval_channel, ts=ts, text=message["text"], blocks=message["blocks"]
                )
                return
            except Exception:
                logger.warning("restore.progress_edit_failed", extra={"restore_id": request.id})
        posted = self._thread(request, message)
        if posted is not None:
            with self._lock:
                self._progress_ts[request.id] = posted

    def finished(self, request: RestoreRequest, outcome: RestoreOutcome) -> None:
        """The report in the thread, the message's state line, and the requester's DM."""
        with self._lock:
            self._progress_ts.pop(request.id, None)
        report = rb.finished_note(request, outcome)
        self._thread(request, report)
        partial = outcome.check is not None and outcome.check.partial
        note = (
            "PARTIAL: see the thread for the numbers and why."
            if partial
            else "Finished: see the thread for the report."
        )
        self._edit(request, rb.approval_settled(request, [], note=note))
        self._tell_requester(request, rb.finished_summary(request, outcome))

    def failed(self, request: RestoreRequest, reason: str) -> None:
        """The reason in the thread, the message's state line, and the requester's DM."""
        with self._lock:
            self._progress_ts.pop(request.id, None)
        self._thread(request, rb.failed_note(request, reason))
        self._edit(request, rb.approval_settled(request, [], note=f"Failed: {reason}"))
        self._tell_requester(request, f"failed: {escape(reason)}")

    def cancelled(self, request: RestoreRequest, outcome: RestoreOutcome | None) -> None:
        """The cancelled report in the thread (with the delete button a new table gets), the message's state line,
        and the requester's DM."""
        with self._lock:
            self._progress_ts.pop(request.id, None)
        self._thread(request, cancelled_note(request, outcome))
        self._edit(request, rb.approval_settled(request, [], note="Cancelled: see the thread for what was written."))
        self._tell_requester(request, "cancelled; what was written before the cancel stays (see the approval thread).")

    def _edit(self, request: RestoreRequest, message: Message) -> None:
        if not request.approval_channel or not request.approval_ts:
            return
        try:
            self._client.chat_update(
                channel=request.approval_channel, ts=request.approval_ts, text=message["text"], blocks=message["blocks"]
            )
        except Exception:
            logger.exception("restore.approval_message_not_edited", extra={"restore_id": request.id})

    def _thread(self, request: RestoreRequest, message: Message) -> str | None:
        if not request.approval_channel:
            return None
        try:
            response = self._client.chat_postMessage(
                channel=request.approval_channel,
                thread_ts=request.approval_ts,
                text=message["text"],
                blocks=message["blocks"],
            )
        except Exception:
            logger.exception("restore.thread_post_failed", extra={"restore_id": request.id})
            return None
        return str(response.get("ts") or "") or None

    def _tell_requester(self, request: RestoreRequest, detail: str) -> None:
        if request.requested_by[:1] not in {"U", "W"}:
            return
        message = rb.requester_notice(request, detail)
        try:
            self._client.chat_postMessage(channel=request.requested_by, text=message["text"], blocks=message["blocks"])
        except Exception:
            logger.exception("restore.requester_not_told", extra={"restore_id": request.id})
