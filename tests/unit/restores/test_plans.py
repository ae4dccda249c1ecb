"""The plan hash, the schema kept for a new table, and the estimates."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from bot.aws.pricing import EMBEDDED_PRICES_AS_OF, embedded_rates
from bot.restores.estimates import import_estimate, load_estimate
from bot.restores.models import RestorePlan, parse_button_value
from bot.restores.schema import schema_from_description
from bot.restores.sources import ResolvedExport
from tests.support.restore_fakes import load_plan, plan


def test_the_plan_hash_is_canonical_and_covers_every_part() -> None:
    base = plan(table={"b": 1, "a": [1, 2]})
    same = plan(table={"a": [1, 2], "b": 1})
    assert same.digest() == base.digest()
    assert RestorePlan.from_dict(base.as_dict()) == base
    variants = [
        replace(load_plan(), sources=base.sources, target=base.target),
        RestorePlan(base.mode, (*base.sources, "another"), base.target, None, base.region, base.options),
        RestorePlan(base.mode, base.sources, "other-table", None, base.region, base.options),
        RestorePlan(base.mode, base.sources, base.target, "prod", base.region, base.options),
        RestorePlan(base.mode, base.sources, base.target, None, "eu-west-1", base.options),
        plan(table={"b": 1, "a": [2, 1]}),
    ]
    assert len({v.digest() for v in variants} | {base.digest()}) == len(variants) + 1
    assert len(base.digest()) == 64


def test_button_values_split_into_id_and_hash() -> None:
    assert parse_button_value("r-1:abc") == ("r-1", "abc")
    assert parse_button_value("r-1") == ("r-1", "")


def test_schema_keeps_only_what_create_table_accepts() -> None:
    described = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "gsi_pk", "AttributeType": "S"},
            {"AttributeName": "unused", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-gsi",
                "KeySchema": [{"AttributeName": "gsi_pk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "IndexStatus": "ACTIVE",
                "IndexArn": "arn:...",
                "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0},
            }
        ],
        "LocalSecondaryIndexes": [{"IndexName": "lsi"}],
    }
    schema = schema_from_description(described, "the source table")
    assert schema.keys() == {"pk": "S", "sk": "N"}
    assert [d["AttributeName"] for d in schema.attribute_definitions] == ["pk", "sk", "gsi_pk"]
    assert schema.gsis == [
        {
            "IndexName": "by-gsi",
            "KeySchema": [{"AttributeName": "gsi_pk", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert schema.local_indexes == 1 and schema.throughput is None


def test_import_is_estimated_per_gb_of_the_export() -> None:
    rates = embedded_rates("us-east-1", "test")
    estimate = import_estimate(rates, 10 * 2**30)
    assert estimate.cost_usd == "$1.50"
    assert "ImportTable" in estimate.basis and "us-east-1" in estimate.basis
    assert import_estimate(rates, None).cost_usd is None


def source(export_type: str, items: int, size: int) -> ResolvedExport:
    return ResolvedExport(
        "x", "id", export_type, "DYNAMODB_JSON", "COMPLETED", "b", "p", item_count=items, size_bytes=size
    )


def test_loader_is_estimated_in_write_request_units_and_items_per_second() -> None:
    estimate = load_estimate([source("FULL_EXPORT", 4_000_000, 4_000_000 * 2500)], on_demand=True)
    assert estimate.cost_usd == f"${Decimal(12_000_000) * Decimal('0.625') / 1_000_000:.2f}"
    assert estimate.duration_seconds == 12_000_000 / 4000
    assert "estimate" in estimate.basis


def test_every_built_in_price_carries_the_one_date_of_the_built_in_table() -> None:
    """The loader's write price and the table's other prices are dated once (they were 2024-11-01 and 2026-11-01)."""
    load = load_estimate([source("FULL_EXPORT", 10, 10_000)], on_demand=True)
    rates = embedded_rates("us-east-1", "offline")
    dates = set(re.findall(r"\d{4}-\d\d-\d\d", load.basis + rates.source))
    assert dates == {EMBEDDED_PRICES_AS_OF}
    provisioned = load_estimate([source("INCREMENTAL_EXPORT", 10, 10_000_000)], on_demand=False)
    assert provisioned.cost_usd is None and "provisioned" in provisioned.basis
