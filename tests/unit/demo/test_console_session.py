"""What the person types in the console: console commands with or without their colon, fields filled with quoted
text, people and channels switched, and clear words for what the console does not know."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from bot.demo.console import Console
from bot.demo.console_session import Session
from bot.demo.forms import Form
from bot.demo.slack_requests import SignedSlackClient
from bot.demo.slack_standin import SlackStandIn
from handlers.coverage.schedule_form import schedule_form


@pytest.fixture
def console() -> Iterator[Console]:
    with SlackStandIn() as standin:
        out = io.StringIO()
        yield Console(standin, SignedSlackClient("http://127.0.0.1:9/slack/events", "secret"), out=out)


def said(console: Console) -> str:
    out = console.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


@pytest.mark.parametrize("line", [":as bob", "as bob", ":AS @bob"])
def test_acting_as_another_person_takes_the_colon_or_not(console: Console, line: str) -> None:
    assert Session(console).handle_line(line)
    assert console.user == "U0BOB" and "You are now bob (U0BOB)." in said(console)


def test_moving_to_a_channel_and_quitting(console: Console) -> None:
    session = Session(console)
    assert session.handle_line(":in #backups") and console.channel == "C0BACKUPS"
    assert console.prompt == "alice@#backups> "
    assert not session.handle_line(":quit") and not session.handle_line("quit")


def test_a_field_is_filled_with_quoted_text_as_typed_inside_the_quotes(console: Console) -> None:
    console.views.forms.append(Form.of("V1", "U0ALICE", schedule_form("orders", "C0OPS", None)))

    Session(console).handle_line(':set 1 "30 3 * * *"')
    Session(console).handle_line(":set {2} incremental")

    form = console.views.forms[-1]
    assert (form.field(1).value, form.field(2).value) == ("30 3 * * *", "incremental")


def test_a_form_is_only_filled_by_the_person_who_sees_it(console: Console) -> None:
    console.views.forms.append(Form.of("V1", "U0ALICE", schedule_form("orders", "C0OPS", None)))
    session = Session(console)
    session.handle_line(":as bob")
    session.handle_line(":set 1 0 4 * * *")

    assert console.views.forms[-1].field(1).value == "0 2 * * *"
    assert "The open form is alice's: `:as alice` first." in said(console)


def test_what_the_console_does_not_know_is_said_with_where_to_look(console: Console) -> None:
    session = Session(console)
    for line in (":teleport", ":click three", ":set x y", ":home now"):
        assert session.handle_line(line)
    assert said(console).count("I don't know") == 4 and "`:help`" in said(console)
    session.handle_line(":form")
    assert "No form is open." in said(console)
