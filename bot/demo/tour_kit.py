"""The tour's machinery: steps (a command, a click, something done in a form or the Home tab, as some user in some
channel), what must be shown after each (found by a predicate on what the console printed), and what the tour learns
on the way for later steps. The steps themselves are in bot/demo/tour.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from bot.demo.console import CHANNELS, USERS, Console, Shown
from bot.demo.render import Button
from bot.demo.seeded_world import DemoAws
from bot.exports.status import looks_like_export
from bot.store import Store

OPS = "C0OPS"
STEP_TIMEOUT = 10.0
SHOWN_LINES = 6  # lines of each message quoted when a check fails


class TourFailed(Exception):
    """An expected reply did not appear in time; the message says which step and what was missing."""


@dataclass(frozen=True)
class Expect:
    """Something the bot must show after a step, found by a predicate on what the console printed."""

    description: str
    matches: Callable[[Shown], bool]
    timeout: float = STEP_TIMEOUT
    where: Callable[[TourState, Shown], bool] | None = None  # a further condition on what earlier steps learned

    def predicate(self, state: TourState) -> Callable[[Shown], bool]:
        """`matches`, and `where` with the tour's state when there is one."""
        where = self.where
        if where is None:
            return self.matches
        return lambda item: self.matches(item) and where(state, item)


@dataclass
class TourState:
    """What the tour learns on the way (e.g. the export's id) for later steps."""

    console: Console
    store: Store | None
    values: dict[str, str] = field(default_factory=dict)
    aws_endpoint: str | None = None  # the demo's AWS; None: boto3's own chain (AWS_ENDPOINT_URL in the demo)
    world: DemoAws | None = None  # the demo's seeded world, to check exports against its history

    def seeded(self) -> DemoAws:
        """The demo's world; a clear failure when the tour runs without it."""
        if self.world is None:
            raise TourFailed("this step checks the demo's seeded world, and the tour was started without it")
        return self.world

    def value(self, key: str) -> str:
        """Something an earlier step remembered; a clear failure when that step did not run or learn it."""
        found = self.values.get(key)
        if found is None:
            raise TourFailed(f"an earlier step should have remembered the {key.replace('_', ' ')}, but none was seen")
        return found

    def dynamodb(self) -> Any:
        """A boto3 DynamoDB client against the demo's AWS, to check what the bot did there."""
        return boto3.Session().client("dynamodb", endpoint_url=self.aws_endpoint)

    def export_reference(self) -> str:
        """The export id when it has AWS's form, else its ARN (moto's ids are not shaped like AWS's)."""
        export_id = self.values.get("export_id")
        if export_id is None:
            raise TourFailed("no export id was seen in the started message")
        if looks_like_export(export_id) or self.store is None:
            return export_id
        job = self.store.find_export(export_id)
        if job is None:
            raise TourFailed(f"export {export_id} is not in the bot's database")
        return job.export_arn


@dataclass(frozen=True)
class Step:
    """One thing the tour does (a command, a click) as some user in some channel, and what must follow it."""

    title: str
    action: Callable[[TourState], None]
    expect: Sequence[Expect] = ()
    user: str | None = None
    channel: str | None = None
    after: Callable[[TourState, list[Shown]], None] | None = None

    def run(self, state: TourState) -> list[Shown]:
        """Act and wait for every expectation; returns what matched them, in order."""
        console = state.console
        if self.user is not None:
            console.user = self.user
        if self.channel is not None:
            console.channel = self.channel
        since = console.mark
        self.action(state)
        found: list[Shown] = []
        for expectation in self.expect:
            item = console.wait_for(expectation.predicate(state), since=since, timeout=expectation.timeout)
            if item is None:
                raise TourFailed(_missing(self.title, expectation, console.shown(since)))
            found.append(item)
        console.settle()
        for expectation in self.expect:
            console.say(console.style.dim(f"  ✓ {expectation.description}"))
        if self.after is not None:
            self.after(state, found)
        return found


def command(
    title: str,
    name: str,
    text: str | Callable[[TourState], str] = "",
    expect: Sequence[Expect] = (),
    *,
    user: str | None = None,
    channel: str | None = None,
    after: Callable[[TourState, list[Shown]], None] | None = None,
) -> Step:
    """A step that sends slash command `name` (`text` may be computed from what earlier steps learned)."""

    def send(state: TourState) -> None:
        state.console.command(name, text(state) if callable(text) else text)

    return Step(title, send, expect, user, channel, after)


def click(
    title: str,
    action_id: str,
    expect: Sequence[Expect] = (),
    *,
    user: str | None = None,
    channel: str | None = None,
    after: Callable[[TourState, list[Shown]], None] | None = None,
    where: Callable[[TourState, Button], bool] | None = None,
) -> Step:
    """A step that presses the newest button on screen with `action_id` (e.g. `approve`, as another user; a row's
    `coverage_schedule:2` counts as `coverage_schedule`); with
    `where`, the newest that also fits it (e.g. carries the export remembered earlier)."""

    def press(state: TourState) -> None:
        matching = [
            b
            for b in state.console.buttons()
            if b.action_id.split(":")[0] == action_id and (where is None or where(state, b))
        ]
        if not matching:
            raise TourFailed(
                f"tour step {title!r}: no button with action_id {action_id!r}"
                + (" that fits the step" if where is not None else "")
                + " is on screen"
            )
        button = matching[-1]
        if button.confirm:
            who = state.console.user_name(state.console.user)
            state.console.say(state.console.style.dim(f'(Slack asks first "{button.confirm}"; {who} confirms)'))
        state.console.press(button.number)

    return Step(title, press, expect, user, channel, after)


def fill_form(
    title: str,
    fields: dict[int, str],
    expect: Sequence[Expect] = (),
    *,
    user: str | None = None,
    after: Callable[[TourState, list[Shown]], None] | None = None,
) -> Step:
    """A step that fills fields of the open form (`{number: typed text}`, as `:set N text` does) and submits it."""

    def submit(state: TourState) -> None:
        for number, text in fields.items():
            state.console.views.set_field(number, text)
        state.console.submit()

    return Step(title, submit, expect, user, None, after)


def open_home(
    title: str,
    expect: Sequence[Expect] = (),
    *,
    user: str | None = None,
    after: Callable[[TourState, list[Shown]], None] | None = None,
) -> Step:
    """A step that opens the App Home tab as `user` (`:home`)."""
    return Step(title, lambda state: state.console.home(), expect, user, None, after)


# ----------------------------------------------------------------------------------------- expectations


def shown(description: str, kind: str, pattern: str, *, only_to: str | None = None) -> Expect:
    """A form (`modal`, `form_errors`, `modal_closed`) or a Home tab (`home`) shown, whose text matches `pattern`."""
    compiled = re.compile(pattern)

    def matches(item: Shown) -> bool:
        return item.kind == kind and (only_to is None or item.user == only_to) and bool(compiled.search(item.text))

    return Expect(description, matches)


def reply(
    description: str,
    pattern: str,
    *,
    channel: str = OPS,
    timeout: float = STEP_TIMEOUT,
    only_to: str | None = None,
    where: Callable[[TourState, Shown], bool] | None = None,
) -> Expect:
    """A message (new or updated) in `channel` whose rendered text matches `pattern`; with `only_to`, an
    ephemeral one only that user sees; with `where`, one that also fits what earlier steps learned.
    """
    compiled = re.compile(pattern)

    def matches(item: Shown) -> bool:
        return (
            item.kind in {"message", "update"}
            and item.channel == channel
            and (only_to is None or (item.ephemeral and item.user == only_to))
            and bool(compiled.search(item.text))
        )

    return Expect(description, matches, timeout, where)


def same_message(key: str) -> Callable[[TourState, Shown], bool]:
    """The message remembered as `key` (an update of it)."""
    return lambda state, item: item.ts == state.value(key)


def in_thread(key: str) -> Callable[[TourState, Shown], bool]:
    """A reply in the thread of the message remembered as `key`."""
    return lambda state, item: item.thread_ts == state.value(key)


def mentions(key: str) -> Callable[[TourState, Shown], bool]:
    """A message naming what was remembered as `key` (an id)."""
    return lambda state, item: state.value(key) in item.text


def ack(description: str, pattern: str) -> Expect:
    """The HTTP answer to the request itself (help and bad input come back this way)."""
    compiled = re.compile(pattern)
    return Expect(description, lambda item: item.kind == "ack" and bool(compiled.search(item.text)))


def indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _missing(title: str, expectation: Expect, seen: list[Shown]) -> str:
    lines = [f"tour step {title!r}: expected {expectation.description} within {expectation.timeout:.0f}s."]
    if seen:
        lines.append("Shown since the step began:")
        for item in seen:
            text = item.text.splitlines() or [""]
            lines.append(f"  {_describe(item)}: {text[0]}")
            lines += [f"      {line}" for line in text[1:SHOWN_LINES]]
            if len(text) > SHOWN_LINES:
                lines.append(f"      … ({len(text) - SHOWN_LINES} more lines)")
    else:
        lines.append("Nothing was shown since the step began.")
    return "\n".join(lines)


def _describe(item: Shown) -> str:
    where = f"{item.kind} in {CHANNELS.get(item.channel, item.channel)}"
    if item.thread_ts:
        where += f" (thread reply to {item.thread_ts})"
    if item.ephemeral:
        where += f" (only {USERS.get(item.user or '', item.user or '?')} sees it)"
    return where


def run_steps(console: Console, steps: Sequence[Step], state: TourState) -> None:
    """Run every step, printing as the console would; raises TourFailed at the first missing reply."""
    started = time.monotonic()
    for number, step in enumerate(steps, start=1):
        console.say("")
        console.say(console.style.bold(f"── Step {number}/{len(steps)}: {step.title} ──"))
        step.run(state)
    elapsed = time.monotonic() - started
    console.say("")
    console.say(f"Tour finished: {len(steps)} steps, every check passed in {elapsed:.1f}s.")
