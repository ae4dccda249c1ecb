"""VerificationNotifier with Slack's Web API: a message in the channel it was asked in, progress edited in place in
its thread, the result in the thread and on the parent message."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient

from bot.background.notes import EDIT, Delivery, NoteStamp, destination
from bot.verification.models import Verification
from bot.verification.verify import VerifyProgress
from handlers.kit.blocks import Message
from handlers.kit.delivery import deliver_edit, deliver_message
from handlers.verification import blocks as vb

logger = logging.getLogger(__name__)


class SlackVerificationNotifier:
    """Posts with chat.postMessage and edits with chat.update; a verification asked nowhere is not posted."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._progress_ts: dict[str, str] = {}
        self._lock = threading.Lock()

    def started(self, verification: Verification, resumed: bool) -> str | None:
        """The thread's parent; after a restart a reply in the thread it already has."""
        message = vb.verification_started(verification, resumed)
        if verification.thread_ts:
            self._post(verification, message, verification.thread_ts)
            return verification.thread_ts
        return self._post(verification, message, None)

    def progress(self, verification: Verification, progress: VerifyProgress) -> None:
        """One progress reply in the thread, edited in place."""
        message = vb.verification_progress(verification, progress)
        with self._lock:
            ts = self._progress_ts.get(verification.id)
        if ts is not None and verification.channel_id:
            try:
                self._client.chat_update(
                    channel=verification.channel_id, ts=ts, text=message["text"], blocks=message["blocks"]
                )
                return
            except Exception:
                logger.warning("verification.progress_edit_failed", extra={"verification_id": verification.id})
        posted = self._post(verification, message, verification.thread_ts)
        if posted is not None:
            with self._lock:
                self._progress_ts[verification.id] = posted

    def finished(self, verification: Verification, stamp: NoteStamp) -> Delivery:
        """The result in the thread (or the channel), or on the parent message (`stamp.target`)."""
        with self._lock:
            self._progress_ts.pop(verification.id, None)
        result = vb.verification_result(verification)
        if destination(stamp.target).how == EDIT:
            return deliver_edit(self._client, result, stamp, verification.thread_ts or "")
        return deliver_message(self._client, result, stamp, thread_ts=verification.thread_ts)

    def _post(self, verification: Verification, message: Message, thread_ts: str | None) -> str | None:
        if not verification.channel_id:
            return None
        try:
            response = self._client.chat_postMessage(
                channel=verification.channel_id, thread_ts=thread_ts, text=message["text"], blocks=message["blocks"]
            )
        except Exception:
            logger.exception("verification.post_failed", extra={"verification_id": verification.id})
            return None
        return str(response.get("ts") or "") or None
