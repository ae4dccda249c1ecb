"""The demo console shows Block Kit as text; if buttons or mentions render wrongly the demo misleads."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo.render import Button, clean_mrkdwn, render_message, render_payload, unescape
from handlers.costs.parsing import COST_HELP
from handlers.kit import blocks, emoji


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def button(label: str, action_id: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(label), "action_id": action_id, "value": value, **extra}


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("<@U123> asked", "@U123 asked"),
        ("<@U123|bob> asked", "@bob asked"),
        ("ping <!subteam^S1>", "ping @S1"),
        ("ping <!subteam^S1|@oncall>", "ping @oncall"),
        ("<!here> look", "@here look"),
        ("in <#C0OPS|ops>", "in #ops"),
        ("in <#C0OPS>", "in #C0OPS"),
        ("<https://example.com|the docs>", "the docs (https://example.com)"),
        ("<https://example.com>", "https://example.com"),
        ("<!date^1700000000^{date}|Nov 14>", "Nov 14"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("&amp;lt; stays", "&lt; stays"),
        ("PITR is *on* for `orders`", "PITR is on for `orders`"),
        ("*Items:* *3*", "Items: 3"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("`*not bold*` here", "`*not bold*` here"),
        ("`a &lt; b`", "`a < b`"),
        (":white_check_mark: done", "✅ done"),
        (":unknown_emoji: kept", ":unknown_emoji: kept"),
    ],
)
def test_mrkdwn_is_cleaned_for_the_terminal(source: str, shown: str) -> None:
    assert clean_mrkdwn(source) == shown


@pytest.mark.parametrize("code", sorted({v for k, v in vars(emoji).items() if k.isupper()}))
def test_every_emoji_of_the_bots_vocabulary_is_shown_as_one(code: str) -> None:
    assert clean_mrkdwn(f"{code} news").endswith(" news") and ":" not in clean_mrkdwn(code)


def test_emoji_can_stay_as_codes() -> None:
    assert clean_mrkdwn(":x: failed", emoji=False) == ":x: failed"


def test_code_blocks_become_indented_lines() -> None:
    assert (
        clean_mrkdwn("*Usage*\n```/ddb-cost <table>\n/ddb-cost x```") == "Usage\n    /ddb-cost <table>\n    /ddb-cost x"
    )


def test_unescape_order() -> None:
    assert unescape("&amp;gt;") == "&gt;"


def test_text_only_message_shows_the_text() -> None:
    rendered = render_message(":hourglass_flowing_sand: /ddb-pitr orders", [])
    assert rendered.lines == ["⏳ /ddb-pitr orders"]
    assert rendered.buttons == []


def test_blocks_replace_the_notification_text() -> None:
    rendered = render_message("fallback", [{"type": "section", "text": mrkdwn("*shown*")}])
    assert rendered.text == "shown"


def test_section_with_fields_and_button_accessory() -> None:
    block = {
        "type": "section",
        "block_id": "req",
        "text": mrkdwn("*Restore* of `orders`"),
        "fields": [mrkdwn("*Target:* orders-restored"), plain("Requested by alice")],
        "accessory": button("Details", "details", "r-1"),
    }
    rendered = render_message("x", [block], message_ts="1.000100", channel="C0OPS", first_button=5)
    assert rendered.lines == [
        "Restore of `orders`",
        "  Target: orders-restored",
        "  Requested by alice",
        "  [5] Details",
    ]
    assert rendered.buttons == [
        Button(5, "Details", "details", "r-1", "req", "1.000100", "C0OPS"),
    ]


def test_actions_buttons_are_numbered_on_one_line_with_what_a_click_needs() -> None:
    confirm = {"title": plain("Sure?"), "text": mrkdwn("This replaces *nothing*."), "confirm": plain("Yes")}
    actions = {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            button("Approve", "approve", "req-7", style="primary", confirm=confirm),
            button("Reject", "reject", "req-7", style="danger"),
        ],
    }
    rendered = render_message("x", [actions], message_ts="2.5", channel="C0APPROVALS", first_button=1)
    assert rendered.lines == ["[1] Approve  [2] Reject"]
    approve, reject = rendered.buttons
    assert (approve.number, approve.action_id, approve.value, approve.block_id) == (1, "approve", "req-7", "decide")
    assert (approve.message_ts, approve.channel) == ("2.5", "C0APPROVALS")
    assert approve.confirm == "Sure? — This replaces nothing."
    assert (reject.number, reject.action_id, reject.confirm) == (2, "reject", None)


def test_numbering_continues_across_messages() -> None:
    first = render_message("x", [{"type": "actions", "elements": [button("A", "a", "1")]}], first_button=1)
    second = render_message(
        "x", [{"type": "actions", "elements": [button("B", "b", "2")]}], first_button=first.buttons[-1].number + 1
    )
    assert second.lines == ["[2] B"]


def test_url_button_keeps_its_url() -> None:
    rendered = render_message(
        "x", [{"type": "actions", "elements": [button("Console", "open", "", url="https://aws.example")]}]
    )
    assert rendered.buttons[0].url == "https://aws.example"


def test_header_divider_context_and_input() -> None:
    rendered = render_message(
        "x",
        [
            {"type": "header", "text": plain("Restore request")},
            {"type": "divider"},
            {"type": "context", "elements": [mrkdwn("by <@U0BOB>"), plain("us-east-1")]},
            {
                "type": "input",
                "label": plain("Reason"),
                "element": {"type": "plain_text_input", "placeholder": plain("why?")},
                "optional": True,
            },
            {"type": "mystery"},
        ],
    )
    assert rendered.lines == [
        "Restore request",
        "═══════════════",
        "─" * 40,
        "  by @U0BOB  us-east-1",
        "Reason (optional): [text: why?]",
        "[mystery block]",
    ]


def test_select_and_overflow_are_shown_but_not_numbered() -> None:
    rendered = render_message(
        "x",
        [
            {
                "type": "actions",
                "elements": [
                    {"type": "static_select", "placeholder": plain("Pick a table"), "action_id": "pick"},
                    {"type": "overflow", "options": [{"text": plain("Cancel"), "value": "c"}]},
                ],
            }
        ],
    )
    assert rendered.lines == ["[select: Pick a table]  [menu: Cancel]"]
    assert rendered.buttons == []


def test_payload_of_an_ack() -> None:
    rendered = render_payload({"text": "t", "blocks": [{"type": "section", "text": mrkdwn("a &amp; b")}]})
    assert rendered.text == "a & b"
    assert render_payload({"text": ":x: no"}).text == "❌ no"


def test_the_bots_own_messages_render_readably() -> None:
    help_text = render_payload(blocks.help_message(COST_HELP)).text
    assert "Usage\n    /ddb-cost <table>" in help_text
    assert "*" not in help_text
    assert "```" not in help_text
