"""`/ddb-restore <table> at=<time> into=…|to=…` is told apart from an export restore and checked like one: one
target, no `owner=` (the bot picks the exports), `rate=` only with `into=`, `key=`/`billing=` only with `to=`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.catalog.restore import AsOfRequest
from bot.errors import UsageError
from handlers.restores.parsing import RestoreCommand, parse_restore

AT = "2025-08-01T10:00:00Z"


def test_a_table_with_at_and_into_is_a_restore_as_of_that_time() -> None:
    parsed = parse_restore(f"prod:orders at={AT} into=orders-staging rate=25%", {"prod"})
    assert isinstance(parsed, AsOfRequest)
    assert (parsed.table, parsed.at, parsed.into, parsed.to) == (
        "prod:orders",
        datetime(2025, 8, 1, 10, tzinfo=UTC),
        "orders-staging",
        None,
    )
    assert parsed.rate is not None


def test_a_table_with_at_and_to_keeps_key_and_billing() -> None:
    parsed = parse_restore(f"orders at={AT} to=restored-orders key=pk:S billing=provisioned")
    assert isinstance(parsed, AsOfRequest) and parsed.to == "restored-orders"
    assert parsed.key == (("pk", "S"),) and parsed.billing == "provisioned"


def test_an_export_id_with_at_is_still_told_that_at_goes_with_pitr() -> None:
    with pytest.raises(UsageError, match="`at=` goes with `pitr`"):
        parse_restore(f"01768385930622-efd1a093 at={AT} into=staging")
    assert isinstance(parse_restore("01768385930622-efd1a093 into=staging"), RestoreCommand)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (f"orders at={AT}", "`into=<existing table>` or `to=<new table>`"),
        (f"orders at={AT} into=a to=b", "`into=<existing table>` or `to=<new table>`"),
        (f"orders at={AT} into=a owner=123456789012", "the bot picks the exports itself"),
        (f"orders at={AT} to=b rate=50%", "`rate=` only goes with `into=`"),
        (f"orders at={AT} into=a billing=provisioned", "`billing=` only goes with `to=`"),
        (f"orders at={AT} into=a engine=loader", "`engine=` goes with exports you name"),
        (f"orders at={AT} into=a tier=accelerated", "`tier=` goes with exports you name"),
        ("orders at=yesterday into=a", "is not a time"),
    ],
)
def test_each_mistake_says_how_to_write_it(text: str, said: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_restore(text)
    assert said in raised.value.message
