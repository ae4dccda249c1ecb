"""ScheduleNotifier implemented with chat.postMessage (the Slack client honours 429 Retry-After)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.schedule_models import Digest, RunReport
from handlers import schedule_blocks
from handlers.blocks import Message
from handlers.slack_port import PERMANENT_ERRORS

logger = logging.getLogger(__name__)


class SlackScheduleNotifier:
    """Posts run messages and the digest; a refusal that retrying cannot fix is logged and dropped."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def run_report(self, report: RunReport, channel: str) -> bool:
        """A run's message."""
        return self._post(channel, schedule_blocks.run_report(report))

    def digest(self, digest: Digest, channel: str) -> bool:
        """The daily digest."""
        return self._post(channel, schedule_blocks.digest_message(digest))

    def _post(self, channel: str, message: Message) -> bool:
        try:
            self._client.chat_postMessage(channel=channel, text=message["text"], blocks=message["blocks"])
            return True
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in PERMANENT_ERRORS:
                logger.error("schedules: channel=%s refused the message (%s); not retried", channel, error)
                return True
            logger.warning("schedules: channel=%s failed (%s); will retry", channel, error)
            return False
        except Exception:
            logger.exception("schedules: channel=%s could not be reached; will retry", channel)
            return False
