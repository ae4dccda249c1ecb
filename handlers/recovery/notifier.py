"""RecoveryNotifier with Slack's Web API: answers and notes go to the requester as direct messages, the offer to
show items goes into the approval message's thread."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.background.notes import THREAD, Delivery, NoteStamp, destination
from bot.recovery.models import Preparation
from bot.recovery.views import ItemView
from bot.restores.models import RestoreRequest
from handlers.kit.delivery import deliver_message
from handlers.recovery import blocks as rb


class SlackRecoveryNotifier:
    """Posts with chat.postMessage, one destination at a time (bot.background.notes records, retries and reports
    each)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def answered(self, view: ItemView, stamp: NoteStamp) -> Delivery:
        """The items, with their values, to the requester alone (a direct message)."""
        return deliver_message(self._client, rb.items_message(view, offer_restore=True), stamp)

    def requested(self, preparation: Preparation, request: RestoreRequest, stamp: NoteStamp) -> Delivery:
        """The offer to show items under the approval message, or the requester told where the request waits."""
        if destination(stamp.target).how == THREAD:
            offer = rb.approval_thread(preparation, request)
            return deliver_message(self._client, offer, stamp, thread_ts=request.approval_ts)
        return deliver_message(self._client, rb.requested_note(preparation, request), stamp)

    def failed(self, preparation: Preparation, reason: str, stamp: NoteStamp) -> Delivery:
        """Why the preparation could not finish, to the requester."""
        return deliver_message(self._client, rb.preparation_failed(preparation, reason), stamp)
