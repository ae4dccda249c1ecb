"""/ddb-schedule parsing and the cron calendar the scheduler runs with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UsageError
from handlers.kit.parsing import HelpRequest
from handlers.schedules.parsing import ScheduleAction, ScheduleAdd, ScheduleList, parse_schedule
from scheduler.cron import ApsCronCalendar, cron_trigger

CALENDAR = ApsCronCalendar()
CALENDAR = ApsCronCalendar()
TUESDAY_NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_add_reads_a_quoted_cron_and_every_option() -> None:
    parsed = parse_schedule(
        'add prod:orders cron="30 1 * * 1-5" tz=Europe/Paris type=incremental bucket=acme-ddb-backups '
        "prefix=/nightly/ owner=123456789012 format=ion channel=<#C0BACKUPS|backups>",
        CALENDAR,
        aliases={"prod"},
    )
    assert isinstance(parsed, ScheduleAdd)
    request = parsed.request
    assert (request.table, request.cron, request.timezone, request.export_type) == (
        "prod:orders",
        "30 1 * * 1-5",
        "Europe/Paris",
        "incremental",
    )
    assert request.options == {
        "bucket": "acme-ddb-backups",
        "prefix": "/nightly/",
        "owner": "123456789012",
        "format": "ion",
    }
    assert request.channel == "C0BACKUPS"


def test_slack_smart_quotes_and_a_channel_name_are_accepted() -> None:
    parsed = parse_schedule("add orders cron=“0 2 * * *” channel=#backups", CALENDAR)
    assert isinstance(parsed, ScheduleAdd)
    assert parsed.request.cron == "0 2 * * *" and parsed.request.channel == "#backups"
    assert parsed.request.timezone == "UTC" and parsed.request.export_type == "full"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add orders", 'needs `cron="..."`'),
        ("add orders cron=0 2 * * *", "Put the cron expression in quotes"),
        ('add orders cron="0 2 * *"', "has 4 fields, not 5"),
        ('add orders cron="0 25 * * *"', 'e.g. cron="0 2 * * *"'),
        ('add orders cron="0 2 * * 8"', "0 and 7 are Sunday"),
        ('add orders cron="0 2 * * *" tz=Europe/Pariss', "tz=Europe/Paris"),
        ('add orders cron="0 2 * * *" type=differential', "`type=incremental`"),
        ('add orders cron="0 2 * * *" at=2026-01-01T00:00:00Z', "Unknown option `at=`"),
        ('add orders cron="0 2 * * *" bucket=Bad_Bucket', "not a valid S3 bucket name"),
        ('add orders cron="0 2 * * *" channel=backups', "channel=#backups"),
        ('add x cron="0 2 * * *"', "not a valid DynamoDB table name"),
        ("remove", "needs a schedule id"),
        ("pause orders-1a2b extra", "I don't understand `extra`"),
        ("explode orders", "add, list, remove, pause, resume or run"),
    ],
)
def test_every_mistake_says_how_to_write_it(text: str, expected: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_schedule(text, CALENDAR)
    assert expected in caught.value.message
    assert caught.value.usage and "/ddb-schedule add <table>" in caught.value.usage


def test_list_actions_and_help() -> None:
    assert isinstance(parse_schedule("list", CALENDAR), ScheduleList)
    assert parse_schedule("run orders-1a2b", CALENDAR) == ScheduleAction("run", "orders-1a2b")
    assert parse_schedule("Resume nightly", CALENDAR) == ScheduleAction("resume", "nightly")
    assert isinstance(parse_schedule("", CALENDAR), HelpRequest)
    assert isinstance(parse_schedule("add help", CALENDAR), HelpRequest)


@pytest.mark.parametrize(
    ("weekday_field", "expected_day"),
    [("1", "Monday"), ("0", "Sunday"), ("7", "Sunday"), ("mon", "Monday"), ("5-7", "Friday"), ("7-7", "Sunday")],
)
def test_weekdays_count_from_sunday_as_in_cron_not_from_monday_as_in_apscheduler_3(
    weekday_field: str, expected_day: str
) -> None:
    fire = CALENDAR.next_fire(f"0 9 * * {weekday_field}", "UTC", TUESDAY_NOON)
    assert fire is not None and fire.strftime("%A") == expected_day


def test_sunday_written_as_7_in_a_range_is_sunday_only() -> None:
    fires = CALENDAR.fires("0 9 * * 7-7", "UTC", TUESDAY_NOON, TUESDAY_NOON + timedelta(days=15), 10)
    assert [f.strftime("%a") for f in fires] == ["Sun", "Sun"]


def test_a_weekday_step_follows_cron_semantics() -> None:
    fires = CALENDAR.fires("0 9 * * */2", "UTC", TUESDAY_NOON, TUESDAY_NOON.replace(day=17), 10)
    assert [f.strftime("%a") for f in fires] == ["Thu", "Sat", "Sun", "Tue"]


def test_fires_are_computed_in_the_schedule_time_zone_across_a_dst_change() -> None:
    before = CALENDAR.next_fire("0 2 * * *", "Europe/Paris", datetime(2026, 3, 27, 12, tzinfo=UTC))
    after = CALENDAR.next_fire("0 3 * * *", "Europe/Paris", datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert before == datetime(2026, 3, 28, 1, 0, tzinfo=UTC)  # 02:00 CET
    assert after == datetime(2026, 3, 30, 1, 0, tzinfo=UTC)  # 03:00 CEST


def test_latest_fire_is_the_last_one_at_or_before_now() -> None:
    assert CALENDAR.latest_fire("0 * * * *", "UTC", TUESDAY_NOON) == TUESDAY_NOON
    assert CALENDAR.latest_fire("0 2 1 1 *", "UTC", TUESDAY_NOON) == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert CALENDAR.latest_fire("*/5 * * * * *", "UTC", TUESDAY_NOON.replace(second=7)) == TUESDAY_NOON.replace(
        second=5
    )
    assert CALENDAR.latest_fire("0 2 29 2 *", "UTC", TUESDAY_NOON) == datetime(2024, 2, 29, 2, tzinfo=UTC)


def test_a_six_field_cron_fires_on_seconds() -> None:
    trigger = cron_trigger("*/10 * * * * *", "UTC")
    assert trigger.get_next_fire_time(None, TUESDAY_NOON.replace(second=1)) == TUESDAY_NOON.replace(second=10)


def test_a_cron_that_never_fires_is_refused() -> None:
    with pytest.raises(UsageError, match="never fires"):
        CALENDAR.check("0 0 31 2 *", "UTC")
