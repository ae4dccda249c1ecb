"""Money as people are shown it: dollar amounts as they read them, which list prices an estimate was made at, and
the figures /ddb-cost reports.

The use cases compute every figure (bot/costs.py, bot/pitr.py, the tracker, the schedules); the Block Kit builders in
handlers/ are handed these values and only render them: they import neither the price book (bot/aws/pricing.py) nor
the cost computations (bot/costs.py), which tests/unit/test_architecture.py checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from bot.aws.table_info import TableInfo
from bot.models import ExportJob


class PriceBasis(Protocol):
    """Which list prices a figure was estimated at: the region, and whether they came from the Price List API or the
    built-in table (`bot.aws.pricing.Rates` is one)."""

    @property
    def region(self) -> str:
        """The region whose list prices were used."""
        ...

    @property
    def source(self) -> str:
        """Where the prices came from, for people (never an error text)."""
        ...


@dataclass(frozen=True)
class ExportPrice:
    """What one finished export cost at list price (None until DynamoDB reports its billed size), at which prices."""

    cost: Decimal | None
    basis: PriceBasis


def dollars(amount: Decimal) -> str:
    """A USD amount as users read it: "$1,234.57", "<$0.01" for a nonzero amount under a cent, "$0.00"."""
    if not amount.is_finite():
        raise ValueError(f"not a dollar amount: {amount}")
    if amount.is_zero():
        return "$0.00"
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if magnitude < Decimal("0.01"):
        return f"{sign}<$0.01"
    cents = magnitude.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{sign}${cents:,.2f}"


@dataclass(frozen=True)
class TableSize:
    """The size costs are computed from, and a note when it is an estimate."""

    size_bytes: int
    item_count: int
    note: str | None = None


@dataclass(frozen=True)
class ExportCost:
    """The actual list-price cost of one finished export, from BilledSizeBytes."""

    job: ExportJob
    cost: Decimal


@dataclass(frozen=True)
class CostReport:
    """Everything `/ddb-cost` shows for one table (all list-price estimates of `basis.region`)."""

    table: TableInfo
    size: TableSize
    basis: PriceBasis
    pitr_enabled: bool
    pitr_monthly: Decimal
    full_export: Decimal
    incremental_export: Decimal
    incremental_basis: str
    retained_bytes: int
    retained_monthly: Decimal
    retained_basis: str
    recent: list[ExportCost] = field(default_factory=list)
