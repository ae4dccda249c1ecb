"""A note's delivery to one channel, exactly once where Slack allows (bot.background.notes).

chat.postMessage takes no idempotency key, so each post carries the delivery's stamp as message metadata (event
type `ddbbot_note`, payload: note, edition, channel). When an earlier call for the same delivery may have gone
through unrecorded (the holder died after Slack answered), the channel's history since the note was laid out is read
(conversations.history with `include_all_metadata`, scopes channels:history and groups:history) and the post is made
only if the stamp is not there. A channel whose history cannot be read (scope missing, bot not a member) is posted to
anyway, logged: at least once, never lost.

A target may also be a reply in the thread of the feature's own message (`thread:<channel>`: a reply in doubt is
looked for in the thread with conversations.replies, as history shows no replies), or an edit of that message
(`edit:<channel>`, chat.update: doing it again changes nothing, so it is never looked for).

Slack's answers become the delivery's outcome: ok is delivered; a rate limit, a server error or no answer at all
may pass (tried later, not counted); anything else is a refusal (counted, tried again, given up after the attempts
allowed). Refused calls are failures, never "ok".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.background.notes import EDIT, THREAD, Delivery, NoteStamp, delivered, destination, later, refused
from handlers.kit import emoji
from handlers.kit.blocks import Message, code, escape, message, oncall_section, plain_fallback, section
from handlers.kit.text import channel, user

logger = logging.getLogger(__name__)
NOTE_EVENT = "ddbbot_note"
LOOKBACK = timedelta(minutes=10)  # Slack's clock against the database's: read a little further back than needed
HISTORY_PAGE = 200
HISTORY_PAGES = 10  # 2,000 messages since the note was laid out: past that the channel is posted to again
PASSING = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
CONTENT_ERRORS = frozenset({"invalid_blocks", "msg_too_long"})  # Slack refused what it holds, not where it goes
SERVER_ERROR = 500


def deliver_message(
    client: WebClient,
    message: Message,
    stamp: NoteStamp,
    *,
    fallback: Callable[[], bool] | None = None,
    thread_ts: str | None = None,
) -> Delivery:
    """Post `message` to `stamp.target` carrying the stamp (in the thread of `thread_ts` for a `thread:` target),
    unless an earlier call for it already did; `fallback` (a response_url, say) is tried when Slack refuses it."""
    if stamp.recheck:
        found = _already_posted(client, stamp, thread_ts if destination(stamp.target).how == THREAD else None)
        if isinstance(found, Delivery):
            return found
    return _sent(client, message, stamp, fallback, lambda shown: _post(client, shown, stamp, thread_ts))


def deliver_edit(client: WebClient, message: Message, stamp: NoteStamp, ts: str) -> Delivery:
    """Edit the message `ts` of the `edit:` target's channel to `message` (chat.update); Slack's answer as a post's."""
    return _sent(client, message, stamp, None, lambda shown: _edit(client, shown, stamp, ts))


def _sent(
    client: WebClient,
    message: Message,
    stamp: NoteStamp,
    fallback: Callable[[], bool] | None,
    send: Callable[[Message], Delivery],
) -> Delivery:
    """`send(message)` with Slack's answer as the delivery's outcome (the text alone when Slack refuses the blocks)."""
    try:
        return send(message)
    except SlackApiError as exc:
        if str(exc.response.get("error") or "") in CONTENT_ERRORS:
            return _send_plain(send, message, stamp, exc)
        return _answer(exc, stamp, fallback)
    except Exception:
        logger.warning("note.post_unanswered", extra={"note": stamp.note, "channel": stamp.target}, exc_info=True)
        return later("Slack could not be reached", in_doubt=True)


def _post(client: WebClient, message: Message, stamp: NoteStamp, thread_ts: str | None = None) -> Delivery:
    response = client.chat_postMessage(
        channel=destination(stamp.target).channel,
        thread_ts=thread_ts,
        text=message["text"],
        blocks=message["blocks"],
        metadata={"event_type": NOTE_EVENT, "event_payload": stamp.payload()},
    )
    return delivered(str(response.get("ts") or "") or None)


def _edit(client: WebClient, message: Message, stamp: NoteStamp, ts: str) -> Delivery:
    response = client.chat_update(
        channel=destination(stamp.target).channel, ts=ts, text=message["text"], blocks=message["blocks"]
    )
    return delivered(str(response.get("ts") or "") or None)


def _send_plain(
    send: Callable[[Message], Delivery], message: Message, stamp: NoteStamp, exc: SlackApiError
) -> Delivery:
    """Slack refused the blocks (the builders should make that impossible): log which limit with a reference, and
    deliver the text alone, so that people still read what happened."""
    reference = uuid.uuid4().hex[:8]
    details = "; ".join(str(e) for e in exc.response.get("errors") or []) or str(exc.response.get("error"))
    fields = {"note": stamp.note, "channel": stamp.target, "reference": reference, "details": details}
    logger.error("note.content_refused", extra=fields)
    try:
        return send(plain_fallback(message, reference))
    except SlackApiError as refused_too:
        return _answer(refused_too, stamp, None)


def _already_posted(client: WebClient, stamp: NoteStamp, thread_ts: str | None) -> Delivery | None:
    """The delivery when the stamp is found in the channel (in the thread of `thread_ts`, with conversations.replies:
    history shows no replies); a wait when Slack cannot be asked; None: post it."""
    oldest = f"{(stamp.since - LOOKBACK).timestamp():.6f}"
    channel = destination(stamp.target).channel
    cursor: str | None = None
    for _page in range(HISTORY_PAGES):
        try:
            page = (
                client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
                if thread_ts
                else client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=HISTORY_PAGE, cursor=cursor
                )
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in PASSING or exc.response.status_code >= SERVER_ERROR:
                return later(f"Slack answered `{error or exc.response.status_code}`", in_doubt=True)
            logger.warning(
                "note.history_unreadable",
                extra={"note": stamp.note, "channel": stamp.target, "error": error or "unknown"},
            )
            return None  # cannot look: posted again, at least once
        except Exception:
            logger.warning("note.history_unanswered", extra={"note": stamp.note, "channel": stamp.target})
            return later("Slack could not be reached", in_doubt=True)
        for shown in page.get("messages") or []:
            metadata = shown.get("metadata") or {}
            if metadata.get("event_type") == NOTE_EVENT and metadata.get("event_payload") == stamp.payload():
                logger.info("note.found_posted", extra={"note": stamp.note, "channel": stamp.target})
                return delivered(str(shown.get("ts") or "") or None)
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not page.get("has_more") or not cursor:
            return None
    logger.warning("note.history_too_long", extra={"note": stamp.note, "channel": stamp.target})
    return None


def _answer(exc: SlackApiError, stamp: NoteStamp, fallback: Callable[[], bool] | None) -> Delivery:
    error = str(exc.response.get("error") or "")
    if error in PASSING or exc.response.status_code >= SERVER_ERROR:
        logger.warning("note.post_later", extra={"note": stamp.note, "channel": stamp.target, "error": error})
        return later(f"Slack answered `{error or exc.response.status_code}`")
    if fallback is not None and fallback():
        return delivered()
    details = "; ".join(str(e) for e in exc.response.get("errors") or [])
    logger.error(
        "note.post_refused",
        extra={"note": stamp.note, "channel": stamp.target, "error": error or "unknown", "details": details},
    )
    return refused(f"Slack answered `{error or 'an error'}`")


class SlackUndelivered:
    """UndeliveredNotifier with chat.postMessage: where a note did not arrive, why, and what to do."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def undelivered(
        self, note: str, target: str, reason: str, attempts: int, stamp: NoteStamp, oncall: str | None = None
    ) -> Delivery:
        """One short message in `stamp.target`; on-call mentioned when the note was about scheduled work."""
        report = undelivered_message(note, target, reason, attempts)
        if oncall:
            report = oncall_section(
                report, oncall, "a message about a scheduled backup", " could not be posted (see above)"
            )
        return deliver_message(self._client, report, stamp)


def undelivered_message(note: str, target: str, reason: str, attempts: int) -> Message:
    """The message: the channel, the reason (Slack's answer), what the message was about, and the fix."""
    where = _where(target)
    text = (
        f"{emoji.WARN} A message from the bot could not be posted in {where}"
        f"{f' after {attempts} attempts' if attempts > 1 else ''}: {escape(reason, 300)}. It was {code(note, 600)}. "
        f"Invite the bot to that channel (`/invite @ddb-backup-bot`), or change where these messages go."
    )
    return message(text, section(text))


def _where(target: str) -> str:
    """A target as people read it: a channel, the thread or the message the bot keeps there, a person's DMs."""
    place = destination(target)
    if place.person:
        return f"the direct messages of {user(place.channel)}"
    shown = channel(place.channel)
    if place.how == THREAD:
        return f"the thread of its message in {shown}"
    if place.how == EDIT:
        return f"its message in {shown} (an edit)"
    return shown
