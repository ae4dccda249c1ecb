"""DeletionNotifier with Slack's Web API: the approval message, its edits, and the result in its thread."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import PreconditionFailed
from bot.restores.notify import MessageRef
from bot.retention.models import DeletionRequest
from handlers.kit.blocks import Message
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

    def finished(self, request: DeletionRequest) -> None:
        """Say how it ended, in the message and in its thread."""
        settled = db.deletion_settled(request)
        self._edit(request, settled)
        if request.approval_channel and request.approval_ts:
            try:
                self._client.chat_postMessage(
                    channel=request.approval_channel,
                    thread_ts=request.approval_ts,
                    text=settled["text"],
                    blocks=settled["blocks"],
                )
            except SlackApiError:
                logger.warning("retention.result_not_posted", extra={"deletion": request.id})

    def _edit(self, request: DeletionRequest, edited: Message) -> None:
        if not (request.approval_channel and request.approval_ts):
            return
        try:
            self._client.chat_update(
                channel=request.approval_channel, ts=request.approval_ts, text=edited["text"], blocks=edited["blocks"]
            )
        except SlackApiError:
            logger.warning("retention.approval_message_not_edited", extra={"deletion": request.id})
