"""A terminal chat client for the demo: sends signed commands and clicks to the bot, prints what Slack would show.

Like errbot's text backend, but the bot is unchanged: requests reach its real HTTP endpoint, replies come back
through the Slack stand-in (Web API and response_url), and the ack of each request is shown too.
"""

from __future__ import annotations

import contextlib
import json
import queue
import shlex
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
HELP = """\
Type what you would type in Slack, or a console command (the colon is optional):
  /ddb-pitr orders              a slash command, sent signed from you in the current channel; also /ddb-export,
                                /ddb-status, /ddb-cost, /ddb-restore, /ddb-coverage, /ddb-schedule; `/<command> help`
  :click N   (or press N)       click button [N] of a message or of the Home tab
  :buttons                      list the buttons that can be clicked
  :home                         open the bot's App Home tab, as the current user
  :form                         show the open form (a modal such as Restore… or Schedule exports) again
  :set N TEXT                   fill field {N} of the form (a choice by its number or its text)
  :fill                         be asked each field of the form in turn
  :submit | :cancel             submit the form (errors show under their fields) | close it
  :as bob | :as U0BOB           act as another user (approvals need a second person)
  :in #backups | :in C0BACKUPS  move to another channel
  :help | :quit                 this text | stop the demo (Ctrl-D and Ctrl-C work too)"""


@dataclass(frozen=True)
class Shown:
    """One thing the console printed from the bot: a message, an update, a deletion or an ack."""

    index: int
    kind: str  # "message", "update", "delete", "ack", "http"
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
            + self.style.dim(f" {self._button_place(button)}")
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

    def handle_line(self, line: str) -> bool:
        """Act on one typed line; False when the user wants to quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            command, _, text = line.partition(" ")
            self.command(command, text.strip())
            return True
        verb, _, rest = line.partition(" ")
        verb, rest = verb.lower().lstrip(":"), rest.strip()
        if verb in {"quit", "exit", "q"}:
            return False
        action = self._verbs().get(verb)
        if action is None or not action(rest):
            self.say(f"I don't know `{line}`. Type a slash command such as /ddb-pitr orders, or `:help`.")
        return True

    def _verbs(self) -> dict[str, Callable[[str], bool]]:
        """Each console command: it takes the rest of the line and says whether the line was well formed."""
        return {
            "help": self._help,
            "?": self._help,
            "press": self._press_typed,
            "p": self._press_typed,
            "click": self._press_typed,
            "as": self._act_as,
            "in": self._move_to,
            "buttons": _bare(self._list_buttons),
            "home": _bare(self.home),
            "form": _bare(self.views.show_current),
            "fill": _bare(self.views.fill),
            "submit": _bare(self.submit),
            "cancel": _bare(self.views.cancel),
            "set": self._set_field,
        }

    def _help(self, rest: str) -> bool:
        self.say("\n".join([HELP, *self.tips]))
        return True

    def _press_typed(self, rest: str) -> bool:
        if not rest.strip("[]").isdigit():
            return False
        number = int(rest.strip("[]"))
        self.press(number, confirmed=self._confirm(number))
        return True

    def _act_as(self, rest: str) -> bool:
        if not rest or " " in rest:
            return False
        self.user = self.resolve_user(rest)
        self.say(self.style.dim(f"You are now {self.user_name(self.user)} ({self.user})."))
        return True

    def _move_to(self, rest: str) -> bool:
        if not rest or " " in rest:
            return False
        self.channel = self.resolve_channel(rest)
        self.say(self.style.dim(f"You are now in {self.channel_name(self.channel)} ({self.channel})."))
        return True

    def _set_field(self, rest: str) -> bool:
        number, _, text = rest.partition(" ")
        if not number.strip("{}").isdigit():
            return False
        self.views.set_field(int(number.strip("{}")), _unquoted(text.strip()))
        return True

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

    def _confirm(self, number: int) -> bool:
        """Ask before pressing a button that carries a confirmation dialog, as Slack would."""
        with self._lock:
            button = self._buttons.get(number)
        if button is None or not button.confirm or self._ask is None:
            return True
        try:
            answer = self._ask(f"{button.confirm} — confirm? [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in {"y", "yes"}

    def buttons(self) -> list[Button]:
        """The buttons on screen now, oldest first (replaced messages' buttons are gone)."""
        with self._lock:
            return sorted(self._buttons.values(), key=lambda button: button.number)

    def _list_buttons(self) -> None:
        buttons = self.buttons()
        if not buttons:
            self.say("No buttons on screen.")
        for button in buttons:
            self.say(f"  [{button.number}] {button.label}  {self.style.dim(self._button_place(button))}")

    def _button_place(self, button: Button) -> str:
        if button.view_id:
            return f"on {self.user_name(button.owner)}'s Home tab"
        return f"in {self.channel_name(button.channel)}"

    def run(self, read: Callable[[str], str] = input) -> None:
        """The interactive loop: read lines until `quit`, Ctrl-D or Ctrl-C."""
        try:
            import readline  # line editing and history for input()

            self._readline = readline
        except ImportError:  # pragma: no cover - not on every platform
            self._readline = None
        self._ask = read
        self._help("")
        try:
            while self._turn(read):
                time.sleep(0.05)  # let an immediate reply print before the next prompt
        except KeyboardInterrupt:  # Ctrl-C while a request was on its way: stop, as at the prompt
            self.out.write("\n")

    def _turn(self, read: Callable[[str], str]) -> bool:
        """Read one line and act on it; False to stop (`quit`, Ctrl-D, Ctrl-C at the prompt)."""
        prompt = self.prompt
        with self._lock:
            self._prompt = prompt
        try:
            line = read(prompt)
        except (EOFError, KeyboardInterrupt):
            line = "quit"
            self.out.write("\n")
        finally:
            with self._lock:
                self._prompt = None
        return self.handle_line(line)

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


def _bare(action: Callable[[], object]) -> Callable[[str], bool]:
    """A console command that takes nothing after its name."""

    def run(rest: str) -> bool:
        if rest:
            return False
        action()
        return True

    return run


def _unquoted(text: str) -> str:
    """`"0 3 * * *"` as typed with quotes, without them; anything else as it is."""
    try:
        words = shlex.split(text)
    except ValueError:
        return text
    return words[0] if len(words) == 1 else text


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())
