"""DeletionNotifier with Slack's Web API: the approval message, its edits, and the result to each destination."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.background.notes import EDIT, THREAD, Delivery, NoteStamp, destination
from bot.errors import PreconditionFailed
from bot.restores.notify import MessageRef
from bot.retention.models import DeletionRequest
from handlers.kit.blocks import Message
from handlers.kit.delivery import deliver_edit, deliver_message
from handlers.retention import deletion_blocks as db

logger = logging.getLogger(__name__)


class SlackDeletionNotifier:
    """Posts with chat.postMessage and edits with chat.update."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def approval_requested(self, request: DeletionRequest) -> MessageRef:
        """Post the request; Slack's refusal becomes an error the requester reads."""
        posted = db.deletion_request(request)
        try:
            response = self._client.chat_postMessage(
                channel=request.approval_channel or "", text=posted["text"], blocks=posted["blocks"]
            )
        except SlackApiError as exc:
            logger.error("retention.approval_message_refused", extra={"deletion": request.id})
            raise PreconditionFailed(f"Slack answered `{exc.response.get('error', 'error')}`") from exc
        return MessageRef(str(response["channel"]), str(response["ts"]))

    def decided(self, request: DeletionRequest) -> None:
        """Remove the buttons and say who decided."""
        self._edit(request, db.deletion_settled(request))

    def finished(self, request: DeletionRequest, stamp: NoteStamp) -> Delivery:
        """How it ended, to one destination: the approval thread, the approval message (edited), or the requester."""
        settled = db.deletion_settled(request)
        place = destination(stamp.target)
        if place.how == THREAD:
            return deliver_message(self._client, settled, stamp, thread_ts=request.approval_ts)
        if place.how == EDIT:
            return deliver_edit(self._client, settled, stamp, request.approval_ts or "")
        return deliver_message(self._client, settled, stamp)

    def _edit(self, request: DeletionRequest, edited: Message) -> None:
        if not (request.approval_channel and request.approval_ts):
            return
        try:
            self._client.chat_update(
                channel=request.approval_channel, ts=request.approval_ts, text=edited["text"], blocks=edited["blocks"]
            )
        except SlackApiError:
            logger.warning("retention.approval_message_not_edited", extra={"deletion": request.id})
