"""A local Slack Web API and response_url, so the demo and the tests run the real bot without a workspace.

Point `slack_sdk.WebClient(base_url=standin.api_url)` at it and put `standin.response_url(channel)` in the
requests sent to the bot; every call is recorded and the resulting messages are kept as Slack would hold them.

It is as strict as Slack: a method it does not implement answers `unknown_method`, a token it was not told to
accept answers `invalid_auth`, and Block Kit that breaks one of Slack's limits is refused with `invalid_blocks`
(messages) or `invalid_arguments` (views) and an `errors` list naming each broken limit and its JSON pointer.
The rules themselves live in bot/demo/block_kit_rules.py, which the builder tests use too.

Socket Mode is not stood in (there is no websocket server): `apps.connections.open` answers only what Slack answers
a token it refuses, `invalid_auth` for an app-level token it was not told to accept (none can be) and
`not_allowed_token_type` for a bot token, so a refused SLACK_APP_TOKEN can be tested.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.demo.block_kit_rules import HOME, MESSAGE, MESSAGE_TEXT, MODAL, block_kit_errors, view_errors
from bot.demo.slack_files import UPLOAD_PATH, FileUploads, UploadedFile
from bot.demo.slack_history import DEFAULT_SCOPES, history_page, history_refusal, metadata_refusal, replies_page

log = logging.getLogger(__name__)

RESPONSE_URL = "response_url"
_TS_STEP_MICROS = 100
_JSON_ENCODED_FIELDS = ("blocks", "attachments", "view", "metadata")
_BOT_ID = "B0DEMO"
_TRUE_STRINGS = frozenset({"true", "1", "yes"})
# The tokens the tests (tests/integration/conftest.py) and the demo (bot/demo/__main__.py FAKE_BOT_TOKEN) use.
DEFAULT_TOKENS = ("xoxb-test-token", "xoxb-demo-not-a-real-token")
RATELIMITED = "ratelimited"
# Refusals that mean the bot sent something Slack would not take (not the ordinary "no such message" kind).
_REPORTED = frozenset(
    {
        "invalid_blocks",
        "invalid_arguments",
        "invalid_auth",
        "not_authed",
        "not_allowed_token_type",
        "unknown_method",
        "no_text",
        "invalid_json",
    }
)


@dataclass
class RecordedCall:
    """One request the stand-in received, so tests can assert on what the bot asked Slack to do."""

    method: str
    params: dict[str, Any]
    path: str
    at: float
    status: int
    error: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class PostedMessage:
    """A message as Slack would hold it; `user` is the recipient of an ephemeral message, else None."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    ephemeral: bool
    user: str | None
    via: str
    updates: int = 0
    deleted: bool = False
    metadata: dict[str, Any] | None = None  # the app's message metadata (event_type, event_payload), as posted
    files: tuple[str, ...] = ()  # the ids of the files a files.completeUploadExternal shared with it


@dataclass(frozen=True)
class ShownView:
    """A view the bot opened, pushed, updated (modals) or published (Home tabs), as Slack answered it (with its id).

    `trigger_id` is the trigger a modal was opened with (whoever sent the request carrying it sees the modal);
    `user` is the owner of a Home tab.
    """

    method: str
    view_id: str
    view: dict[str, Any]
    trigger_id: str | None = None
    user: str | None = None


@dataclass
class _PendingFailure:
    status: int
    retry_after: int
    remaining: int
    error: str | None


@dataclass
class _ResponseUrlState:
    channel: str
    user: str | None
    target_ts: str | None
    posts: int = 0


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    injected: bool = False  # a failure the test asked for (fail_next), not a refusal worth reporting
    raw: bytes | None = None  # a body that is not JSON (the upload URL answers "OK - <length>" as text)


class _InvalidRequestError(ValueError):
    """The body could not be decoded; Slack answers `invalid_json` / `invalid_form_data`."""


ApiHandler = Callable[[dict[str, Any], list[PostedMessage]], dict[str, Any]]
ChannelPage = Callable[[list[PostedMessage], dict[str, Any], Callable[[Any], dict[str, Any]]], dict[str, Any]]


class SlackStandIn:
    """Answers Web API and response_url calls on 127.0.0.1 from a daemon thread, recording everything."""

    def __init__(
        self,
        port: int = 0,
        *,
        bot_user_id: str = "UBOT",
        team_id: str = "T0DEMO",
        usergroups: dict[str, list[str]] | None = None,
        response_url_max_posts: int = 5,
        token: str | Collection[str] = DEFAULT_TOKENS,
        scopes: Collection[str] = DEFAULT_SCOPES,
    ) -> None:
        """`token`: the bearer token(s) to accept; any other answers `invalid_auth`, as Slack does. `scopes`: the
        bot token's scopes (checked by conversations.history)."""
        self.scopes = set(scopes)
        self._refused_channels: dict[str, str] = {}
        self.bot_user_id = bot_user_id
        self.tokens = frozenset({token} if isinstance(token, str) else token)
        self.team_id = team_id
        self.response_url_max_posts = response_url_max_posts
        self.calls: list[RecordedCall] = []
        self.listeners: list[Callable[[PostedMessage], None]] = []
        self.view_listeners: list[Callable[[ShownView], None]] = []
        self._requested_port = port
        self._lock = threading.Lock()
        self._messages: list[PostedMessage] = []
        self._usergroups = {group: list(users) for group, users in (usergroups or {}).items()}
        self._failures: dict[str, deque[_PendingFailure]] = {}
        self._response_urls: dict[str, _ResponseUrlState] = {}
        self._last_ts_micros = 0
        self._response_url_sequence = itertools.count(1)
        self._view_sequence = itertools.count(1)
        self._views: dict[str, ShownView] = {}
        self._home_views: dict[str, str] = {}  # user → the id of their Home tab (one per person, as in Slack)
        self._shown_views: list[ShownView] = []  # views changed by the request being answered, for the listeners
        self._server: _StandInServer | None = None
        self._thread: threading.Thread | None = None
        self._uploads = FileUploads()
        self._api_handlers: dict[str, ApiHandler] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ----------------------------------------------------------------------------------------- lifecycle

    def start(self) -> SlackStandIn:
        """Bind the port and serve from a daemon thread; starting twice is harmless."""
        if self._server is not None:
            return self
        server = _StandInServer(("127.0.0.1", self._requested_port), self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"slack-standin-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (known only once started, since 0 asks the OS for a free one)."""
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started; call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def api_url(self) -> str:
        """Base URL for `WebClient(base_url=...)`."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str = "", *, user: str | None = None, original_ts: str | None = None) -> str:
        """A fresh response_url whose posts land in pseudo channel `key` (e.g. the command's channel id).

        `user` is recorded as the recipient of ephemeral replies; `original_ts` names the message a button was
        clicked on, so `replace_original` / `delete_original` act on it until something is posted here.
        """
        with self._lock:
            response_id = f"r{next(self._response_url_sequence)}"
            self._response_urls[response_id] = _ResponseUrlState(channel=key, user=user, target_ts=original_ts)
        return f"http://127.0.0.1:{self.port}/response/{response_id}"

    # ------------------------------------------------------------------------------------ test controls

    def messages(self, channel: str | None = None) -> list[PostedMessage]:
        """Snapshots of the current messages (updates applied, deletions removed), in posting order."""
        with self._lock:
            return [
                _snapshot(message)
                for message in self._messages
                if not message.deleted and (channel is None or message.channel == channel)
            ]

    def files(self, channel: str | None = None) -> list[UploadedFile]:
        """The files shared (in `channel`, when given), in upload order; their bytes in `content`."""
        with self._lock:
            return [
                copy.deepcopy(f)
                for f in self._uploads.files.values()
                if f.completed and (channel is None or channel in f.channels)
            ]

    def views(self) -> list[ShownView]:
        """The views as they are now (each id once: its latest open, push, update or publish), oldest first."""
        with self._lock:
            return list(self._views.values())

    def wait_for(self, predicate: Callable[[PostedMessage], bool], timeout: float = 60.0) -> PostedMessage:
        """Poll until a message satisfies `predicate`: the bot works after its ack, so tests must wait (it returns as
        soon as one does; the long default is for a busy machine, where the bot's work can take many times longer)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.messages()
            for message in seen:
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                raise AssertionError(self._describe_timeout(timeout, seen))
            time.sleep(0.02)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        count: int = 1,
        *,
        error: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Fail the next `count` calls of `method` (or "response_url"), creating nothing; with `channel`, only its
        calls for that channel (Slack limits chat.postMessage per channel: about one message a second each).

        With `error` (e.g. `not_in_channel`, `channel_not_found`, `invalid_blocks`, `edit_window_closed`) Slack's
        answer to a refused call: HTTP 200 with `{"ok": false, "error": error}`; `error="ratelimited"` is HTTP 429
        with Retry-After. Without it, `status` decides: 429 is `ratelimited`, anything else an `internal_error` with
        that status.
        """
        if error == RATELIMITED:
            status = 429
        failure = _PendingFailure(status, retry_after, count, error)
        with self._lock:
            self._failures.setdefault(_failure_key(method, channel), deque()).append(failure)

    def refuse_channel(self, channel: str, error: str = "not_in_channel") -> None:
        """Refuse every post to `channel` with `error` until `allow_channel` (the bot removed from it, the channel
        archived or deleted); `not_in_channel` and `channel_not_found` also refuse its conversations.history, and
        `channel_not_found` its chat.update (the one of these errors Slack documents for chat.update)."""
        with self._lock:
            self._refused_channels[channel] = error

    def allow_channel(self, channel: str) -> None:
        """Take posts to `channel` again (the bot was invited back)."""
        with self._lock:
            self._refused_channels.pop(channel, None)

    def set_usergroup(self, group_id: str, users: list[str]) -> None:
        """Define (or redefine) the members `usergroups.users.list` returns for `group_id`."""
        with self._lock:
            self._usergroups[group_id] = list(users)

    # ------------------------------------------------------------------------------ request processing

    def _handle_request(
        self, path: str, query: str, content_type: str, authorization: str | None, raw_body: bytes
    ) -> _Reply:
        """Decode, answer and record one request; listeners run after the lock is released."""
        if path.startswith(UPLOAD_PATH):
            with self._lock:
                status, said = self._uploads.receive(path.removeprefix(UPLOAD_PATH), raw_body)
                self.calls.append(RecordedCall("upload", {"bytes": len(raw_body)}, path, time.time(), status))
            return _Reply(status, {}, {"Content-Type": "text/plain; charset=utf-8"}, raw=said)
        if path.startswith("/api/"):
            method = path.removeprefix("/api/")
        elif path.startswith("/response/"):
            method = RESPONSE_URL
        else:
            return _Reply(404, {"ok": False, "error": "unknown_path"}, {})

        changed: list[PostedMessage] = []
        params: dict[str, Any] = {}
        with self._lock:
            try:
                params = _decode_params(content_type, raw_body, query)
                token_param = params.pop("token", None)
                reply = self._answer(method, path, params, changed, authorization, token_param)
            except _InvalidRequestError as error:
                reply = _Reply(200, {"ok": False, "error": str(error)}, {})
            refused = str(reply.body.get("error")) if not reply.body.get("ok", True) else None
            errors = [str(e) for e in reply.body.get("errors") or []]
            self.calls.append(RecordedCall(method, params, path, time.time(), reply.status, refused, errors))
            notifications = [_snapshot(message) for message in changed]
            views, self._shown_views = self._shown_views, []

        if refused in _REPORTED and not reply.injected:
            # What Slack would refuse, shown in the demo's console too (it prints this logger's warnings).
            log.warning("slack_standin.refused", extra={"method": method, "slack_error": refused, "details": errors})
        if reply.body.get("warning"):
            log.warning("slack_standin.warned", extra={"method": method, "slack_warning": reply.body["warning"]})

        for message in notifications:
            for listener in list(self.listeners):
                try:
                    listener(message)
                except Exception:
                    log.exception("slack_standin.listener_failed", extra={"message_ts": message.ts})
        for view in views:
            for view_listener in list(self.view_listeners):
                try:
                    view_listener(view)
                except Exception:
                    log.exception("slack_standin.listener_failed", extra={"view_id": view.view_id})
        return reply

    def _answer(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        changed: list[PostedMessage],
        authorization: str | None,
        token_param: Any,
    ) -> _Reply:
        is_api_call = method != RESPONSE_URL
        handler = self._api_handlers.get(method)
        if is_api_call:
            if handler is None:
                return _Reply(200, {"ok": False, "error": "unknown_method", "req_method": method}, {})
            bearer = authorization[7:].strip() if authorization and authorization.startswith("Bearer ") else ""
            token = bearer or (str(token_param) if token_param else "")
            if not token:
                return _Reply(200, {"ok": False, "error": "not_authed"}, {})
            if token not in self.tokens:
                return _Reply(200, {"ok": False, "error": "invalid_auth"}, {})

        failure = self._take_failure(_failure_key(method, _text_param(params, "channel"))) or self._take_failure(method)
        if failure is not None:
            return _injected_reply(failure, is_api_call)

        if handler is None:
            return self._post_to_response_url(path.removeprefix("/response/"), params, changed)
        return _Reply(200, handler(params, changed), {})

    def _take_failure(self, method: str) -> _PendingFailure | None:
        pending = self._failures.get(method)
        if not pending:
            return None
        failure = pending[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            pending.popleft()
        return failure

    # --------------------------------------------------------------------------------- Web API methods

    def _auth_test(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://demo.slack.com/",
            "team": "demo",
            "user": "ddb-backup-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": _BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        """Reached only with a token the stand-in accepts, which is a bot token: Slack wants an app-level one."""
        return _error("not_allowed_token_type")

    def _chat_post_message(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        return self._post(params, changed, ephemeral=False)

    def _chat_post_ephemeral(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        if not _text_param(params, "user"):
            return _error("user_not_found")
        return self._post(params, changed, ephemeral=True)

    def _post(self, params: dict[str, Any], changed: list[PostedMessage], *, ephemeral: bool) -> dict[str, Any]:
        channel = _text_param(params, "channel")
        if not channel:
            return _error("channel_not_found")
        if channel in self._refused_channels:
            return _error(self._refused_channels[channel])
        blocks, refusal = _checked_blocks(params)
        if refusal is not None:
            return refusal
        refusal = metadata_refusal(params) if not ephemeral else None
        if refusal is not None:
            return refusal
        text, warnings = _truncated_text(params)
        if not text and not blocks:
            return _error("no_text")
        message = PostedMessage(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=_text_param(params, "thread_ts") or None,
            ephemeral=ephemeral,
            user=_text_param(params, "user") if ephemeral else None,
            via="chat.postEphemeral" if ephemeral else "chat.postMessage",
            metadata=copy.deepcopy(params["metadata"]) if params.get("metadata") and not ephemeral else None,
        )
        self._messages.append(message)
        changed.append(message)
        if ephemeral:
            return {"ok": True, "message_ts": message.ts, **warnings}
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": self._as_slack_message(message),
            **warnings,
        }

    def _chat_update(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        channel = _text_param(params, "channel")
        if self._refused_channels.get(channel or "") == "channel_not_found":
            return _error("channel_not_found")  # of a refused channel's errors, the one chat.update documents
        message = self._find(channel, _text_param(params, "ts"))
        if message is None:
            return _error("message_not_found")
        if message.ephemeral:
            return _error("cant_update_message")
        blocks, refusal = _checked_blocks(params)
        if refusal is not None:
            return refusal
        text, warnings = _truncated_text(params)
        self._apply_edit(message, params, text, blocks)
        changed.append(message)
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": self._as_slack_message(message),
            **warnings,
        }

    def _chat_delete(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        message = self._find(_text_param(params, "channel"), _text_param(params, "ts"))
        if message is None:
            return _error("message_not_found")
        if message.ephemeral:
            return _error("cant_delete_message")
        message.deleted = True
        changed.append(message)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _usergroups_users_list(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        users = self._usergroups.get(_text_param(params, "usergroup") or "")
        if users is None:
            return _error("no_such_subteam")
        return {"ok": True, "users": list(users)}

    def _views_open(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        return self._views_open_or_push(params, "views.open")

    def _views_push(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        return self._views_open_or_push(params, "views.push")

    def _views_open_or_push(self, params: dict[str, Any], method: str) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return _error("invalid_arguments")
        if not _text_param(params, "trigger_id") and not _text_param(params, "interactivity_pointer"):
            return _error("invalid_trigger_id")
        refusal = _view_refusal(view, MODAL)
        if refusal is not None:
            return refusal
        return self._keep_view(method, params, view, f"V{next(self._view_sequence)}")

    def _views_update(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return _error("invalid_arguments")
        refusal = _view_refusal(view, MODAL)
        if refusal is not None:
            return refusal
        view_id = _text_param(params, "view_id") or f"V{next(self._view_sequence)}"
        return self._keep_view("views.update", params, view, view_id)

    def _views_publish(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return _error("invalid_arguments")
        if not _text_param(params, "user_id"):
            return _error("user_not_found")
        refusal = _view_refusal(view, HOME)
        if refusal is not None:
            return refusal
        user = str(params["user_id"])
        view_id = self._home_views.setdefault(user, f"V{next(self._view_sequence)}")
        return self._keep_view("views.publish", params, view, view_id, user=user)

    def _keep_view(
        self, method: str, params: dict[str, Any], view: dict[str, Any], view_id: str, *, user: str | None = None
    ) -> dict[str, Any]:
        """Hold the view as Slack answers it (an id, an empty state), and tell the view listeners."""
        held = {**copy.deepcopy(view), "id": view_id, "team_id": self.team_id, "state": {"values": {}}}
        shown = ShownView(method, view_id, held, _text_param(params, "trigger_id"), user)
        self._views[view_id] = shown
        self._shown_views.append(shown)
        return {"ok": True, "view": copy.deepcopy(held)}

    def _conversations_info(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        channel = _text_param(params, "channel")
        if not channel:
            return _error("channel_not_found")
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": True,
                "is_private": False,
                "is_archived": False,
                "is_member": True,
            },
        }

    def _conversations_history(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        return self._read_channel(params, history_page)

    def _conversations_replies(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        return self._read_channel(params, replies_page)

    def _read_channel(self, params: dict[str, Any], page: ChannelPage) -> dict[str, Any]:
        """A page of the channel's messages (history or a thread), when the bot may read it."""
        channel = _text_param(params, "channel")
        refusal = history_refusal(channel, self.scopes, self._refused_channels)
        if refusal is not None:
            return refusal
        in_channel = [m for m in self._messages if m.channel == channel]
        return page(in_channel, params, self._as_slack_message)

    def _users_info(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        user = _text_param(params, "user")
        if not user:
            return _error("user_not_found")
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": user.lower(),
                "real_name": user,
                "tz": "UTC",
                "tz_label": "Coordinated Universal Time",
                "tz_offset": 0,
                "is_bot": user == self.bot_user_id,
                "deleted": False,
                "profile": {"display_name": user.lower(), "real_name": user},
            },
        }

    def _files_get_upload_url(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        return self._uploads.upload_url(params, f"http://127.0.0.1:{self.port}")

    def _files_complete_upload(self, params: dict[str, Any], changed: list[PostedMessage]) -> dict[str, Any]:
        """Share the uploaded files: one message in each channel named, carrying the files and the comment."""
        for channel in [_text_param(params, "channel_id"), *str(params.get("channels") or "").split(",")]:
            if channel and channel in self._refused_channels:
                return _error(self._refused_channels[channel])
        answer, shared = self._uploads.complete(params)
        for channel in dict.fromkeys(c for f in shared for c in f.channels):
            message = PostedMessage(
                channel=channel,
                ts=self._next_ts(),
                text=_text_param(params, "initial_comment") or "",
                blocks=[],
                thread_ts=_text_param(params, "thread_ts") or None,
                ephemeral=False,
                user=None,
                via="files.completeUploadExternal",
                files=tuple(f.id for f in shared if channel in f.channels),
            )
            self._messages.append(message)
            changed.append(message)
        return answer

    # ------------------------------------------------------------------------------------ response_url

    def _post_to_response_url(self, response_id: str, params: dict[str, Any], changed: list[PostedMessage]) -> _Reply:
        state = self._response_urls.get(response_id)
        if state is None:
            return _Reply(404, {"ok": False, "error": "invalid_url"}, {})
        if state.posts >= self.response_url_max_posts:
            return _Reply(404, {"ok": False, "error": "used_url"}, {})
        blocks, refusal = _checked_blocks(params)
        if refusal is not None:
            return _Reply(400, refusal, {})
        state.posts += 1
        target = self._find(state.channel, state.target_ts)

        if _is_true(params.get("delete_original")):
            if target is not None:
                target.deleted = True
                changed.append(target)
                state.target_ts = None
            return _Reply(200, {"ok": True}, {})

        text, warnings = _truncated_text(params)
        if not text and not blocks:
            return _Reply(400, {"ok": False, "error": "no_text"}, {})

        if _is_true(params.get("replace_original")) and target is not None:
            # Unlike chat.update, a replacement is a whole new message: omitted blocks are gone.
            target.text, target.blocks = text, blocks
            target.updates += 1
            changed.append(target)
            return _Reply(200, {"ok": True, **warnings}, {})
        ephemeral = _text_param(params, "response_type") != "in_channel"
        message = PostedMessage(
            channel=state.channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=_text_param(params, "thread_ts") or None,
            ephemeral=ephemeral,
            user=state.user if ephemeral else None,
            via=RESPONSE_URL,
        )
        self._messages.append(message)
        changed.append(message)
        state.target_ts = message.ts
        return _Reply(200, {"ok": True, **warnings}, {})

    # ------------------------------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        """Slack's ts is the posting time (microseconds, unique): what conversations.history's `oldest` compares."""
        micros = max(time.time_ns() // 1000, self._last_ts_micros + _TS_STEP_MICROS)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _find(self, channel: str | None, ts: str | None) -> PostedMessage | None:
        if channel is None or ts is None:
            return None
        for message in self._messages:
            if message.channel == channel and message.ts == ts and not message.deleted:
                return message
        return None

    @staticmethod
    def _apply_edit(message: PostedMessage, params: dict[str, Any], text: str, blocks: list[dict[str, Any]]) -> None:
        """chat.update keeps the fields an edit leaves out, so only the ones sent are replaced."""
        if "text" in params:
            message.text = text
        if "blocks" in params:
            message.blocks = blocks
        message.updates += 1

    def _as_slack_message(self, message: PostedMessage) -> dict[str, Any]:
        slack_message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": _BOT_ID,
            "team": self.team_id,
            "text": message.text,
            "blocks": copy.deepcopy(message.blocks),
            "ts": message.ts,
        }
        if message.thread_ts:
            slack_message["thread_ts"] = message.thread_ts
        return slack_message

    def _describe_timeout(self, timeout: float, seen: list[PostedMessage]) -> str:
        lines = [f"no Slack message matched within {timeout:.1f}s; {len(seen)} message(s) seen:"]
        lines += [f"  {_describe_message(message)}" for message in seen] or ["  (none)"]
        recent_calls = self.calls[-10:]
        if recent_calls:
            lines.append("last calls: " + ", ".join(f"{call.method}->{call.status}" for call in recent_calls))
        return "\n".join(lines)


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], standin: SlackStandIn) -> None:
        super().__init__(address, _StandInRequestHandler)
        self.standin = standin


class _StandInRequestHandler(BaseHTTPRequestHandler):
    server: _StandInServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        try:
            reply = self.server.standin._handle_request(
                url.path,
                url.query,
                self.headers.get("Content-Type", ""),
                self.headers.get("Authorization"),
                raw_body,
            )
        except Exception as error:
            log.exception("slack_standin.request_failed", extra={"path": url.path})
            reply = _Reply(500, {"ok": False, "error": f"standin_error: {type(error).__name__}"}, {})
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        if "Content-Type" not in reply.headers:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines would clutter the demo console and could carry tokens."""


def _decode_params(content_type: str, raw_body: bytes, query: str) -> dict[str, Any]:
    """Merge query string and body (JSON or form), decoding JSON-string fields like `blocks` as Slack does."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";", 1)[0].strip().lower()
    if raw_body:
        if media_type == "application/json":
            try:
                body = json.loads(raw_body)
            except ValueError as error:
                raise _InvalidRequestError("invalid_json") from error
            if not isinstance(body, dict):
                raise _InvalidRequestError("invalid_json")
            params.update(body)
        else:
            try:
                params.update(parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError as error:
                raise _InvalidRequestError("invalid_form_data") from error
    for key in _JSON_ENCODED_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
            # Undecodable text stays a string; the method then answers invalid_blocks / invalid_arguments.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _text_param(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    return None if value is None else str(value)


def _blocks_param(params: dict[str, Any]) -> Any:
    """The `blocks` field as sent ([] when absent): a list, or whatever undecodable text came instead."""
    blocks = params.get("blocks")
    if blocks is None or blocks == "":
        return []
    return blocks


def _checked_blocks(params: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The blocks of a message, or Slack's `invalid_blocks` answer naming every broken limit."""
    blocks = _blocks_param(params)
    errors = block_kit_errors(blocks, surface=MESSAGE)
    if errors:
        return [], _refusal("invalid_blocks", errors)
    return blocks, None


def _view_refusal(view: dict[str, Any], surface: str) -> dict[str, Any] | None:
    """Slack answers a view that breaks a limit with `invalid_arguments` (views.* do not say invalid_blocks)."""
    errors = view_errors(view, surface=surface)
    return _refusal("invalid_arguments", errors) if errors else None


def _refusal(code: str, errors: list[str]) -> dict[str, Any]:
    """Slack's shape: `errors` plus the same lines in response_metadata.messages, each with its JSON pointer."""
    return {
        "ok": False,
        "error": code,
        "errors": errors,
        "response_metadata": {"messages": [f"[ERROR] {error}" for error in errors]},
    }


def _truncated_text(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Slack posts a `text` longer than 40,000 characters cut there, with the warning `message_truncated`."""
    text = _text_param(params, "text") or ""
    if len(text) <= MESSAGE_TEXT:
        return text, {}
    warning = (
        f"Your message was truncated but still posted. The `text` field accepts up to {MESSAGE_TEXT:,} characters."
    )
    return text[:MESSAGE_TEXT], {
        "warning": "message_truncated",
        "response_metadata": {"warnings": ["message_truncated"], "messages": [f"[WARN] {warning}"]},
    }


def _injected_reply(failure: _PendingFailure, is_api_call: bool) -> _Reply:
    """A failure a test asked for, answered the way Slack answers it."""
    if failure.error is None or failure.error == RATELIMITED:
        if failure.status != 429:
            return _Reply(failure.status, {"ok": False, "error": "internal_error"}, {}, injected=True)
        headers = {"Retry-After": str(failure.retry_after)}
        return _Reply(429, {"ok": False, "error": RATELIMITED}, headers, injected=True)
    body: dict[str, Any] = {"ok": False, "error": failure.error}
    if failure.error == "invalid_blocks":
        body = _refusal("invalid_blocks", ["refused because the test asked for it (fail_next) [json-pointer:/blocks]"])
    return _Reply(200 if is_api_call else 400, body, {}, injected=True)


def _failure_key(method: str, channel: str | None) -> str:
    """Where a failure asked for waits: under the method, or under the method and one channel."""
    return f"{method} {channel}" if channel else method


def _is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_STRINGS
    return bool(value)


def _error(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def _snapshot(message: PostedMessage) -> PostedMessage:
    return replace(message, blocks=copy.deepcopy(message.blocks))


def _describe_message(message: PostedMessage) -> str:
    text = message.text or " | ".join(_block_texts(message.blocks)) or "(no text)"
    if len(text) > 160:
        text = text[:157] + "..."
    flags = [message.via]
    if message.ephemeral:
        flags.append(f"ephemeral to {message.user}")
    if message.thread_ts:
        flags.append(f"in thread {message.thread_ts}")
    if message.updates:
        flags.append(f"updated x{message.updates}")
    return f"{message.channel} ts={message.ts} [{', '.join(flags)}] {text!r}"


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            texts.append(text["text"])
    return texts
