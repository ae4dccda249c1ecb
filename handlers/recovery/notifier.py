"""RecoveryNotifier with Slack's Web API: answers and notes go to the requester as direct messages, the offer to
show items goes into the approval message's thread."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.recovery.models import Preparation
from bot.recovery.views import ItemView
from bot.restores.models import RestoreRequest
from handlers.kit.blocks import Message
from handlers.recovery import blocks as rb

logger = logging.getLogger(__name__)


class SlackRecoveryNotifier:
    """Posts with chat.postMessage; a refused post is logged (the answer can be asked for again)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def answered(self, view: ItemView) -> None:
        """The items, with their values, to the requester alone (a direct message)."""
        self._post(view.preparation.requested_by, rb.items_message(view, offer_restore=True), view.preparation)

    def requested(self, preparation: Preparation, request: RestoreRequest) -> None:
        """The offer to show items under the approval message; the requester is told where the request waits."""
        if request.approval_channel and request.approval_ts:
            self._post(
                request.approval_channel,
                rb.approval_thread(preparation, request),
                preparation,
                thread=request.approval_ts,
            )
        self._post(preparation.requested_by, rb.requested_note(preparation, request), preparation)

    def failed(self, preparation: Preparation, reason: str) -> None:
        """Why the preparation could not finish, to the requester."""
        self._post(preparation.requested_by, rb.preparation_failed(preparation, reason), preparation)

    def _post(self, channel: str, message: Message, preparation: Preparation, thread: str | None = None) -> None:
        try:
            self._client.chat_postMessage(
                channel=channel, text=message["text"], blocks=message["blocks"], thread_ts=thread
            )
        except Exception:
            logger.exception("recovery.message_not_delivered", extra={"preparation_id": preparation.id})
