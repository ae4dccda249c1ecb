"""The parts of Slack's Web API that let an app find its own messages again, for the stand-in: message `metadata` on
chat.postMessage and conversations.history, with the scopes and memberships Slack checks.

As Slack documents them (docs.slack.dev/messaging/message-metadata, /reference/methods/conversations.history):
- `metadata` is a JSON object `{event_type, event_payload}`: text that is not a JSON object is refused with
  `invalid_metadata_format`; an object without a non-empty `event_type` string or with an `event_payload` that is not
  an object with `invalid_metadata_schema`;
- conversations.history needs `channels:history` (public channels), `groups:history` (private ones) or
  `im:history` (direct messages), else `missing_scope` naming the scope needed; a bot reads only conversations it is a
  member of (`not_in_channel` otherwise); it returns top-level messages (thread replies stay in their thread),
  newest first, `limit` (default 100, at most 999) per page, those after `oldest` (exclusive unless `inclusive`) and
  before `latest`, with `has_more` and `response_metadata.next_cursor` for the next page; messages carry their
  metadata only when `include_all_metadata` is true; a malformed `oldest` is `invalid_ts_oldest`;
- conversations.replies (same scopes and memberships) returns the thread of the message `ts`: the parent message
  first, then its replies oldest first, paged the same way; `thread_not_found` when there is no such message.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

HISTORY_SCOPES = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
DEFAULT_SCOPES = frozenset({"commands", "chat:write", "usergroups:read", "channels:history", "groups:history"})
HISTORY_LIMIT, HISTORY_MAX_LIMIT = 100, 999
NOT_MEMBER = frozenset({"not_in_channel", "channel_not_found"})  # refusals that also close the channel's history


class HistoryMessage(Protocol):
    """What conversations.history needs of a stored message."""

    channel: str
    ts: str
    thread_ts: str | None
    ephemeral: bool
    deleted: bool
    metadata: dict[str, Any] | None


def metadata_refusal(params: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's answer to a post whose `metadata` it would not take, or None (absent, or well formed)."""
    if "metadata" not in params or params["metadata"] in (None, ""):
        return None
    metadata = params["metadata"]
    if not isinstance(metadata, dict):
        return {"ok": False, "error": "invalid_metadata_format"}
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or not event_type.strip() or not isinstance(metadata.get("event_payload"), dict):
        return {"ok": False, "error": "invalid_metadata_schema"}
    return None


def history_refusal(channel: str | None, scopes: Collection[str], refused: dict[str, str]) -> dict[str, Any] | None:
    """Why conversations.history of `channel` is refused (no such channel, scope missing, not a member), or None."""
    if not channel:
        return {"ok": False, "error": "channel_not_found"}
    needed = HISTORY_SCOPES.get(channel[:1], "channels:history")
    if needed not in scopes:
        return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(scopes))}
    error = refused.get(channel)
    if error in NOT_MEMBER:
        return {"ok": False, "error": error}
    return None


def history_page(
    messages: Sequence[HistoryMessage],
    params: dict[str, Any],
    as_slack_message: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page of conversations.history over the channel's messages (in posting order)."""
    window = _window(params)
    if isinstance(window, dict):
        return window
    shown = [
        m
        for m in reversed(messages)
        if not m.deleted and not m.ephemeral and (m.thread_ts is None or m.thread_ts == m.ts)
        if _between(Decimal(m.ts), *window)
    ]
    return _page(shown, params, as_slack_message)


def replies_page(
    messages: Sequence[HistoryMessage],
    params: dict[str, Any],
    as_slack_message: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page of conversations.replies: the thread of the message `ts` of the channel's messages (in posting
    order), its parent first and its replies oldest first, as Slack returns them; `thread_not_found` when no message
    has that ts."""
    parent = str(params.get("ts") or "")
    if not any(m.ts == parent and not m.deleted for m in messages):
        return {"ok": False, "error": "thread_not_found"}
    window = _window(params)
    if isinstance(window, dict):
        return window
    shown = [
        m
        for m in messages
        if not m.deleted and not m.ephemeral and (m.ts == parent or m.thread_ts == parent)
        if m.ts == parent or _between(Decimal(m.ts), *window)
    ]
    return _page(shown, params, as_slack_message)


def _window(params: dict[str, Any]) -> tuple[Decimal, Decimal, bool] | dict[str, Any]:
    """(oldest, latest, inclusive) as asked, or Slack's answer to a malformed bound."""
    oldest, latest = _ts(params.get("oldest"), "0"), _ts(params.get("latest"), "9999999999.999999")
    if oldest is None:
        return {"ok": False, "error": "invalid_ts_oldest"}
    if latest is None:
        return {"ok": False, "error": "invalid_ts_latest"}
    return oldest, latest, _true(params.get("inclusive"))


def _page(
    shown: Sequence[HistoryMessage], params: dict[str, Any], as_slack_message: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """The page of `shown` the cursor and limit ask for, each message with its metadata when asked for."""
    with_metadata = _true(params.get("include_all_metadata"))
    limit = min(max(_int(params.get("limit"), HISTORY_LIMIT), 1), HISTORY_MAX_LIMIT)
    start = _cursor(params.get("cursor"))
    if start is None:
        return {"ok": False, "error": "invalid_cursor"}
    page = shown[start : start + limit]
    more = start + limit < len(shown)
    answer: dict[str, Any] = {
        "ok": True,
        "messages": [_with_metadata(m, as_slack_message(m), with_metadata) for m in page],
        "has_more": more,
        "pin_count": 0,
        "response_metadata": {"next_cursor": _encode(start + limit) if more else ""},
    }
    return answer


def _with_metadata(message: HistoryMessage, shown: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    if with_metadata and message.metadata is not None:
        return {**shown, "metadata": json.loads(json.dumps(message.metadata))}
    return shown


def _between(ts: Decimal, oldest: Decimal, latest: Decimal, inclusive: bool) -> bool:
    if inclusive:
        return oldest <= ts <= latest
    return oldest < ts < latest


def _ts(value: Any, default: str) -> Decimal | None:
    text = default if value in (None, "") else str(value)
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() and parsed >= 0 else None


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value)) if value not in (None, "") else default
    except ValueError:
        return default


def _true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _encode(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _cursor(value: Any) -> int | None:
    """The page's offset from a cursor this module issued (0 without one); None for one Slack would not know."""
    if value in (None, ""):
        return 0
    try:
        text = base64.b64decode(str(value), validate=True).decode()
    except ValueError:
        return None
    prefix, _, number = text.partition(":")
    return int(number) if prefix == "offset" and number.isdigit() else None
