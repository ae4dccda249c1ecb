"""Messages owed to people, as claimed work: a note is the work item (`note`, `<topic>:<subject>`), enqueued in the
same transaction as the change it reports (an export finished, a fire failed, a restore ended), so a report can
never be lost between the change and its message, whoever crashes where.

The note work posts through the topic's poster, then marks the feature's row as told in the transaction that
settles the claim. Slack's chat.postMessage takes no idempotency key, so the one window left is a worker dying
after Slack accepted the message and before that transaction commits: the message is then posted again by the
replica that takes the note over (at least once, never lost).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Connection

from bot.background.claims import Claim, WorkState
from bot.background.fence import Fence

logger = logging.getLogger(__name__)
NOTE = "note"


def note_key(topic: str, subject: object) -> str:
    """The work key of a note: `export:<arn>`, `run:<id>`, `restore:<id>`, …"""
    return f"{topic}:{subject}"


class NotePoster(Protocol):
    """Posts one topic's notes."""

    def post(self, subject: str) -> bool:
        """Post the note about `subject`; True when delivered (or refused for a reason retrying cannot fix), False
        when Slack may take it later."""
        ...

    def posted(self, subject: str, connection: Connection) -> None:
        """Record in the feature's row that it was told (in the transaction that settles the note)."""
        ...


class NoteWork:
    """The `note` kind: post through the topic's poster; a post Slack may take later waits `retry_after` without
    counting an attempt, so a Slack outage delays messages but never drops them."""

    def __init__(self, posters: Mapping[str, NotePoster], retry_after: timedelta) -> None:
        self._posters = dict(posters)
        self._retry_after = retry_after

    def run(self, item: Claim, fence: Fence) -> None:
        """Post the note once; settle it, or wait and try again."""
        topic, _, subject = item.key.partition(":")
        poster = self._posters.get(topic)
        if poster is None:
            logger.error("note.dropped_no_poster", extra={"note": item.key, "topic": topic})
            return
        delivered = poster.post(subject)
        fence.step("aws_called")
        if not delivered:
            fence.defer(self._retry_after)
            return
        with fence.finishing() as connection:
            poster.posted(subject, connection)

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """A note that crashed its poster every time: logged, there is nobody else to tell."""
        logger.error("note.given_up", extra={"note": item.key, "reason": reason})
        with fence.finishing(WorkState.GIVEN_UP, reason):
            pass
