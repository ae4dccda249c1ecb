"""DrillNotifier with Slack's Web API: the result to the channel it was asked in and the notification channel."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.background.notes import Delivery, NoteStamp
from bot.drills.models import Drill, DrillStatus
from handlers.drills import blocks as db
from handlers.kit.blocks import oncall_section
from handlers.kit.delivery import deliver_message


class SlackDrillNotifier:
    """Posts a drill's result with chat.postMessage; a failed scheduled drill mentions the on-call group."""

    def __init__(self, client: WebClient, oncall: str | None = None) -> None:
        self._client = client
        self._oncall = oncall

    def drill_finished(self, drill: Drill, stamp: NoteStamp) -> Delivery:
        """The result, once to one channel."""
        message = db.drill_result(drill)
        scheduled = drill.scheduled
        if self._oncall and scheduled and drill.status == DrillStatus.FAILED:
            message = oncall_section(message, self._oncall, "a scheduled restore drill")
        return deliver_message(self._client, message, stamp)
