"""What the person at the terminal types, read and acted on: a slash command goes to the bot as it is; a console
command (`:click 3`, `:home`, `:set 1 orders-copy`, `:as bob` …, the colon optional) drives the console. The
console itself (bot/demo/console.py) shows what Slack would show and sends what Slack would send."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable

from bot.demo.console import Console

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


class Session:
    """The interactive loop over a console: one line at a time until `:quit`, Ctrl-D or Ctrl-C."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def run(self, read: Callable[[str], str] = input) -> None:
        """Read and act until the person stops; Ctrl-C while a request is on its way stops too."""
        try:
            import readline  # line editing and history for input()
        except ImportError:  # pragma: no cover - not on every platform
            readline = None  # type: ignore[assignment]
        self.console.use_terminal(read, readline)
        self._help("")
        try:
            while self._turn(read):
                time.sleep(0.05)  # let an immediate reply print before the next prompt
        except KeyboardInterrupt:
            self.console.out.write("\n")

    def _turn(self, read: Callable[[str], str]) -> bool:
        """Read one line and act on it; False to stop (`quit`, Ctrl-D, Ctrl-C at the prompt)."""
        prompt = self.console.prompt
        self.console.prompting(prompt)
        try:
            line = read(prompt)
        except (EOFError, KeyboardInterrupt):
            line = "quit"
            self.console.out.write("\n")
        finally:
            self.console.prompting(None)
        return self.handle_line(line)

    def handle_line(self, line: str) -> bool:
        """Act on one typed line; False when the person wants to stop."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            command, _, text = line.partition(" ")
            self.console.command(command, text.strip())
            return True
        verb, _, rest = line.partition(" ")
        verb, rest = verb.lower().lstrip(":"), rest.strip()
        if verb in {"quit", "exit", "q"}:
            return False
        action = self._verbs().get(verb)
        if action is None or not action(rest):
            self.console.say(f"I don't know `{line}`. Type a slash command such as /ddb-pitr orders, or `:help`.")
        return True

    def _verbs(self) -> dict[str, Callable[[str], bool]]:
        """Each console command: it takes the rest of the line and says whether the line was well formed."""
        console, views = self.console, self.console.views
        return {
            "help": self._help,
            "?": self._help,
            "press": self._press,
            "p": self._press,
            "click": self._press,
            "as": self._act_as,
            "in": self._move_to,
            "buttons": _bare(self._list_buttons),
            "home": _bare(console.home),
            "form": _bare(views.show_current),
            "fill": _bare(views.fill),
            "submit": _bare(console.submit),
            "cancel": _bare(views.cancel),
            "set": self._set_field,
        }

    def _help(self, rest: str) -> bool:
        self.console.say("\n".join([HELP, *self.console.tips]))
        return True

    def _press(self, rest: str) -> bool:
        if not rest.strip("[]").isdigit():
            return False
        number = int(rest.strip("[]"))
        self.console.press(number, confirmed=self._confirm(number))
        return True

    def _confirm(self, number: int) -> bool:
        """Ask before pressing a button that carries a confirmation dialog, as Slack would."""
        button = next((b for b in self.console.buttons() if b.number == number), None)
        if button is None or not button.confirm:
            return True
        answer = self.console.ask(f"{button.confirm} — confirm? [y/N] ")
        return answer is not None and answer.strip().lower() in {"y", "yes"}

    def _act_as(self, rest: str) -> bool:
        if not rest or " " in rest:
            return False
        console = self.console
        console.user = console.resolve_user(rest)
        console.say(console.dim(f"You are now {console.user_name(console.user)} ({console.user})."))
        return True

    def _move_to(self, rest: str) -> bool:
        if not rest or " " in rest:
            return False
        console = self.console
        console.channel = console.resolve_channel(rest)
        console.say(console.dim(f"You are now in {console.channel_name(console.channel)} ({console.channel})."))
        return True

    def _set_field(self, rest: str) -> bool:
        number, _, text = rest.partition(" ")
        if not number.strip("{}").isdigit():
            return False
        self.console.views.set_field(int(number.strip("{}")), _unquoted(text.strip()))
        return True

    def _list_buttons(self) -> None:
        buttons = self.console.buttons()
        if not buttons:
            self.console.say("No buttons on screen.")
        for button in buttons:
            place = self.console.dim(self.console.button_place(button))
            self.console.say(f"  [{button.number}] {button.label}  {place}")


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
