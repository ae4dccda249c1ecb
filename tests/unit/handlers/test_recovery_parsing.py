"""/ddb-item, /ddb-recover and /ddb-revert text → asks; bad input says what is wrong and shows the usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UsageError
from bot.recovery.asks import KeyAsk, WindowAsk
from handlers.kit.parsing import CommandHelp, HelpRequest
from handlers.recovery.parsing import ITEM_HELP, RECOVER_HELP, REVERT_HELP, parse_item, parse_recover, parse_revert


def test_a_key_is_kept_as_written_for_the_table_s_schema_to_type() -> None:
    parsed = parse_item("orders orderId=A-1001 line=3 at=2026-01-14T08:00:00Z")
    assert parsed == KeyAsk("orders", (("orderId", "A-1001"), ("line", "3")), datetime(2026, 1, 14, 8, tzinfo=UTC))


def test_values_may_be_quoted_and_hold_equals_signs_and_an_attribute_named_at_takes_a_dot() -> None:
    parsed = parse_recover('prod:orders "note=a b=c" .at=5 at=-2h', aliases={"prod"})
    assert isinstance(parsed, KeyAsk)
    assert parsed.table == "prod:orders"
    assert parsed.key == (("note", "a b=c"), ("at", "5"))
    assert abs(parsed.at - (datetime.now(UTC) - timedelta(hours=2))) < timedelta(minutes=1)


def test_a_revert_takes_its_window_filter_and_rate() -> None:
    parsed = parse_revert("orders since=-90m until=-60m where=\"deploy = 'v2'\" rate=25%")
    assert isinstance(parsed, WindowAsk)
    assert parsed.until - parsed.since == timedelta(minutes=30)
    assert parsed.where == "deploy = 'v2'" and parsed.rate is not None


@pytest.mark.parametrize(
    ("parse", "text", "message", "help_"),
    [
        (parse_item, "orders pk=a", "Give `at=<time>`", ITEM_HELP),
        (parse_item, "orders at=-1h", "Give the item's key", ITEM_HELP),
        (parse_item, "orders pk at=-1h", "I don't understand `pk`", ITEM_HELP),
        (parse_item, "orders pk= at=-1h", "has no value", ITEM_HELP),
        (parse_item, "orders pk=a at=yesterday", "relative to now", ITEM_HELP),
        (parse_recover, "orders pk=a at=-1h at=-2h", "given twice", RECOVER_HELP),
        (parse_revert, "orders since=-1h", "Give `until=`", REVERT_HELP),
        (parse_revert, "orders until=-1h", "Give `since=`", REVERT_HELP),
        (parse_revert, "orders other since=-2h until=-1h", "Name one table", REVERT_HELP),
        (parse_revert, "orders since=-2h until=-1h rate=fast", "rate=", REVERT_HELP),
        (parse_revert, "orders since=-2h until=-1h size=9", "Unknown option `size=`", REVERT_HELP),
    ],
)
def test_bad_input_says_what_is_wrong(
    parse: Callable[[str], object], text: str, message: str, help_: CommandHelp
) -> None:
    with pytest.raises(UsageError) as raised:
        parse(text)
    assert message in raised.value.message
    assert raised.value.usage == help_.usage_text


@pytest.mark.parametrize("parse", [parse_item, parse_recover, parse_revert])
def test_help_and_a_bare_command_show_the_usage(parse: Callable[[str], object]) -> None:
    assert isinstance(parse(""), HelpRequest)
    assert isinstance(parse("help"), HelpRequest)


def test_every_usage_line_starts_with_its_command() -> None:
    for help_ in (ITEM_HELP, RECOVER_HELP, REVERT_HELP):
        assert all(line.startswith(help_.command) for line in help_.usage)
        assert all(example.startswith(help_.command) for example in help_.examples)
