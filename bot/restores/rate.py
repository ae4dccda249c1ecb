"""`rate=`: the most write units a second the loader may use on the target table, as the user (or
DDBBOT_RESTORE_RATE) asks for it, and resolved against the table's capacity when the restore is planned.

`rate=<N>/s` is a number of write units; `rate=<P>%` a share of the table's capacity: its provisioned write
capacity; for an on-demand table its maximum (`OnDemandThroughput.MaxWriteRequestUnits`) where set, else the
account's default per-table limit of 40,000; and no more than its warm throughput where DynamoDB reports one
(what the table can take at once). The plan keeps the units, so approvers approve a number, not a formula.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ON_DEMAND_TABLE_LIMIT = 40_000  # write request units a second per table, AWS's default (adjustable) quota
MAX_UNITS = 10_000_000
RATE_HOW = (
    "Write it as `rate=<N>/s` (write units a second, 1 to 10,000,000, e.g. `rate=2000/s`) or `rate=<P>%` "
    "(a share of the table's write capacity, above 0 up to 100, e.g. `rate=50%`)."
)
_UNITS = re.compile(r"^(?P<n>\d{1,9})\s*/\s*s(?:ec(?:ond)?)?$", re.IGNORECASE | re.ASCII)
_PERCENT = re.compile(r"^(?P<p>\d{1,3}(?:\.\d{1,2})?)\s*%$", re.ASCII)


@dataclass(frozen=True)
class RateRequest:
    """What was asked: write units a second, or a percentage of the table's capacity (exactly one is set)."""

    units: int | None = None
    percent: Decimal | None = None

    @property
    def text(self) -> str:
        """As the user would write it again: `2000/s` or `50%`."""
        return f"{self.units}/s" if self.units is not None else f"{self.percent}%"


def parse_rate(text: str) -> RateRequest:
    """`2000/s` or `50%` → a RateRequest; raises UsageError saying how to write it."""
    cleaned = text.strip()
    units = _UNITS.match(cleaned)
    if units is not None:
        value = int(units["n"])
        if not 1 <= value <= MAX_UNITS:
            raise UsageError(f"`rate={text}` is out of range. {RATE_HOW}")
        return RateRequest(units=value)
    percent = _PERCENT.match(cleaned)
    if percent is not None:
        try:
            share = Decimal(percent["p"])
        except InvalidOperation:
            share = Decimal(0)
        if not Decimal(0) < share <= Decimal(100):
            raise UsageError(f"`rate={text}` is out of range. {RATE_HOW}")
        return RateRequest(percent=share.normalize() if share != share.to_integral() else share.quantize(Decimal(1)))
    raise UsageError(f"`rate={text}` is not a rate. {RATE_HOW}")


@dataclass(frozen=True)
class WriteCeiling:
    """The resolved ceiling stored in the plan: `units` a second, what was asked, and on what capacity."""

    units: int
    asked: str
    basis: str

    def describe(self) -> str:
        """For the approval message and the report, e.g. `5,000 write units/s (50% of 10,000 provisioned WCU)`."""
        if self.basis:
            return f"{self.units:,} write units/s ({self.asked} of {self.basis})"
        return f"{self.units:,} write units/s"

    def as_dict(self) -> dict[str, Any]:
        """As stored in the plan."""
        return {"units": self.units, "asked": self.asked, "basis": self.basis}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WriteCeiling:
        """Rebuild from a stored plan."""
        return cls(int(data["units"]), str(data.get("asked") or ""), str(data.get("basis") or ""))


def table_write_capacity(table: Mapping[str, Any]) -> tuple[int, str]:
    """The write units a second a table can take, from DescribeTable's `Table`, and the words for it."""
    warm = _positive((table.get("WarmThroughput") or {}).get("WriteUnitsPerSecond"))
    if (table.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST":
        maximum = _positive((table.get("OnDemandThroughput") or {}).get("MaxWriteRequestUnits"))
        capacity, words = (
            (maximum, "the on-demand maximum")
            if maximum
            else (ON_DEMAND_TABLE_LIMIT, "the on-demand per-table default limit")
        )
    else:
        provisioned = _positive((table.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits"))
        capacity, words = (provisioned or 1), "provisioned write capacity"
    if warm and warm < capacity:
        return warm, f"{warm:,} write units/s of warm throughput"
    return capacity, f"{capacity:,} write units/s, {words}"


def resolve_ceiling(rate: RateRequest, table: Mapping[str, Any]) -> WriteCeiling:
    """The units a second the loader may use on this table."""
    if rate.units is not None:
        return WriteCeiling(rate.units, rate.text, "")
    capacity, basis = table_write_capacity(table)
    share = Decimal(capacity) * (rate.percent or Decimal(0)) / Decimal(100)
    return WriteCeiling(max(1, int(share.to_integral_value(ROUND_FLOOR))), rate.text, basis)


def describe_for_capacity(client: DynamoDBClient, table_name: str, place: Place) -> dict[str, Any]:
    """DescribeTable's `Table` (with OnDemandThroughput and WarmThroughput, which the bot's snapshot leaves out)."""
    try:
        return dict(client.describe_table(TableName=table_name)["Table"])
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeTable", f"Table `{table_name}` ({place.region})") from exc


def _positive(value: object) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    return None
