"""A note to three channels where one refuses, on SQLite and PostgreSQL, with the real note work, the real Slack
delivery and the Slack stand-in: the two others get it exactly once however often the third is retried; the third
is retried alone, given up after the attempts allowed, counted, and reported in the notification channel.

(The bot's own results go to at most two channels, the one asked in and the notification channel:
tests/integration/exports/test_result_channels.py shows them through the signed endpoint; this shows the shared
mechanism with more.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Connection, Engine

from bot.background.claims import ClaimStore, WorkState
from bot.background.fence import ClaimKeeper
from bot.background.notes import (
    NOTE,
    UNDELIVERED,
    UNDELIVERED_ONCALL,
    WHOLE,
    Delivery,
    NotePoster,
    NoteStamp,
    NoteWork,
    UndeliveredReports,
    edition_payload,
)
from bot.background.targets import Seed, TargetState, TargetStore
from bot.background.work import WorkKind, WorkRunner, WorkTiming
from bot.demo.slack_standin import SlackStandIn
from bot.metrics import REGISTRY
from handlers.kit.blocks import message, section
from handlers.kit.delivery import SlackUndelivered, deliver_message
from tests.support.clocks import SettableDatabaseClock
from tests.support.databases import database_kinds, schema_engine
from tests.support.schedules import text_of

CHANNELS = ["C0ALPHA", "C0BRAVO", "C0CHARLIE"]
TIMING = WorkTiming(interval=0.05, first_retry=timedelta(seconds=10))


@pytest.fixture(params=database_kinds())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with schema_engine(request.param, tmp_path) as made:
        yield made


class ThreeChannels:
    """A topic whose notes go to three channels, delivered as the bot delivers every note."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self.told: list[str] = []

    def targets(self, subject: str) -> list[str]:
        return list(CHANNELS)

    def deliver(self, subject: str, stamp: NoteStamp) -> Delivery:
        return deliver_message(self._client, message(f"result of {subject}", section(f"result of {subject}")), stamp)

    def posted(self, subject: str, connection: Connection) -> None:
        self.told.append(subject)


@dataclass
class NoteRig:
    """The note work as the bot runs it, on one database and a settable clock."""

    clock: SettableDatabaseClock
    claims: ClaimStore
    targets: TargetStore
    runner: WorkRunner


def note_rig(engine: Engine, posters: Callable[[TargetStore], dict[str, NotePoster]], max_attempts: int = 3) -> NoteRig:
    """`posters(targets)`: the posters by topic (the reports need the targets)."""
    clock = SettableDatabaseClock()
    claims = ClaimStore(engine, stale_after=timedelta(seconds=30), max_attempts=max_attempts, clock=clock)
    targets = TargetStore(engine, max_attempts=max_attempts, retry_after=TIMING.retry_after, clock=clock)
    notes = NoteWork(posters(targets), targets, retry_after=timedelta(seconds=5))
    return NoteRig(
        clock, claims, targets, WorkRunner(ClaimKeeper(claims, "replica-1"), [WorkKind(NOTE, notes)], TIMING)
    )


def test_a_note_to_three_channels_reaches_two_once_and_the_refusing_one_is_retried_alone_then_reported(
    engine: Engine,
) -> None:
    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        poster = ThreeChannels(client)
        rig = note_rig(
            engine,
            lambda targets: {
                "result": poster,
                UNDELIVERED: UndeliveredReports(targets, SlackUndelivered(client), notify_channel=CHANNELS[0]),
            },
        )
        clock, claims, targets, runner = rig.clock, rig.claims, rig.targets, rig.runner
        given_up = {"kind": NOTE, "outcome": "given_up"}
        before = REGISTRY.get_sample_value("ddbbot_work_targets_total", given_up) or 0.0
        slack.refuse_channel(CHANNELS[1], "channel_not_found")
        claims.enqueue(NOTE, "result:x", payload=edition_payload("e1"))

        outcomes = []
        for pause in (0, 10, 20):
            clock.advance(seconds=pause)
            outcomes.append(runner.execute(NOTE, "result:x"))
        assert outcomes == ["deferred", "deferred", "done"], "waiting for the refusing channel costs no attempt"
        runner.run_pending()  # the report about it

        def posts(channel: str) -> list[str | None]:
            return [c.error for c in slack.calls if c.method == "chat.postMessage" and c.params["channel"] == channel]

        assert [len([m for m in slack.messages(c) if "result of x" in m.text]) for c in CHANNELS] == [1, 0, 1]
        assert posts(CHANNELS[1]) == ["channel_not_found"] * 3, "the refusing channel alone, three times"
        assert posts(CHANNELS[2]) == [None]
        (report,) = [m for m in slack.messages(CHANNELS[0]) if "could not be posted" in m.text]
        assert f"<#{CHANNELS[1]}>" in report.text and "channel_not_found" in report.text
        assert REGISTRY.get_sample_value("ddbbot_work_targets_total", given_up) == before + 1
        assert poster.told == ["x"], "the note is settled once every channel is delivered or given up"
        assert [t.state for t in targets.of(NOTE, "result:x")] == [
            TargetState.DONE,
            TargetState.GIVEN_UP,
            TargetState.DONE,
        ]
        item = claims.get(NOTE, "result:x")
        assert item is not None and item.state == WorkState.DONE


def test_a_note_laid_out_whole_by_an_earlier_version_is_laid_out_again_one_target_per_channel(engine: Engine) -> None:
    """Before each destination was its own target a note had one (`*`): taken over after an upgrade, it is laid out
    again per channel and each channel delivered once, never posted to a channel named `*`."""
    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        rig = note_rig(engine, lambda targets: {"result": ThreeChannels(client)})
        claims, targets, runner = rig.claims, rig.targets, rig.runner
        claims.enqueue(NOTE, "result:x", payload=edition_payload("e1"))
        with engine.begin() as connection:
            targets.plan(connection, NOTE, "result:x", [Seed(WHOLE)], "e1")

        assert runner.execute(NOTE, "result:x") == "done"
        assert [t.name for t in targets.of(NOTE, "result:x")] == CHANNELS
        assert [len([m for m in slack.messages(c) if "result of x" in m.text]) for c in CHANNELS] == [1, 1, 1]
        assert not [c for c in slack.calls if c.params.get("channel") == WHOLE]


class ScheduledResult(ThreeChannels):
    """A scheduled backup's note, to one channel (a schedule's channel, which is the notification channel here)."""

    def targets(self, subject: str) -> list[str]:
        return [CHANNELS[0]]

    def scheduled(self, subject: str) -> bool:
        return True


def test_a_scheduled_note_its_only_channel_refuses_is_reported_to_on_call_by_direct_message(engine: Engine) -> None:
    """Nowhere else to tell: the on-call person hears of it, mentioned; a note about unscheduled work never does."""
    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        reported = SlackUndelivered(client)
        rig = note_rig(
            engine,
            lambda targets: {
                "scheduled": ScheduledResult(client),
                "asked": ThreeChannels(client),
                UNDELIVERED: UndeliveredReports(targets, reported, CHANNELS[0]),
                UNDELIVERED_ONCALL: UndeliveredReports(targets, reported, CHANNELS[0], oncall="U0ONCALL"),
            },
            max_attempts=1,
        )
        claims, runner = rig.claims, rig.runner
        slack.refuse_channel(CHANNELS[0], "is_archived")
        claims.enqueue(NOTE, "scheduled:nightly", payload=edition_payload("e1"))
        claims.enqueue(NOTE, "asked:x", payload=edition_payload("e1"))
        runner.run_pending()
        runner.run_pending()  # the reports

        (told,) = [m for m in slack.messages("U0ONCALL") if "could not be posted" in m.text]
        assert "scheduled:nightly" in text_of(told) and "is_archived" in text_of(told)
        assert "<@U0ONCALL> a message about a scheduled backup could not be posted" in text_of(told)
        others = [m for m in slack.messages() if "asked:x" in m.text and "could not be posted" in m.text]
        assert [m.channel for m in others] == CHANNELS[1:], "where it did arrive, the notification channel refusing"
        assert not [m for m in others if "U0ONCALL" in text_of(m)], "unscheduled: on-call is not mentioned"
