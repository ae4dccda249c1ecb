"""Slack's Web API behind the ports every surface shares: posting a message (dropping what retrying cannot fix) and
user-group lookups."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.kit import blocks

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
