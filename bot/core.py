"""The services every use case receives: AWS accounts, the store, prices, config and export defaults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.config import Config

from bot.aws.accounts import AwsAccounts, Place
from bot.aws.pricing import PriceBook, Rates
from bot.aws.table_info import PitrWindow, TableInfo, describe_pitr, describe_table
from bot.aws.table_names import TableNames
from bot.aws.tables import TableRef, parse_table_ref
from bot.config import BotConfig
from bot.errors import AwsError, NotFound
from bot.metrics import TABLE_PITR, table_label
from bot.store import Store
from bot.timefmt import utcnow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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
    table_names: TableNames = field(default_factory=TableNames)  # for "did you mean" only

    def table(self, text: str) -> tuple[TableRef, Place]:
        """Parse a user's table reference and find where it lives."""
        ref = parse_table_ref(text, self.aws.aliases)
        return ref, self.aws.place_of(ref)

    def describe(self, ref: TableRef, place: Place, config: Config | None = None) -> tuple[TableInfo, PitrWindow]:
        """DescribeTable and DescribeContinuousBackups of one table, translated into errors users can act on; what
        PITR was found to be is kept in `ddbbot_table_pitr_enabled` (every status, export, schedule and digest).
        `config` is merged into the client's (a survey's reads of names AWS listed skip parameter validation)."""
        client = self.aws.dynamodb(place) if config is None else self.aws.client(place, "dynamodb", config)
        info, window = self._table_info(client, ref, place), describe_pitr(client, ref, place)
        TABLE_PITR.labels(table_label(ref.key)).set(1 if window.enabled else 0)
        return info, window

    def table_info(self, ref: TableRef, place: Place) -> TableInfo:
        """DescribeTable of a table a person named; a name with no table says where it looked and, when one is
        close, which table they may have meant (from a cached ListTables: never a reason to refuse a table)."""
        return self._table_info(self.aws.dynamodb(place), ref, place)

    def _table_info(self, client: DynamoDBClient, ref: TableRef, place: Place) -> TableInfo:
        try:
            return describe_table(client, ref, place)
        except AwsError as error:
            if error.code != "ResourceNotFoundException":
                raise
            raise self.no_such_table(ref, place) from error

    def no_such_table(self, ref: TableRef, place: Place) -> NotFound:
        """`No table `ordres` in us-east-1. Did you mean `orders`?`, naming the account when it is an alias."""
        where = f"account `{place.alias}` ({place.region})" if place.alias else place.region
        guess = self.table_names.nearest(place, ref.name, lambda: self._list_tables(place))
        if guess is None:
            return NotFound(
                f"No table `{ref.display}` in {where}.", "Check the name, the account alias and the region."
            )
        meant = f"{ref.alias}:{guess}" if ref.alias else guess
        return NotFound(f"No table `{ref.display}` in {where}. Did you mean `{meant}`?")

    def _list_tables(self, place: Place) -> Iterator[str]:
        for page in self.aws.dynamodb(place).get_paginator("list_tables").paginate():
            yield from page["TableNames"]

    def rates(self, place: Place) -> Rates:
        """List prices for the table's region."""
        return self.prices.rates(place.region)
