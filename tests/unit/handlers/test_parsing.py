"""Command text → typed requests, and the sentences bad input gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UsageError
from handlers.costs.parsing import COST_HELP, CostCommand, parse_cost
from handlers.exports.parsing import EXPORT_HELP, STATUS_HELP, ExportCommand, StatusCommand, parse_export, parse_status
from handlers.kit.parsing import HelpRequest
from handlers.pitr.parsing import PITR_HELP, PitrCommand, parse_pitr


def test_export_options_are_typed_and_times_are_utc() -> None:
    parsed = parse_export(
        "orders bucket=acme-b prefix=/team/x/ owner=123456789012 format=ion at=2026-01-14T12:00:00+02:00"
    )
    assert isinstance(parsed, ExportCommand)
    assert parsed.table == "orders"
    options = parsed.options
    assert (options.bucket, options.prefix, options.owner, options.export_format) == (
        "acme-b",
        "team/x",
        "123456789012",
        "ION",
    )
    assert options.at == datetime(2026, 1, 14, 10, 0, tzinfo=UTC)


def test_a_time_without_zone_is_taken_as_utc() -> None:
    parsed = parse_export("orders since=2026-01-14T10:00:00 until=2026-01-14T11:00:00")
    assert isinstance(parsed, ExportCommand)
    assert parsed.options.since == datetime(2026, 1, 14, 10, tzinfo=UTC)


def test_export_times_may_be_written_relative_to_now() -> None:
    before = datetime.now(UTC)
    parsed = parse_export("orders since=-2h until=-90m")
    after = datetime.now(UTC)
    assert isinstance(parsed, ExportCommand)
    assert parsed.options.since is not None and parsed.options.until is not None
    assert before - timedelta(hours=2) <= parsed.options.since <= after - timedelta(hours=2)
    assert parsed.options.until - parsed.options.since == timedelta(minutes=30)


def test_quoted_values_and_aliases_are_understood() -> None:
    parsed = parse_export('prod:orders prefix="nightly backups"', aliases={"prod"})
    assert isinstance(parsed, ExportCommand)
    assert parsed.table == "prod:orders"
    assert parsed.options.prefix == "nightly backups"


def test_table_arn_is_a_table() -> None:
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    assert parse_cost(arn) == CostCommand(arn)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ab", "too short"),
        ("a" * 256, "too long"),
        ("orders extra", "I don't understand `extra`"),
        ("orders at=2026-13-01", "is not a time"),
        ("orders at=-2x", "is not a time relative to now"),
        ("orders since=-30m2h", "largest first"),
        ("orders at=2026-01-01T00:00:00Z since=2026-01-01T00:00:00Z", "not both"),
        ("orders owner=abc", "12-digit"),
        ("orders owner=١٢٣٤٥٦٧٨٩٠١٢", "12-digit"),  # twelve digits, but not the ASCII digits AWS account ids are
        ("orders bucket=a", "not a valid S3 bucket name"),
        ("orders bucket=a..b", "not a valid S3 bucket name"),
        ("orders format=parquet", "is not an export format"),
        ("orders format=ion format=ion", "is given twice"),
        ("orders bucket=", "has no value"),
        ('orders prefix="unclosed', "check the quotes"),
        ("x:orders", "Unknown account alias `x`"),
    ],
)
def test_bad_export_input_says_what_is_wrong_and_shows_usage(text: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_export(text)
    assert message in str(raised.value)
    assert raised.value.usage == EXPORT_HELP.usage_text


def test_help_and_bare_commands_return_the_usage() -> None:
    assert parse_export("") == HelpRequest(EXPORT_HELP)
    assert parse_pitr("help") == HelpRequest(PITR_HELP)
    assert parse_cost("--help") == HelpRequest(COST_HELP)
    assert parse_status("help") == HelpRequest(STATUS_HELP)


def test_pitr_forms() -> None:
    assert parse_pitr("orders") == PitrCommand("orders")
    assert parse_pitr("orders enable") == PitrCommand("orders", True, None)
    assert parse_pitr("orders ENABLE days=35") == PitrCommand("orders", True, 35)
    with pytest.raises(UsageError, match="only goes with `enable`"):
        parse_pitr("orders days=3")
    with pytest.raises(UsageError, match="from 1 to 35"):
        parse_pitr("orders enable days=0")


def test_status_forms() -> None:
    assert parse_status("") == StatusCommand(None)
    assert parse_status("orders") == StatusCommand("orders")
    assert parse_status("01768385930622-efd1a093") == StatusCommand("01768385930622-efd1a093")
    arn = "arn:aws:dynamodb:eu-north-1:123456789123:table/test/export/01768385930622-efd1a093"
    assert parse_status(arn) == StatusCommand(arn)


def test_every_command_has_usage_and_examples() -> None:
    for help_ in (PITR_HELP, EXPORT_HELP, STATUS_HELP, COST_HELP):
        assert help_.usage and help_.examples
        assert all(line.startswith(help_.command) for line in help_.usage)
