"""The shapes of the Slack ids a setting holds (people, user groups, channels), and how to tell someone who wrote a
name instead.

Slack's ids are an uppercase letter saying what the thing is, then uppercase letters and digits: people `U…` (or
`W…` in an Enterprise organization), user groups `S…`, channels `C…` (public), `G…` (private, older ones) and `D…`
(a direct message). They were 9 characters long and are now 11; Slack does not promise a length, so the rule only
asks for at least 4 after the letter. What it refuses is what people actually write by mistake: names (`alice`,
`#backups`, `@oncall`), which Slack keeps in lowercase, and mentions (`<@U012ABCDEF>`). Kept here rather than in a
library: no Slack package states the shapes, and the kernel may not import Slack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum


class SlackIdKind(StrEnum):
    """What a setting holds, each with the leading letters Slack gives that kind of id."""

    PERSON_OR_GROUP = "UWS"
    CHANNEL = "CGD"


_SHAPE = "[A-Z0-9]{4,20}"
_WHAT = {  # (one, several, how to write one)
    SlackIdKind.PERSON_OR_GROUP: (
        "a Slack user id or user-group id",
        "Slack user ids or user-group ids",
        "write ids like U012ABCDEF for a person (their profile → ⋮ → Copy member ID) or S012ABCDEF for a user group",
    ),
    SlackIdKind.CHANNEL: (
        "a Slack channel id",
        "Slack channel ids",
        "write an id like C012ABCDEF (open the channel, click its name: the id is at the bottom of the About tab)",
    ),
}


def is_slack_id(value: str, kind: SlackIdKind) -> bool:
    """True when `value` has the shape of an id of that kind."""
    return re.fullmatch(f"[{kind.value}]{_SHAPE}", value) is not None


def slack_id_problem(values: Iterable[str], kind: SlackIdKind) -> str | None:
    """None when every value is an id of that kind, else a sentence naming the ones that are not and how to write
    one (without the setting's name, which the caller puts in front)."""
    wrong = [value for value in values if not is_slack_id(value, kind)]
    if not wrong:
        return None
    shown = ", ".join(f"`{value[:40]}`" for value in wrong[:5]) + (" …" if len(wrong) > 5 else "")
    one, several, how = _WHAT[kind]
    return f"{shown} is not {one}; {how}." if len(wrong) == 1 else f"{shown} are not {several}; {how}."
