"""Check point-in-time recovery on a table and turn it on, with what it costs per month."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.aws.errors import translate
from bot.aws.pricing import Rates, gib
from bot.aws.table_info import PitrWindow, TableInfo, describe_pitr
from bot.core import Core
from bot.costs import table_size
from bot.metrics import TABLE_PITR, table_label
from bot.money import TableSize

MIN_DAYS, MAX_DAYS = 1, 35


class PitrChange(StrEnum):
    """What `enable` did: nothing was asked (a status), turned it on, found it on already, changed its period."""

    NONE = ""
    TURNED_ON = "turned on"
    ALREADY_ON = "already on"
    PERIOD_CHANGED = "period changed"


@dataclass(frozen=True)
class PitrReport:
    """PITR state of one table with its monthly list-price cost, and what `enable` changed (`previous_days`: the
    recovery period before a change of period)."""

    table: TableInfo
    window: PitrWindow
    size: TableSize
    rates: Rates
    change: PitrChange = PitrChange.NONE
    previous_days: int | None = None

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
    """Turn PITR on (or change its recovery period), audited; a table whose PITR is already on with that period is
    left alone and said to be so (nothing is asked of DynamoDB)."""
    ref, place = core.table(table_text)
    client = core.aws.dynamodb(place)
    info, before = core.describe(ref, place)
    parameters = {"table": ref.key, "region": place.region, "days": days}
    if before.enabled and days in (None, before.recovery_days):
        core.store.audit(actor, "pitr.enable", ref.key, parameters, "already on")
        return PitrReport(info, before, table_size(core, info), core.rates(place), PitrChange.ALREADY_ON)
    spec: dict[str, object] = {"PointInTimeRecoveryEnabled": True}
    if days is not None:
        spec["RecoveryPeriodInDays"] = days
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
    change = PitrChange.PERIOD_CHANGED if before.enabled else PitrChange.TURNED_ON
    core.store.audit(actor, "pitr.enable", ref.key, parameters, "period changed" if before.enabled else "enabled")
    previous = before.recovery_days if before.enabled else None
    return PitrReport(info, window, table_size(core, info), core.rates(place), change, previous)
