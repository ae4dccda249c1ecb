"""DrillNotifier with Slack's Web API: the result to the channel it was asked in and the notification channel."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.drills.drill_models import Drill
from handlers.drills import blocks as db
from handlers.slack_port import post_message


class SlackDrillNotifier:
    """Posts a drill's result with chat.postMessage."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def drill_finished(self, drill: Drill, channels: list[str]) -> None:
        """The result, once to each channel."""
        message = db.drill_result(drill)
        for channel in channels:
            post_message(self._client, channel, message, f"drill {drill.id} result")
