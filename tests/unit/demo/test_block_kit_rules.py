"""The structural rules of Block Kit the stand-in enforces beside the lengths (test_slack_standin.py has those): an
action_id once per block, a block_id once per message or view, an overflow menu of 2 to 5 options, option groups;
each refused through the Web API and response_url the way Slack refuses it. And slack_sdk's models, the second
judge of the builders, catch what they know."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.demo.block_kit_rules import MODAL, block_kit_errors, view_errors
from bot.demo.slack_standin import SlackStandIn
from tests.support.slack_models import slack_sdk_refusals
from tests.unit.demo.test_slack_standin import post_json


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as running:
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test-token", base_url=standin.api_url)


def button(action_id: str, label: str = "Go") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "value": "v"}


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def overflow(count: int) -> list[dict[str, Any]]:
    menu = {"type": "overflow", "action_id": "more", "options": [option(f"o{i}") for i in range(count)]}
    return [actions(menu)]


def test_two_buttons_with_one_action_id_in_a_block_are_refused_as_slack_refuses_them(
    standin: SlackStandIn, client: WebClient
) -> None:
    twice = [section("Tables"), actions(button("enable:0"), button("enable"), button("enable"))]

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0OPS", text="coverage", blocks=twice)

    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"] == [
        '`action_id` "enable" already exists [json-pointer:/blocks/1/elements/2/action_id]'
    ]
    assert standin.messages() == []


def test_the_same_action_id_in_two_blocks_is_taken_as_slack_takes_it(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(
        channel="C0OPS", text="two rows", blocks=[actions(button("enable")), actions(button("enable"))]
    )

    assert [m.text for m in standin.messages()] == ["two rows"]


def test_a_block_id_twice_in_a_message_or_a_view_is_refused_everywhere_slack_checks(
    standin: SlackStandIn, client: WebClient
) -> None:
    twice = [section("a", block_id="row"), section("b"), actions(button("go"), block_id="row")]
    error = '`block_id` "row" already exists [json-pointer:/blocks/2/block_id]'
    ts = client.chat_postMessage(channel="C0OPS", text="v1", blocks=[section("a", block_id="row")])["ts"]

    for call in (
        lambda: client.chat_postMessage(channel="C0OPS", text="x", blocks=twice),
        lambda: client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="x", blocks=twice),
        lambda: client.chat_update(channel="C0OPS", ts=ts, text="v2", blocks=twice),
    ):
        with pytest.raises(SlackApiError) as raised:
            call()
        assert (raised.value.response["error"], raised.value.response["errors"]) == ("invalid_blocks", [error])
    status, body = post_json(standin.response_url("C0OPS"), {"text": "x", "blocks": twice})
    assert (status, body["error"], body["errors"]) == (400, "invalid_blocks", [error])
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Form"}, "blocks": twice}
    with pytest.raises(SlackApiError) as opened:
        client.views_open(trigger_id="1.2.3", view=modal)
    assert opened.value.response["errors"] == [error.replace("/blocks/", "/view/blocks/")]
    with pytest.raises(SlackApiError) as published:
        client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": twice})
    assert published.value.response["error"] == "invalid_arguments"
    (kept,) = standin.messages()
    assert (kept.text, kept.updates) == ("v1", 0)


@pytest.mark.parametrize(("count", "refused"), [(1, True), (2, False), (5, False), (6, True)])
def test_an_overflow_menu_holds_2_to_5_options(count: int, refused: bool) -> None:
    errors = block_kit_errors(overflow(count))

    assert bool(errors) is refused
    if refused:
        assert errors == [
            f"between 2 and 5 options are allowed here, not {count} [json-pointer:/blocks/0/elements/0/options]"
        ]


def test_option_groups_are_checked_and_never_sent_with_options() -> None:
    groups = [{"label": {"type": "plain_text", "text": "g" * 76}, "options": [option(f"o{i}") for i in range(101)]}]
    grouped = {"type": "static_select", "action_id": "pick", "option_groups": groups}
    both = {"type": "static_select", "action_id": "pick", "options": [option("a")], "option_groups": groups[:0]}

    assert block_kit_errors([actions(grouped)]) == [
        "an option group's label must be at most 75 characters, not 76 "
        "[json-pointer:/blocks/0/elements/0/option_groups/0/label/text]",
        "at most 100 options are allowed here, not 101 [json-pointer:/blocks/0/elements/0/option_groups/0/options]",
    ]
    assert block_kit_errors([actions(both)]) == [
        "options and option_groups cannot both be specified [json-pointer:/blocks/0/elements/0]"
    ]


def test_a_modal_with_distinct_ids_opens() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Form"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [section("a", block_id="one"), actions(button("go"), button("stop"), block_id="two")],
    }

    assert view_errors(view, surface=MODAL) == []


def test_slack_sdk_models_refuse_what_they_know_and_name_what_they_do_not_describe() -> None:
    long_label = {"blocks": [actions(button("go", "b" * 76))]}
    unknown_block = {"blocks": [{"type": "slideshow", "items": []}]}
    unknown_field = {"blocks": [{**section("x"), "colour": "red"}]}
    long_title = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": [section("x")]}

    assert slack_sdk_refusals(long_label) == [
        "/blocks/0: SlackObjectFormationError: text attribute cannot exceed 75 characters"
    ]
    assert slack_sdk_refusals(unknown_block) == ["/blocks/0: LookupError: slack_sdk knows no block of type 'slideshow'"]
    assert slack_sdk_refusals(unknown_field) == ["/blocks/0/colour: not known to slack_sdk (dropped)"]
    assert slack_sdk_refusals(long_title, MODAL) == [
        "/view: SlackObjectFormationError: title must be between 1 and 24 characters"
    ]
    assert slack_sdk_refusals({"blocks": [section("fine"), actions(button("a"), button("b"))]}) == []
