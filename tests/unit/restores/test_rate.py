"""`rate=` and DDBBOT_RESTORE_RATE: what parses, what each form means on a given table, and the plan hash."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.errors import UsageError
from bot.restores.models import LoadOptions, LoadSource, RestoreMode, RestorePlan
from bot.restores.rate import (
    ON_DEMAND_TABLE_LIMIT,
    RateRequest,
    WriteCeiling,
    parse_rate,
    resolve_ceiling,
    table_write_capacity,
)
from bot.settings import Settings
from handlers.restores.parsing import RESTORE_HELP, RestoreCommand, parse_restore

PROVISIONED = {
    "BillingModeSummary": {"BillingMode": "PROVISIONED"},
    "ProvisionedThroughput": {"WriteCapacityUnits": 800},
}
ON_DEMAND = {
    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
    "ProvisionedThroughput": {"WriteCapacityUnits": 0},
}
SOURCE = LoadSource("s3://b/p/AWSDynamoDB/x/", "x", "FULL_EXPORT", "DYNAMODB_JSON", "b", "p", None, None, "us-east-1")

units = st.integers(min_value=1, max_value=10_000_000)
percents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)


@given(units, st.sampled_from(["/s", " /s", "/sec", "/second", "/S"]))
def test_units_a_second_parse_to_that_many_units(count: int, suffix: str) -> None:
    rate = parse_rate(f"{count}{suffix}")
    assert rate == RateRequest(units=count) and rate.text == f"{count}/s"
    assert parse_rate(rate.text) == rate


@given(percents)
def test_a_percentage_parses_to_that_share_and_reads_back_the_same(share: Decimal) -> None:
    rate = parse_rate(f"{share}%")
    assert rate.percent == share and rate.units is None
    assert parse_rate(rate.text) == rate


@given(st.one_of(st.text(max_size=12), st.from_regex(r"\A\s?\d{1,10}(\.\d{1,3})?\s?(%|/s|/sec)\s?\Z")))
def test_the_setting_accepts_exactly_what_the_option_accepts(text: str) -> None:
    try:
        parse_rate(text)
        parsed = True
    except UsageError:
        parsed = False
    try:
        Settings(restore_rate=text)
        accepted = True
    except ValidationError:
        accepted = False
    assert parsed == accepted


@pytest.mark.parametrize("text", ["0/s", "0%", "100.5%", "150%", "fast", "50", "-5%", "2,000/s", "20000000/s", "%"])
def test_a_bad_rate_says_how_to_write_one(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_restore(f"01768385930622-efd1a093 into=staging rate={text}")
    assert "rate=2000/s" in caught.value.message and "rate=50%" in caught.value.message
    assert caught.value.usage == RESTORE_HELP.usage_text


def test_rate_goes_with_into_only() -> None:
    parsed = parse_restore("01768385930622-efd1a093 into=staging rate=25%")
    assert isinstance(parsed, RestoreCommand) and parsed.spec.rate == RateRequest(percent=Decimal(25))
    for text in ("01768385930622-efd1a093 to=copy rate=25%", "pitr orders to=copy rate=25%"):
        with pytest.raises(UsageError, match="rate="):
            parse_restore(text)


@pytest.mark.parametrize(
    ("table", "capacity"),
    [
        (PROVISIONED, 800),
        (ON_DEMAND, ON_DEMAND_TABLE_LIMIT),
        ({**ON_DEMAND, "OnDemandThroughput": {"MaxWriteRequestUnits": 12_000}}, 12_000),
        ({**ON_DEMAND, "OnDemandThroughput": {"MaxWriteRequestUnits": -1}}, ON_DEMAND_TABLE_LIMIT),
        ({**ON_DEMAND, "WarmThroughput": {"WriteUnitsPerSecond": 4_000, "Status": "ACTIVE"}}, 4_000),
        ({**PROVISIONED, "WarmThroughput": {"WriteUnitsPerSecond": 5_000}}, 800),
    ],
    ids=["provisioned", "on-demand", "on-demand max", "on-demand unlimited max", "warm", "warm above provisioned"],
)
def test_the_capacity_a_percentage_is_of(table: dict[str, Any], capacity: int) -> None:
    assert table_write_capacity(table)[0] == capacity
    ceiling = resolve_ceiling(parse_rate("50%"), table)
    assert ceiling.units == capacity // 2 and ceiling.asked == "50%"
    assert f"{capacity:,}" in ceiling.describe()


def test_units_a_second_need_no_capacity() -> None:
    assert resolve_ceiling(parse_rate("2000/s"), {}) == WriteCeiling(2000, "2000/s", "")


def test_a_plan_with_a_ceiling_keeps_it_and_hashes_it_while_one_without_keeps_its_old_form() -> None:
    without = RestorePlan(
        RestoreMode.LOAD, (SOURCE.url,), "staging", None, "us-east-1", LoadOptions(("pk",), (SOURCE,))
    )
    ceiling = WriteCeiling(5_000, "50%", "10,000 write units/s, provisioned write capacity")
    with_rate = RestorePlan(
        RestoreMode.LOAD, (SOURCE.url,), "staging", None, "us-east-1", LoadOptions(("pk",), (SOURCE,), ceiling)
    )

    assert "rate" not in without.as_dict()["options"]
    stored = RestorePlan.from_dict(json.loads(with_rate.canonical()))
    assert stored.options_as(LoadOptions).ceiling == ceiling and stored.digest() == with_rate.digest()
    assert with_rate.digest() != without.digest()
    other = RestorePlan(
        RestoreMode.LOAD,
        (SOURCE.url,),
        "staging",
        None,
        "us-east-1",
        LoadOptions(("pk",), (SOURCE,), WriteCeiling(6_000, "60%", ceiling.basis)),
    )
    assert other.digest() != with_rate.digest()
