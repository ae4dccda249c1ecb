"""The scripted tour `make demo` runs without a terminal (CI): real commands, printed replies, checked outcomes.

The tour is a list of steps so later features (restores with approval clicks, schedules) can append theirs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.demo.console import Console, Shown
from bot.export_status import looks_like_export
from bot.store import Store

OPS = "C0OPS"
BACKUPS = "C0BACKUPS"
STEP_TIMEOUT = 10.0
EXPORT_TIMEOUT = 20.0
_STARTED = re.compile(r"^Export (?P<id>\S+) of (?P<table>\S+) started")


class TourFailed(Exception):
    """An expected reply did not appear in time; the message says which step and what was missing."""


@dataclass(frozen=True)
class Expect:
    """Something the bot must show after a step, found by a predicate on what the console printed."""

    description: str
    matches: Callable[[Shown], bool]
    timeout: float = STEP_TIMEOUT


@dataclass
class TourState:
    """What the tour learns on the way (e.g. the export's id) for later steps."""

    console: Console
    store: Store | None
    values: dict[str, str] = field(default_factory=dict)

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
            item = console.wait_for(expectation.matches, since=since, timeout=expectation.timeout)
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
) -> Step:
    """A step that presses the newest button on screen with `action_id` (e.g. `approve`, as another user)."""

    def press(state: TourState) -> None:
        matching = [button for button in state.console.buttons() if button.action_id == action_id]
        if not matching:
            raise TourFailed(f"tour step {title!r}: no button with action_id {action_id!r} is on screen")
        state.console.press(matching[-1].number)

    return Step(title, press, expect, user, channel, after)


# ----------------------------------------------------------------------------------------- expectations


def reply(description: str, pattern: str, *, channel: str = OPS, timeout: float = STEP_TIMEOUT) -> Expect:
    """A message (new or updated) in `channel` whose rendered text matches `pattern`."""
    compiled = re.compile(pattern)

    def matches(item: Shown) -> bool:
        return item.kind in {"message", "update"} and item.channel == channel and bool(compiled.search(item.text))

    return Expect(description, matches, timeout)


def ack(description: str, pattern: str) -> Expect:
    """The HTTP answer to the request itself (help and bad input come back this way)."""
    compiled = re.compile(pattern)
    return Expect(description, lambda item: item.kind == "ack" and bool(compiled.search(item.text)))


def _remember_export(state: TourState, found: list[Shown]) -> None:
    match = _STARTED.match(found[0].raw_text)
    if match is None:
        raise TourFailed(f"could not read the export id from {found[0].raw_text!r}")
    state.values["export_id"] = match.group("id")


def _missing(title: str, expectation: Expect, seen: list[Shown]) -> str:
    lines = [f"tour step {title!r}: expected {expectation.description} within {expectation.timeout:.0f}s."]
    if seen:
        lines.append("Shown since the step began:")
        lines += [f"  {item.kind} in {item.channel}: {item.text.splitlines()[0] if item.text else ''}" for item in seen]
    else:
        lines.append("Nothing was shown since the step began.")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ steps

STEPS: list[Step] = [
    command(
        "PITR status of a protected table",
        "/ddb-pitr",
        "orders",
        [reply("PITR reported on for orders, with its monthly cost", r"PITR is on for `orders`[\s\S]*per month")],
    ),
    command(
        "PITR status of an unprotected table",
        "/ddb-pitr",
        "customers",
        [reply("PITR reported off for customers", r"PITR is off for `customers`")],
    ),
    command(
        "Export a table without PITR (refused)",
        "/ddb-export",
        "customers",
        [reply("the export refused because PITR is off", r"Point-in-time recovery is off for `customers`")],
    ),
    command(
        "Export a table and follow it to the end",
        "/ddb-export",
        "orders",
        [
            reply("the export started in #ops", r"Export `[^`]+` of `orders` started"),
            reply(
                "the COMPLETED result posted in #backups",
                r"Export `[^`]+` of `orders` COMPLETED",
                channel=BACKUPS,
                timeout=EXPORT_TIMEOUT,
            ),
        ],
        after=_remember_export,
    ),
    command(
        "Recent exports of all tables",
        "/ddb-status",
        "",
        [reply("the export listed as COMPLETED", r"Recent exports \(all tables\)[\s\S]*COMPLETED")],
    ),
    command("Exports of one table", "/ddb-status", "orders", [reply("the table's exports", r"Exports of orders")]),
    command(
        "One export in detail",
        "/ddb-status",
        TourState.export_reference,
        [reply("the export's details with its cost", r"Status: COMPLETED[\s\S]*Cost:")],
    ),
    command(
        "What backups of a table cost",
        "/ddb-cost",
        "orders",
        [reply("dollar figures for PITR, exports and S3", r"Backup costs of `orders`[\s\S]*\$\d+\.\d\d")],
    ),
    command("Help for a command", "/ddb-export", "help", [ack("usage in the immediate answer", r"Usage")]),
]


def run_tour(console: Console, store: Store | None = None, steps: Sequence[Step] = STEPS) -> None:
    """Run every step, printing as the console would; raises TourFailed at the first missing reply."""
    state = TourState(console, store)
    started = time.monotonic()
    for number, step in enumerate(steps, start=1):
        console.say("")
        console.say(console.style.bold(f"── Step {number}/{len(steps)}: {step.title} ──"))
        step.run(state)
    elapsed = time.monotonic() - started
    console.say("")
    console.say(f"Tour finished: {len(steps)} steps, every check passed in {elapsed:.1f}s.")


__all__ = ["STEPS", "Expect", "Step", "TourFailed", "TourState", "ack", "click", "command", "reply", "run_tour"]
