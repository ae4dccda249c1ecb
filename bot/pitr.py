"""Check point-in-time recovery on a table and turn it on, with what it costs per month."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.aws.errors import translate
from bot.aws.pricing import Rates, gib
from bot.aws.table_info import PitrWindow, TableInfo, describe_pitr, describe_table
from bot.core import Core
from bot.costs import table_size
from bot.metrics import TABLE_PITR, table_label
from bot.money import TableSize

MIN_DAYS, MAX_DAYS = 1, 35


@dataclass(frozen=True)
class PitrReport:
    """PITR state of one table with its monthly list-price cost."""

    table: TableInfo
    window: PitrWindow
    size: TableSize
    rates: Rates
    changed: bool = False

    @property
    def monthly_cost(self) -> Decimal:
        """PITR is billed per GB-month of table size, whatever the recovery period."""
        return gib(self.size.size_bytes) * self.rates.pitr_gb_month


def pitr_status(core: Core, table_text: str) -> PitrReport:
    """Describe PITR of a table."""
    ref, place = core.table(table_text)
    info, window = core.describe(ref, place)
    TABLE_PITR.labels(table_label(ref.key)).set(1 if window.enabled else 0)
    return PitrReport(info, window, table_size(core, info), core.rates(place))


def enable_pitr(core: Core, table_text: str, days: int | None, actor: str) -> PitrReport:
    """Turn PITR on (or change its recovery period), audited."""
    ref, place = core.table(table_text)
    client = core.aws.dynamodb(place)
    info = describe_table(client, ref, place)
    spec: dict[str, object] = {"PointInTimeRecoveryEnabled": True}
    if days is not None:
        spec["RecoveryPeriodInDays"] = days
    parameters = {"table": ref.key, "region": place.region, "days": days}
    try:
        client.update_continuous_backups(
            TableName=ref.name,
            PointInTimeRecoverySpecification=spec,  # type: ignore[arg-type]
        )
    except Exception as exc:
        error = translate(exc, "dynamodb:UpdateContinuousBackups", f"Table `{ref.display}`")
        core.store.audit(actor, "pitr.enable", ref.key, parameters, f"error: {error}")
        raise error from exc
    window = describe_pitr(client, ref, place)
    TABLE_PITR.labels(table_label(ref.key)).set(1 if window.enabled else 0)
    core.store.audit(actor, "pitr.enable", ref.key, parameters, "enabled")
    return PitrReport(info, window, table_size(core, info), core.rates(place), changed=True)
