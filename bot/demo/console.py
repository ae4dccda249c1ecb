"""A terminal chat client for the demo: sends signed commands and clicks to the bot, prints what Slack would show.

Like errbot's text backend, but the bot is unchanged: requests reach its real HTTP endpoint, replies come back
through the Slack stand-in (Web API and response_url), and the ack of each request is shown too.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bot.demo.console_views import ViewDesk
from bot.demo.render import Button, Rendered, render_message, render_payload
from bot.demo.slack_requests import REQUEST_TIMEOUT_SECONDS, SignedSlackClient, SlackHttpResponse
from bot.demo.slack_standin import PostedMessage, ShownView, SlackStandIn

CHANNELS = {"C0OPS": "#ops", "C0BACKUPS": "#backups", "C0APPROVALS": "#approvals"}
USERS = {"U0ALICE": "alice", "U0BOB": "bob"}
BOT_NAME = "ddb-backup-bot"
MAX_ERROR_BODY = 300
ACK_WAIT_SECONDS = REQUEST_TIMEOUT_SECONDS + 1

DETACH_SECONDS = 0.3


@dataclass(frozen=True)
class Shown:
    """One thing the console printed from the bot: a message, an update, a deletion or an ack."""

    index: int
    kind: str  # "message", "update", "delete", "ack", "http"; "modal", "form_errors", "modal_closed", "home"
    channel: str
    ts: str
    text: str  # as rendered for the terminal
    raw_text: str  # the notification text the bot sent
    thread_ts: str | None = None  # the parent message when this is a thread reply
    ephemeral: bool = False  # only `user` sees it (ephemeral messages and acks)
    user: str | None = None  # who an ephemeral message or ack is for


class Style:
    """ANSI styling, off when the output is not a terminal (CI logs stay plain)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def dim(self, text: str) -> str:
        """Secondary information: who sees a message, timestamps."""
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        """Headings and the user's own input."""
        return self._wrap("1", text)

    def accent(self, text: str) -> str:
        """Channel names."""
        return self._wrap("36", text)

    def alert(self, text: str) -> str:
        """Problems with a request (not the bot's refusals, which are ordinary messages)."""
        return self._wrap("31", text)


class Console:
    """The demo's Slack client: one current user and channel, every bot message printed as it arrives."""

    def __init__(
        self,
        standin: SlackStandIn,
        client: SignedSlackClient,
        *,
        out: TextIO,
        user: str = "U0ALICE",
        channel: str = "C0OPS",
        color: bool = False,
        emoji: bool = True,
        tips: Sequence[str] = (),
    ) -> None:
        """`tips`: lines shown after the help (commands worth trying in this world)."""
        self.standin = standin
        self.client = client
        self.out = out
        self.user = user
        self.channel = channel
        self.style = Style(color)
        self.emoji = emoji
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._shown: list[Shown] = []
        self._next_button = 1
        self._buttons: dict[int, Button] = {}
        self._message_buttons: dict[tuple[str, str], list[int]] = {}
        self._prompt: str | None = None
        self._readline: Any = None
        self._ask: Callable[[str], str] | None = None
        self._ack_shown = threading.Event()
        self._ack_shown.set()
        self._incoming: queue.Queue[PostedMessage | ShownView | None] = queue.Queue()
        self._printer: threading.Thread | None = None
        self.tips = list(tips)
        self.views = ViewDesk(self, client)

    # ------------------------------------------------------------------------------------------ lifecycle

    def attach(self) -> Console:
        """Start printing every message the stand-in receives."""
        self._printer = threading.Thread(target=self._print_incoming, name="console-printer", daemon=True)
        self._printer.start()
        self.standin.listeners.append(self.on_message)
        self.standin.view_listeners.append(self.on_view)
        return self

    def detach(self, timeout: float = DETACH_SECONDS) -> None:
        """Stop listening, print what already arrived (for up to `timeout` seconds), and stop the printer."""
        with contextlib.suppress(ValueError):
            self.standin.listeners.remove(self.on_message)
        with contextlib.suppress(ValueError):
            self.standin.view_listeners.remove(self.on_view)
        if self._printer is not None:
            self._incoming.put(None)
            self._ack_shown.set()
            self._printer.join(timeout)
            self._printer = None

    def on_message(self, message: PostedMessage) -> None:
        """Stand-in listener: queue the message, so the stand-in (and the bot's Web API call) never waits on us."""
        self._incoming.put(message)

    def on_view(self, view: ShownView) -> None:
        """Stand-in listener for views (modals, Home tabs): queued with the messages, in the order they came."""
        self._incoming.put(view)

    def _print_incoming(self) -> None:
        while (item := self._incoming.get()) is not None:
            # A reply can overtake the HTTP answer of its own request; Slack shows the ack first, so do we.
            self._ack_shown.wait(ACK_WAIT_SECONDS)
            if isinstance(item, ShownView):
                with self._lock:
                    self.views.show(item)
            else:
                self.show_message(item)

    # --------------------------------------------------------------------------------------------- output

    def show_message(self, message: PostedMessage) -> None:
        """Print a new, updated or deleted message with where it is and who sees it."""
        with self._lock:
            key = (message.channel, message.ts)
            for number in self._message_buttons.pop(key, []):
                self._buttons.pop(number, None)
            if message.deleted:
                self._record_message("delete", message, "")
                self._emit(f"{self._where(message.channel)} {self.style.dim(f'message {message.ts} deleted')}")
                return
            rendered = render_message(
                message.text,
                message.blocks,
                message_ts=message.ts,
                channel=message.channel,
                first_button=self._next_button,
                emoji=self.emoji,
            )
            self._keep_buttons(key, rendered)
            kind = "update" if message.updates else "message"
            self._record_message(kind, message, rendered.text)
            self._emit(self._header(message) + "\n" + _indent(rendered.text))

    def _header(self, message: PostedMessage) -> str:
        if message.ephemeral:
            audience = f"only {self.user_name(message.user or '?')} sees it"
        elif message.thread_ts:
            audience = f"thread reply to {message.thread_ts}"
        elif message.channel in USERS:
            audience = "direct message"
        else:
            audience = "in channel"
        flags = [audience] + (["updated"] if message.updates else [])
        return (
            f"{self._where(message.channel)} {self.style.bold(BOT_NAME)} {self.style.dim('(' + ', '.join(flags) + ')')}"
        )

    def _where(self, channel: str) -> str:
        name = f"DM to {USERS[channel]}" if channel in USERS else self.channel_name(channel)
        return self.style.accent(f"[{name}]")

    def _keep_buttons(self, key: tuple[str, str], rendered: Rendered) -> None:
        for button in rendered.buttons:
            self._buttons[button.number] = button
        if rendered.buttons:
            self._message_buttons[key] = [button.number for button in rendered.buttons]
            self._next_button = rendered.buttons[-1].number + 1

    def _record_message(self, kind: str, message: PostedMessage, text: str) -> None:
        self._record(
            kind,
            message.channel,
            message.ts,
            text,
            message.text,
            thread_ts=message.thread_ts,
            ephemeral=message.ephemeral,
            user=message.user,
        )

    def _record(
        self,
        kind: str,
        channel: str,
        ts: str,
        text: str,
        raw_text: str,
        *,
        thread_ts: str | None = None,
        ephemeral: bool = False,
        user: str | None = None,
    ) -> None:
        with self._changed:
            self._shown.append(Shown(len(self._shown), kind, channel, ts, text, raw_text, thread_ts, ephemeral, user))
            self._changed.notify_all()

    def _emit(self, text: str) -> None:
        """Print, keeping an interactive prompt (and what was typed so far) below the new output."""
        with self._lock:
            if self._prompt is not None:
                typed = self._readline.get_line_buffer() if self._readline is not None else ""
                self.out.write(f"\r\x1b[2K{text}\n{self._prompt}{typed}")
            else:
                self.out.write(text + "\n")
            self.out.flush()

    def say(self, text: str) -> None:
        """A line from the console itself (not from the bot)."""
        self._emit(text)

    def dim(self, text: str) -> str:
        """Secondary text, styled."""
        return self.style.dim(text)

    def alert(self, text: str) -> str:
        """A problem with what the person asked, styled."""
        return self.style.alert(text)

    def show(self, kind: str, text: str, *, user: str, header: str) -> None:
        """Print and record something only `user` sees that is not a message (a form, a Home tab, a form closed)."""
        with self._lock:
            self._record(kind, "", "", text, text, ephemeral=True, user=user)
            if kind == "modal_closed":
                self._emit(self.style.dim(text))
            else:
                self._emit((self.style.bold(header) + "\n" if header else "") + _indent(text))

    def render_buttons(self, key: tuple[str, str], render: Callable[[int], Rendered]) -> Rendered:
        """Render with buttons numbered from the next free number, replacing the buttons `key` had."""
        with self._lock:
            for number in self._message_buttons.pop(key, []):
                self._buttons.pop(number, None)
            rendered = render(self._next_button)
            self._keep_buttons(key, rendered)
            return rendered

    def ask(self, prompt: str) -> str | None:
        """A question to the person at the terminal; None when there is no one to ask (the tour) or on Ctrl-D."""
        if self._ask is None:
            return None
        try:
            return self._ask(prompt)
        except EOFError:
            return None

    # ------------------------------------------------------------------------------------------- requests

    def command(self, command: str, text: str = "") -> SlackHttpResponse:
        """Send a signed slash command as the current user in the current channel, and show its ack."""
        self._emit(
            self.style.bold(f"{self.user_name(self.user)} in {self.channel_name(self.channel)}: ")
            + (f"{command} {text}".strip())
        )
        self._ack_shown.clear()
        try:
            response = self.client.command(
                command,
                text,
                user_id=self.user,
                user_name=self.user_name(self.user),
                channel_id=self.channel,
                channel_name=self.channel_name(self.channel).lstrip("#"),
                response_url=self.standin.response_url(self.channel, user=self.user),
            )
            self.show_response(response, f"{command} has no listener in the bot")
        finally:
            self._ack_shown.set()
        return response

    def press(self, number: int, *, confirmed: bool = True) -> SlackHttpResponse | None:
        """Click button [number] as the current user; None when no such button is on screen."""
        with self._lock:
            button = self._buttons.get(number)
        if button is None:
            self.say(self.style.alert(f"No button [{number}] on screen (it may have been replaced); see `buttons`."))
            return None
        if button.confirm and not confirmed:
            self.say(self.style.dim(f"Not pressed: {button.confirm}"))
            return None
        self._emit(
            self.style.bold(f"{self.user_name(self.user)} pressed [{number}] {button.label}")
            + self.style.dim(f" {self.button_place(button)}")
        )
        if button.url:
            self.say(self.style.dim(f"(Slack would also open {button.url})"))
        self._ack_shown.clear()
        try:
            if button.view_id:
                return self.views.click(button)
            message, ephemeral = self._current_message(button)
            return self._click(button, message, ephemeral)
        finally:
            self._ack_shown.set()

    def _click(self, button: Button, message: dict[str, Any] | None, ephemeral: bool) -> SlackHttpResponse:
        response = self.client.click(
            button.action_id,
            button.value,
            message_ts=button.message_ts,
            channel_id=button.channel or self.channel,
            user_id=self.user,
            user_name=self.user_name(self.user),
            response_url=self.standin.response_url(
                button.channel or self.channel, user=self.user, original_ts=button.message_ts or None
            ),
            block_id=button.block_id,
            message=message,
            channel_name=self.channel_name(button.channel).lstrip("#"),
            is_ephemeral=ephemeral,
        )
        self.show_response(response, f"the bot has no listener for action {button.action_id!r}")
        return response

    def _current_message(self, button: Button) -> tuple[dict[str, Any] | None, bool]:
        """The clicked message as Slack puts it in the payload, and whether it is ephemeral."""
        for message in self.standin.messages(button.channel):
            if message.ts == button.message_ts:
                payload = {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks}
                return payload, message.ephemeral
        return None, False

    def show_response(self, response: SlackHttpResponse, not_found: str) -> None:
        """The HTTP answer: an ack body is a reply only the sender sees; errors are shown as such."""
        if response.status != 200:
            body = response.body.strip()[:MAX_ERROR_BODY]
            said = f"{not_found}." if response.status == 404 else (body or "(no body)")
            with self._lock:
                self._record("http", self.channel, "", f"HTTP {response.status}: {said}", body)
                self.say(self.style.alert(f"HTTP {response.status} from the bot: {said}"))
            return
        body = response.body.strip()
        if not body:
            return
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {"text": body}
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return
        with self._lock:
            rendered = render_payload(payload, channel=self.channel, first_button=self._next_button, emoji=self.emoji)
            self._keep_buttons((self.channel, ""), rendered)
            raw = str(payload.get("text") or "")
            self._record("ack", self.channel, "", rendered.text, raw, ephemeral=True, user=self.user)
            header = f"{self._where(self.channel)} {self.style.bold(BOT_NAME)} " + self.style.dim(
                f"(immediate answer, only {self.user_name(self.user)} sees it)"
            )
            self._emit(header + "\n" + _indent(rendered.text))

    # ---------------------------------------------------------------------------------------- the session

    def _requested(self, send: Callable[[], object]) -> None:
        """Send a request whose replies (a view, messages) must print after its own answer, as Slack shows them."""
        self._ack_shown.clear()
        try:
            send()
        finally:
            self._ack_shown.set()

    def home(self) -> None:
        """Open the App Home tab as the current user (the tour's `:home`)."""
        self._requested(self.views.open_home)

    def submit(self) -> SlackHttpResponse | None:
        """Submit the open form as the current user (the tour's `:submit`)."""
        answer: list[SlackHttpResponse | None] = []
        self._requested(lambda: answer.append(self.views.submit()))
        return answer[0] if answer else None

    def buttons(self) -> list[Button]:
        """The buttons on screen now, oldest first (replaced messages' buttons are gone)."""
        with self._lock:
            return sorted(self._buttons.values(), key=lambda button: button.number)

    def button_place(self, button: Button) -> str:
        """Where a button is: `in #ops`, or `on bob's Home tab`."""
        if button.view_id:
            return f"on {self.user_name(button.owner)}'s Home tab"
        return f"in {self.channel_name(button.channel)}"

    def use_terminal(self, read: Callable[[str], str], readline: Any) -> None:
        """A person at a terminal: `read` asks them (confirmations, form fields); `readline` keeps what they are
        typing below new output."""
        self._ask, self._readline = read, readline

    def prompting(self, prompt: str | None) -> None:
        """The prompt being shown (None: none), so output from the bot is printed above it."""
        with self._lock:
            self._prompt = prompt

    @property
    def prompt(self) -> str:
        """`alice@#ops> `."""
        return f"{self.user_name(self.user)}@{self.channel_name(self.channel)}> "

    # ------------------------------------------------------------------------------------- for the tour

    @property
    def mark(self) -> int:
        """How many things have been shown so far; pass it to `wait_for` to look only at later ones."""
        with self._lock:
            return len(self._shown)

    def shown(self, since: int = 0) -> list[Shown]:
        """What was shown from index `since` on."""
        with self._lock:
            return self._shown[since:]

    def wait_for(self, predicate: Callable[[Shown], bool], *, since: int, timeout: float) -> Shown | None:
        """The first thing shown from `since` on that satisfies `predicate`, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self._shown[since:]:
                    if predicate(item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def settle(self, quiet: float = 0.3, limit: float = 3.0) -> None:
        """Wait until nothing new has been shown for `quiet` seconds (at most `limit`), so output stays in order."""
        deadline = time.monotonic() + limit
        with self._changed:
            seen = len(self._shown)
            while time.monotonic() < deadline:
                self._changed.wait(min(quiet, max(0.0, deadline - time.monotonic())))
                if len(self._shown) == seen:
                    return
                seen = len(self._shown)

    # ---------------------------------------------------------------------------------------------- names

    def user_name(self, user: str) -> str:
        """alice for U0ALICE; unknown ids as themselves."""
        return USERS.get(user, user)

    def channel_name(self, channel: str) -> str:
        """#ops for C0OPS; unknown ids as themselves."""
        return CHANNELS.get(channel, channel)

    def resolve_user(self, text: str) -> str:
        """`bob`, `@bob` or `U0BOB` → U0BOB; other ids are taken as they are."""
        wanted = text.lstrip("@")
        for user_id, name in USERS.items():
            if wanted.lower() in {name, user_id.lower()}:
                return user_id
        return wanted.upper() if wanted[:1].upper() in {"U", "W"} else wanted

    def resolve_channel(self, text: str) -> str:
        """`#ops`, `ops` or `C0OPS` → C0OPS; other ids are taken as they are."""
        wanted = text.lstrip("#").lower()
        for channel_id, name in CHANNELS.items():
            if wanted in {name.lstrip("#"), channel_id.lower()}:
                return channel_id
        return text.upper() if text[:1].upper() in {"C", "G", "D"} else text


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())
