"""The core's ports implemented with Slack's Web API: export results to channels, user-group lookups."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.aws.pricing import Rates
from bot.models import ExportJob
from bot.timefmt import utcnow
from handlers import blocks
from handlers.schedules.blocks import oncall_section
from handlers.slack_http import webhook

logger = logging.getLogger(__name__)

# Retrying these cannot help: the message is dropped with a log line instead of being retried forever.
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "restricted_action",
    "msg_too_long",
    "invalid_blocks",
}
RESPONSE_URL_LIFETIME = timedelta(minutes=30)


def post_message(
    client: WebClient, channel: str, message: blocks.Message, purpose: str, fallback: Callable[[], bool] | None = None
) -> bool:
    """chat.postMessage (429s are retried by the client). True when posted, or when Slack refused it for a reason
    retrying cannot fix (logged, after trying `fallback`); False when a later retry may succeed."""
    try:
        client.chat_postMessage(channel=channel, text=message["text"], blocks=message["blocks"])
        return True
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error not in PERMANENT_ERRORS:
            logger.warning("%s: channel=%s failed (%s); will retry", purpose, channel, error)
            return False
        if fallback is None or not fallback():
            # invalid_blocks names each broken limit; the builders should make that impossible, so say which.
            details = "; ".join(str(e) for e in exc.response.get("errors") or [])
            logger.error(
                "%s: channel=%s refused the message (%s%s); not retried",
                purpose,
                channel,
                error,
                f": {details}" if details else "",
            )
        return True
    except Exception:
        logger.exception("%s: channel=%s could not be reached; will retry", purpose, channel)
        return False


class SlackGroups:
    """GroupDirectory backed by usergroups.users.list (scope usergroups:read)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def members(self, group_id: str) -> set[str]:
        """The members of a user group."""
        return set(self._client.usergroups_users_list(usergroup=group_id).get("users") or [])


class SlackNotifier:
    """ExportNotifier that posts with chat.postMessage; falls back to response_url where the bot is no member."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def export_finished(
        self, job: ExportJob, cost: Decimal | None, rates: Rates, channels: list[str], mention: str | None = None
    ) -> bool:
        """Post the result to each channel; False when a retryable failure should be tried again."""
        message = blocks.export_finished(job, cost, rates)
        if mention:
            message = oncall_section(message, mention)
        delivered = [self._post(channel, message, job) for channel in channels]  # every channel, no short-circuit
        return all(delivered)

    def _post(self, channel: str, message: blocks.Message, job: ExportJob) -> bool:
        def fallback() -> bool:
            return channel == job.channel_id and self._via_response_url(job, message)

        return post_message(self._client, channel, message, "notify", fallback)

    def _via_response_url(self, job: ExportJob, message: blocks.Message) -> bool:
        fresh = job.created_at is not None and utcnow() - job.created_at < RESPONSE_URL_LIFETIME
        if not job.response_url or not fresh:
            return False
        response = webhook(job.response_url).send(
            text=message["text"], blocks=message["blocks"], response_type="ephemeral"
        )
        return response.status_code == 200
