"""All the DynamoDB stand-ins on one front, for the demo and for tests: `start_standins(moto_endpoint)`.

Point every boto3 client at `standins.url` (S3, STS and the rest pass through to moto); keep moto's own endpoint
for nothing but resetting it. Tests pass a `SettableClock` to seed history in the past and move time forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.demo.aws.bulk import BulkChoices, BulkPutItems, BulkQuotas
from bot.demo.aws.clock import Clock, micros, system_clock
from bot.demo.aws.exports import ExportPacing, Exports
from bot.demo.aws.front import Caller, DynamoDbFront
from bot.demo.aws.history import History, Timeline
from bot.demo.aws.pitr import PointInTimeRecovery
from bot.demo.aws.tables import Item, describe_table
from bot.demo.world import REGION


@dataclass(frozen=True)
class AwsStandIns:
    """The front and the stand-ins plugged into it."""

    front: DynamoDbFront
    history: History
    pitr: PointInTimeRecovery
    exports: Exports
    bulk: BulkPutItems

    @property
    def url(self) -> str:
        """The endpoint every boto3 client should use."""
        return self.front.url

    def timeline(self, table: str, *, access_key: str = "testing", region: str = REGION) -> Timeline:
        """The recorded writes of a table of the account `access_key` belongs to."""
        caller = Caller("", access_key, region)
        return self.history.timeline(caller, describe_table(self.front, caller, table))

    def items_at(self, table: str, at: datetime, *, access_key: str = "testing", region: str = REGION) -> list[Item]:
        """What the history says `table` held at `at` (writes at exactly `at` included), in first-write order."""
        return list(self.timeline(table, access_key=access_key, region=region).state_at(micros(at)).values())

    def close(self) -> None:
        self.bulk.stop()
        self.front.close()

    def __enter__(self) -> AwsStandIns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_standins(
    moto_endpoint: str,
    *,
    clock: Clock = system_clock,
    export_pacing: ExportPacing | None = None,
    export_lines_per_file: int = 1000,
    export_max_in_progress: int = 300,
    bulk_quotas: BulkQuotas | None = None,
    bulk_choices: BulkChoices | None = None,
) -> AwsStandIns:
    """A front on an ephemeral local port in front of moto's server at `moto_endpoint`, with every stand-in."""
    front = DynamoDbFront(moto_endpoint, clock)
    history = History(front)
    pitr = PointInTimeRecovery(front, history)
    exports = Exports(
        front,
        history,
        pitr,
        pacing=export_pacing,
        lines_per_file=export_lines_per_file,
        max_in_progress=export_max_in_progress,
    )
    bulk = BulkPutItems(front, history, quotas=bulk_quotas, choices=bulk_choices)
    return AwsStandIns(front, history, pitr, exports, bulk)
