"""The words every message is made of, from one place: counts with thousands separators and the right plural
(bot/words.py, shared with the use cases' errors), times each reader sees in their own time zone, people and
channels as mentions.

Builders use these instead of writing `f"{n} item(s)"`, `iso(...)` or a raw `U0…` id, so "1 items", "43281" and a
time only a UTC reader can read cannot appear (tests/unit/handlers/test_message_words.py scans every builder).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.timefmt import iso
from bot.words import UNKNOWN, count, plural
from handlers.kit.blocks import escape, mention_user

__all__ = ["channel", "count", "plural", "user", "when"]

DATE_TOKENS = "{date_short_pretty} {time}"  # "Mar 10, 2026 1:00 AM", "today 1:00 AM", in the reader's zone
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")


def when(moment: datetime | None) -> str:
    """A moment every reader sees in their own time zone (Slack's date token), with the ISO-8601 UTC text as the
    fallback for clients that cannot render it; an em dash when unknown."""
    if moment is None:
        return UNKNOWN
    epoch = int(moment.astimezone(UTC).timestamp())
    return f"<!date^{epoch}^{DATE_TOKENS}|{iso(moment)}>"


def user(user_id: str) -> str:
    """A person as a mention (`<@U…>`); text that is not a user id is shown escaped."""
    return mention_user(user_id)


def users(user_ids: str) -> str:
    """People recorded as comma-separated ids (the deciders of a request), each a mention."""
    return ", ".join(user(one) for one in user_ids.split(",") if one) or "someone"


def channel(channel_id: str) -> str:
    """A channel as a link (`<#C…>`) when it is an id; a `#name` or other text is shown escaped."""
    return f"<#{channel_id}>" if CHANNEL_ID.fullmatch(channel_id) else escape(channel_id, 100)
