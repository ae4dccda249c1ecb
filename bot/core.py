"""The services every use case receives: AWS accounts, the store, prices, config and export defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.aws.accounts import AwsAccounts, Place
from bot.aws.pricing import PriceBook, Rates
from bot.aws.table_info import PitrWindow, TableInfo, describe_pitr, describe_table
from bot.aws.tables import TableRef, parse_table_ref
from bot.config import BotConfig
from bot.metrics import TABLE_PITR, table_label
from bot.store import Store
from bot.timefmt import utcnow


@dataclass(frozen=True)
class ExportDefaults:
    """Where exports go when the command does not say (DDBBOT_EXPORT_*)."""

    bucket: str | None = None
    prefix: str = "dynamodb-exports"
    owner: str | None = None


@dataclass
class Core:
    """Dependencies of the use cases, built once in bootstrap."""

    aws: AwsAccounts
    store: Store
    prices: PriceBook
    config: BotConfig = field(default_factory=BotConfig)
    defaults: ExportDefaults = field(default_factory=ExportDefaults)
    notify_channel: str | None = None
    new_table_prefix: str | None = None  # DDBBOT_RESTORE_TABLE_PREFIX: what the IAM policy lets restores create
    clock: Callable[[], datetime] = utcnow

    def table(self, text: str) -> tuple[TableRef, Place]:
        """Parse a user's table reference and find where it lives."""
        ref = parse_table_ref(text, self.aws.aliases)
        return ref, self.aws.place_of(ref)

    def describe(self, ref: TableRef, place: Place) -> tuple[TableInfo, PitrWindow]:
        """DescribeTable and DescribeContinuousBackups of one table, translated into errors users can act on; what
        PITR was found to be is kept in `ddbbot_table_pitr_enabled` (every status, export, schedule and digest)."""
        client = self.aws.dynamodb(place)
        info, window = describe_table(client, ref, place), describe_pitr(client, ref, place)
        TABLE_PITR.labels(table_label(ref.key)).set(1 if window.enabled else 0)
        return info, window

    def rates(self, place: Place) -> Rates:
        """List prices for the table's region."""
        return self.prices.rates(place.region)
