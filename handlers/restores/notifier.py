"""RestoreNotifier with Slack's Web API: the approval message, edits to it, its thread, and the requester's DM."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.background.notes import EDIT, THREAD, Delivery, NoteStamp, destination
from bot.errors import PreconditionFailed
from bot.restores.models import Approval, RestoreRequest
from bot.restores.notify import MessageRef, RestoreOutcome, RestoreProgress
from handlers.kit.blocks import Message, escape
from handlers.kit.delivery import deliver_edit, deliver_message
from handlers.restores import blocks as rb
from handlers.restores.bulk_blocks import cancelled_note

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ending:
    """How a request ended, as each destination shows it: the report (thread), the approval message's state line
    (its edit), and the summary (the requester's DM, the notification channel; mrkdwn already escaped)."""

    report: Message
    state_line: str
    summary: str


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

    def finished(self, request: RestoreRequest, outcome: RestoreOutcome, stamp: NoteStamp) -> Delivery:
        """The report (the thread, the notification channel), the message's state line, or the requester's DM."""
        partial = outcome.check is not None and outcome.check.partial
        note = (
            "PARTIAL: see the thread for the numbers and why."
            if partial
            else "Finished: see the thread for the report."
        )
        ending = Ending(rb.finished_note(request, outcome), note, rb.finished_summary(request, outcome))
        return self._deliver_ending(request, ending, stamp)

    def failed(self, request: RestoreRequest, reason: str, stamp: NoteStamp) -> Delivery:
        """The reason (the thread, the notification channel), the message's state line, or the requester's DM."""
        ending = Ending(rb.failed_note(request, reason), f"Failed: {reason}", f"failed: {escape(reason)}")
        return self._deliver_ending(request, ending, stamp)

    def cancelled(self, request: RestoreRequest, outcome: RestoreOutcome | None, stamp: NoteStamp) -> Delivery:
        """The cancelled report in the thread (with the delete button a new table gets), the requester's DM, the
        notification channel, or the message's state line."""
        ending = Ending(
            cancelled_note(request, outcome),
            "Cancelled: see the thread for what was written.",
            "cancelled; what was written before the cancel stays (see the approval thread).",
        )
        return self._deliver_ending(request, ending, stamp)

    def _deliver_ending(self, request: RestoreRequest, ending: Ending, stamp: NoteStamp) -> Delivery:
        """One destination of a request's end: each is recorded, retried and reported on its own (never posted again
        once delivered), so a refused one leaves the others as they are."""
        with self._lock:
            self._progress_ts.pop(request.id, None)
        place = destination(stamp.target)
        if place.how == THREAD:
            return deliver_message(self._client, ending.report, stamp, thread_ts=request.approval_ts)
        if place.how == EDIT:
            settled = rb.approval_settled(request, [], note=ending.state_line)
            return deliver_edit(self._client, settled, stamp, request.approval_ts or "")
        if place.person:
            return deliver_message(self._client, rb.requester_notice(request, ending.summary), stamp)
        return deliver_message(self._client, rb.ended_notice(request, ending.summary), stamp)

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
