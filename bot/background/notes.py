"""Messages owed to people, as claimed work: a note is the work item (`note`, `<topic>:<subject>`), enqueued in the
same transaction as the change it reports (an export finished, a fire failed, a restore ended), so a report can
never be lost between the change and its message, whoever crashes where.

A note fans out to its targets (the channels it goes to), each one a row of bot.background.fanout laid out once per
edition of the note: each channel is delivered once, a channel Slack refuses is tried again on its own and given up
after DDBBOT_WORK_MAX_ATTEMPTS (logged, counted, and reported in another channel as an `undelivered` note), a channel
Slack cannot take now (rate limit, outage) waits without counting, and the other channels are never posted again.

Exactly once where Slack allows: each post carries its stamp (note, edition, channel) as message metadata, and a
channel whose earlier post may have gone through unrecorded (the holder died after Slack answered) is searched for
that stamp before posting again. Where the channel cannot be read back (scope missing, bot not a member) the post is
made again: at least once, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection

from bot.background.claims import Claim, WorkState, enqueue_work
from bot.background.fanout import FanOutPass, defer_to_next, run_targets
from bot.background.fence import Fence
from bot.background.targets import Done, Failed, Outcome, Seed, Target, TargetState, TargetStore, Waiting

logger = logging.getLogger(__name__)
NOTE = "note"
UNDELIVERED = "undelivered"  # the topic of the note that says another note could not be delivered somewhere
UNDELIVERED_ONCALL = "undelivered_oncall"  # the same about a note on scheduled work: on-call is mentioned
WHOLE = "*"  # the one target notes had before each destination was its own: laid out again when met
POST, THREAD, EDIT = "post", "thread", "edit"  # how a target is delivered: a message, a thread reply, an edit
PEOPLE = frozenset({"U", "W"})  # a target that is a person: their direct messages


def note_key(topic: str, subject: object) -> str:
    """The work key of a note: `export:<arn>`, `run:<id>`, `restore:<id>`, …"""
    return f"{topic}:{subject}"


def edition_payload(edition: str) -> dict[str, Any]:
    """The payload a note is (re)armed with: news under a known key is a new edition, delivered anew."""
    return {"edition": edition}


@dataclass(frozen=True)
class Destination:
    """Where a note's target is delivered: a message in `channel` (a person's id: their direct messages), a reply
    in the thread of the feature's own message there, or an edit of that message."""

    how: str
    channel: str

    @property
    def person(self) -> bool:
        """A direct message to someone (who can be told, in turn, where the rest did not arrive)."""
        return self.how == POST and self.channel[:1] in PEOPLE

    def target(self) -> str:
        """The target's name in `work_targets`: the channel for a post, `thread:<channel>`, `edit:<channel>`."""
        return self.channel if self.how == POST else f"{self.how}:{self.channel}"


def approval_destinations(channel: str | None, ts: str | None, requester: str) -> list[Destination]:
    """Where an approved request's end is told: its approval thread, the approval message's edit (once posted), and
    the requester's direct messages (when the requester is a person)."""
    places: list[Destination] = []
    if channel:
        places.append(Destination(THREAD, channel))
        if ts:
            places.append(Destination(EDIT, channel))
    if requester[:1] in PEOPLE:
        places.append(Destination(POST, requester))
    return places


def destination(target: str) -> Destination:
    """The destination a target names (see `Destination.target`)."""
    how, separator, channel = target.partition(":")
    if separator and how in {THREAD, EDIT}:
        return Destination(how, channel)
    return Destination(POST, target)


@dataclass(frozen=True)
class NoteStamp:
    """One delivery as Slack will be asked to carry it: the note, its edition and the target (its stamp, kept with
    the message), since when it may have been posted, and whether an earlier call may have posted it (`recheck`)."""

    note: str
    edition: str
    target: str
    since: datetime
    recheck: bool = False

    def payload(self) -> dict[str, str]:
        """What identifies the delivery in the message's metadata."""
        return {"note": self.note, "edition": self.edition, "target": self.target}


@dataclass(frozen=True)
class Delivery:
    """How one delivery went: delivered (with the message's ts), to be tried later without counting (`retry`: rate
    limited, Slack unreachable), or refused (counted: given up after the attempts allowed); `reason` as people read
    it; `in_doubt` when no answer came, so the message may be there all the same."""

    delivered: bool
    reason: str | None = None
    retry: bool = False
    in_doubt: bool = False
    ts: str | None = None


def delivered(ts: str | None = None) -> Delivery:
    """Posted (or found posted)."""
    return Delivery(True, ts=ts)


def later(reason: str, *, in_doubt: bool = False) -> Delivery:
    """Slack may take it later: no attempt counted."""
    return Delivery(False, reason, retry=True, in_doubt=in_doubt)


def refused(reason: str) -> Delivery:
    """Slack refused it: the attempt counted."""
    return Delivery(False, reason)


class NotePoster(Protocol):
    """Posts one topic's notes."""

    def targets(self, subject: str) -> list[str]:
        """Where the note about `subject` goes now (channel ids, in order); [] when there is nothing to say."""
        ...

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Post the note to `stamp.target`, carrying the stamp (look for it first when `stamp.recheck`)."""
        ...

    def posted(self, subject: str, connection: Connection) -> None:
        """Record in the feature's row that it was told (in the transaction that settles the note)."""
        ...


@runtime_checkable
class ScheduledNotes(Protocol):
    """A poster whose notes may be about scheduled work: when one is not delivered somewhere, on-call is told."""

    def scheduled(self, subject: str) -> bool:
        """The note about `subject` reports on work a schedule did."""
        ...


class UndeliveredNotifier(Protocol):
    """Tells a channel that a note could not be delivered to another."""

    def undelivered(
        self, note: str, target: str, reason: str, attempts: int, stamp: NoteStamp, oncall: str | None = None
    ) -> Delivery:
        """Say in `stamp.target` that note `note` never reached `target`, why, and what to do."""
        ...


class UndeliveredReports:
    """The `undelivered` notes' poster: to the people the note reached by direct message (a restore's requester) and
    the notification channel, or (when neither can be told) to the channels the note did reach. Its own failures are
    logged and counted, never reported again. With `oncall` (the reports about scheduled work) on-call is mentioned,
    and when nowhere else can be told, an on-call person (a user id) is told by direct message."""

    def __init__(
        self,
        store: TargetStore,
        notifier: UndeliveredNotifier,
        notify_channel: str | None,
        oncall: str | None = None,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._notify_channel = notify_channel
        self._oncall = oncall

    def targets(self, subject: str) -> list[str]:
        """The people the note reached and the notification channel, else the channels that got the note, else the
        on-call person."""
        note, target = _undelivered_subject(subject)
        refused = destination(target).channel
        reached = [
            destination(t.name) for t in self._store.of(NOTE, note) if t.state == TargetState.DONE and t.name != WHOLE
        ]
        told = [d.channel for d in reached if d.person]
        if self._notify_channel and self._notify_channel != refused:
            told.append(self._notify_channel)
        told = told or [d.channel for d in reached if d.channel != refused]
        if not told and self._oncall and destination(self._oncall).person:
            told = [self._oncall]
        return list(dict.fromkeys(told))

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        """Say where the note did not arrive and why."""
        note, target = _undelivered_subject(subject)
        row = next((t for t in self._store.of(NOTE, note) if t.name == target), None)
        reason = (row.reason if row else None) or "no reason was recorded"
        attempts = row.attempts if row else 0
        return self._notifier.undelivered(note, target, reason, attempts, stamp, oncall=self._oncall)

    def posted(self, subject: str, connection: Connection) -> None:
        """Nothing to mark."""


class NoteWork:
    """The `note` kind: lay out the note's targets, deliver each due one, and settle the note once every target is
    delivered or given up; a note with targets still to try is given back until the earliest is due."""

    def __init__(self, posters: Mapping[str, NotePoster], targets: TargetStore, retry_after: timedelta) -> None:
        """`retry_after`: how long a delivery Slack may take later waits (no attempt counted)."""
        self._posters = dict(posters)
        self._targets = targets
        self._retry_after = retry_after

    def run(self, item: Claim, fence: Fence) -> None:
        """Deliver what is due; settle the note, or wait for the next due target."""
        topic, _, subject = item.key.partition(":")
        poster = self._posters.get(topic)
        if poster is None:
            logger.error("note.dropped_no_poster", extra={"note": item.key, "topic": topic})
            return
        edition = str(item.payload.get("edition") or "")
        if not self._lay_out(item, fence, poster, subject, edition):
            return
        done = run_targets(
            fence,
            self._targets,
            NOTE,
            item.key,
            lambda target: self._deliver(poster, subject, target),
            stamp_tries=True,
        )
        if fence.halt.is_set() and not done.complete:
            return  # stopping: the runner gives the note back
        if not done.complete:
            defer_to_next(fence, self._targets, done)
            return
        with fence.finishing() as connection:
            poster.posted(subject, connection)
            self._report_undelivered(connection, item.key, topic, done)

    def give_up(self, item: Claim, reason: str, fence: Fence) -> None:
        """A note that crashed its poster every time: its targets not delivered are given up, logged and reported."""
        logger.error("note.given_up", extra={"note": item.key, "reason": reason})
        topic = item.key.partition(":")[0]
        with fence.finishing(WorkState.GIVEN_UP, reason) as connection:
            self._targets.give_up_rest(connection, NOTE, item.key, reason)
            left = self._targets.of(NOTE, item.key, connection)
            self._report_undelivered(connection, item.key, topic, FanOutPass(tuple(left), ()))

    def _lay_out(self, item: Claim, fence: Fence, poster: NotePoster, subject: str, edition: str) -> bool:
        """The note's targets for this edition, laid out once; False when there is nothing to say (settled now)."""
        planned = self._targets.of(NOTE, item.key)
        legacy = [t.name for t in planned] == [WHOLE]  # laid out by a version that posted it all in one go
        if planned and planned[0].edition == edition and not legacy:
            return True
        channels = list(dict.fromkeys(poster.targets(subject)))
        if not channels:
            with fence.finishing() as connection:
                poster.posted(subject, connection)
            return False
        with fence.fenced() as connection:
            self._targets.plan(connection, NOTE, item.key, [Seed(c) for c in channels], edition, again=legacy)
        return True

    def _deliver(self, poster: NotePoster, subject: str, target: Target) -> Outcome:
        stamp = NoteStamp(target.key, target.edition, target.name, target.created_at, recheck=target.in_doubt)
        result = poster.deliver(subject, stamp)
        if result.delivered:
            return Done({"ts": result.ts} if result.ts else {})
        reason = result.reason or "Slack did not take it"
        if result.retry:
            return Waiting(reason, self._retry_after, in_doubt=result.in_doubt)
        return Failed(reason, in_doubt=result.in_doubt)

    def _report_undelivered(self, connection: Connection, note: str, topic: str, done: FanOutPass) -> None:
        if topic in {UNDELIVERED, UNDELIVERED_ONCALL}:
            return  # never a report about a report
        poster = self._posters.get(topic)
        scheduled = isinstance(poster, ScheduledNotes) and poster.scheduled(note.partition(":")[2])
        for target in done.in_state(TargetState.GIVEN_UP):
            if target.name == WHOLE:
                continue
            subject = f"{target.edition}|{target.name}|{note}"
            enqueue_work(connection, NOTE, note_key(UNDELIVERED_ONCALL if scheduled else UNDELIVERED, subject))


def _undelivered_subject(subject: str) -> tuple[str, str]:
    """(note, target) of an `undelivered` note's subject `<edition>|<target>|<note>`."""
    _edition, target, note = subject.split("|", 2)
    return note, target
