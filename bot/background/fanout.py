"""One result per target wherever work fans out: the tables of a many-table fire, the channels of a message.

Each target of a piece of claimed work is a row of `work_targets` (bot.background.targets) under the work's
(kind, key), with its own state, attempts, pause and reason: a target that fails is tried again on its own after a
pause that doubles, one that keeps failing is given up on its own after DDBBOT_WORK_MAX_ATTEMPTS, and a target done
is never done again, whoever takes the work over. `run_targets` is the one loop every fan-out runs: each due target
tried in turn, its outcome recorded in its own fenced transaction (so a holder that dies after some targets leaves
them done), an exception in one target recorded as that target's failure instead of ending the others.

Why rows under the parent's claim rather than a work item per target: the parent tells people about all its targets
at once (a fire's message names every table that was not exported), which needs every target's state in one place;
one claim fences every target's writes, so a fire of 300 tables keeps one heartbeat, not 300; and the runner already
schedules the parent: it is deferred until its earliest target is due again, without counting an attempt.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.background.claims import ClaimLost
from bot.background.fence import Fence
from bot.background.targets import Failed, Outcome, Target, TargetState, TargetStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FanOutPass:
    """Every target as it stands after one pass (planned order), and the ones this pass changed."""

    targets: tuple[Target, ...]
    changed: tuple[Target, ...]

    @property
    def complete(self) -> bool:
        """Every target done, given up or dropped."""
        return all(t.settled for t in self.targets)

    def next_due(self) -> datetime | None:
        """When the earliest unsettled target may be tried again (None: none is left, or one is due now)."""
        pauses = [t.available_at for t in self.targets if not t.settled]
        if not pauses or any(p is None for p in pauses):
            return None
        return min(p for p in pauses if p is not None)

    def in_state(self, *states: TargetState) -> list[Target]:
        """The targets in any of `states`, in planned order."""
        return [t for t in self.targets if t.state in states]

    def news(self) -> bool:
        """A target settled or failed that people were not told of (by this pass or by a holder that died before
        telling): something people are told."""
        return any(t.untold for t in self.targets)


Attempt = Callable[[Target], Outcome]


def run_targets(
    fence: Fence, store: TargetStore, kind: str, key: str, attempt: Attempt, *, stamp_tries: bool = False
) -> FanOutPass:
    """Try each due target of (kind, key) once, in planned order, recording each outcome as it comes; stops early
    when the fence halts. `stamp_tries` records that a call begins before making it, for targets whose call cannot
    be repeated blindly (a message: see `Target.in_doubt`)."""
    now = store.now()
    changed: list[Target] = []
    for target in store.of(kind, key):
        if not target.due(now):
            continue
        if fence.halt.is_set():
            break
        if stamp_tries:
            with fence.fenced() as connection:
                store.trying(connection, target)
        outcome = _attempt(attempt, target)
        fence.step("aws_called")
        with fence.fenced() as connection:
            changed.append(store.record(connection, target, outcome))
        fence.step("target_recorded")
    return FanOutPass(tuple(store.of(kind, key)), tuple(changed))


def defer_to_next(fence: Fence, store: TargetStore, done: FanOutPass) -> None:
    """Give the work back until its earliest unsettled target is due (no attempt counted)."""
    due = done.next_due()
    fence.defer(max(due - store.now(), timedelta(0)) if due is not None else timedelta(0))


def _attempt(attempt: Attempt, target: Target) -> Outcome:
    """One target's attempt; an unexpected exception is that target's failure (logged with a reference)."""
    try:
        return attempt(target)
    except ClaimLost:
        raise
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception(
            "work.target_crashed",
            extra={"work": f"{target.kind}:{target.key}", "target": target.name, "ref": reference},
        )
        return Failed(f"something went wrong on the bot's side (reference {reference})", in_doubt=True)
