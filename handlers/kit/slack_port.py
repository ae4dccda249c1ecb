"""Slack's Web API behind the ports every surface shares: user-group lookups (messages owed to people are delivered by
handlers.kit.delivery)."""

from __future__ import annotations

from slack_sdk import WebClient


class SlackGroups:
    """GroupDirectory backed by usergroups.users.list (scope usergroups:read)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def members(self, group_id: str) -> set[str]:
        """The members of a user group."""
        return set(self._client.usergroups_users_list(usergroup=group_id).get("users") or [])
